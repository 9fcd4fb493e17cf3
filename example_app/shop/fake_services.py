"""Slow local stand-ins for the outside world, used by the demo command.

``SmtpSink``: an SMTP server (stdlib socketserver) that accepts every message,
takes ~150 ms per message like a busy mail relay, and keeps what it received.
``FakeWarehouseApi``: an HTTP server (stdlib http.server) that takes ~200 ms
per request and keeps what it received.

Both listen on 127.0.0.1 on a free port and serve from daemon threads.
"""

from __future__ import annotations

import email
import email.policy
import json
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class _Service:
    server: socketserver.BaseServer

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.received: list[dict] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def _record(self, item: dict) -> None:
        with self._lock:
            self.received.append(item)

    def snapshot(self) -> list[dict]:
        with self._lock:
            return list(self.received)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def start(self):
        self._thread = threading.Thread(
            target=self.server.serve_forever, name=type(self).__name__, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


class _ThreadingTCPServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


class SmtpSink(_Service):
    """Speaks just enough SMTP for smtplib (and so Django's SMTP backend)."""

    def __init__(self, delay: float = 0.15) -> None:
        super().__init__(delay)
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def reply(self, line: str) -> None:
                self.wfile.write(line.encode("ascii") + b"\r\n")
                self.wfile.flush()

            def handle(self) -> None:
                self.reply("220 fake-smtp ESMTP ready")
                mail_from, recipients = "", []
                while True:
                    line = self.rfile.readline(65536)
                    if not line:
                        return
                    command = line.decode("ascii", "replace").strip()
                    verb = command[:4].upper()
                    if verb in ("HELO", "EHLO"):
                        self.reply("250 fake-smtp")
                    elif verb == "MAIL":
                        mail_from, recipients = _address(command), []
                        self.reply("250 OK")
                    elif verb == "RCPT":
                        recipients.append(_address(command))
                        self.reply("250 OK")
                    elif verb == "DATA":
                        self.reply("354 End data with <CR><LF>.<CR><LF>")
                        data = self._read_data()
                        time.sleep(sink.delay)  # a slow mail relay
                        message = email.message_from_bytes(data, policy=email.policy.default)
                        sink._record(
                            {
                                "from": mail_from,
                                "to": recipients,
                                "subject": str(message["Subject"]),
                            }
                        )
                        self.reply("250 OK queued")
                    elif verb == "RSET":
                        mail_from, recipients = "", []
                        self.reply("250 OK")
                    elif verb == "NOOP":
                        self.reply("250 OK")
                    elif verb == "QUIT":
                        self.reply("221 Bye")
                        return
                    else:
                        self.reply("502 Command not implemented")

            def _read_data(self) -> bytes:
                lines = []
                while True:
                    line = self.rfile.readline(65536)
                    if not line or line in (b".\r\n", b".\n"):
                        return b"".join(lines)
                    if line.startswith(b".."):  # dot-stuffing
                        line = line[1:]
                    lines.append(line)

        self.server = _ThreadingTCPServer(("127.0.0.1", 0), Handler)


def _address(command: str) -> str:
    """The address in 'MAIL FROM:<a@b> SIZE=1' or 'RCPT TO:<a@b>'."""
    start, end = command.find("<"), command.find(">")
    if start != -1 and end > start:
        return command[start + 1 : end]
    return command.partition(":")[2].strip()


class FakeWarehouseApi(_Service):
    """Answers each POST after ~200 ms with 202 and a shipment number."""

    def __init__(self, delay: float = 0.2) -> None:
        super().__init__(delay)
        api = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(api.delay)  # a slow remote service
                try:
                    payload = json.loads(body or b"{}")
                except ValueError:
                    payload = {"invalid": body.decode("utf-8", "replace")}
                api._record({"method": "POST", "path": self.path, "payload": payload})
                answer = json.dumps({"shipment": f"SHP-{payload.get('order')}"}).encode()
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args) -> None:
                pass  # keep the demo's output clean

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/shipments/"
