"""
Each receiver run becomes a task of Django's Tasks framework (``django.tasks``
on Django 6.x, the ``django-tasks`` backport on 5.2), run by whatever Tasks
backend the chosen ``TASKS`` alias names: the database backend of
``django-tasks-db`` survives a crash and serves many workers.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

from django.conf import settings
from django.db import router
from django.utils import timezone

from ..config import validators
from .out_of_process import OutOfProcessBackend
from .out_of_process.worker import run_payload_in_worker

try:  # Django 6.x
    from django.tasks import DEFAULT_TASK_BACKEND_ALIAS, task, task_backends
except ImportError:  # Django 5.2: the backport
    try:
        from django_tasks import (  # type: ignore[no-redef,import-not-found,assignment,unused-ignore]
            DEFAULT_TASK_BACKEND_ALIAS,
            task,
            task_backends,
        )
    except ImportError as exc:
        raise ImportError(
            "The django_tasks backend needs Django's Tasks framework: Django 6.0 or "
            "later, or on Django 5.2 the backport (pip install 'django-eventx[django-tasks]')."
        ) from exc

logger = logging.getLogger("eventx_signals")

#: The dotted path a task result records; the worker finds the task there.
TASK_PATH = f"{__name__}.run_receiver"


class DjangoTasksBackend(OutOfProcessBackend):
    """
    Options: ``task_backend`` (an alias of ``TASKS``, default
    ``"default"``), ``queue_name`` (default ``"default"``), ``priority``
    (-100 to 100, default 0), ``enqueue_in_transaction`` (default False:
    enqueue after commit; True: enqueue inside the caller's transaction when
    the task store is the same database, so that the task exists if and
    only if the data committed) and ``refetch_instances``.
    """

    option_defaults: ClassVar[Mapping[str, Any]] = {
        **OutOfProcessBackend.option_defaults,
        "task_backend": DEFAULT_TASK_BACKEND_ALIAS,
        "queue_name": "default",
        "priority": 0,
        "enqueue_in_transaction": False,
    }

    @classmethod
    def validate_option(cls, name: str, value: Any) -> list[str]:
        label = f"Option {name!r}"
        if name in ("task_backend", "queue_name"):
            return validators.non_empty_string()(value, label)
        if name == "priority":
            return validators.integer_between(-100, 100)(value, label)
        if name == "enqueue_in_transaction":
            return validators.boolean(value, label)
        return super().validate_option(name, value)

    _task: Any = None

    def enqueues_inside(self, database: str) -> bool:
        """Whether a dispatch inside a transaction on ``database`` is
        enqueued at once, inside it: only with ``enqueue_in_transaction``,
        and only where the task rows are written to that database."""
        if not self.options["enqueue_in_transaction"]:
            return False
        return task_store_database(self.options["task_backend"]) == database

    def enqueue(self, payload: dict[str, Any]) -> Any:
        bound = self._task
        if bound is None:
            # Made (and validated against the Tasks backend) once: the
            # options of an alias do not change.
            bound = self._task = get_task().using(
                backend=self.options["task_backend"],
                queue_name=self.options["queue_name"],
                priority=self.options["priority"],
            )
        return bound.enqueue(payload)


def task_store_database(task_backend: str) -> str | None:
    """The database alias the Tasks backend ``task_backend`` writes its
    task rows to, or None if it is not a database backend."""
    backend = task_backends[task_backend]
    if type(backend).__module__.split(".")[0] != "django_tasks_db":
        return None
    from django_tasks_db.models import DBTaskResult  # an optional dependency

    return str(router.db_for_write(DBTaskResult))


# -- the worker side ------------------------------------------------------------


def _run_receiver(context: Any, payload: Any) -> Any:
    """The task: run the receiver a payload names; a retry becomes a new
    task of the same backend, queue and priority, deferred by its backoff
    where the Tasks backend can defer."""
    current = context.task_result.task

    def enqueue_retry(next_payload: dict[str, Any], delay: float) -> None:
        backend = task_backends[current.backend]
        run_after = None
        if delay > 0 and backend.supports_defer:
            run_after = timezone.now() + datetime.timedelta(seconds=delay)
        elif delay > 0:
            logger.warning(
                "The Tasks backend %r cannot defer a task: the retry of %s runs "
                "without its %g s backoff.",
                current.backend,
                next_payload.get("receiver"),
                delay,
            )
        current.using(run_after=run_after).enqueue(next_payload)

    # A task run again after its worker died (see requeue_abandoned) counts
    # one more attempt each time.
    return run_payload_in_worker(payload, enqueue_retry, extra_attempts=context.attempt - 1)


_run_receiver.__name__ = _run_receiver.__qualname__ = "run_receiver"


def requeue_abandoned(worker_ids: Iterable[str] = (), running_for: float | None = None) -> int:
    """
    Make receiver runs that a dead worker left RUNNING in django-tasks-db
    ready again (a worker killed by SIGKILL, or whose machine went away,
    leaves its task RUNNING for ever): those last claimed by one of
    ``worker_ids``, and those started over ``running_for`` seconds ago.
    Return how many were requeued. Their receivers run again: at least
    once, so receivers must be idempotent (``current_attempt()`` helps).
    """
    from django_tasks_db.models import DBTaskResult  # an optional dependency

    ids = set(worker_ids)
    cutoff = (
        None if running_for is None else timezone.now() - datetime.timedelta(seconds=running_for)
    )
    abandoned = [
        row.pk
        for row in DBTaskResult.objects.running()
        .filter(task_path=TASK_PATH)
        .only("pk", "worker_ids", "started_at")
        if (row.worker_ids and row.worker_ids[-1] in ids)
        or (cutoff is not None and row.started_at is not None and row.started_at < cutoff)
    ]
    if not abandoned:
        return 0
    return int(
        DBTaskResult.objects.running()
        .filter(pk__in=abandoned)
        .update(status="READY", started_at=None)
    )


_task: Any = None


def get_task() -> Any:
    """
    The Task, made on first use rather than at import: making it validates
    it against a Tasks backend and its queues, which must not fail the
    import of this module (or of the worker) because the ``default`` alias
    or queue does not exist.
    """
    global _task
    if _task is None:
        aliases = list(getattr(settings, "TASKS", {}) or {DEFAULT_TASK_BACKEND_ALIAS: None})
        alias = DEFAULT_TASK_BACKEND_ALIAS if DEFAULT_TASK_BACKEND_ALIAS in aliases else aliases[0]
        queues = task_backends[alias].queues
        queue = "default" if not queues or "default" in queues else sorted(queues)[0]
        _task = task(backend=alias, queue_name=queue, takes_context=True)(_run_receiver)
    return _task


def __getattr__(name: str) -> Any:
    # The worker imports the task by TASK_PATH.
    if name == "run_receiver":
        return get_task()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
