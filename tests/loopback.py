"""A serialising backend that keeps payloads as JSON text in memory, so the
tests can play the worker's part: it exercises the payload path of the
out-of-process backends without an engine."""

import json

from eventx_signals.backends.out_of_process import OutOfProcessBackend
from eventx_signals.backends.out_of_process.worker import run_payload_in_worker


class LoopbackBackend(OutOfProcessBackend):
    def __init__(self, alias="loopback", options=None):
        super().__init__(alias, options)
        self.sent = []

    def enqueue(self, payload):
        self.sent.append(json.dumps(payload))
        return f"handle-{len(self.sent)}"

    def run_all(self):
        """Play the worker: run every payload sent so far, retries included."""
        results = []
        while self.sent:
            text = self.sent.pop(0)
            try:
                results.append(run_payload_in_worker(json.loads(text), self.enqueue_retry))
            except Exception as exc:
                results.append(exc)
        return results

    def enqueue_retry(self, payload, delay):
        self.sent.append(json.dumps(payload))
