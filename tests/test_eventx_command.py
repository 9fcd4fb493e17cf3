"""manage.py eventx list | codemod"""

import shutil
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db.models.signals import post_save
from django.dispatch import receiver

from eventx_signals import AsyncSignal, event_listener, keep_inline, patched_signal
from tests.testapp.models import Order

FIXTURES = Path(__file__).parent / "codemod_fixtures"

inventory_signal = AsyncSignal()


@receiver(inventory_signal)
def background_handler(sender, **kwargs):
    pass


@receiver(inventory_signal)
@keep_inline
def inline_handler(sender, **kwargs):
    pass


@event_listener("inventory_event")
def inventory_listener(user):
    pass


def on_order_saved(sender, **kwargs):
    pass


def run(*args):
    out = StringIO()
    call_command("eventx", *args, stdout=out)
    return out.getvalue()


def test_list_shows_signals_events_receivers_and_modes():
    post_save.connect(on_order_saved, sender=Order)
    try:
        with patched_signal(post_save, senders=["testapp.Order"]):
            output = run("list")
    finally:
        post_save.disconnect(on_order_saved, sender=Order)
    lines = [line.strip() for line in output.splitlines()]
    assert "tests.test_eventx_command.inventory_signal  [AsyncSignal]" in lines
    assert (
        "background  default     tests.test_eventx_command.background_handler  <- any sender"
        in lines
    )
    assert (
        "inline      caller      tests.test_eventx_command.inline_handler  <- any sender" in lines
    )
    assert "inventory_event  [event]" in lines
    assert (
        "background  default     tests.test_eventx_command.inventory_listener  <- any sender"
        in lines
    )
    assert any(
        line.startswith("django.db.models.signals.post_save  [patched signal]") for line in lines
    )
    assert (
        "background  default     tests.test_eventx_command.on_order_saved  <- testapp.Order"
        in lines
    )


def test_list_and_check_flag_receivers_a_worker_could_not_find():
    from eventx_signals.checks import check_receivers_workers_can_find

    def closure(sender, **kwargs):
        pass

    post_save.connect(on_order_saved, sender=Order)
    post_save.connect(closure, sender=Order)
    try:
        with patched_signal(post_save, senders=["testapp.Order"], backend="tasks"):
            lines = [line.strip() for line in run("list").splitlines()]
            warnings = [m for m in check_receivers_workers_can_find() if "post_save" in m.msg]
    finally:
        post_save.disconnect(on_order_saved, sender=Order)
        post_save.disconnect(closure, sender=Order)
    assert "background  tasks       tests.test_eventx_command.on_order_saved  <- testapp.Order" in (
        lines
    )
    [flagged] = [line for line in lines if ".closure" in line]
    assert flagged.startswith("background  tasks ")
    assert flagged.endswith(
        "(runs in the sending process: a worker of 'tasks' could not find it, as it is "
        "defined inside a function (a closure))"
    )
    [warning] = warnings
    assert warning.id == "eventx_signals.W004"
    assert "closure" in warning.msg and "connect a module-level function" in warning.msg


def test_codemod_prints_a_diff_and_writes_nothing(tmp_path, monkeypatch):
    tree = tmp_path / "project"
    shutil.copytree(FIXTURES, tree)
    monkeypatch.chdir(tmp_path)
    before = {p: p.read_bytes() for p in tree.rglob("*.py")}
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="could not be parsed"):
        call_command("eventx", "codemod", "project", stdout=out, stderr=err)
    assert out.getvalue().startswith("--- a/project/accounts/signals.py\n")
    assert "project/broken.py:3: error: cannot parse" in err.getvalue()
    assert {p: p.read_bytes() for p in tree.rglob("*.py")} == before


def test_codemod_apply_writes_files(tmp_path, monkeypatch):
    tree = tmp_path / "project"
    shutil.copytree(FIXTURES, tree)
    (tree / "broken.py").unlink()
    monkeypatch.chdir(tmp_path)
    out, err = StringIO(), StringIO()
    call_command("eventx", "codemod", "project", "--apply", stdout=out, stderr=err)
    assert out.getvalue() == ""
    assert "Wrote project/accounts/signals.py\n" in err.getvalue()
    assert "AsyncSignal(" in (tree / "accounts" / "signals.py").read_text()


def test_codemod_unknown_path_is_a_command_error(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(CommandError, match="PATH 'nowhere' does not exist"):
        run("codemod", "nowhere")
