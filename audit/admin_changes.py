"""Changes made in the Django admin, in the audit log.

The admin writes models directly, not through the services, so its ModelAdmins mix in
``AuditedAdmin``: every addition, change and deletion (inline rows and bulk deletes included)
is an ``admin.object_*`` event in the same transaction as the write, naming the object and, for
changes, the before and after of each changed field. Password fields are never included.
"""

from datetime import date, datetime

from django.db import transaction
from django.db.models import Model

from audit import actions
from audit.services import record
from audit.targets import target_of


def _plain(value):
    """A JSON value for a form field's value: model instances and querysets become names."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Model):
        return str(value.pk)
    if hasattr(value, "__iter__"):
        return sorted(_plain(item) for item in value)
    return str(value)


def _fields(names) -> list[str]:
    return [name for name in names if "password" not in name]


def _values(obj, names) -> dict:
    return {name: _plain(getattr(obj, f"{name}_id", getattr(obj, name, None))) for name in _fields(names)}


def admin_target(obj) -> dict:
    """Memberships are named by their user, grant rows by their object; others by themselves."""
    from accounts.models import Membership

    if isinstance(obj, Membership):
        return target_of(obj.user, workspace=obj.workspace)
    content_object = getattr(obj, "content_object", None)
    if content_object is not None:
        return target_of(content_object)
    try:
        return target_of(obj)
    except TypeError:
        return {"target_type": obj._meta.model_name, "target_id": obj.pk, "target_name": str(obj)}


def _record(action, request, obj, changes: dict):
    changes = {"model": obj._meta.label_lower, "object_id": str(obj.pk), **changes}
    record(action, actor=request.user, **admin_target(obj), changes=changes)


class AuditedAdmin:
    """ModelAdmin mixin: the admin's writes, recorded as they are made."""

    def save_model(self, request, obj, form, change):
        names = _fields(form.changed_data)
        before = {name: _plain(form.initial.get(name)) for name in names} if change else {}
        super().save_model(request, obj, form, change)
        after = {name: _plain(form.cleaned_data.get(name)) for name in names}
        if change:
            if names:  # an unchanged object saved with changed inline rows: the rows have their events
                _record(actions.ADMIN_OBJECT_CHANGED, request, obj, {"before": before, "after": after})
        else:
            _record(actions.ADMIN_OBJECT_ADDED, request, obj, {"after": after})
        request.warden_admin_recorded = True

    def log_change(self, request, obj, message):
        """Changes without ``save_model`` (the password form) still leave an event, without values."""
        if not getattr(request, "warden_admin_recorded", False):
            changed = [field for entry in message if "changed" in entry for field in entry["changed"].get("fields", [])]
            _record(actions.ADMIN_OBJECT_CHANGED, request, obj, {"fields": changed or ["password"]})
        return super().log_change(request, obj, message)

    def save_formset(self, request, form, formset, change):
        """Inline rows (a workspace's memberships): deletions are named before they happen."""
        before = {
            row.instance.pk: {name: _plain(row.initial.get(name)) for name in _fields(row.changed_data)}
            for row in formset.initial_forms
            if row.has_changed()
        }
        for row in formset.deleted_forms:
            if row.instance.pk is not None:
                _record(actions.ADMIN_OBJECT_DELETED, request, row.instance, {})
        super().save_formset(request, form, formset, change)
        for obj in formset.new_objects:
            _record(actions.ADMIN_OBJECT_ADDED, request, obj, {"after": _values(obj, formset.form.base_fields)})
        for obj, names in formset.changed_objects:
            _record(actions.ADMIN_OBJECT_CHANGED, request, obj, {"before": before.get(obj.pk, {}), "after": _values(obj, names)})

    def delete_model(self, request, obj):
        _record(actions.ADMIN_OBJECT_DELETED, request, obj, {})
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        """The bulk delete action runs outside the admin's transactions: its events and the
        deletion commit together here."""
        with transaction.atomic():
            for obj in queryset:
                _record(actions.ADMIN_OBJECT_DELETED, request, obj, {})
            super().delete_queryset(request, queryset)
