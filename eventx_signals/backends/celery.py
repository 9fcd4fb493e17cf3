"""
Each receiver run becomes a Celery task on the project's Celery app, for
teams that already run Celery workers (Redis or RabbitMQ broker).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, ClassVar

from asgiref.sync import sync_to_async
from django.utils.module_loading import import_string

from ..config import validators
from ..config.settings import shutdown_timeout
from ..core import process
from .out_of_process import OutOfProcessBackend
from .out_of_process.handoff import Handoffs
from .out_of_process.payloads import RetryScheduled
from .out_of_process.worker import run_payload_in_worker

try:
    import celery
    from celery import signals as celery_signals
    from celery.exceptions import WorkerShutdown, WorkerTerminate
except ImportError as exc:
    raise ImportError(
        "The celery backend needs Celery (pip install 'django-eventx[celery]')."
    ) from exc

logger = logging.getLogger("eventx_signals")

#: The name of the one task every receiver run travels as.
TASK_NAME = "eventx_signals.run_receiver"


class CeleryBackend(OutOfProcessBackend):
    """
    Options: ``app`` (dotted path of the Celery app; default: the current
    app, the one your project's ``celery.py`` creates), ``queue``,
    ``routing_key`` and ``priority`` (passed to ``apply_async``; default
    None, Celery's routing decides), ``handoff_timeout`` (seconds a sender
    waits at most for the broker to take a run, default 5; see
    ``handoff``), ``when_handoff_fails`` and ``refetch_instances``.
    """

    option_defaults: ClassVar[Mapping[str, Any]] = {
        **OutOfProcessBackend.option_defaults,
        "app": None,
        "queue": None,
        "routing_key": None,
        "priority": None,
        "handoff_timeout": 5.0,
    }

    @classmethod
    def validate_option(cls, name: str, value: Any) -> list[str]:
        label = f"Option {name!r}"
        if name in ("app", "queue", "routing_key"):
            return validators.non_empty_string(optional=True)(value, label)
        if name == "priority":
            return validators.integer_between(0, 255, optional=True)(value, label)
        if name == "handoff_timeout":
            return validators.positive_seconds(value, label)
        return super().validate_option(name, value)

    @classmethod
    def alias_warnings(cls, alias: str, options: Mapping[str, Any]) -> list[str]:
        path = options.get("app")
        try:
            app = _celery_app(path)
        except ImportError as exc:
            return [
                f"EVENTX_BACKENDS[{alias!r}]['OPTIONS']['app'] is {path!r}, which cannot be "
                f"imported ({exc}); give the dotted path of your Celery app."
            ]
        if not app.conf.broker_url:
            return [
                f"The Celery app of EVENTX_BACKENDS[{alias!r}] has no broker_url, so receiver "
                "runs would go to Celery's default broker (amqp://localhost); set "
                "CELERY_BROKER_URL, or import your project's Celery app in its __init__.py "
                "or name it in OPTIONS['app']."
            ]
        return []

    @classmethod
    def app_ready(cls) -> None:
        register_task()
        # A prefork child ends with os._exit() (billiard's pool), so atexit,
        # and the exit drain with it, never runs there: drain when Celery
        # says the child ends (recycled by --max-tasks-per-child, or shut
        # down), or the run log rows it has not written yet are lost.
        celery_signals.worker_process_shutdown.connect(
            _drain_at_child_exit, weak=False, dispatch_uid="eventx_signals.drain_at_child_exit"
        )

    def __init__(self, alias: str = "default", options: Mapping[str, Any] | None = None):
        super().__init__(alias, options)
        self._app: Any = None
        self._handoffs = Handoffs(f"eventx-{alias}", self.options["handoff_timeout"])

    @property
    def app(self) -> Any:
        """The Celery app receiver runs are sent with."""
        if self._app is None:
            self._app = _celery_app(self.options["app"])
            register_task()
        return self._app

    def hand_off(self, payload: dict[str, Any]) -> Any:
        """Publish on a hand-off thread, waiting at most ``handoff_timeout``
        seconds; in Celery's eager mode (no broker) the task runs here."""
        if self.app.conf.task_always_eager:
            return self.enqueue(payload)
        return self._handoffs.call(lambda: self.enqueue(payload))

    async def ahand_off(self, payload: dict[str, Any]) -> Any:
        if self.app.conf.task_always_eager:
            return await sync_to_async(self.enqueue)(payload)
        return await self._handoffs.acall(lambda: self.enqueue(payload))

    def enqueue(self, payload: dict[str, Any]) -> Any:
        routing = {
            key: self.options[key]
            for key in ("queue", "routing_key", "priority")
            if self.options[key] is not None
        }
        app = self.app
        # The task object (not send_task) so that task_always_eager applies.
        return app.tasks[TASK_NAME].apply_async(args=[payload], **routing)


def _drain_at_child_exit(**kwargs: Any) -> None:
    process.drain_all(shutdown_timeout())


def _celery_app(path: str | None) -> Any:
    """The Celery app at the dotted ``path``, or the current one."""
    return celery.current_app if path is None else import_string(path)


_registered = False


def register_task() -> None:
    """Define the task on every Celery app (``shared_task``), from the
    app's ``ready()`` when an alias uses this backend: the worker then knows
    the task without the project importing anything."""
    global _registered
    if _registered:
        return
    _registered = True

    @celery.shared_task(name=TASK_NAME, bind=True)  # type: ignore[untyped-decorator,unused-ignore]
    def run_receiver(task: Any, payload: Any) -> Any:
        retries: list[tuple[dict[str, Any], float]] = []
        try:
            return run_payload_in_worker(
                payload,
                lambda p, d: retries.append((p, d)),
                # Celery's own way of stopping the worker (cold shutdown).
                process_exits=(WorkerShutdown, WorkerTerminate),
            )
        except RetryScheduled:
            next_payload, delay = retries[0]
            # Celery's own retry: the same task again, with the next attempt's payload.
            raise task.retry(args=[next_payload], countdown=delay, max_retries=None) from None
