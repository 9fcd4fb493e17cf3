from django.db import models


class Request(models.Model):
    """Saved by the view: one row per committed request."""

    rid = models.CharField(max_length=64, unique=True)
    created = models.DateTimeField(auto_now_add=True)


class ReceiverRun(models.Model):
    """Written by a post_save receiver of Request: one row per run that got
    that far. No unique constraint, so duplicates can be counted."""

    rid = models.CharField(max_length=64, db_index=True)
    receiver = models.CharField(max_length=64)
    pid = models.IntegerField()
    attempt = models.IntegerField(default=1)
    created = models.DateTimeField(auto_now_add=True)
