"""python manage.py demo: the shop's flows with receivers inline, then in the
background, side by side."""

from __future__ import annotations

import logging
import os
import re
import statistics
import sys
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.core.mail.utils import DNS_NAME
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connections
from django.test import Client, override_settings

import eventx_signals
from eventx_signals.testing import wait_for_runs
from shop.fake_services import FakeWarehouseApi, SmtpSink
from shop.models import AuditEntry, Order

# (username, item, quantity): one registration and one order each.
INLINE_CUSTOMERS = [
    ("alice", "espresso machine", 1),
    ("bob", "coffee grinder", 1),
    ("carol", "bag of beans", 3),
]
BACKGROUND_CUSTOMERS = [
    ("dave", "milk frother", 1),
    ("erin", "bag of beans", 2),
    ("frank", "cup", 6),
]
SMTP_DELAY = 0.15
# Step 1 runs every receiver in the request, as plain Django signals do.
IMMEDIATE = {"default": {"BACKEND": "eventx_signals.backends.immediate.ImmediateBackend"}}
WAREHOUSE_DELAY = 0.2


def serve_metrics(port: int) -> str:
    """Export the OpenTelemetry metrics to Prometheus's format on ``port`` of
    the loopback interface; return the URL to scrape."""
    try:
        from opentelemetry import metrics
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from opentelemetry.sdk.metrics import MeterProvider
        from prometheus_client import start_http_server
    except ImportError as exc:
        raise CommandError(
            "--metrics needs the OpenTelemetry SDK and its Prometheus exporter: pip install "
            "opentelemetry-sdk opentelemetry-exporter-prometheus"
        ) from exc
    server, _ = start_http_server(port, addr="127.0.0.1")
    metrics.set_meter_provider(MeterProvider(metric_readers=[PrometheusMetricReader()]))
    return f"http://127.0.0.1:{server.server_port}/metrics"


