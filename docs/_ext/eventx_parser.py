"""The argument parser of ``manage.py eventx``, as Django builds it, for
sphinx-argparse (``docs/reference/commands.rst``)."""

from __future__ import annotations

import argparse

from eventx_signals.management.commands.eventx import Command


def parser() -> argparse.ArgumentParser:
    return Command().create_parser("manage.py", "eventx")
