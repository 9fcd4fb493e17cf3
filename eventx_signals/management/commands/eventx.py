"""manage.py eventx list | migrate"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


class Command(BaseCommand):
    help = "Inspect django-eventx signals and events, or migrate code to AsyncSignal."

    def add_arguments(self, parser: CommandParser) -> None:
        subcommands = parser.add_subparsers(dest="subcommand", required=True)
        subcommands.add_parser(
            "list",
            help="Every AsyncSignal, patched signal and named event, with receivers, "
            "senders and inline/background mode.",
        )
        migrate = subcommands.add_parser(
            "migrate",
            help="Show the changes that move Signal() definitions and built-in model "
            "signal receivers to django-eventx (--apply writes them).",
        )
        migrate.add_argument("paths", nargs="*", default=["."], metavar="PATH")
        migrate.add_argument("--apply", action="store_true", help="Write the changes.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["subcommand"] == "list":
            self.handle_list()
        else:
            self.handle_migrate(options["paths"], options["apply"])

    def handle_list(self) -> None:
        from eventx_signals.inventory import collect

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
                self.stdout.write(f"  {receiver.mode:<10}  {receiver.path}  <- {senders}")

    def handle_migrate(self, paths: list[str], apply: bool) -> None:
        from eventx_signals.migration import run

        try:
            status = run(paths, apply=apply, stdout=self.stdout)
        except FileNotFoundError as exc:
            raise CommandError(str(exc)) from exc
        if status:
            raise CommandError("Some files could not be parsed; see the errors above.")
