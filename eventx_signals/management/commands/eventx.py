"""manage.py eventx list | stats | prune | codemod | requeue | resend"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from eventx_signals import runlog
from eventx_signals.backends.out_of_process.resend import plan
from eventx_signals.codemod import PathError, run
from eventx_signals.inventory import collect
from eventx_signals.runlog import prune, retention_days
from eventx_signals.runlog.figures import per_receiver

CODEMOD_DESCRIPTION = """\
Print a unified diff that turns the Signal() definitions that are safe to make
asynchronous into AsyncSignal, ready for `git apply` or `patch -p1` from the current
directory; the EVENTX_ASYNC_SIGNALS lines to add for receivers of built-in model signals,
naming their senders (minus what the setting already holds); a review list, one line per
signal or receiver that needs review with its reasons ("file:line: review: ..."); and
every use of the value of .send(). The diff alone goes to standard output; everything
else goes to standard error. With no PATH it scans every .py file under the current
directory (run it from the project's root), skipping hidden directories (.git, .venv,
.tox...), virtualenvs, venv, node_modules, site-packages, dist-packages, __pycache__
and migrations directories. A PATH outside the current directory is refused."""


class Command(BaseCommand):
    help = "Inspect django-eventx signals and events, or rewrite code to use AsyncSignal."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        subcommands.add_parser(
            "list",
            help="Every AsyncSignal, patched signal and named event, with receivers, "
            "senders, inline/background mode and backend alias.",
        )
        stats = subcommands.add_parser(
            "stats",
            help="Per receiver, from the run log: runs, failure rate, p50/p95 "
            "duration, p50/p95 queue lag and retries over a recent window.",
        )
        stats.add_argument(
            "--hours",
            type=float,
            default=24.0,
            help="The window, in hours back from now (default 24).",
        )
        prune = subcommands.add_parser(
            "prune",
            help="Delete run log rows older than EVENTX_RECORD_RETENTION_DAYS (or --days), "
            "without sending pre_delete or post_delete.",
        )
        prune.add_argument("--days", type=float, default=None, help="Keep this many days instead.")
        codemod = subcommands.add_parser(
            "codemod",
            help="Print the diff that moves Signal() definitions and built-in model "
            "signal receivers to django-eventx (--apply writes it).",
            description=CODEMOD_DESCRIPTION,
        )
        codemod.add_argument(
            "paths",
            nargs="*",
            metavar="PATH",
            help="Files or directories to scan, inside the current directory "
            "(default: the current directory).",
        )
        codemod.add_argument(
            "--apply", action="store_true", help="Write the changes instead of printing a diff."
        )
        codemod.add_argument(
            "--all",
            action="store_true",
            dest="include_review",
            help="Also convert the Signal() definitions, and propose the receivers, listed "
            "for review.",
        )
        codemod.add_argument(
            "--all-senders",
            action="store_true",
            help="Make a built-in model signal async for every sender when one of its "
            "receivers takes a sender not known from the code (by default it is listed for "
            "review instead).",
        )

        requeue = subcommands.add_parser(
            "requeue",
            help="Make receiver runs that a dead django_tasks worker left RUNNING "
            "in django-tasks-db ready again.",
            description="A django-tasks-db worker killed hard (SIGKILL, a lost machine) "
            "leaves the task it was running RUNNING for ever. Requeue those last claimed "
            "by the given worker ids (each start of db_worker has an id of its own, "
            "in its first log line: 'Starting worker worker_id=...'), "
            "and/or those running for longer than --running-for seconds. Their receivers "
            "run again: make them idempotent.",
        )
        requeue.add_argument(
            "--worker-id",
            action="append",
            default=[],
            dest="worker_ids",
            help="The id of a dead worker (repeatable).",
        )
        requeue.add_argument(
            "--running-for",
            type=float,
            default=None,
            metavar="SECONDS",
            help="Also requeue runs started more than SECONDS ago (longer than any "
            "receiver can take).",
        )

        resend = subcommands.add_parser(
            "resend",
            help="Send receiver runs of the django_tasks or celery backend again, from "
            "the payloads their ERROR log lines hold.",
            description="A receiver run whose hand-off to the engine failed (broker "
            "down), or that a worker refused (e.g. a worker that did not have the "
            "receiver yet), is logged at ERROR with its payload after 'Payload: '. "
            "Give each payload, or the whole log line, as an argument, or one per "
            "line on standard input (no argument, or '-'); each goes to the backend "
            "alias it names.",
        )
        resend.add_argument(
            "payloads",
            nargs="*",
            metavar="PAYLOAD",
            help="A payload (JSON) or a log line holding one; '-' or none: read standard input.",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "list":
            self.handle_list()
        elif options["subcommand"] == "stats":
            self.handle_stats(options["hours"])
        elif options["subcommand"] == "prune":
            self.handle_prune(options["days"])
        elif options["subcommand"] == "requeue":
            self.handle_requeue(options["worker_ids"], options["running_for"])
        elif options["subcommand"] == "resend":
            self.handle_resend(options["payloads"])
        else:
            self.handle_codemod(
                options["paths"],
                apply=options["apply"],
                include_review=options["include_review"],
                all_senders=options["all_senders"],
            )

    def handle_stats(self, hours: float) -> None:
        if not hours > 0:
            raise CommandError(f"--hours must be a number of hours > 0, not {hours}.")
        if not runlog.enabled:
            self.stdout.write(
                "The run log is off (EVENTX_RECORD_RUNS is not True), so there is "
                "nothing to show: receivers run in web and worker processes, not in this "
                "command's, whose own counters would only be zeros. Set "
                "EVENTX_RECORD_RUNS = True and run migrate to record every run."
            )
            return
        rows = per_receiver(hours)
        if not rows:
            self.stdout.write(f"No receiver runs recorded in the last {hours:g} hours.")
            return
        header = (
            "receiver",
            "runs",
            "failed",
            "failure rate",
            "p50 ms",
            "p95 ms",
            "lag p50 ms",
            "lag p95 ms",
            "retries",
        )
        table = [header] + [
            (
                row.receiver,
                str(row.runs),
                str(row.failed),
                f"{row.failure_rate:.1%}",
                f"{row.p50_ms:.1f}",
                f"{row.p95_ms:.1f}",
                "-" if row.lag_p50_ms is None else f"{row.lag_p50_ms:.1f}",
                "-" if row.lag_p95_ms is None else f"{row.lag_p95_ms:.1f}",
                str(row.retries),
            )
            for row in rows
        ]
        widths = [max(len(line[i]) for line in table) for i in range(len(header))]
        self.stdout.write(f"Receiver runs in the last {hours:g} hours, from the run log:")
        for line in table:
            cells = [line[0].ljust(widths[0])] + [
                cell.rjust(width) for cell, width in zip(line[1:], widths[1:])
            ]
            self.stdout.write("  ".join(cells))

    def handle_prune(self, days: float | None) -> None:
        if days is not None and not days > 0:
            raise CommandError(f"--days must be a number of days > 0, not {days}.")
        keep = retention_days() if days is None else days
        deleted = prune(keep)
        self.stdout.write(f"Deleted {deleted} receiver runs older than {keep:g} days.")

    def handle_requeue(self, worker_ids: list[str], running_for: float | None) -> None:
        if not worker_ids and running_for is None:
            raise CommandError("Give --worker-id and/or --running-for: which runs are abandoned?")
        if running_for is not None and not running_for > 0:
            raise CommandError(f"--running-for must be a number of seconds > 0, not {running_for}.")
        try:
            from eventx_signals.backends.django_tasks import requeue_abandoned
        except ImportError as exc:
            raise CommandError(str(exc)) from exc
        count = requeue_abandoned(worker_ids, running_for)
        self.stdout.write(f"Requeued {count} receiver runs.")

    def handle_resend(self, texts: list[str]) -> None:
        if not texts or texts == ["-"]:
            texts = [line for line in sys.stdin.read().splitlines() if line.strip()]
        try:
            resend = plan(texts)  # every line checked before any is sent
        except ValueError as exc:
            raise CommandError(f"{exc} Nothing was sent.") from exc
        for number, first in resend.repeats:
            self.stdout.write(f"Skipped payload {number}: the same run as payload {first}.")
        for sent, (number, payload, backend) in enumerate(resend.runs):
            try:
                handle = backend.hand_off(payload)
            except Exception as exc:  # the engine is still away
                unsent = ", ".join(str(n) for n, _, _ in resend.runs[sent:])
                raise CommandError(
                    f"Payload {number}: the {backend.alias!r} backend did not take it "
                    f"({type(exc).__name__}: {exc}); sent {sent} of {len(resend.runs)}. "
                    f"Not sent: payloads {unsent}; send those lines again once the "
                    "engine is back."
                ) from exc
            self.stdout.write(
                f"Sent a run of {payload.get('receiver')} to {backend.alias!r}: "
                f"{getattr(handle, 'id', handle)}"
            )
        self.stdout.write(f"Sent {len(resend.runs)} receiver runs again.")

    def handle_list(self) -> None:
        infos = collect()
        if not infos:
            self.stdout.write("No AsyncSignal, patched signal or named event.")
            return
        for info in infos:
            title = f"{info.name}  [{info.kind}]"
            if info.note:
                title += f"  ({info.note})"
            self.stdout.write(self.style.MIGRATE_HEADING(title))
            if not info.receivers:
                self.stdout.write("  (no receivers)")
            for receiver in info.receivers:
                senders = ", ".join(receiver.senders) if receiver.senders else "any sender"
                where = receiver.backend or "caller"
                line = f"  {receiver.mode:<10}  {where:<10}  {receiver.path}  <- {senders}"
                if receiver.fallback:
                    line += (
                        f"  (runs in the sending process: a worker of {receiver.backend!r} "
                        f"could not find it, as it {receiver.fallback})"
                    )
                self.stdout.write(line)

    def handle_codemod(
        self, paths: list[str], *, apply: bool, include_review: bool, all_senders: bool
    ) -> None:
        try:
            report = run(paths, apply=apply, include_review=include_review, all_senders=all_senders)
        except PathError as exc:
            raise CommandError(str(exc)) from exc
        # The diff's lines already end with "\n": ending="" keeps them as they are.
        self.stdout.write(report.diff, ending="")
        for note in report.notes:  # plain, not in the red that stderr gets by default
            self.stderr.write(note, style_func=_plain)
        if report.failed:
            raise CommandError(
                "Some files could not be parsed or diffed (see the errors above) and were "
                "left out; fix them, or pass only the paths to change."
            )


def _plain(text: str) -> str:
    return text