class Command(BaseCommand):
    help = (
        "Run the example shop's flows (register, place an order) through "
        "django.test.Client, first with the receivers inline, then in the "
        "background, and report the request latency and what the receivers did. "
        "Recreates the SQLite database."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--metrics",
            type=int,
            metavar="PORT",
            help="Also serve django-eventx's OpenTelemetry metrics for Prometheus on "
            "http://127.0.0.1:PORT/metrics (0: any free port) and print them at the end; "
            "needs pip install opentelemetry-sdk opentelemetry-exporter-prometheus.",
        )

    def handle(self, *args, **options):
        started = time.perf_counter()
        self.verbosity = options["verbosity"]
        metrics_url = None if options["metrics"] is None else serve_metrics(options["metrics"])
        if self.verbosity < 2:
            # One INFO line per receiver run would drown the report.
            logging.getLogger("eventx_signals").setLevel(logging.WARNING)
            logging.getLogger("shop").setLevel(logging.WARNING)

        self.heading("django-eventx demo: a small shop")
        database = self.fresh_database()
        self.line(f"Database: {database} (created afresh, migrated)")

        # Django looks the host name up once per process, for the SMTP
        # greeting; do it now so the first request does not pay for it.
        DNS_NAME.get_fqdn()

        with SmtpSink(SMTP_DELAY) as smtp, FakeWarehouseApi(WAREHOUSE_DELAY) as warehouse:
            self.line(
                f"Fake SMTP server:    127.0.0.1:{smtp.port} "
                f"({SMTP_DELAY * 1000:.0f} ms per message)"
            )
            self.line(
                f"Fake warehouse API:  {warehouse.url} ({WAREHOUSE_DELAY * 1000:.0f} ms per call)"
            )
            self.line("")
            self.describe_flows()
            with override_settings(
                EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
                EMAIL_HOST="127.0.0.1",
                EMAIL_PORT=smtp.port,
                EMAIL_USE_TLS=False,
                EMAIL_USE_SSL=False,
                EMAIL_HOST_USER="",
                EMAIL_HOST_PASSWORD="",
                WAREHOUSE_API_URL=warehouse.url,
            ):
                inline, background, drained = self.run_flows()
            emails, calls = smtp.snapshot(), warehouse.snapshot()

        self.report_latency(inline, background, drained)
        problems = self.report_receivers(emails, calls, inline, background)
        counters = eventx_signals.stats()
        self.line("")
        self.line(
            "eventx_signals.stats(): "
            + " ".join(f"{key}={value}" for key, value in counters.items())
        )
        if counters["failed"] or counters["dropped"]:
            problems.append(
                f"{counters['failed']} receiver runs failed and "
                f"{counters['dropped']} were dropped (see the log above)."
            )

        if metrics_url is not None:
            self.report_metrics(metrics_url)

        manage = self.manage_py()
        self.line("")
        self.heading("Next")
        self.line(f"  {manage} eventx list    which receiver runs where, and why")
        self.line(f"  {manage} runserver      then open http://127.0.0.1:8000/")
        self.line(
            f"  Code, in {Path(settings.BASE_DIR).name}/: shopsite/settings.py (EVENTX_* settings), "
            "shop/signals.py, shop/receivers.py, shop/listeners.py, shop/views.py"
        )
        self.line("")
        if problems:
            raise CommandError("The demo did not go as expected:\n  " + "\n  ".join(problems))
        self.line(f"Demo finished in {time.perf_counter() - started:.1f} s.")

    # -- steps ------------------------------------------------------------

    def fresh_database(self) -> str:
        """Delete the SQLite file (so ids start at 1 each run) and migrate."""
        name = str(settings.DATABASES["default"]["NAME"])
        connections.close_all()
        for suffix in ("", "-wal", "-shm", "-journal"):
            path = Path(name + suffix)
            if path.exists():
                path.unlink()
        Path(name).parent.mkdir(parents=True, exist_ok=True)
        call_command("migrate", verbosity=0, interactive=False)
        return name

    def describe_flows(self) -> None:
        self.line("The flows (see `eventx list`):")
        self.line("  POST /register/  trigger_event('user_registered')")
        self.line("                     -> send_welcome_email          SMTP")
        self.line("  POST /orders/    Order saved: post_save, made async by EVENTX_ASYNC_SIGNALS")
        self.line("                     -> write_audit_entry           database")
        self.line(
            "                     -> invalidate_order_list_cache @keep_inline: always in the request"
        )
        self.line("                   order_placed.send()  (an AsyncSignal)")
        self.line("                     -> notify_warehouse            HTTP")
        self.line("                     -> send_order_confirmation     SMTP")
        self.line("")

    def run_flows(self):
        client = Client()
        # Warm up (URL resolution, templates, database connection) outside
        # the measurements.
        client.get("/orders/")

        self.line(
            "1. Receivers inline (the ImmediateBackend), as plain Django signals would run them"
        )
        with override_settings(EVENTX_BACKENDS=IMMEDIATE):
            inline = self.exercise(client, INLINE_CUSTOMERS)
        wait_for_runs(timeout=30)  # nothing left: they ran in the requests

        self.line("2. Receivers in the background (the ThreadBackend, the default)")
        background = self.exercise(client, BACKGROUND_CUSTOMERS)
        last_response = time.perf_counter()
        wait_for_runs(timeout=30)
        drained = time.perf_counter() - last_response
        return inline, background, drained

    def exercise(self, client: Client, customers) -> dict:
        latencies = {"register": [], "order": []}
        fresh_list = 0
        for username, item, quantity in customers:
            seconds, response = self.timed(
                client.post,
                "/register/",
                {"username": username, "email": f"{username}@example.com"},
            )
            self.expect(response, 201)
            latencies["register"].append(seconds)

            seconds, response = self.timed(
                client.post, "/orders/", {"username": username, "item": item, "quantity": quantity}
            )
            self.expect(response, 201)
            latencies["order"].append(seconds)

            # The cached order list must already show the new order: the
            # @keep_inline receiver cleared the cache before the response.
            order_id = response.json()["order"]
            page = client.get("/orders/").content.decode()
            fresh_list += f"Order #{order_id}:" in page
        self.line(
            f"   {len(customers)} registrations, {len(customers)} orders; order list page "
            f"up to date right after each order: {fresh_list}/{len(customers)}"
        )
        return {"latencies": latencies, "fresh_list": fresh_list, "customers": customers}

    @staticmethod
    def timed(function, *args, **kwargs):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        return time.perf_counter() - start, result

    @staticmethod
    def expect(response, status: int) -> None:
        if response.status_code != status:
            raise CommandError(
                f"{response.request['REQUEST_METHOD']} {response.request['PATH_INFO']} "
                f"answered {response.status_code}, not {status}: {response.content[:300]!r}"
            )

    # -- report -----------------------------------------------------------

    def report_latency(self, inline: dict, background: dict, drained: float) -> None:
        self.line("")
        runs = len(inline["customers"])
        self.heading(f"Request latency (median of {runs})")
        self.line(f"  {'':<18}{'inline':>10}{'background':>13}{'speed-up':>11}")
        for key, label in (("register", "POST /register/"), ("order", "POST /orders/")):
            before = statistics.median(inline["latencies"][key]) * 1000
            after = statistics.median(background["latencies"][key]) * 1000
            self.line(f"  {label:<18}{before:>7.1f} ms{after:>10.1f} ms{before / after:>10.0f}x")
        self.line(
            f"  In the background the receivers finished {drained * 1000:.0f} ms after "
            "the last response (wait_for_runs())."
        )

    def report_receivers(self, emails, calls, inline, background) -> list[str]:
        problems = []
        customers = [c[0] for c in inline["customers"] + background["customers"]]
        background_users = {c[0] for c in background["customers"]}
        self.line("")
        self.heading("What the receivers did")

        def email_key(message):
            recipient = message["to"][0] if message["to"] else ""
            user = recipient.partition("@")[0]
            rank = customers.index(user) if user in customers else len(customers)
            return (rank, not message["subject"].startswith("Welcome"), message["subject"])

        self.line(f"  E-mails received by the fake SMTP server ({len(emails)}):")
        for message in sorted(emails, key=email_key):
            self.line(f"    {', '.join(message['to']):<20} {message['subject']}")
        welcome = sum(m["subject"].startswith("Welcome") for m in emails)
        confirmations = sum(m["subject"].startswith("Order #") for m in emails)
        if welcome != len(customers) or confirmations != len(customers):
            problems.append(
                f"expected {len(customers)} welcome e-mails and {len(customers)} order "
                f"confirmations, the SMTP server got {welcome} and {confirmations}."
            )

        self.line(f"  Calls received by the fake warehouse API ({len(calls)}):")
        for call in sorted(calls, key=lambda c: c["payload"].get("order") or 0):
            payload = call["payload"]
            self.line(
                f"    {call['method']} {call['path']}  order #{payload.get('order')}: "
                f"{payload.get('quantity')} x {payload.get('item')} for {payload.get('customer')}"
            )
        if len(calls) != len(customers):
            problems.append(f"expected {len(customers)} warehouse API calls, it got {len(calls)}.")

        entries = list(AuditEntry.objects.select_related("order__customer").order_by("order_id"))
        self.line(f"  Audit rows written by the post_save receiver ({len(entries)}):")
        misplaced = 0
        for entry in entries:
            username = entry.order.customer.username
            self.line(
                f"    order #{entry.order_id} {entry.action:<8} for {username:<6} "
                f"written by thread {entry.thread}"
            )
            in_background = username in background_users
            misplaced += in_background == (entry.thread == "MainThread")
        if len(entries) != Order.objects.count():
            problems.append(f"expected {Order.objects.count()} audit rows, found {len(entries)}.")
        if misplaced:
            problems.append(f"{misplaced} audit rows were written by the wrong thread.")

        fresh = inline["fresh_list"] + background["fresh_list"]
        self.line(
            "  Order list page up to date right after each order (cache cleared by "
            f"@keep_inline invalidate_order_list_cache): {fresh}/{len(customers)}"
        )
        if fresh != len(customers):
            problems.append("the order list page was stale right after an order.")
        return problems

    # -- output -----------------------------------------------------------

    def report_metrics(self, url: str) -> None:
        """What Prometheus would scrape: the eventx_* series."""
        with urllib.request.urlopen(url, timeout=10) as response:
            text = response.read().decode()
        self.line("")
        self.heading(f"Metrics, as Prometheus scrapes them from {url}")
        for line in text.splitlines():
            if line.startswith("eventx_") and "_bucket{" not in line:
                self.line("  " + re.sub(r',?otel_scope_\w+="[^"]*"', "", line))

    def heading(self, text: str) -> None:
        self.stdout.write(self.style.MIGRATE_HEADING(text))

    def line(self, text: str) -> None:
        self.stdout.write(text)

    @staticmethod
    def manage_py() -> str:
        """How to call this manage.py from the current directory."""
        path = Path(sys.argv[0]).resolve() if sys.argv and sys.argv[0] else None
        if path is None or path.name != "manage.py":
            path = Path(settings.BASE_DIR) / "manage.py"
        try:
            relative = os.path.relpath(path)
        except ValueError:  # another drive on Windows
            relative = str(path)
        return f"python {relative}"
