from django.conf import settings
from django.db import models


class Profile(models.Model):
    """What a real provider knows beyond Django's user: whether the e-mail was verified."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile")
    email_verified = models.BooleanField(default=True)
