"""Management commands write through the services, so their changes are audited like any other."""

from io import StringIO

from django.core.management import call_command

from accounts import tokens
from audit import actions
from audit.models import ActorKind, AuditEvent


def test_bootstrap_records_the_admin_the_workspace_the_membership_and_the_token(db):
    out = StringIO()
    call_command("bootstrap", admin="root", workspace="lab", print_token=True, stdout=out, stderr=StringIO())
    events = {event.action: event for event in AuditEvent.objects.order_by("pk")}
    assert set(events) == {actions.USER_CREATED, actions.WORKSPACE_CREATED, actions.MEMBERSHIP_ADDED, actions.TOKEN_CREATED}
    created = events[actions.USER_CREATED]
    assert (created.actor_kind, created.actor_name, created.target_name) == (ActorKind.SYSTEM, "warden", "root")
    assert created.changes == {"after": {"username": "root", "is_superuser": True}}
    assert events[actions.MEMBERSHIP_ADDED].changes == {"after": {"role": "admin"}}
    assert {(event.actor_kind, event.actor_name) for event in events.values()} == {(ActorKind.SYSTEM, "warden")}
    _, secret = tokens.split(out.getvalue().strip())
    assert all(secret not in str(event.changes) for event in events.values())
    call_command("bootstrap", admin="root", workspace="lab", stdout=StringIO(), stderr=StringIO())
    assert AuditEvent.objects.count() == len(events)  # a second run changes nothing, so records nothing
