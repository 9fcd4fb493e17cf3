"""The reference pages of docs/ list everything the package has: each
setting with its check ids, each option of each built-in backend, each
public name, each stats() key. (Their examples run through conftest.py;
the build itself, warnings as errors, is in README's test command.)"""

import re
from pathlib import Path

import pytest

import eventx_signals
from eventx_signals import stats, testing
from eventx_signals.backends.celery import CeleryBackend
from eventx_signals.backends.django_tasks import DjangoTasksBackend
from eventx_signals.backends.immediate import ImmediateBackend
from eventx_signals.backends.thread import ThreadBackend
from eventx_signals.config import settings as settings_module
from eventx_signals.config.settings import Setting

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference"


def sections(page: str) -> dict[str, str]:
    """Section title -> its text, for the sections of a reference page."""
    text = (REFERENCE / page).read_text()
    parts = re.split(r"^(.+)\n-{3,}\n", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2]))


def shown(default: object) -> str:
    """A default as the pages write it: ``10`` for 10.0, ``"block"``."""
    if isinstance(default, float):
        return f"{default:g}"
    return f'"{default}"' if isinstance(default, str) else repr(default)


SETTINGS = [value for value in vars(settings_module).values() if isinstance(value, Setting)]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.name)
def test_every_setting_has_a_section_with_its_default_and_check_id(setting):
    [text] = [text for title, text in sections("settings.rst").items() if setting.name in title]
    assert f"Defaults to ``{shown(setting.default)}``" in text or setting.name in (
        "EVENTX_BACKENDS",
        "EVENTX_RETRY",
    )
    if setting.check_id:
        assert setting.check_id.rsplit(".", 1)[1] in text
    assert f".. setting:: {setting.name}" in (REFERENCE / "settings.rst").read_text()


def test_the_settings_page_knows_no_other_setting():
    text = (REFERENCE / "settings.rst").read_text()
    documented = set(re.findall(r"^\.\. setting:: (\S+)$", text, re.MULTILINE))
    assert documented == {setting.name for setting in SETTINGS}


@pytest.mark.parametrize(
    ("backend", "title"),
    [
        (ThreadBackend, "The thread backend"),
        (ImmediateBackend, "The immediate backend"),
        (DjangoTasksBackend, "The Django Tasks backend"),
        (CeleryBackend, "The Celery backend"),
    ],
    ids=lambda value: getattr(value, "__name__", ""),
)
def test_every_backend_option_is_documented_with_its_default(backend, title):
    text = sections("backends.rst")[title]
    documented = re.findall(r"^``(\w+): \w+``\n((?:    .*\n)+)", text, re.MULTILINE)
    assert sorted(name for name, _ in documented) == sorted(backend.option_defaults)
    for name, description in documented:
        default = backend.option_defaults[name]
        assert f"Defaults to ``{shown(default)}``" in " ".join(description.split()), name
    assert f".. autoclass:: {backend.__module__}.{backend.__name__}" in text


def test_every_public_name_is_in_the_api_reference():
    text = (REFERENCE / "api.rst").read_text()
    documented = set(re.findall(r"^\.\. auto\w+:: ([\w.]+)$", text, re.MULTILINE))
    public = {f"eventx_signals.{name}" for name in eventx_signals.__all__} - {
        "eventx_signals.receiver"  # Django's own, re-exported: said in words
    }
    public |= {f"eventx_signals.testing.{name}" for name in testing.__all__}
    assert public - documented == set()
    assert "``eventx_signals.receiver`` is Django's own" in text


def test_every_stats_key_is_in_the_stats_reference():
    text = (REFERENCE / "stats.rst").read_text()
    documented = re.findall(r"^   \* - ``(\w+)``$", text, re.MULTILINE)
    assert documented == list(stats())
