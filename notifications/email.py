"""E-mail to watchers, through Django's e-mail backend (``WARDEN_EMAIL_URL``).

The recipient's right to see the object is checked again when the mail is sent, not when the
event happened: someone removed from the workspace, or from a restricted object, gets nothing.
The text is plain and built by code from the event's fields; no template ever renders what a
user wrote.
"""

from django.conf import settings
from django.core.mail import send_mail

from notifications.delivery import Result

SUBJECT_LIMIT = 200


def _target(event):
    from experiments.models import Experiment
    from registry.models import RegisteredModel

    model = {"experiment": Experiment, "registered_model": RegisteredModel}.get(event.target_type)
    if model is None or event.target_id is None:
        return None
    return model.objects.filter(pk=event.target_id, workspace_id=event.workspace_id).first()


def can_read(user, event) -> bool:
    from accounts.authentication import Principal
    from accounts.permissions import Level, level_on
    from accounts.workspaces import WorkspaceNotFound, resolve_workspace

    if not user.is_active:
        return False
    try:
        ctx = resolve_workspace(Principal(user=user, token=None, auth_method="notification"), event.workspace.slug)
    except WorkspaceNotFound:
        return False
    target = _target(event)
    return target is not None and level_on(ctx, target) >= Level.READ


def _single_line(text) -> str:
    return " ".join(str(text).split())


def message(event) -> tuple[str, str]:
    data = event.payload or {}
    about = data.get("name") or data.get("experiment_name") or data.get("object_name") or ""
    subject = _single_line(f"[Warden] {event.workspace.slug}: {event.event_type} {about}")[:SUBJECT_LIMIT]
    lines = [f"Workspace: {event.workspace.slug}", f"Event: {event.event_type}", f"Time: {event.created_at.isoformat()}", ""]
    lines += [f"{key}: {_single_line(value)}" for key, value in sorted(data.items()) if value not in (None, "", {})]
    lines += ["", "You receive this because you watch this object in Warden."]
    return subject, "\n".join(lines)


def send(delivery) -> Result:
    user, event = delivery.recipient, delivery.event
    if user is None or event is None or not user.email or not can_read(user, event):
        return Result(succeeded=False, error="NoAccess", skip=True)
    subject, body = message(event)
    try:
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [user.email])
    except Exception as exc:  # SMTP down or refusing: retried with backoff
        return Result(succeeded=False, error=type(exc).__name__[:64], retry=True)
    return Result(succeeded=True)
