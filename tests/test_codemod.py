"""The codemod behind ``manage.py eventx codemod`` (eventx_signals.codemod).

Most tests run it on a copy of tests/codemod_fixtures, a small project with a shop and an
accounts app; the fixtures themselves are never modified. The diff it prints must apply
as printed: the tests feed it to ``git apply`` and ``patch -p1`` in a fresh repository and
compare the result with what ``--apply`` writes.
"""

import io
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from eventx_signals.codemod import PathError, run

FIXTURES = Path(__file__).parent / "codemod_fixtures"
SEND_WARNING = "it now holds (receiver, Future) pairs; call future.result() to get the value"
# git without the machine's or the user's configuration (apply.whitespace=error...).
GIT_ENV = {**os.environ, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}
DIFF_LINE_STARTS = ("--- a/", "+++ b/", "@@ -", " ", "+", "-", "\\ No newline at end of file")


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


def codemod(*paths, apply=False):
    """(exit status, the diff, the notes) of a run on ``paths``."""
    report = run(list(paths), apply=apply)
    return int(report.failed), report.diff, "".join(f"{note}\n" for note in report.notes)


def command(*args):
    """(stdout, stderr, CommandError message or None) of ``manage.py eventx codemod``."""
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("eventx", "codemod", *args, stdout=out, stderr=err)
    except CommandError as exc:
        return out.getvalue(), err.getvalue(), str(exc)
    return out.getvalue(), err.getvalue(), None


def git(root, *args, stdin=None):
    result = subprocess.run(
        ["git", *args], cwd=root, input=stdin, capture_output=True, env=GIT_ENV, check=False
    )
    assert result.returncode == 0, result.stderr.decode()
    return result


