#!/usr/bin/env python
"""Placeholder until the demo project lands."""

import sys

if __name__ == "__main__":
    print("The django-eventx demo arrives with the example app; see README.rst.")
    sys.exit(0)
