from django.apps import AppConfig
from django.core import checks
from django.core.exceptions import ImproperlyConfigured


class NotificationsConfig(AppConfig):
    name = "notifications"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        checks.register(encryption_keys_check)


def encryption_keys_check(app_configs, **kwargs):
    """A malformed encryption key stops ``migrate``/``check`` at deploy, not a webhook write."""
    from notifications import encryption

    try:
        encryption.keyring()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="warden.E010")]
    return []
