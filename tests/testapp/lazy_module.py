"""A module whose attributes are looked up lazily (PEP 562), as some
libraries do to import on first use: a payload must never trigger it."""

asked: list[str] = []


def __getattr__(name: str) -> object:
    asked.append(name)
    raise AttributeError(name)
