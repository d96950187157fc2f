"""Writes made in the Django admin bypass the services; each is still one audit event."""

import pytest
from django.utils import timezone

from accounts import services as account_services
from accounts.models import ApiToken, Membership, Role, Team, Workspace
from accounts.permissions import Level
from audit import actions
from audit.models import ActorKind
from experiments.models import ExperimentUserObjectPermission


@pytest.fixture
def root(client, make_user, world):
    """A signed-in superuser. The admin's forms show times to the second: stored times are made
    whole seconds so that re-submitting them unchanged is no change."""
    user = make_user("root", is_superuser=True, is_staff=True)
    client.force_login(user)
    whole = timezone.now().replace(microsecond=0)
    Membership.objects.update(created_at=whole)
    Workspace.objects.update(created_at=whole)
    world.workspace.refresh_from_db()
    return user


def _split(moment):
    return {"0": moment.strftime("%Y-%m-%d"), "1": moment.strftime("%H:%M:%S")}


def _datetime_fields(name, moment):
    """A split date-time as the browser posts it, with the hidden initial value the admin shows
    for fields that default to "now" (without it, Django counts the field as changed)."""
    if moment is None:
        return {f"{name}_0": "", f"{name}_1": ""}
    shown = {f"{name}_{part}": value for part, value in _split(moment).items()}
    return {**shown, **{f"initial-{key}": value for key, value in shown.items()}}


def test_a_role_changed_in_the_admin_is_recorded_with_before_and_after(client, root, world):
    membership = Membership.objects.get(user=world.mia, workspace=world.workspace)
    world.mark()
    data = {"user": world.mia.pk, "workspace": world.workspace.pk, "role": Role.ADMIN, **_datetime_fields("created_at", membership.created_at)}
    response = client.post(f"/admin/accounts/membership/{membership.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    [event] = world.events(actions.ADMIN_OBJECT_CHANGED)
    assert (event.actor_name, event.actor_kind) == ("root", ActorKind.USER)
    assert (event.target_type, event.target_id, event.workspace_id) == ("user", str(world.mia.pk), world.workspace.pk)
    assert event.changes["before"] == {"role": "member"} and event.changes["after"] == {"role": "admin"}
    assert event.changes["model"] == "accounts.membership"


def test_a_token_revoked_in_the_admin_is_recorded(client, root, world):
    token = world.bot_token
    world.mark()
    data = {"name": token.name, **_datetime_fields("expires_at", None), **_datetime_fields("revoked_at", token.created_at)}
    response = client.post(f"/admin/accounts/apitoken/{token.pk}/change/", data)
    assert response.status_code == 302, response.content[:2000]
    assert ApiToken.objects.get(pk=token.pk).revoked_at is not None
    [event] = world.events(actions.ADMIN_OBJECT_CHANGED)
    assert (event.target_type, event.target_id) == ("api_token", str(token.pk))
    assert event.changes["before"] == {"revoked_at": None} and event.changes["after"]["revoked_at"]


def test_memberships_changed_inline_on_a_workspace_are_recorded(client, root, world):
    rows = list(Membership.objects.filter(workspace=world.workspace).order_by("pk"))
    data = {
        "slug": "acme", "name": "Acme", **_datetime_fields("created_at", world.workspace.created_at),
        "memberships-TOTAL_FORMS": len(rows), "memberships-INITIAL_FORMS": len(rows),
        "memberships-MIN_NUM_FORMS": 0, "memberships-MAX_NUM_FORMS": 1000,
    }
    for index, row in enumerate(rows):
        role = Role.VIEWER if row.user_id == world.mia.pk else row.role
        data.update({
            f"memberships-{index}-id": row.pk, f"memberships-{index}-workspace": world.workspace.pk,
            f"memberships-{index}-user": row.user_id, f"memberships-{index}-role": role,
            **_datetime_fields(f"memberships-{index}-created_at", row.created_at),
        })
        if row.user_id == world.vic.pk:
            data[f"memberships-{index}-DELETE"] = "on"
    world.mark()
    response = client.post(f"/admin/accounts/workspace/{world.workspace.pk}/change/", data)
    assert response.status_code == 302, response.content[:3000]
    changed = world.events(actions.ADMIN_OBJECT_CHANGED)
    assert [(e.target_id, e.changes["before"], e.changes["after"]) for e in changed] == [
        (str(world.mia.pk), {"role": "member"}, {"role": "viewer"})
    ]
    [deleted] = world.events(actions.ADMIN_OBJECT_DELETED)
    assert deleted.target_id == str(world.vic.pk) and not Membership.objects.filter(user=world.vic).exists()


def test_a_bulk_delete_records_each_object(client, root, world):
    teams = [account_services.team_create(actor=None, workspace=world.workspace, name=name) for name in ("a", "b")]
    world.mark()
    response = client.post(
        "/admin/accounts/team/", {"action": "delete_selected", "_selected_action": [t.pk for t in teams], "post": "yes"}
    )
    assert response.status_code == 302
    assert not Team.objects.filter(pk__in=[t.pk for t in teams]).exists()
    assert sorted(e.target_name for e in world.events(actions.ADMIN_OBJECT_DELETED)) == ["a", "b"]


def test_a_grant_deleted_in_the_admin_names_its_object(client, root, world):
    experiment = world.experiment()
    account_services.grant_set(actor=None, obj=experiment, level=Level.READ, user=world.vic)
    grant = ExperimentUserObjectPermission.objects.get(content_object=experiment, user=world.vic)
    world.mark()
    response = client.post(f"/admin/experiments/experimentuserobjectpermission/{grant.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    [event] = world.events(actions.ADMIN_OBJECT_DELETED)
    assert (event.target_type, event.target_id, event.changes["model"]) == (
        "experiment", experiment.wire_id, "experiments.experimentuserobjectpermission"
    )


def test_a_password_set_in_the_admin_is_recorded_without_it(client, root, world):
    world.mark()
    secret = "Correct-Horse-Battery-9"
    response = client.post(
        f"/admin/accounts/user/{world.mia.pk}/password/", {"password1": secret, "password2": secret, "usable_password": "true"}
    )
    assert response.status_code == 302, response.content[:2000]
    [event] = world.events(actions.ADMIN_OBJECT_CHANGED)
    assert (event.target_type, event.target_id) == ("user", str(world.mia.pk))
    assert secret not in str(event.changes) and "password" in str(event.changes["fields"])
