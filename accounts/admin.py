"""Django admin registrations (the site admits superusers only, see ``admin_site``).

Tokens are shown without their digest and cannot be created here: the secret must come from
``token_create`` so that it is shown once. Grants appear read-only beside their object. Every
write made here is audited (``audit.admin_changes``): the admin bypasses the services.
"""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from accounts.models import ApiToken, Membership, Team, User, Workspace
from audit.admin_changes import AuditedAdmin


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(User)
class WardenUserAdmin(AuditedAdmin, UserAdmin):
    list_display = ["username", "email", "is_active", "is_superuser", "is_service_account", "default_workspace"]
    list_filter = ["is_active", "is_superuser", "is_service_account"]
    fieldsets = UserAdmin.fieldsets + (("Warden", {"fields": ["is_service_account", "default_workspace"]}),)


@admin.register(Workspace)
class WorkspaceAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["slug", "name", "created_at"]
    search_fields = ["slug", "name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["workspace", "user", "role", "created_at"]
    list_filter = ["role", "workspace"]
    search_fields = ["user__username", "workspace__slug"]
    autocomplete_fields = ["user", "workspace"]


@admin.register(Team)
class TeamAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "workspace", "created_at"]
    list_filter = ["workspace"]
    search_fields = ["name"]
    readonly_fields = ["group"]


@admin.register(ApiToken)
class ApiTokenAdmin(AuditedAdmin, admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "workspace", "read_only", "expires_at", "last_used_at", "revoked_at"]
    list_filter = ["read_only", "workspace"]
    search_fields = ["name", "prefix", "user__username"]
    exclude = ["digest"]
    readonly_fields = ["user", "prefix", "workspace", "read_only", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False


class GrantAdmin(AuditedAdmin, admin.ModelAdmin):
    """Grants are changed through the API (which checks MANAGE and workspace membership)."""

    list_display = ["content_object", "permission"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


def _register_grants():
    from experiments.models import ExperimentGroupObjectPermission, ExperimentUserObjectPermission
    from registry.models import RegisteredModelGroupObjectPermission, RegisteredModelUserObjectPermission

    for model in (
        ExperimentUserObjectPermission,
        ExperimentGroupObjectPermission,
        RegisteredModelUserObjectPermission,
        RegisteredModelGroupObjectPermission,
    ):
        admin.site.register(model, GrantAdmin)


_register_grants()
