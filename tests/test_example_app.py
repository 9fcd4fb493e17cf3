"""The example project (example_app/), run the way its README runs it.

The library's suite runs with tests.settings, so the example runs in
subprocesses, with its database and bytecode written to a temporary
directory instead of the source tree.
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
EXAMPLE = REPO / "example_app"
MANAGE = EXAMPLE / "manage.py"

INLINE_USERS = ["alice", "bob", "carol"]
BACKGROUND_USERS = ["dave", "erin", "frank"]
USERS = INLINE_USERS + BACKGROUND_USERS
# What the demo's fake servers make a receiver wait, in ms.
SMTP_DELAY_MS = 150
WAREHOUSE_DELAY_MS = 200


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    return tmp_path_factory.mktemp("example_app")


def example_env(workdir: Path, database: str = "db.sqlite3", **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    # pytest-django exports tests.settings; the example must use its own.
    env.pop("DJANGO_SETTINGS_MODULE", None)
    env.pop("EXAMPLE_APP_EVENTX_LOG_LEVEL", None)
    env["EXAMPLE_APP_DB"] = str(workdir / database)
    env["PYTHONPYCACHEPREFIX"] = str(workdir / "pycache")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def manage(*args: str, env: dict[str, str], cwd: Path = REPO, timeout: float = 120):
    """Run manage.py by its path relative to ``cwd``, as a user would type it."""
    return subprocess.run(
        [sys.executable, os.path.relpath(MANAGE, cwd), *args],
        check=False,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def demo(workdir):
    started = time.monotonic()
    result = manage("demo", env=example_env(workdir))
    result.duration = time.monotonic() - started
    return result


def test_demo_exits_cleanly(demo):
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "Traceback" not in demo.stdout + demo.stderr
    assert "ERROR" not in demo.stderr
    assert "Demo finished in" in demo.stdout
    assert demo.duration < 60


def test_demo_writes_to_the_database_it_is_given(demo, workdir):
    with sqlite3.connect(workdir / "db.sqlite3") as db:
        users = [row[0] for row in db.execute("SELECT username FROM auth_user ORDER BY id")]
        orders = db.execute("SELECT COUNT(*) FROM shop_order").fetchone()[0]
        audit = db.execute("SELECT COUNT(*) FROM shop_auditentry").fetchone()[0]
    assert users == USERS
    assert orders == len(USERS)
    assert audit == len(USERS)


def test_welcome_and_confirmation_emails_reached_the_smtp_server(demo):
    assert f"E-mails received by the fake SMTP server ({2 * len(USERS)}):" in demo.stdout
    for number, user in enumerate(USERS, start=1):
        assert re.search(
            rf"^\s+{user}@example\.com\s+Welcome to the shop, {user}!$", demo.stdout, re.MULTILINE
        ), user
        assert re.search(
            rf"^\s+{user}@example\.com\s+Order #{number} confirmed: ", demo.stdout, re.MULTILINE
        ), user


def test_warehouse_api_received_every_order(demo):
    assert f"Calls received by the fake warehouse API ({len(USERS)}):" in demo.stdout
    for number, user in enumerate(USERS, start=1):
        assert re.search(
            rf"^\s+POST /api/shipments/\s+order #{number}: \d+ x .+ for {user}$",
            demo.stdout,
            re.MULTILINE,
        ), user


def latency(output: str, label: str) -> tuple[float, float]:
    match = re.search(
        rf"^\s+{re.escape(label)}\s+([\d.]+) ms\s+([\d.]+) ms\s+\d+x$", output, re.MULTILINE
    )
    assert match, f"no latency row for {label}:\n{output}"
    return float(match.group(1)), float(match.group(2))


def test_background_requests_are_faster_than_inline(demo):
    inline, background = latency(demo.stdout, "POST /register/")
    # Inline, the request waits for the SMTP server; in the background not:
    # it saves most of that wait over the inline requests of the same run
    # (a difference, not a bound in ms: a slow machine slows both alike).
    assert inline >= SMTP_DELAY_MS
    assert inline - background > SMTP_DELAY_MS / 2

    inline, background = latency(demo.stdout, "POST /orders/")
    assert inline >= SMTP_DELAY_MS + WAREHOUSE_DELAY_MS
    assert inline - background > (SMTP_DELAY_MS + WAREHOUSE_DELAY_MS) / 2


def test_patched_post_save_ran_in_the_request_then_on_workers(demo):
    rows = re.findall(
        r"^\s+order #(\d+) created\s+for (\w+)\s+written by thread (\S+)$",
        demo.stdout,
        re.MULTILINE,
    )
    assert [user for _, user, _ in rows] == USERS
    threads = {user: thread for _, user, thread in rows}
    for user in INLINE_USERS:
        assert threads[user] == "MainThread"
    for user in BACKGROUND_USERS:
        assert threads[user].startswith("eventx-default-worker-"), threads[user]


def test_keep_inline_receiver_cleared_the_cache_before_each_response(demo):
    assert re.search(
        rf"Order list page up to date right after each order .*: {len(USERS)}/{len(USERS)}$",
        demo.stdout,
        re.MULTILINE,
    )


def test_demo_reports_stats_without_failures(demo):
    match = re.search(r"^eventx_signals\.stats\(\): (.+)$", demo.stdout, re.MULTILINE)
    assert match, demo.stdout
    counters = {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}
    # Per user: 1 welcome e-mail, 2 post_save receivers, 2 order_placed receivers.
    assert counters["dispatched"] == 5 * len(USERS)
    assert counters["succeeded"] == counters["dispatched"]
    assert counters["failed"] == 0
    assert counters["dropped"] == 0
    assert counters["pending"] == counters["running"] == 0


def test_demo_serves_its_metrics_to_prometheus_when_asked(workdir):
    result = manage("demo", "--metrics", "0", env=example_env(workdir, "metrics.sqlite3"))
    assert result.returncode == 0, result.stdout + result.stderr
    assert re.search(
        r"as Prometheus scrapes them from http://127\.0\.0\.1:\d+/metrics", result.stdout
    )
    runs = {
        (receiver, outcome): float(value)
        for outcome, receiver, value in re.findall(
            r'^  eventx_runs_total\{eventx_backend="default",eventx_outcome="(\w+)",'
            r'eventx_receiver="([\w.]+)"\} ([\d.]+)$',
            result.stdout,
            re.MULTILINE,
        )
    }
    # One run per user, of which those of the first step ran in the request.
    assert runs[("shop.receivers.notify_warehouse", "succeeded")] == len(USERS)
    assert runs[("shop.receivers.notify_warehouse", "inline")] == len(INLINE_USERS)
    assert re.search(
        r'^  eventx_queue_lag_seconds_count\{eventx_backend="default",'
        rf'eventx_receiver="shop.receivers.notify_warehouse"\}} {len(USERS)}\.0$',
        result.stdout,
        re.MULTILINE,
    )
    assert '  eventx_queue_depth{eventx_backend="default"} 0.0' in result.stdout


def test_check_passes_from_the_repository_root_and_from_example_app(workdir):
    for cwd in (REPO, EXAMPLE):
        result = manage("check", env=example_env(workdir), cwd=cwd)
        assert result.returncode == 0, result.stdout + result.stderr
        assert "System check identified no issues" in result.stdout


def test_eventx_list_shows_where_each_receiver_runs(workdir):
    result = manage("eventx", "list", env=example_env(workdir))
    assert result.returncode == 0, result.stdout + result.stderr
    sections: dict[str, list[str]] = {}
    for line in result.stdout.splitlines():
        if line and not line.startswith(" "):
            current = sections.setdefault(line.strip(), [])
        elif line.strip():
            current.append(" ".join(line.split()))

    assert sections[
        "django.db.models.signals.post_save  [patched signal]  (background for senders shop.Order)"
    ] == [
        "background default shop.receivers.write_audit_entry <- shop.Order",
        "inline caller shop.receivers.invalidate_order_list_cache <- shop.Order",
    ]
    assert sections["shop.signals.order_placed  [AsyncSignal]"] == [
        "background default shop.receivers.notify_warehouse <- any sender",
        "background default shop.receivers.send_order_confirmation <- any sender",
    ]
    assert sections["user_registered  [event]"] == [
        "background default shop.listeners.send_welcome_email <- any sender",
    ]


def readme_commands() -> list[str]:
    """The two commands right after README.rst's pitch."""
    readme = (REPO / "README.rst").read_text()
    before_example = readme.split(".. code-block:: python", 1)[0]
    return [
        line.strip()
        for line in before_example.splitlines()
        if line.startswith("    python3 -m venv")
    ]


