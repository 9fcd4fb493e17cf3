"""A logging handler writing one JSON line per record (message only, no
traceback) to REL_LOG_DIR/log-<pid>.jsonl: one file per process, so lines
of gunicorn workers never interleave and the tests can count them exactly."""

import json
import logging
import os


class JsonLinesHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self._file = None
        self._pid = None

    def emit(self, record: logging.LogRecord) -> None:
        directory = os.environ.get("REL_LOG_DIR")
        if not directory:
            return
        try:
            pid = os.getpid()
            if self._pid != pid:  # first record, or a forked child
                self._file = open(  # noqa: SIM115 (kept for the process's life)
                    os.path.join(directory, f"log-{pid}.jsonl"), "a", encoding="utf-8"
                )
                self._pid = pid
            line = json.dumps(
                {
                    "t": record.created,
                    "pid": pid,
                    "thread": record.threadName,
                    "logger": record.name,
                    "level": record.levelname,
                    "msg": record.getMessage(),
                }
            )
            self._file.write(line + "\n")
            self._file.flush()
        except Exception:
            self.handleError(record)
