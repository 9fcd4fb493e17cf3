"""A read-only admin of the run log (EVENTX_RECORD_RUNS)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.html import format_html

from .models import ReceiverRun

if TYPE_CHECKING:  # django-stubs make ModelAdmin generic; Django's class is not
    _ModelAdmin = admin.ModelAdmin[ReceiverRun]
else:
    _ModelAdmin = admin.ModelAdmin


@admin.register(ReceiverRun)
class ReceiverRunAdmin(_ModelAdmin):
    list_display = (
        "finished_at",
        "signal",
        "receiver",
        "status",
        "attempt",
        "duration",
        "backend",
        "error_type",
    )
    list_filter = ("status", "signal", "receiver", "backend")
    search_fields = (
        "signal",
        "receiver",
        "sender",
        "error_type",
        "error_message",
        "=dispatch_id",
        "=trace_id",
    )
    date_hierarchy = "finished_at"
    list_per_page = 50
    fields = (
        ("signal", "sender"),
        ("receiver", "backend"),
        ("status", "attempt"),
        ("queued_at", "started_at", "finished_at", "duration_ms"),
        ("process", "dispatch_id", "trace_id"),
        "error_type",
        "error_message",
        "formatted_traceback",
        "kwargs",
    )
    readonly_fields = (
        "signal",
        "sender",
        "receiver",
        "backend",
        "status",
        "attempt",
        "queued_at",
        "started_at",
        "finished_at",
        "duration_ms",
        "process",
        "dispatch_id",
        "trace_id",
        "error_type",
        "error_message",
        "formatted_traceback",
        "kwargs",
    )

    @admin.display(description="duration", ordering="duration_ms")
    def duration(self, run: ReceiverRun) -> str:
        return f"{run.duration_ms:.1f} ms"

    @admin.display(description="traceback")
    def formatted_traceback(self, run: ReceiverRun) -> str:
        if not run.traceback:
            return "-"
        return format_html('<pre class="eventx-traceback">{}</pre>', run.traceback)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