def test_readme_first_command_runs_the_demo():
    first_command, _ = readme_commands()
    assert first_command.endswith("example_app/manage.py demo"), first_command


def test_ci_runs_the_readme_test_command():
    _, test_command = readme_commands()
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    assert test_command in ci


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_runserver_serves_the_shop(workdir):
    migrated = manage("migrate", "-v", "0", env=example_env(workdir, "runserver.sqlite3"))
    assert migrated.returncode == 0, migrated.stdout + migrated.stderr

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = example_env(
        workdir,
        "runserver.sqlite3",
        EXAMPLE_APP_WAREHOUSE_URL=f"{base}/warehouse/api/shipments/",
    )
    log_path = workdir / "runserver.log"
    with open(log_path, "w") as log:
        server = subprocess.Popen(
            [sys.executable, str(MANAGE), "runserver", "--noreload", f"127.0.0.1:{port}"],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            urllib.request.ProxyHandler({}),
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                home = opener.open(f"{base}/", timeout=5).read().decode()
                break
            except OSError:
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', home).group(1)

        def post(path: str, **fields: str):
            data = urllib.parse.urlencode({"csrfmiddlewaretoken": token, **fields}).encode()
            return opener.open(f"{base}{path}", data, timeout=10)

        started = time.monotonic()
        response = post("/register/", username="zoe", email="zoe@example.com", next="/")
        assert response.status == 200 and response.url == f"{base}/"
        response = post("/orders/", username="zoe", item="tea", quantity="2", next="/orders/")
        assert response.status == 200 and response.url == f"{base}/orders/"
        assert "Order #1: 2 x tea for zoe" in response.read().decode()

        # The receivers ran in the background: console e-mails, warehouse call.
        expected = [
            "Subject: Welcome to the shop, zoe!",
            "Subject: Order #1 confirmed: 2 x tea",
            "Warehouse accepted order #1: shipment SHP-1.",
            (
                "Receiver shop.receivers.write_audit_entry of "
                "django.db.models.signals.post_save (sender shop.Order) finished"
            ),
        ]
        deadline = time.monotonic() + 15
        while not all(text in log_path.read_text() for text in expected):
            assert time.monotonic() < deadline, log_path.read_text()
            time.sleep(0.1)
        assert time.monotonic() - started < 15
    finally:
        server.terminate()
        server.wait(10)
    output = log_path.read_text()
    assert "Traceback" not in output
    assert "[ERROR]" not in output
