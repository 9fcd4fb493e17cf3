import pytest
from django.core import checks
from django.test import override_settings

from eventx_signals import AsyncSignal
from eventx_signals.checks import check_backends, check_settings

THREAD = "eventx_signals.backends.thread.ThreadBackend"


def messages():
    # Without the test project's own signals and event, which name the
    # aliases "tasks" and "celery" that most settings here leave out.
    return [
        message
        for message in check_backends() + check_settings()
        if "tests.testapp.signals" not in message.msg and "order_refunded" not in message.msg
    ]


def test_default_settings_pass():
    assert messages() == []


def test_checks_are_registered():
    registered = checks.registry.registry.get_checks()
    assert check_backends in registered
    assert check_settings in registered


def test_two_aliases_pass():
    with override_settings(
        EVENTX_BACKENDS={
            "default": {"BACKEND": THREAD},
            "bulk": {"BACKEND": THREAD, "OPTIONS": {"workers": 1, "when_full": "drop"}},
        }
    ):
        assert messages() == []


@pytest.mark.parametrize(
    "settings, expected_id, words",
    [
        ({"EVENTX_BACKENDS": ["thread"]}, "eventx_signals.E001", "must be a dict"),
        ({"EVENTX_BACKENDS": {"bulk": {"BACKEND": THREAD}}}, "eventx_signals.E002", "'default'"),
        (
            {"EVENTX_BACKENDS": {"default": {"BACKEND": "rabbit.Backend"}}},
            "eventx_signals.E003",
            "cannot be imported",
        ),
        (
            {"EVENTX_BACKENDS": {"default": {"BACKEND": "os.path.join"}}},
            "eventx_signals.E003",
            "not a subclass",
        ),
        ({"EVENTX_BACKENDS": {"default": "thread"}}, "eventx_signals.E003", "must be a dict"),
        (
            {"EVENTX_BACKENDS": {"default": {"BACKEND": THREAD, "OPTION": {}}}},
            "eventx_signals.E003",
            "unknown key 'OPTION'",
        ),
        (
            {"EVENTX_BACKENDS": {"default": {"BACKEND": THREAD, "OPTIONS": [1]}}},
            "eventx_signals.E003",
            "must be a dict",
        ),
        (
            {"EVENTX_BACKENDS": {"default": {"BACKEND": THREAD, "OPTIONS": {"workers": 0}}}},
            "eventx_signals.E003",
            "positive integer",
        ),
        (
            {"EVENTX_BACKENDS": {"default": {"BACKEND": THREAD, "OPTIONS": {"when_full": "x"}}}},
            "eventx_signals.E003",
            "'block'",
        ),
        (
            {"EVENTX_BACKENDS": {"default": {"BACKEND": THREAD, "OPTIONS": {"wrkers": 2}}}},
            "eventx_signals.E003",
            "Unknown option 'wrkers'",
        ),
        (
            {
                "EVENTX_BACKENDS": {
                    "default": {"BACKEND": THREAD, "OPTIONS": {"block_timeout": float("inf")}}
                }
            },
            "eventx_signals.E003",
            "finite number",
        ),
        (
            {
                "EVENTX_BACKENDS": {
                    "default": {"BACKEND": THREAD, "OPTIONS": {"block_timeout": float("nan")}}
                }
            },
            "eventx_signals.E003",
            "finite number",
        ),
        ({"EVENTX_ON_COMMIT": "yes"}, "eventx_signals.E004", "True or False"),
        ({"EVENTX_SHUTDOWN_TIMEOUT": -1}, "eventx_signals.E005", ">= 0"),
        ({"EVENTX_SHUTDOWN_TIMEOUT": float("inf")}, "eventx_signals.E005", "finite"),
        ({"EVENTX_SHUTDOWN_TIMEOUT": float("nan")}, "eventx_signals.E005", "finite"),
    ],
)
def test_bad_settings_are_reported(settings, expected_id, words):
    with override_settings(**settings):
        found = messages()
    assert [m.id for m in found] == [expected_id]
    assert words in found[0].msg
    assert found[0].msg.endswith(".")


def test_alias_named_by_an_async_signal_must_exist():
    global bulk_signal
    bulk_signal = AsyncSignal(backend="bulk")
    try:
        found = messages()
        assert [m.id for m in found] == ["eventx_signals.E013"]
        assert "'bulk'" in found[0].msg
        assert "tests.test_checks.bulk_signal" in found[0].msg
        with override_settings(
            EVENTX_BACKENDS={"default": {"BACKEND": THREAD}, "bulk": {"BACKEND": THREAD}}
        ):
            assert messages() == []
    finally:
        del bulk_signal
