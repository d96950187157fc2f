"""Webhooks: who may manage them, their validation (MLflow's rules), writes and the test call.

Webhooks are managed by workspace admins only (DESIGN §3 lists them with the admin's duties):
a webhook receives events about every object of the workspace, restricted ones included, which
only admins may see. Reading them needs the admin role too; a read-only token may read but
never change them. A webhook of another workspace answers exactly like a missing one.

Secrets are write-only: never returned, never put in the audit log (which records whether
one is set), and stored encrypted (``Webhook.set_secret``). Audit records the URL's origin
only, since some receivers put a credential in the path or query.
"""

import re
import time
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Role
from audit import actions
from audit.services import record
from audit.targets import target_of
from experiments.access import names_nothing
from experiments.errors import already_exists, denied, invalid, not_found
from notifications import events as catalogue
from notifications.models import Channel, Delivery, Webhook, WebhookStatus
from notifications.webhooks.urlguard import UrlRefused, validate_url

NAME_RE = re.compile(r"^(?=.{1,63}$)[a-z0-9]([a-z0-9._-]*[a-z0-9])?$", re.IGNORECASE)
MAX_DESCRIPTION = 5000
MAX_SECRET = 1000


def now_ms() -> int:
    return int(time.time() * 1000)


# ---------------------------------------------------------------- access


def require_admin(ctx, *, write: bool):
    if ctx.role != Role.ADMIN:
        raise denied(f"Permission denied: webhooks of workspace '{ctx.workspace.slug}' are managed by its admins.")
    if write and ctx.principal.read_only:
        raise denied("Permission denied: this API token is read-only.")


def access_webhook(ctx, webhook_id, *, write: bool) -> Webhook:
    require_admin(ctx, write=write)
    hook = None
    if not names_nothing(webhook_id) and len(webhook_id) <= 36:
        hook = Webhook.objects.filter(workspace=ctx.workspace, webhook_id=webhook_id, deleted_timestamp__isnull=True).first()
    if hook is None:
        raise not_found(f"Webhook with ID {webhook_id} not found.")
    return hook


# ---------------------------------------------------------------- validation


def validate_name(name) -> str:
    if not isinstance(name, str) or not NAME_RE.fullmatch(name):
        raise invalid(
            f"Webhook name {name!r} is invalid. It must start and end with a letter or digit, be less than 63 "
            "characters long, and contain only letters, digits, dots (.), underscores (_), and hyphens (-)."
        )
    return name


def parse_event(item) -> str:
    if not isinstance(item, dict) or not isinstance(item.get("entity"), str) or not isinstance(item.get("action"), str):
        raise invalid("Every webhook event must be an object with string 'entity' and 'action'.")
    entity, action = item["entity"].lower(), item["action"].lower()
    actions = catalogue.valid_actions(entity)
    if not actions:
        raise invalid(f"Invalid webhook event entity '{item['entity']}'.")
    if action not in actions:
        raise invalid(f"Invalid action '{action}' for entity '{entity}'. Valid actions are: {actions}")
    return f"{entity}.{action}"


def validate_events(items) -> list[str]:
    if not isinstance(items, list) or not items:
        raise invalid("Webhook events must be a non-empty list of {entity, action} objects.")
    return sorted({parse_event(item) for item in items})


def validate_status(status) -> str:
    if not isinstance(status, str) or status.upper() not in WebhookStatus.values:
        raise invalid(f"Invalid webhook status {status!r}: use ACTIVE or DISABLED.")
    return status.upper()


