from django.conf import settings
from django.db import models


class Profile(models.Model):
    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    avatar = models.ImageField(blank=True)


class LoginAttempt(models.Model):
    username = models.CharField(max_length=150)
    succeeded = models.BooleanField(default=False)
