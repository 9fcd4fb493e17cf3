"""The names of the previous release still work, for one release, each with
a DeprecationWarning that names its replacement."""

import pytest
from django.core import checks
from django.test import override_settings

from eventx_signals import AsyncSignal, testing
from eventx_signals.models import ReceiverRun
from eventx_signals.runlog import writer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("wait_for_events", "wait_for_runs"),
        ("capture_events", "capture_dispatches"),
        ("CapturedEvent", "CapturedDispatch"),
    ],
)
def test_testing_helpers_under_their_former_names(old, new):
    with pytest.warns(DeprecationWarning, match=f"testing.{old} is deprecated; use {new}"):
        assert getattr(testing, old) is getattr(testing, new)


def test_the_former_names_work_as_the_new_ones():
    signal = AsyncSignal()
    signal.connect(lambda sender, **kwargs: None, weak=False)
    with pytest.warns(DeprecationWarning):
        from eventx_signals.testing import capture_events, wait_for_events
    with capture_events() as captured:
        signal.send(sender=None, n=1)
    assert [dispatch.kwargs for dispatch in captured] == [{"n": 1}]
    wait_for_events(5)


def test_an_unknown_name_is_still_an_attribute_error():
    with pytest.raises(AttributeError, match="no_such_helper"):
        testing.no_such_helper  # noqa: B018


def test_the_run_log_setting_under_its_former_name_records_runs_and_warns():
    signal = AsyncSignal()
    signal.connect(lambda sender, **kwargs: "done", weak=False)
    with (
        pytest.warns(DeprecationWarning, match="EVENTX_RECORD_EVENTS is deprecated"),
        override_settings(EVENTX_RECORD_EVENTS=True),
    ):
        [(_, future)] = signal.send(sender=None)
        assert future.result(5) == "done"
        testing.wait_for_runs(5)
        writer.flush()
        [warning] = [m for m in checks.run_checks() if m.id == "eventx_signals.W005"]
    assert "rename it to EVENTX_RECORD_RUNS" in warning.msg
    assert ReceiverRun.objects.filter(status="succeeded").count() == 1


@override_settings(EVENTX_RECORD_EVENTS=True, EVENTX_RECORD_RUNS=False)
def test_the_new_name_wins_and_the_former_one_is_not_read():
    signal = AsyncSignal()
    signal.connect(lambda sender, **kwargs: "done", weak=False)
    [(_, future)] = signal.send(sender=None)
    assert future.result(5) == "done"
    testing.wait_for_runs(5)
    writer.flush()
    assert ReceiverRun.objects.count() == 0
    assert "eventx_signals.W005" not in [m.id for m in checks.run_checks()]
