"""The migration assistant behind ``manage.py eventx migrate`` (eventx_signals.migration).

Most tests run it on a copy of tests/migration_fixtures, a small project with a shop and an
accounts app; the fixtures themselves are never modified.
"""

import io
import shutil
from pathlib import Path

import pytest

from eventx_signals.migration import run

FIXTURES = Path(__file__).parent / "migration_fixtures"
SEND_WARNING = "it now holds (receiver, Future) pairs; call future.result() to get the value"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A copy of the fixture project, made the current directory."""
    root = tmp_path / "project"
    shutil.copytree(FIXTURES, root)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """An empty current directory; write(name, text) adds a file to it."""
    monkeypatch.chdir(tmp_path)

    def write(name, text, newline="\n", encoding="utf-8"):
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.replace("\n", newline).encode(encoding))
        return path

    return write


def migrate(*paths, apply=False):
    out = io.StringIO()
    code = run(list(paths) or ["."], apply=apply, stdout=out)
    return code, out.getvalue()


def diff_of(output, name):
    """The lines of the diff of one file in the output."""
    lines = output.splitlines()
    start = lines.index(f"--- a/{name}")
    ends = (
        i
        for i in range(start + 2, len(lines))
        if lines[i][:1] not in " +-@" or lines[i].startswith("--- a/")
    )
    end = next(ends, len(lines))
    return lines[start:end]


def snapshot(root):
    return {path: path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


# Signal() definitions become AsyncSignal(), imports follow


def test_plain_import_is_replaced_in_place(project):
    _, output = migrate()
    assert diff_of(output, "shop/signals.py") == [
        "--- a/shop/signals.py",
        "+++ b/shop/signals.py",
        "@@ -1,9 +1,9 @@",
        ' """Signals sent by the shop app."""',
        "-from django.dispatch import Signal",
        "+from eventx_signals import AsyncSignal",
        " ",
        " # Sent once the payment provider has confirmed the payment.",
        "-order_paid = Signal()",
        "+order_paid = AsyncSignal()",
        " ",
        "-order_shipped = Signal(  # sent by the warehouse integration",
        "+order_shipped = AsyncSignal(  # sent by the warehouse integration",
        "     use_caching=True,",
        " )",
    ]


def test_aliased_and_module_signals_keep_comments_and_layout(project):
    _, output = migrate()
    assert diff_of(output, "accounts/signals.py") == [
        "--- a/accounts/signals.py",
        "+++ b/accounts/signals.py",
        "@@ -1,10 +1,11 @@",
        " from django import dispatch",
        "-from django.dispatch import Signal as DjangoSignal, receiver  # noqa: F401",
        "+from django.dispatch import receiver  # noqa: F401",
        "+from eventx_signals import AsyncSignal",
        " ",
        " # Fired once the user clicked the link in the confirmation e-mail.",
        "-email_confirmed = dispatch.Signal()",
        "+email_confirmed = AsyncSignal()",
        " ",
        "-password_changed = DjangoSignal(",
        "+password_changed = AsyncSignal(",
        "     # Cache the receivers per sender: this one is sent on every login.",
        "     use_caching=True,",
        " )  # see accounts.views.PasswordChangeView",
    ]


def test_import_django_dispatch_is_replaced_when_no_longer_used(project):
    _, output = migrate()
    assert diff_of(output, "core/events.py") == [
        "--- a/core/events.py",
        "+++ b/core/events.py",
        "@@ -1,4 +1,4 @@",
        "-import django.dispatch",
        "+from eventx_signals import AsyncSignal",
        " ",
        " # Project-wide events.",
        "-maintenance_started = django.dispatch.Signal(use_caching=True)",
        "+maintenance_started = AsyncSignal(use_caching=True)",
    ]


def test_subclasses_and_other_libraries_signals_are_left_alone(project):
    _, output = migrate()
    assert diff_of(output, "core/base.py") == [
        "--- a/core/base.py",
        "+++ b/core/base.py",
        "@@ -1,5 +1,6 @@",
        " from blinker import Signal as BlinkerSignal",
        " from django.dispatch import Signal",
        "+from eventx_signals import AsyncSignal",
        " ",
        " ",
        " class AuditedSignal(Signal):",
        "@@ -10,6 +11,6 @@",
        "         return super().send(sender, **named)",
        " ",
        " ",
        "-cache_cleared = Signal()",
        "+cache_cleared = AsyncSignal()",
        " # blinker's Signal is not Django's: it stays as it is.",
        " metrics_flushed = BlinkerSignal()",
    ]
    assert (
        "core/base.py:5:1: note: class AuditedSignal subclasses django.dispatch.Signal and was "
        "left unchanged: subclassing needs review" in output
    )


@pytest.mark.parametrize(
    "before, after",
    [
        pytest.param(
            "from django.dispatch import receiver, Signal\nx = Signal()\n",
            "from django.dispatch import receiver\nfrom eventx_signals import AsyncSignal\nx = AsyncSignal()\n",
            id="last-name",
        ),
        pytest.param(
            "from django.dispatch import (\n    receiver,\n    Signal,  # the class\n)\n\nx = Signal()\n",
            "from django.dispatch import (\n    receiver,\n)\nfrom eventx_signals import AsyncSignal\n\n"
            "x = AsyncSignal()\n",
            id="parenthesised",
        ),
        pytest.param(
            "from django.dispatch import (receiver, Signal)\nx = Signal()\n",
            "from django.dispatch import (receiver)\nfrom eventx_signals import AsyncSignal\nx = AsyncSignal()\n",
            id="parenthesised-one-line",
        ),
        pytest.param(
            "from django.dispatch import receiver, Signal as S, Signal\nx = Signal()\ny = S()\n",
            "from django.dispatch import receiver\nfrom eventx_signals import AsyncSignal\n"
            "x = AsyncSignal()\ny = AsyncSignal()\n",
            id="two-names-removed",
        ),
        pytest.param(
            "from django.dispatch import Signal\nimport django.dispatch\na = Signal()\nb = django.dispatch.Signal()\n",
            "from eventx_signals import AsyncSignal\na = AsyncSignal()\nb = AsyncSignal()\n",
            id="two-imports",
        ),
        pytest.param(
            "import django.dispatch\nx = django.dispatch.Signal()\ny = django.VERSION\n",
            "import django.dispatch\nfrom eventx_signals import AsyncSignal\nx = AsyncSignal()\ny = django.VERSION\n",
            id="module-still-used",
        ),
        pytest.param(
            "from django.dispatch import Signal\nfrom eventx_signals import AsyncSignal as AS\nx = Signal()\n",
            "from eventx_signals import AsyncSignal as AS\nx = AS()\n",
            id="already-imported",
        ),
        pytest.param(
            "from django.dispatch import Signal\n__all__ = ['Signal', 'x']\nx = Signal()\n",
            "from django.dispatch import Signal\nfrom eventx_signals import AsyncSignal\n"
            "__all__ = ['Signal', 'x']\nx = AsyncSignal()\n",
            id="re-exported",
        ),
        pytest.param(
            "def make():\n    from django.dispatch import Signal, receiver\n    return Signal(), receiver\n",
            "def make():\n    from django.dispatch import receiver\n    from eventx_signals import AsyncSignal\n"
            "    return AsyncSignal(), receiver\n",
            id="nested",
        ),
        pytest.param(
            "from django.dispatch.dispatcher import Signal\nx = Signal(use_caching=True)",
            "from eventx_signals import AsyncSignal\nx = AsyncSignal(use_caching=True)",
            id="dispatcher-module-no-final-newline",
        ),
        pytest.param(
            "from django.dispatch import Signal\nif True:\n    import django.dispatch\n"
            "a = Signal()\nb = django.dispatch.Signal()\n",
            "from eventx_signals import AsyncSignal\nif True:\n    import django.dispatch\n"
            "a = AsyncSignal()\nb = AsyncSignal()\n",
            id="alone-in-its-block",
        ),
        pytest.param(
            "def make():\n    return Signal(), receiver\nfrom django.dispatch import Signal, receiver",
            "def make():\n    return AsyncSignal(), receiver\nfrom django.dispatch import receiver\n"
            "from eventx_signals import AsyncSignal",
            id="import-on-the-last-line",
        ),
    ],
)
def test_imports_are_adjusted(scratch, before, after):
    path = scratch("mod.py", before)
    migrate(apply=True)
    assert path.read_text() == after
    compile(after, "mod.py", "exec")


def test_nothing_else_is_touched(scratch):
    source = (
        "from blinker import Signal\n"
        "from django.dispatch import receiver\n"
        "x = Signal()\n"
        "class Signal2(object): pass\n"
    )
    path = scratch("mod.py", source)
    code, output = migrate(apply=True)
    assert (code, path.read_text()) == (0, source)
    assert output.endswith("No Signal() definitions to change.\n")


# --apply, dry runs, broken files


def test_dry_run_writes_nothing(project):
    before = snapshot(project)
    _, output = migrate()
    assert snapshot(project) == before
    assert output.endswith("4 file(s) would change; run again with --apply to write them.\n")
    assert "Wrote" not in output


def test_apply_writes_changed_files_and_is_idempotent(project):
    code, output = migrate(apply=True)
    assert code == 1  # broken.py
    assert [line for line in output.splitlines() if line.startswith("Wrote")] == [
        "Wrote accounts/signals.py",
        "Wrote core/base.py",
        "Wrote core/events.py",
        "Wrote shop/signals.py",
    ]
    assert "--- a/" not in output
    assert (project / "shop/signals.py").read_text() == (
        '"""Signals sent by the shop app."""\n'
        "from eventx_signals import AsyncSignal\n"
        "\n"
        "# Sent once the payment provider has confirmed the payment.\n"
        "order_paid = AsyncSignal()\n"
        "\n"
        "order_shipped = AsyncSignal(  # sent by the warehouse integration\n"
        "    use_caching=True,\n"
        ")\n"
    )
    unchanged = FIXTURES / "shop/receivers.py"
    assert (project / "shop/receivers.py").read_bytes() == unchanged.read_bytes()
    for path in project.rglob("*.py"):
        if path.name != "broken.py":
            compile(path.read_text(), str(path), "exec")
    after = snapshot(project)
    _, again = migrate()
    assert "--- a/" not in again
    assert again.endswith("No Signal() definitions to change.\n")
    migrate(apply=True)
    assert snapshot(project) == after


def test_broken_file_is_reported_left_untouched_and_the_rest_processed(project):
    broken = (project / "broken.py").read_bytes()
    code, output = migrate(apply=True)
    assert code == 1
    assert (
        "broken.py:3: error: cannot parse (file left untouched): '(' was never closed\n" in output
    )
    assert (project / "broken.py").read_bytes() == broken
    assert "Wrote shop/signals.py" in output


def test_exit_code_is_zero_when_everything_parses(project):
    assert migrate("shop", "accounts")[0] == 0


def test_missing_path_raises_file_not_found(project):
    with pytest.raises(FileNotFoundError, match="no-such-app"):
        migrate("shop", "no-such-app")


def test_newlines_and_encoding_are_preserved(scratch):
    crlf = scratch(
        "crlf.py", "from django.dispatch import Signal, receiver\n\nx = Signal()\n", newline="\r\n"
    )
    latin = scratch(
        "latin.py",
        "# -*- coding: latin-1 -*-\nfrom django.dispatch import Signal\nname = 'café'; x = Signal()\n",
        encoding="latin-1",
    )
    bom = scratch(
        "bom.py", "import django.dispatch\nx = django.dispatch.Signal()\n", encoding="utf-8-sig"
    )
    migrate(apply=True)
    assert crlf.read_bytes() == (
        b"from django.dispatch import receiver\r\nfrom eventx_signals import AsyncSignal\r\n\r\nx = AsyncSignal()\r\n"
    )
    assert latin.read_bytes() == (
        b"# -*- coding: latin-1 -*-\nfrom eventx_signals import AsyncSignal\nname = 'caf\xe9'; x = AsyncSignal()\n"
    )
    assert (
        bom.read_bytes()
        == b"\xef\xbb\xbffrom eventx_signals import AsyncSignal\nx = AsyncSignal()\n"
    )


def test_migrations_hidden_and_virtualenv_directories_are_skipped(scratch):
    definition = "from django.dispatch import Signal\nx = Signal()\n"
    for name in (
        "app/migrations/0002_data.py",
        ".tox/lib/mod.py",
        "env/lib/mod.py",
        "node_modules/x.py",
    ):
        scratch(name, definition)
    scratch("env/pyvenv.cfg", "home = /usr/bin\n")
    scratch("app/signals.py", definition)
    _, output = migrate()
    assert [line for line in output.splitlines() if line.startswith("--- ")] == [
        "--- a/app/signals.py"
    ]


def test_output_is_sorted_and_deterministic(project):
    _, output = migrate("shop", "core", "accounts", "broken.py")
    assert migrate("broken.py", "accounts", "shop", "core", "shop/signals.py")[1] == output
    headers = [line for line in output.splitlines() if line.startswith("--- ")]
    assert headers == sorted(headers)


# EVENTX_ASYNC_SIGNALS


def test_settings_snippet_names_models_by_label(project):
    _, output = migrate()
    snippet = output[output.index("# Add to your settings:") :].splitlines()
    assert snippet[: snippet.index("}") + 1] == [
        "# Add to your settings:",
        "EVENTX_ASYNC_SIGNALS = {",
        '    "django.db.models.signals.post_delete": [',
        '        "shop.OrderLine",',
        '        "user_accounts.Profile",',
        "    ],",
        '    "django.db.models.signals.post_save": [',
        '        "auth.User",',
        '        "billing.Invoice",  # guessed from the import path: confirm the app label',
        '        "shop.Order",',
        '        "shop.OrderLine",',
        '        "user_accounts.LoginAttempt",',
        "    ],",
        "    # pre_delete: receivers that mutate the instance or veto the delete lose their meaning in the "
        "background.",
        '    "django.db.models.signals.pre_delete": [',
        '        "shop.Product",',
        "    ],",
        "    # pre_save: receivers that mutate the instance or veto the save lose their meaning in the background.",
        '    "django.db.models.signals.pre_save": [',
        '        "shop.Product",',
        "    ],",
        "}",
    ]


def test_settings_snippet_is_a_list_when_a_sender_is_unknown(scratch):
    scratch(
        "audit/receivers.py",
        "from django.db.models.signals import m2m_changed, post_save\n"
        "from django.dispatch import receiver\n"
        "from .models import Order\n"
        "\n"
        "@receiver(post_save)\n"
        "def audit(sender, **kwargs): pass\n"
        "\n"
        "m2m_changed.connect(audit, sender=Order.tags.through)\n",
    )
    _, output = migrate()
    snippet = output[output.index("# Add to your settings:") :].splitlines()
    assert snippet == [
        "# Add to your settings:",
        "# (a list: these receivers take any sender, or one not known from the code alone:",
        "#   audit/receivers.py:5 audit",
        "#   audit/receivers.py:8 audit",
        "# )",
        "EVENTX_ASYNC_SIGNALS = [",
        '    "django.db.models.signals.m2m_changed",',
        '    "django.db.models.signals.post_save",',
        "]",
        "No Signal() definitions to change.",
    ]


def test_sender_without_a_known_app_asks_to_confirm_the_label(scratch):
    scratch(
        "handlers.py",
        "from django.db.models import signals\nfrom somewhere import *\n\n"
        "signals.post_delete.connect(lambda **kw: None, sender=Invoice)\n",
    )
    _, output = migrate()
    assert '        "Invoice",  # app label unknown: write it as "app_label.Invoice"\n' in output


def test_signals_that_must_stay_synchronous_are_reported_not_proposed(project):
    _, output = migrate()
    assert (
        "accounts/receivers.py:31:2: note: flush_audit_log receives request_finished, left synchronous: "
        "its receivers close the request thread's connections and caches\n" in output
    )
    assert (
        "shop/models.py:30:1: note: remember_status receives post_init, left synchronous: "
        "its receivers set up the instance being built\n" in output
    )
    assert 'request_finished"' not in output and 'post_init"' not in output


def test_pre_signals_are_proposed_with_a_warning(project):
    _, output = migrate()
    assert (
        "shop/models.py:29:1: warning: normalise_sku receives pre_save; once pre_save is async, receivers "
        "that mutate the instance or veto the save lose their meaning in the background\n" in output
    )
    assert "shop/receivers.py:19:2: warning: archive_product receives pre_delete;" in output


def test_no_receivers_means_nothing_to_add(scratch):
    scratch("mod.py", "from django.dispatch import Signal\nx = Signal()\n")
    assert "nothing to add to EVENTX_ASYNC_SIGNALS" in migrate()[1]


# Uses of the value of send()


def test_uses_of_the_value_of_send_are_flagged(project):
    _, output = migrate()
    flagged = [line for line in output.splitlines() if line.startswith("shop/services.py")]
    assert flagged == [
        f"shop/services.py:11:17: warning: the value of order_paid.send() is assigned: {SEND_WARNING}",
        f"shop/services.py:12:31: warning: the value of order_shipped.send() is iterated: {SEND_WARNING}",
        f"shop/services.py:14:13: warning: the value of order_paid.send() is indexed: {SEND_WARNING}",
        "shop/services.py:15:33: warning: the value of order_paid.send_robust() is passed as an argument: "
        + SEND_WARNING,
        "shop/services.py:21:41: warning: the value of order_paid.send() is used in a comprehension: "
        + SEND_WARNING,
        f"shop/services.py:25:12: warning: the value of order_shipped.send() is returned: {SEND_WARNING}",
        f"shop/services.py:29:21: warning: the value of order_paid.asend() is assigned: {SEND_WARNING}",
    ]


def test_signal_looking_objects_are_flagged_and_others_not(scratch):
    scratch(
        "mod.py",
        "def f(user_signal, mailer, sock, thing):\n"
        "    a = user_signal.send(None)\n"
        "    b = thing.send(sender=None)\n"
        "    c = mailer.send()\n"
        "    d = sock.send(b'x')\n"
        "    if thing.send_robust(sender=None):\n"
        "        user_signal.send(None)\n",
    )
    _, output = migrate()
    assert [line.split(": it now")[0] for line in output.splitlines() if "warning" in line] == [
        "mod.py:2:9: warning: the value of user_signal.send() is assigned",
        "mod.py:3:9: warning: the value of thing.send() is assigned",
        "mod.py:6:8: warning: the value of thing.send_robust() is tested",
    ]
