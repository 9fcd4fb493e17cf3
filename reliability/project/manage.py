#!/usr/bin/env python
"""manage.py of the reliability suite's project (see reliability/README.rst)."""

import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "relproj.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
