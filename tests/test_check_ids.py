"""The table of system check ids (``config.check_ids``) is the one list: every
id the package reports is in it, and the documentation's table
(docs/reference/checks.rst) says the same."""

import re
from pathlib import Path

from eventx_signals.config.check_ids import CHECK_IDS

ROOT = Path(__file__).resolve().parent.parent
ID = re.compile(r"eventx_signals\.[EW]\d{3}")


def test_every_id_the_package_reports_is_in_the_table():
    used = set()
    for path in (ROOT / "eventx_signals").rglob("*.py"):
        if path.name != "check_ids.py":
            used |= set(ID.findall(path.read_text()))
    assert used - set(CHECK_IDS) == set()
    assert set(CHECK_IDS) - used == set(), "an id in the table that nothing reports"


def test_the_documented_table_is_the_table():
    page = (ROOT / "docs" / "reference" / "checks.rst").read_text()
    rows = re.findall(r"^``(eventx_signals\.[EW]\d{3})``\s+(.+)$", page, re.MULTILINE)
    assert dict(rows) == CHECK_IDS
    assert [check_id for check_id, _ in rows] == sorted(CHECK_IDS)
