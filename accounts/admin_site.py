"""The Django admin site of Warden: for superusers only (staff status alone is not enough)."""

from django.contrib import admin


class WardenAdminSite(admin.AdminSite):
    site_header = "Warden administration"
    site_title = "Warden"

    def has_permission(self, request):
        return request.user.is_active and request.user.is_superuser
