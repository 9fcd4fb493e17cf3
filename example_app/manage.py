#!/usr/bin/env python
"""Command-line entry point of the django-eventx example shop.

Works from the repository root (``python example_app/manage.py demo``) and
from inside ``example_app/`` (``python manage.py runserver``).
"""

import os
import sys
from pathlib import Path


def main() -> None:
    here = str(Path(__file__).resolve().parent)
    if here not in sys.path:
        sys.path.insert(0, here)
    # Always this project's settings (``--settings`` still overrides): a
    # DJANGO_SETTINGS_MODULE exported for another project, e.g. the library's
    # own test settings, must not hijack the demo.
    os.environ["DJANGO_SETTINGS_MODULE"] = "shopsite.settings"
    try:
        from django.core.management import execute_from_command_line
    except ImportError as exc:
        raise ImportError(
            "Couldn't import Django. Install the library first, from the "
            "repository root: python3 -m venv .venv && .venv/bin/pip install -e ."
        ) from exc
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
