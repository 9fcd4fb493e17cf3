from billing.models import Invoice
from django.contrib.auth.models import User
from django.core.signals import request_finished
from django.db import models
from django.db.models import signals
from django.dispatch import receiver

from accounts.models import LoginAttempt
from . import models as account_models


@receiver(signals.post_save, sender=User)
def create_profile(sender, instance, created, **kwargs):
    if created:
        account_models.Profile.objects.create(user=instance)


@receiver(signals.post_save, sender=LoginAttempt)
def lock_out_after_failures(sender, instance, **kwargs):
    pass


def delete_avatar_file(sender, instance, **kwargs):
    instance.avatar.delete(save=False)


models.signals.post_delete.connect(delete_avatar_file, sender=account_models.Profile)
signals.post_save.connect(receiver=lambda sender, **kwargs: None, sender=Invoice, weak=False)


@receiver(request_finished)
def flush_audit_log(sender, **kwargs):
    pass
