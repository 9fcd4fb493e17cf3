"""manage.py forge --engine tasks|celery --marker PATH --genuine RID

Sends every payload of relapp.forged straight to the engine's queue (as an
attacker or a bug with write access to it could), then saves a genuine
Request, whose post_save dispatch goes through the configured backend.
Prints one JSON line: what was sent and what to expect."""

import json

from django.core.management.base import BaseCommand

from relapp.forged import forged
from relapp.models import Request


def sign(payload, how):
    """Sign a forged payload with the site's key, as ``how`` says."""
    from eventx_signals.backends.out_of_process.signing import sign as sign_payload

    if how == "unsigned" or not isinstance(payload, dict):
        return payload
    signed = sign_payload(dict(payload))
    if how == "tampered":
        signed["receiver"] = "relapp.receivers.record_run"
        signed["kwargs"] = {**signed["kwargs"], "tampered": True}
    return signed


class Command(BaseCommand):
    def add_arguments(self, parser):
        parser.add_argument("--engine", choices=["tasks", "celery"], required=True)
        parser.add_argument("--marker", required=True)
        parser.add_argument("--genuine", required=True)

    def handle(self, *args, engine, marker, genuine, **options):
        cases = [
            (name, sign(payload, how), expect)
            for name, payload, expect, how in forged(marker, engine)
        ]
        extra = []
        if engine == "tasks":
            from eventx_signals.backends.django_tasks import get_task

            task = get_task().using(queue_name="events")
            for _, payload, _ in cases:
                task.enqueue(payload)
        else:
            from relproj.celery_app import app

            from eventx_signals.backends.celery import TASK_NAME

            for _, payload, _ in cases:
                app.send_task(TASK_NAME, args=[payload], queue="rel-events")
            # Malformed at Celery's level: no payload, two payloads.
            app.send_task(TASK_NAME, args=[], queue="rel-events")
            app.send_task(TASK_NAME, args=[cases[0][1], cases[1][1]], queue="rel-events")
            extra = ["celery-no-args", "celery-two-args"]
        Request.objects.create(rid=genuine)  # post_save: the genuine payload, last
        self.stdout.write(
            json.dumps(
                {
                    "sent": [name for name, _, _ in cases] + extra,
                    "refused": sum(1 for *_, expect in cases if expect == "refused"),
                    "fails": sum(1 for *_, expect in cases if expect == "fails") + len(extra),
                }
            )
        )
