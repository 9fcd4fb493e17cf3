"""Named events: event_listener, trigger_event, list_registered_events, get_event."""

import asyncio
import threading

import pytest

from eventx_signals import (
    AsyncSignal,
    event_listener,
    get_event,
    list_registered_events,
    trigger_event,
)
from eventx_signals.testing import wait_for_runs


def test_listener_taking_only_the_arguments_it_names():
    seen = []

    @event_listener("user_registered_t1")
    def send_welcome_email(user):
        seen.append((user, threading.current_thread()))
        return f"welcome {user}"

    [(_, future)] = trigger_event("user_registered_t1", user="ada", plan="pro")
    assert future.result(5) == "welcome ada"
    assert seen[0][0] == "ada"
    assert seen[0][1] is not threading.current_thread()


def test_listener_with_kwargs_gets_everything_like_a_receiver():
    seen = []

    @event_listener("kwargs_event_t2")
    def audit(sender, **kwargs):
        seen.append((sender, sorted(kwargs)))

    trigger_event("kwargs_event_t2", sender="shop", a=1)
    wait_for_runs(5)
    assert seen == [("shop", ["a", "signal"])]


def test_listener_may_ask_for_sender_and_signal():
    @event_listener("wants_sender_t3")
    def handler(sender, signal, value):
        return sender, signal, value

    [(_, future)] = trigger_event("wants_sender_t3", sender="s", value=3)
    assert future.result(5) == ("s", get_event("wants_sender_t3"), 3)


def test_async_listener():
    @event_listener("async_event_t4")
    async def handler(value):
        await asyncio.sleep(0)
        return value * 2

    [(_, future)] = trigger_event("async_event_t4", value=21)
    assert future.result(5) == 42


def test_get_event_returns_one_async_signal_per_name():
    signal = get_event("same_name_t5")
    assert isinstance(signal, AsyncSignal)
    assert get_event("same_name_t5") is signal
    assert get_event("other_name_t5") is not signal


def test_list_registered_events_gives_dotted_paths():
    @event_listener("listed_t6")
    def first(x):
        pass

    @event_listener("listed_t6")
    def second(**kwargs):
        pass

    events = list_registered_events()
    assert events["listed_t6"] == [
        "tests.test_named_events.test_list_registered_events_gives_dotted_paths.<locals>.first",
        "tests.test_named_events.test_list_registered_events_gives_dotted_paths.<locals>.second",
    ]


def test_listeners_modules_are_autodiscovered():
    assert list_registered_events()["order_placed"] == ["tests.testapp.listeners.notify_admin"]
    [(_, future)] = trigger_event("order_placed", order="#7")
    assert future.result(5) == "admin notified of #7"


def test_registering_the_same_listener_twice_connects_once():
    def handler(x):
        return x

    event_listener("twice_t7")(handler)
    event_listener("twice_t7")(handler)
    assert len(trigger_event("twice_t7", x=1)) == 1


def test_failing_listener_is_logged_with_the_event_name(caplog):
    @event_listener("failing_t8")
    def broken(x):
        raise RuntimeError("listener failed")

    trigger_event("failing_t8", x=1)
    wait_for_runs(5)
    errors = [r for r in caplog.records if r.levelname == "ERROR" and r.name == "eventx_signals"]
    assert "failing_t8" in errors[0].getMessage()
    assert "broken" in errors[0].getMessage()


def test_trigger_without_listeners_returns_nothing():
    assert trigger_event("nobody_listens_t9", x=1) == []


def test_bad_names_are_rejected():
    with pytest.raises(TypeError, match=r"trigger_event\(\) name must be a str"):
        trigger_event(42)
    with pytest.raises(ValueError, match="must not be empty"):
        event_listener("  ")
    with pytest.raises(TypeError, match="must decorate a callable"):
        event_listener("x")(None)


def test_listener_naming_only_its_arguments_connects_with_debug_on():
    from django.test import override_settings

    with override_settings(DEBUG=True):

        @event_listener("debug_event_t10")
        def send_welcome_email(user):
            return user

    [(listener, future)] = trigger_event("debug_event_t10", user="ada")
    assert future.result(5) == "ada"
    assert listener.__qualname__.endswith("send_welcome_email")
    assert not hasattr(listener, "__wrapped__")


def test_autodiscovery_can_be_turned_off():
    import subprocess
    import sys
    from pathlib import Path

    def registered(autodiscover):
        source = (
            "import django\n"
            "from django.conf import settings\n"
            "settings.configure(INSTALLED_APPS=['eventx_signals', 'tests.testapp'],\n"
            f"                   EVENTX_AUTODISCOVER={autodiscover})\n"
            "django.setup()\n"
            "from eventx_signals import list_registered_events\n"
            "print(sorted(list_registered_events()))\n"
        )
        result = subprocess.run(
            [sys.executable, "-c", source],
            capture_output=True,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
            timeout=60,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    assert registered(True) == "['order_placed', 'order_refunded']"
    assert registered(False) == "[]"


def test_atrigger_event_returns_without_waiting_for_listeners():
    from eventx_signals import atrigger_event

    @event_listener("async_trigger_t11")
    def handler(value):
        return value + 1

    async def main():
        [(_, future)] = await atrigger_event("async_trigger_t11", value=1)
        return await asyncio.wrap_future(future)

    assert asyncio.run(main()) == 2