def patch(root, *args, stdin):
    result = subprocess.run(
        ["patch", "-p1", "--batch", *args], cwd=root, input=stdin, capture_output=True, check=False
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    return result


def diff_of(output, name):
    """The lines of the diff of one file in the output."""
    lines = output.splitlines()
    start = lines.index(f"--- a/{name}")
    ends = (
        i
        for i in range(start + 2, len(lines))
        if lines[i][:1] not in " +-@\\" or lines[i].startswith("--- a/")
    )
    end = next(ends, len(lines))
    return lines[start:end]


def snapshot(root):
    return {
        path.relative_to(root): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and ".git" not in path.relative_to(root).parts
        and path.name != "change.diff"
    }


def diff_and_apply(tmp_path, monkeypatch, tree, *args):
    """
    Copy ``tree`` into three fresh git repositories. In the first, save the command's
    stdout as change.diff and apply it with ``git apply`` (``--check`` first); in the
    second, apply that file with ``patch -p1`` (``--dry-run`` first); in the third, run
    the command with ``--apply``. Return the three snapshots, the diff and the notes.
    """
    copies = {}
    for name in ("git-apply", "patch", "apply-option"):
        copies[name] = tmp_path / name
        shutil.copytree(tree, copies[name])
        git(copies[name], "init", "-q")
    monkeypatch.chdir(copies["git-apply"])
    diff, notes, _ = command(*args)
    assert diff, notes
    change = diff.encode()  # as `manage.py eventx codemod > change.diff` writes it
    (copies["git-apply"] / "change.diff").write_bytes(change)
    git(copies["git-apply"], "apply", "--check", "change.diff")
    git(copies["git-apply"], "apply", "change.diff")
    (copies["patch"] / "change.diff").write_bytes(change)
    patch(copies["patch"], "--dry-run", stdin=(copies["patch"] / "change.diff").read_bytes())
    patch(copies["patch"], stdin=(copies["patch"] / "change.diff").read_bytes())
    monkeypatch.chdir(copies["apply-option"])
    assert command(*args, "--apply")[0] == ""
    return (*(snapshot(copies[name]) for name in copies), diff, notes)


# Signal() definitions become AsyncSignal(), imports follow


def test_plain_import_is_replaced_in_place(project):
    _, diff, _ = codemod()
    assert diff_of(diff, "shop/signals.py") == [
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
    _, diff, _ = codemod()
    assert diff_of(diff, "accounts/signals.py") == [
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
    _, diff, _ = codemod()
    assert diff_of(diff, "core/events.py") == [
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
    _, diff, notes = codemod()
    assert diff_of(diff, "core/base.py") == [
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
        "left unchanged: subclassing needs review" in notes
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
    codemod(apply=True)
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
    code, diff, notes = codemod(apply=True)
    assert (code, diff, path.read_text()) == (0, "", source)
    assert notes.endswith("No Signal() definitions to change.\n")


# --apply, dry runs, broken files


def test_dry_run_writes_nothing(project):
    before = snapshot(project)
    _, diff, notes = codemod()
    assert snapshot(project) == before
    assert len([line for line in diff.splitlines() if line.startswith("--- a/")]) == 4
    assert notes.endswith(
        "4 file(s) would change: apply the diff printed on standard output with git apply or "
        "patch -p1, or run again with --apply to write the files.\n"
    )
    assert "Wrote" not in notes


def test_apply_writes_changed_files_and_is_idempotent(project):
    code, diff, notes = codemod(apply=True)
    assert code == 1  # broken.py
    assert [line for line in notes.splitlines() if line.startswith("Wrote")] == [
        "Wrote accounts/signals.py",
        "Wrote core/base.py",
        "Wrote core/events.py",
        "Wrote shop/signals.py",
    ]
    assert diff == ""
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
    _, again, notes = codemod()
    assert again == ""
    assert notes.endswith("No Signal() definitions to change.\n")
    codemod(apply=True)
    assert snapshot(project) == after


def test_broken_file_is_reported_left_untouched_and_the_rest_processed(project):
    broken = (project / "broken.py").read_bytes()
    code, _, notes = codemod(apply=True)
    assert code == 1
    assert "broken.py:3: error: cannot parse (file left untouched): '(' was never closed\n" in notes
    assert (project / "broken.py").read_bytes() == broken
    assert "Wrote shop/signals.py" in notes


def test_exit_code_is_zero_when_everything_parses(project):
    assert codemod("shop", "accounts")[0] == 0


def test_missing_path_is_refused(project):
    with pytest.raises(PathError, match="PATH 'no-such-app' does not exist"):
        codemod("shop", "no-such-app")


def test_newlines_and_encoding_are_preserved(scratch):
    crlf = scratch(
        "crlf.py", "from django.dispatch import Signal, receiver\n\nx = Signal()\n", newline="\r\n"
    )
    latin = scratch(
        "latin.py",
        "# -*- coding: latin-1 -*-\nfrom django.dispatch import Signal\n"
        "name = 'café'; x = Signal()\n",
        encoding="latin-1",
    )
    bom = scratch(
        "bom.py", "import django.dispatch\nx = django.dispatch.Signal()\n", encoding="utf-8-sig"
    )
    codemod(apply=True)
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


def test_hidden_virtualenv_and_other_directories_are_skipped(scratch):
    definition = "from django.dispatch import Signal\nx = Signal()\n"
    for name in (
        "app/migrations/0002_data.py",
        ".tox/lib/mod.py",
        "env/lib/mod.py",
        "node_modules/x.py",
        "lib/python3.12/site-packages/x.py",
        "usr/lib/python3/dist-packages/x.py",
        "venv/x.py",
        "app/__pycache__/x.py",
        ".git/hooks/x.py",
    ):
        scratch(name, definition)
    scratch("env/pyvenv.cfg", "home = /usr/bin\n")
    scratch("app/signals.py", definition)
    _, diff, notes = codemod()
    assert [line for line in diff.splitlines() if line.startswith("--- ")] == [
        "--- a/app/signals.py"
    ]
    assert notes.startswith(f"Scanned 1 Python file(s) under the current directory, {Path.cwd()}.")


def test_output_is_sorted_and_deterministic(project):
    _, diff, notes = codemod("shop", "core", "accounts", "broken.py")
    again = codemod("broken.py", "accounts", "shop", "core", "shop/signals.py")
    assert again[1] == diff
    assert again[2].splitlines()[1:] == notes.splitlines()[1:]  # all but "Scanned ... under"
    headers = [line for line in diff.splitlines() if line.startswith("--- ")]
    assert headers == sorted(headers)


# EVENTX_ASYNC_SIGNALS


def test_settings_snippet_names_models_by_label(project):
    _, _, notes = codemod()
    snippet = notes[notes.index("# Add to your settings:") :].splitlines()
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
    _, _, notes = codemod()
    snippet = notes[notes.index("# Add to your settings:") :].splitlines()
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
    _, _, notes = codemod()
    assert '        "Invoice",  # app label unknown: write it as "app_label.Invoice"\n' in notes


def test_signals_that_must_stay_synchronous_are_reported_not_proposed(project):
    _, _, output = codemod()
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
    _, _, output = codemod()
    assert (
        "shop/models.py:29:1: warning: normalise_sku receives pre_save; once pre_save is async, receivers "
        "that mutate the instance or veto the save lose their meaning in the background\n" in output
    )
    assert "shop/receivers.py:19:2: warning: archive_product receives pre_delete;" in output


def test_no_receivers_means_nothing_to_add(scratch):
    scratch("mod.py", "from django.dispatch import Signal\nx = Signal()\n")
    assert "nothing to add to EVENTX_ASYNC_SIGNALS" in codemod()[2]


# Uses of the value of send()


def test_uses_of_the_value_of_send_are_flagged(project):
    _, _, output = codemod()
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
    _, _, output = codemod()
    assert [line.split(": it now")[0] for line in output.splitlines() if "warning" in line] == [
        "mod.py:2:9: warning: the value of user_signal.send() is assigned",
        "mod.py:3:9: warning: the value of thing.send() is assigned",
        "mod.py:6:8: warning: the value of thing.send_robust() is tested",
    ]


# The diff applies as printed: git apply, patch -p1, and the same files as --apply


def test_the_diff_applies_with_git_apply_and_patch_and_equals_apply(tmp_path, monkeypatch):
    by_git, by_patch, by_option, diff, _ = diff_and_apply(tmp_path, monkeypatch, FIXTURES)
    assert by_git == by_patch == by_option
    assert by_git[Path("shop/signals.py")] != (FIXTURES / "shop/signals.py").read_bytes()
    assert "\n\n" not in diff  # no blank line after each line: context lines start with " "


def test_stdout_holds_the_diff_alone_and_the_notes_go_to_stderr(project):
    git(project, "init", "-q")
    out, err, error = command()
    assert out.startswith("--- a/accounts/signals.py\n+++ b/accounts/signals.py\n@@ -1,10 ")
    assert [line for line in out.splitlines() if not line.startswith(DIFF_LINE_STARTS)] == []
    assert "# Add to your settings:" in err and "# Add" not in out
    assert "shop/services.py:11:17: warning: the value of order_paid.send() is assigned: " in err
    assert "broken.py:3: error: cannot parse" in err and "broken.py" not in out
    assert error.startswith("Some files could not be parsed or diffed (see the errors above)")


def test_absolute_paths_inside_the_current_directory_are_shown_relative(project):
    out, _, error = command(str(project / "shop"), str(project / "core" / "events.py"))
    assert error is None
    assert [line for line in out.splitlines() if line.startswith(("--- ", "+++ "))] == [
        "--- a/core/events.py",
        "+++ b/core/events.py",
        "--- a/shop/signals.py",
        "+++ b/shop/signals.py",
    ]


@pytest.mark.parametrize("outside", ["../core", "{root}/core", "{root}/core/events.py"])
def test_a_path_outside_the_current_directory_is_refused(project, monkeypatch, outside):
    monkeypatch.chdir(project / "shop")
    out, _, error = command(outside.format(root=project))
    assert out == ""
    assert error == (
        f"PATH {outside.format(root=project)!r} is outside the current directory "
        f"{project / 'shop'}; run the command from a directory that holds it (such as the "
        "project's root), so that the diff's paths are relative to where it is applied."
    )


def test_a_file_linked_from_outside_the_current_directory_is_skipped(project, monkeypatch):
    (project / "shop" / "linked.py").symlink_to(project / "core" / "events.py")
    monkeypatch.chdir(project / "shop")
    out, err, _ = command()
    assert [line for line in out.splitlines() if line.startswith("--- ")] == ["--- a/signals.py"]
    assert (
        f"linked.py: note: skipped: it is a link to {project / 'core' / 'events.py'}, outside "
        "the current directory\n" in err
    )


def test_the_diff_applies_from_a_subdirectory_of_the_repository(tmp_path, monkeypatch):
    """git apply reads the paths of a diff without "diff --git" relative to where it runs."""
    shutil.copytree(FIXTURES, tmp_path / "backend")
    (tmp_path / "backend" / "broken.py").unlink()
    git(tmp_path, "init", "-q")
    monkeypatch.chdir(tmp_path / "backend")
    out, _, error = command()
    assert error is None and out.startswith("--- a/accounts/signals.py\n")
    git(tmp_path / "backend", "apply", "--check", "-", stdin=out.encode())
    git(tmp_path / "backend", "apply", "-", stdin=out.encode())
    assert "AsyncSignal()" in (tmp_path / "backend" / "shop" / "signals.py").read_text()


EDGE_CASES = {
    "crlf.py": b"from django.dispatch import Signal, receiver\r\n\r\nx = Signal()\r\n",
    "mixed.py": b"from django.dispatch import Signal\nx = Signal()\r\ny = 1\n",
    "no_final_newline.py": b"from django.dispatch import Signal\nx = Signal()",
    "import_last.py": (
        b"def make():\n    return Signal()\nfrom django.dispatch import Signal, receiver"
    ),
    "bom.py": b"\xef\xbb\xbfimport django.dispatch\nx = django.dispatch.Signal()\n",
    "latin.py": (
        b"# -*- coding: latin-1 -*-\nfrom django.dispatch import Signal\nx = Signal()\n"
        b"\n\n\n\nname = 'caf\xe9'  # out of the diff's context lines\n"
    ),
    "unicode.py": "from django.dispatch import Signal\nname = 'café'\nx = Signal()\n".encode(),
    "a script with spaces.py": b"from django.dispatch import Signal\nx = Signal()\n",
    "naïve.py": b"from django.dispatch import Signal\nx = Signal()\n",
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_newlines_marks_and_encodings_give_a_diff_that_applies(tmp_path, monkeypatch, name):
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / name).write_bytes(EDGE_CASES[name])
    by_git, by_patch, by_option, diff, _ = diff_and_apply(tmp_path, monkeypatch, tree)
    assert by_git == by_patch == by_option
    assert by_git[Path(name)] != EDGE_CASES[name]
    if name in ("no_final_newline.py", "import_last.py"):
        assert diff.endswith("\n\\ No newline at end of file\n")


def test_a_change_next_to_non_ascii_text_of_a_non_utf8_file_is_reported_not_diffed(scratch):
    scratch(
        "latin.py",
        "# -*- coding: latin-1 -*-\nfrom django.dispatch import Signal\n"
        "name = 'café'; x = Signal()\n",
        encoding="latin-1",
    )
    scratch("ok.py", "from django.dispatch import Signal\nx = Signal()\n")
    out, err, error = command()
    assert [line for line in out.splitlines() if line.startswith("--- ")] == ["--- a/ok.py"]
    assert (
        "latin.py: error: its diff is not printed: the file is encoded in iso-8859-1 and the "
        "lines around the change hold non-ASCII text, which the diff (UTF-8) cannot match; run "
        "the command again with --apply to change it in place\n" in err
    )
    assert error is not None


# What is scanned without a PATH, and the subcommand's name


def test_without_a_path_the_current_directory_is_scanned(project, monkeypatch):
    monkeypatch.chdir(project / "shop")
    out, err, _ = command()
    assert [line for line in out.splitlines() if line.startswith("--- ")] == ["--- a/signals.py"]
    assert err.startswith(
        f"Scanned 6 Python file(s) under the current directory, {project / 'shop'}.\n"
    )  # not the 2 files of shop/migrations


def test_help_says_what_is_scanned(capsys):
    with pytest.raises(SystemExit):
        call_command("eventx", "codemod", "--help")
    help_text = " ".join(capsys.readouterr().out.split())
    assert "With no PATH it scans every .py file under the current directory" in help_text
    assert "The diff alone goes to standard output" in help_text


def test_the_old_subcommand_name_is_gone():
    with pytest.raises(CommandError, match="invalid choice: 'migrate'"):
        call_command("eventx", "migrate")


# EVENTX_ASYNC_SIGNALS already set


def snippet_of(notes):
    """The settings lines of the notes: from the first "# " line to the summary line."""
    lines = notes.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("# "))
    end = next(i for i, line in enumerate(lines) if " file(s) would change: " in line)
    return lines[start:end]


@override_settings(
    EVENTX_ASYNC_SIGNALS=[
        "django.db.models.signals.post_save",
        "django.db.models.signals.pre_save",
        "myproject.signals.elsewhere",
    ]
)
def test_signals_already_in_the_list_are_not_suggested_again(project):
    _out, err, _ = command()
    assert snippet_of(err) == [
        "# EVENTX_ASYNC_SIGNALS already makes async: myproject.signals.elsewhere (every "
        "sender); post_save (every sender); pre_save (every sender).",
        "# Add to the EVENTX_ASYNC_SIGNALS list in your settings:",
        '    "django.db.models.signals.post_delete",',
        "    # pre_delete: receivers that mutate the instance or veto the delete lose their "
        "meaning in the background.",
        '    "django.db.models.signals.pre_delete",',
    ]


@override_settings(
    EVENTX_ASYNC_SIGNALS={
        "django.db.models.signals.post_save": ["shop.Order", "auth.user", "billing.Invoice"],
        "django.db.models.signals.pre_save": "shop.Product",
        "django.db.models.signals.pre_delete": None,
    }
)
def test_only_the_missing_model_labels_are_suggested_for_the_dict_form(project):
    _, err, _ = command()
    assert snippet_of(err) == [
        "# EVENTX_ASYNC_SIGNALS already makes async: post_save (auth.user, billing.Invoice, "
        "shop.Order); pre_delete (every sender); pre_save (shop.Product).",
        "# Add to the EVENTX_ASYNC_SIGNALS dict in your settings:",
        '    "django.db.models.signals.post_delete": [',
        '        "shop.OrderLine",',
        '        "user_accounts.Profile",',
        "    ],",
        '    "django.db.models.signals.post_save": [  # already in your settings: add to its list',
        '        "shop.OrderLine",',
        '        "user_accounts.LoginAttempt",',
        "    ],",
    ]


@override_settings(EVENTX_ASYNC_SIGNALS={"django.db.models.signals.post_save": ["shop.Order"]})
def test_receivers_of_any_sender_are_named_in_the_dict_form(scratch):
    scratch(
        "audit/receivers.py",
        "from django.db.models.signals import post_save\n"
        "from django.dispatch import receiver\n"
        "from django.dispatch import Signal\n"
        "\n"
        "@receiver(post_save)\n"
        "def audit(sender, **kwargs): pass\n"
        "x = Signal()\n",
    )
    _, err, _ = command()
    assert snippet_of(err) == [
        "# EVENTX_ASYNC_SIGNALS already makes async: post_save (shop.Order).",
        "# Add to the EVENTX_ASYNC_SIGNALS dict in your settings:",
        '    "django.db.models.signals.post_save": [  # already in your settings: add to its list',
        "        # audit/receivers.py:5 audit takes any sender, or one not known from the code "
        "alone: add the labels of its senders",
        "    ],",
    ]


@pytest.mark.parametrize(
    "setting",
    [
        ["django.db.models.signals.post_save", "django.db.models.signals.post_delete"]
        + ["django.db.models.signals.pre_save", "django.db.models.signals.pre_delete"],
        {
            "django.db.models.signals.post_save": [
                "auth.User",
                "billing.Invoice",
                "shop.Order",
                "shop.OrderLine",
                "user_accounts.LoginAttempt",
            ],
            "django.db.models.signals.post_delete": ["shop.OrderLine", "user_accounts.Profile"],
            "django.db.models.signals.pre_save": ["shop.Product"],
            "django.db.models.signals.pre_delete": ["shop.Product"],
        },
    ],
    ids=["list", "dict"],
)
def test_nothing_is_suggested_when_the_setting_covers_every_receiver(project, setting):
    with override_settings(EVENTX_ASYNC_SIGNALS=setting):
        _, err, _ = command()
    assert (
        "# Every receiver of a built-in model signal found is covered by EVENTX_ASYNC_SIGNALS: "
        "nothing to add.\n" in err
    )
    assert '"django.db.models.signals.' not in err


@override_settings(EVENTX_ASYNC_SIGNALS="django.db.models.signals.post_save")
def test_an_invalid_setting_is_named_and_ignored(project):
    _, err, _ = command()
    assert (
        "# The suggestion below ignores the setting: EVENTX_ASYNC_SIGNALS must be a "
        "list of dotted signal paths or a dict of dotted signal path to model labels, not str.\n"
        "# Add to your settings:\nEVENTX_ASYNC_SIGNALS = {\n" in err
    )
