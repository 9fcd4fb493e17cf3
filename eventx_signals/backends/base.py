"""
The contract every backend implements.

A backend takes a ready ``Delivery`` through one hook, ``dispatch(delivery,
commit_alias)``, at send time, and arranges for its receivers to run: now,
or once the transaction on ``commit_alias`` commits. The default
``dispatch`` does that with ``submit(delivery)``, which is all a simple
backend implements; a backend that must prepare something at send time (the
out-of-process ones encode the arguments) overrides ``dispatch`` itself.
Options are declared in ``option_defaults`` and validated by
``validate_option``, which the system checks call too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from asgiref.sync import sync_to_async

from ..config.settings import DEFAULT_BACKEND_ALIAS
from ..core import connections
from ..core.counters import counters
from ..core.threads import mark_worker_thread
from ..core.transactions import submit_on_commit
from ..engine.run import release_thread, run
from ..exceptions import EventxConfigurationError

if TYPE_CHECKING:
    from ..engine.delivery import Delivery


class BaseBackend:
    """
    A backend takes a ready ``Delivery`` and arranges for its receivers to
    run. Subclass it and implement ``submit()``; see the module's docstring.
    """

    #: Options the backend accepts, with their defaults.
    option_defaults: ClassVar[Mapping[str, Any]] = {}
    #: Made by the EVENTX_BACKENDS registry (not by hand): when the setting
    #: changes, another instance takes over its alias.
    from_settings = False
    #: Whether receivers run in another process, from JSON payloads built
    #: at send time (the checks and ``eventx list`` look for receivers a
    #: worker could not find; ``eager()`` sends the arguments through the
    #: backend's codec, as its worker would see them).
    serializes: ClassVar[bool] = False

    def __init__(
        self, alias: str = DEFAULT_BACKEND_ALIAS, options: Mapping[str, Any] | None = None
    ):
        options = dict(options or {})
        errors = self.option_errors(options)
        if errors:
            raise EventxConfigurationError(" ".join(errors))
        self.alias = alias
        self.options = {**self.option_defaults, **options}

    @classmethod
    def option_errors(cls, options: Mapping[str, Any]) -> list[str]:
        """Return one sentence per unknown or invalid option."""
        errors = []
        for name, value in options.items():
            if name not in cls.option_defaults:
                known = ", ".join(sorted(cls.option_defaults)) or "none"
                errors.append(
                    f"Unknown option {name!r} for the {cls.__name__} backend; "
                    f"known options: {known}."
                )
            else:
                errors += cls.validate_option(name, value)
        return errors

    @classmethod
    def validate_option(cls, name: str, value: Any) -> list[str]:
        """One sentence per problem of one option's value (``config.validators``
        has the usual ones, called with ``f"Option {name!r}"``)."""
        return []

    @classmethod
    def alias_warnings(cls, alias: str, options: Mapping[str, Any]) -> list[str]:
        """Sentences on a valid alias that will probably not do what is
        meant (system check W003)."""
        return []

    @classmethod
    def app_ready(cls) -> None:
        """Called once per process from the app's ``ready()`` when an alias
        of EVENTX_BACKENDS uses this class (worker processes included)."""

    # -- the hook -----------------------------------------------------------------

    def dispatch(self, delivery: Delivery, commit_alias: str | None) -> None:
        """
        Take a delivery at send time: submit it now, or once the transaction
        on the database ``commit_alias`` commits (None: now). A backend
        that must prepare what travels at send time does it here.
        """
        if commit_alias is None:
            self.submit(delivery)
        else:
            submit_on_commit(delivery, commit_alias, self.submit)

    async def adispatch(self, delivery: Delivery) -> None:
        """Async twin of ``dispatch`` (async code is never inside a
        transaction): submit the delivery now, without blocking the loop."""
        await self.asubmit(delivery)

    def submit(self, delivery: Delivery) -> None:
        """Arrange for ``delivery`` to run; must not run it in the caller
        unless the backend's policy says so. An in-process backend calls
        ``accept()`` when it takes a delivery, and ``run()`` to run it."""
        raise NotImplementedError

    async def asubmit(self, delivery: Delivery) -> None:
        """Async twin of ``submit``; by default ``submit`` in a thread of
        asgiref's shared executor, so that the event loop never blocks."""
        await sync_to_async(self.submit, thread_sensitive=False)(delivery)

    def round_trip(self, delivery: Delivery) -> None:
        """Under eager(): give the receivers the arguments as a worker of
        this backend would see them (serialising backends only)."""

    # -- for backends that run receivers in this process ----------------------------

    def accept(self, delivery: Delivery) -> None:
        """Count the delivery's runs as dispatched (``stats()``), so that
        ``wait_for_runs()`` waits for them: call it when taking a delivery
        to run later in this process."""
        counters.dispatched.add(len(delivery.receivers))

    def run(self, delivery: Delivery) -> None:
        """
        Run the delivery's receivers in this thread, now, as a worker of
        this backend: with every step of the run loop (retries at once,
        counters, logging, the run log), the thread marked as a worker (a
        send or ``wait_for_runs()`` from a receiver never waits for itself),
        its broken database connections replaced before and any transaction
        a receiver left open rolled back after.
        """
        mark_worker_thread()
        connections.before_job()
        try:
            run(delivery, on_worker=True, alias=self.alias)
        finally:
            connections.after_job()

    @staticmethod
    def release_thread() -> None:
        """Close the database connections and the event loop that running
        receivers gave this thread: call it when a thread that called
        ``run()`` idles or ends."""
        release_thread()

    # -- life cycle -------------------------------------------------------------------

    def running_threads(self) -> int:
        """Threads of this process still running receivers for this backend
        (after ``close()``: those that did not finish in time)."""
        return 0

    def close(self, timeout: float | None = None) -> int:
        """Stop accepting work and let what is queued finish, waiting up to
        ``timeout`` seconds (None: do not wait). Return how many deliveries
        were left unfinished."""
        return 0
