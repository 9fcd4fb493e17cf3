import pytest
from django.core import checks
from django.test import override_settings

from eventx_signals.checks import check_backend_settings


def ids():
    return [message.id for message in check_backend_settings()]


def test_default_settings_pass():
    assert ids() == []


def test_checks_are_registered():
    assert check_backend_settings in checks.registry.registry.get_checks()


@pytest.mark.parametrize(
    "settings, expected_id, words",
    [
        ({"EVENTX_BACKEND": "rabbit"}, "eventx_signals.E001", "Cannot import backend 'rabbit'"),
        ({"EVENTX_BACKEND": "os.path.join"}, "eventx_signals.E001", "not a subclass"),
        ({"EVENTX_BACKEND_OPTIONS": [1]}, "eventx_signals.E002", "must be a dict"),
        ({"EVENTX_BACKEND_OPTIONS": {"workers": 0}}, "eventx_signals.E003", "positive integer"),
        ({"EVENTX_BACKEND_OPTIONS": {"when_full": "never"}}, "eventx_signals.E003", "'block'"),
        (
            {"EVENTX_BACKEND_OPTIONS": {"wrkers": 2}},
            "eventx_signals.E003",
            "Unknown option 'wrkers'",
        ),
        ({"EVENTX_ON_COMMIT": "yes"}, "eventx_signals.E004", "True or False"),
        ({"EVENTX_SHUTDOWN_TIMEOUT": -1}, "eventx_signals.E005", ">= 0"),
    ],
)
def test_bad_settings_are_reported(settings, expected_id, words):
    with override_settings(**settings):
        messages = check_backend_settings()
    assert [m.id for m in messages] == [expected_id]
    assert words in messages[0].msg
    assert messages[0].msg.endswith(".")