def _text(value, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise invalid(f"Invalid value for parameter '{field}': must be a string.")
    if len(value) > limit:
        raise invalid(f"Parameter '{field}' exceeds the maximum length of {limit}.")
    return value


def checked_url(url) -> str:
    try:
        return validate_url(url)
    except UrlRefused as exc:
        raise invalid(str(exc)) from None


# ---------------------------------------------------------------- writes


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _summary(hook: Webhook) -> dict:
    return {
        "name": hook.name, "url_origin": _origin(hook.url), "events": list(hook.events), "status": hook.status,
        "description": hook.description, "signed": hook.has_secret,
    }


def _audit(action: str, actor, hook: Webhook, changes: dict):
    record(action, actor=actor, **target_of(hook), changes=changes)


def webhook_create(*, actor, workspace, name, url, events, description=None, secret=None, status=None) -> Webhook:
    fields = {
        "name": validate_name(name),
        "events": validate_events(events),
        "description": _text(description or "", "description", MAX_DESCRIPTION),
        "status": validate_status(status) if status else WebhookStatus.ACTIVE,
        "url": checked_url(url),
    }
    plaintext = _text(secret or "", "secret", MAX_SECRET)
    stamp = now_ms()
    hook = Webhook(
        workspace=workspace, created_by=actor if getattr(actor, "pk", None) else None,
        creation_timestamp=stamp, last_updated_timestamp=stamp, **fields,
    )
    hook.set_secret(plaintext)
    try:
        with transaction.atomic():
            hook.save(force_insert=True)
            _audit(actions.WEBHOOK_CREATED, actor, hook, {"after": _summary(hook)})
    except IntegrityError:
        raise already_exists(f"Webhook with name '{fields['name']}' already exists.") from None
    return hook


def webhook_update(*, actor, webhook: Webhook, name=None, description=None, url=None, events=None, secret=None, status=None) -> Webhook:
    """MLflow's partial update: only what is given changes (an empty secret removes signing)."""
    changes = {}
    if name is not None:
        changes["name"] = validate_name(name)
    if description is not None:
        changes["description"] = _text(description, "description", MAX_DESCRIPTION)
    if url is not None:
        changes["url"] = checked_url(url)
    if events is not None:
        changes["events"] = validate_events(events)
    if secret is not None:
        _text(secret, "secret", MAX_SECRET)
    if status is not None:
        changes["status"] = validate_status(status)
    before = _summary(webhook)
    try:
        with transaction.atomic():
            for field, value in changes.items():
                setattr(webhook, field, value)
            if secret is not None:
                webhook.set_secret(secret)
            webhook.last_updated_timestamp = now_ms()
            secret_field = ["secret_encrypted"] if secret is not None else []
            webhook.save(update_fields=[*changes, *secret_field, "last_updated_timestamp"])
            after = _summary(webhook)
            diff = {k for k in after if after[k] != before[k]} | ({"signed"} if secret is not None else set())
            _audit(actions.WEBHOOK_UPDATED, actor, webhook, {"before": {k: before[k] for k in diff}, "after": {k: after[k] for k in diff}})
    except IntegrityError:
        raise already_exists(f"Webhook with name '{changes.get('name')}' already exists.") from None
    return webhook


@transaction.atomic
def webhook_delete(*, actor, webhook: Webhook) -> None:
    """Soft delete: the webhook stops receiving, its delivery log stays."""
    stamp = now_ms()
    Webhook.objects.filter(pk=webhook.pk).update(deleted_timestamp=stamp, last_updated_timestamp=stamp)
    webhook.deleted_timestamp = stamp
    _audit(actions.WEBHOOK_DELETED, actor, webhook, {"before": _summary(webhook)})


def webhook_test(*, actor, webhook: Webhook, event_type: str | None = None):
    """Send one example event now (no retries), logged like any delivery; returns the Result."""
    import json

    from notifications.delivery import deliver

    event_type = event_type or webhook.events[0]
    entity, _, action = event_type.partition(".")
    body = json.dumps({
        "entity": entity, "action": action, "timestamp": timezone.now().isoformat(),
        "data": catalogue.example_payload(event_type), "workspace": webhook.workspace.slug,
    })
    with transaction.atomic():
        delivery = Delivery.objects.create(
            channel=Channel.WEBHOOK, workspace_id=webhook.workspace_id, webhook=webhook, event_type=event_type,
            body=body, is_test=True, next_attempt_at=timezone.now(),
        )
        _audit(actions.WEBHOOK_TESTED, actor, webhook, {"event": event_type})
    deliver(delivery.pk)
    return delivery.attempt_log.order_by("-number").first()
