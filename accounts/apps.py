from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from accounts.sso import checks  # noqa: F401 (registers the SSO settings checks)


class WardenAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with Warden's site: superusers only."""

    default = False
    default_site = "accounts.admin_site.WardenAdminSite"
