"""The run log's model (EVENTX_RECORD_RUNS): one row per attempt of a
receiver run. Django finds it through the app's ``models`` module."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ReceiverRun(models.Model):
    """One attempt of one receiver for one dispatch, on any backend."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        #: Failed, and another attempt follows.
        RETRIED = "retried", _("failed, retried")

    #: The signal's dotted path, or the named event's name.
    signal = models.CharField(_("signal or event"), max_length=255, db_index=True)
    sender = models.CharField(_("sender"), max_length=255, blank=True)
    receiver = models.CharField(_("receiver"), max_length=255, db_index=True)
    backend = models.CharField(_("backend alias"), max_length=100, blank=True)
    status = models.CharField(_("status"), max_length=10, choices=Status.choices)
    attempt = models.PositiveIntegerField(_("attempt"), default=1)
    queued_at = models.DateTimeField(_("queued at"), null=True)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"), db_index=True)
    duration_ms = models.FloatField(_("duration (ms)"))
    error_type = models.CharField(_("error type"), max_length=255, blank=True)
    error_message = models.TextField(_("error message"), blank=True)
    traceback = models.TextField(_("traceback"), blank=True)
    kwargs = models.TextField(
        _("keyword arguments"),
        blank=True,
        help_text=_("Recorded only with EVENTX_RECORD_KWARGS, truncated."),
    )
    process = models.CharField(_("process"), max_length=100, blank=True)
    #: The dispatch this run belongs to: shared by every run and attempt of
    #: one send (``current_dispatch_id()``, log records, spans).
    dispatch_id = models.CharField(_("dispatch id"), max_length=64, blank=True, db_index=True)
    #: The OpenTelemetry trace of the dispatch, when it was traced.
    trace_id = models.CharField(_("trace id"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("receiver run")
        verbose_name_plural = _("receiver runs")
        ordering = ["-finished_at"]
        indexes = [models.Index(fields=["status", "finished_at"], name="eventx_run_status_idx")]

    def __str__(self) -> str:
        return f"{self.receiver} ({self.status}, attempt {self.attempt})"
