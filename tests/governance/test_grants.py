"""Grants: effective level = max(role floor, user grants, team grants), restricted objects,
creator grants, token caps, and grants leaving with their object, member or team."""

import pytest

from accounts import services as account_services
from accounts.models import ApiToken, Role
from accounts.permissions import Level, granted_level, level_on
from accounts.services import ServiceError
from experiments import services as tracking
from experiments.access import access_experiment, access_run
from experiments.models import Experiment, ExperimentGroupObjectPermission, ExperimentUserObjectPermission
from registry import services as registry_services
from registry.access import access_registered_model
from registry.models import RegisteredModel, RegisteredModelGroupObjectPermission, RegisteredModelUserObjectPermission
from tests.governance.conftest import context_for, error, ok


@pytest.fixture
def owner(make_user, workspace):
    return make_user("owen", workspace, Role.MEMBER)


@pytest.fixture
def secret(owner, workspace):
    experiment = tracking.experiment_create(actor=owner, workspace=workspace, name="secret")
    Experiment.objects.filter(pk=experiment.pk).update(restricted=True)
    experiment.refresh_from_db()
    return experiment


@pytest.fixture
def secret_run(owner, secret):
    return tracking.run_create(actor=owner, experiment=secret)


def _level(ctx, obj):
    """The caller's level computed from a fresh row (no grant annotation: one query)."""
    fresh = type(obj).objects.get(pk=obj.pk)
    return level_on(ctx, fresh)


def test_the_creator_gets_an_explicit_manage_grant(owner, secret):
    row = ExperimentUserObjectPermission.objects.get(content_object=secret)
    assert (row.user, row.permission.codename) == (owner, "manage_experiment")
    assert owner.has_perm("experiments.manage_experiment", secret)  # guardian reads the same row
    assert not owner.has_perm("experiments.manage_experiment")  # and it is never global


@pytest.mark.parametrize("grant_level", [Level.READ, Level.USE, Level.EDIT, Level.MANAGE])
def test_a_user_grant_on_a_restricted_experiment_is_exactly_its_level(make_user, workspace, secret, grant, grant_level, ctx_for):
    bob = make_user("bob", workspace, Role.VIEWER)
    assert _level(ctx_for(bob, workspace), secret) == Level.NONE
    grant(secret, grant_level, user=bob)
    assert _level(ctx_for(bob, workspace), secret) == grant_level


def test_effective_level_is_the_highest_of_floor_user_and_team_grants(make_user, make_team, workspace, owner, grant, ctx_for):
    shared = tracking.experiment_create(actor=owner, workspace=workspace, name="shared")
    viewer = make_user("vera", workspace, Role.VIEWER)
    assert _level(ctx_for(viewer, workspace), shared) == Level.READ  # the floor
    grant(shared, Level.USE, user=viewer)
    assert _level(ctx_for(viewer, workspace), shared) == Level.USE
    team = make_team("analysts", viewer)
    grant(shared, Level.EDIT, team=team)
    assert _level(ctx_for(viewer, workspace), shared) == Level.EDIT
    member = make_user("mo", workspace, Role.MEMBER)
    grant(shared, Level.READ, user=member)  # a grant below the floor changes nothing
    assert _level(ctx_for(member, workspace), shared) == Level.EDIT


def test_restricted_ignores_the_floor_except_for_admins(people, workspace, secret, ctx_for):
    for role, user in people.items():
        expected = Level.MANAGE if role == Role.ADMIN else Level.NONE
        assert _level(ctx_for(user, workspace), secret) == expected, role


def test_team_grant_follows_team_membership(make_user, make_team, workspace, secret, secret_run, grant, wire):
    bob = make_user("bob", workspace, Role.MEMBER)
    team = make_team("research", bob)
    grant(secret, Level.EDIT, team=team)
    client = wire(bob)
    ok(client.get("runs/get", {"run_id": secret_run.run_uuid}))
    ok(client.post("runs/log-metric", {"run_id": secret_run.run_uuid, "key": "a", "value": 1, "timestamp": 1}))
    error(client.post("experiments/delete", {"experiment_id": secret.wire_id}), 403, "PERMISSION_DENIED")
    account_services.team_member_remove(actor=None, team=team, user=bob)
    error(client.get("runs/get", {"run_id": secret_run.run_uuid}), 404, "RESOURCE_DOES_NOT_EXIST")


def test_a_team_of_another_workspace_grants_nothing_here(make_user, workspace, other_workspace, secret, ctx_for):
    bob = make_user("bob", workspace, Role.MEMBER)
    account_services.membership_set(actor=None, workspace=other_workspace, user=bob, role=Role.MEMBER)
    foreign_team = account_services.team_create(actor=None, workspace=other_workspace, name="foreign")
    account_services.team_member_add(actor=None, team=foreign_team, user=bob)
    with pytest.raises(ServiceError):
        account_services.grant_set(actor=None, obj=secret, level=Level.MANAGE, team=foreign_team)
    # even a row written behind the service's back is ignored: team grants count only in their workspace
    ExperimentGroupObjectPermission.objects.create(
        content_object=secret, group=foreign_team.group, permission=account_services._permission(Experiment, Level.MANAGE)
    )
    assert _level(ctx_for(bob, workspace), secret) == Level.NONE


def test_grants_go_only_to_members_of_the_objects_workspace(make_user, other_workspace, secret):
    stranger = make_user("sam", other_workspace, Role.ADMIN)
    with pytest.raises(ServiceError, match="not a member"):
        account_services.grant_set(actor=None, obj=secret, level=Level.READ, user=stranger)
    with pytest.raises(ServiceError):
        account_services.grant_set(actor=None, obj=secret, level=Level.NONE, user=secret.created_by)
    assert ExperimentUserObjectPermission.objects.filter(content_object=secret).count() == 1


def test_a_grant_changes_in_place_and_revokes(make_user, workspace, secret, grant, ctx_for):
    bob = make_user("bob", workspace, Role.MEMBER)
    grant(secret, Level.READ, user=bob)
    grant(secret, Level.MANAGE, user=bob)
    assert ExperimentUserObjectPermission.objects.filter(content_object=secret, user=bob).count() == 1
    assert _level(ctx_for(bob, workspace), secret) == Level.MANAGE
    account_services.grant_revoke(actor=None, obj=secret, user=bob)
    assert _level(ctx_for(bob, workspace), secret) == Level.NONE
    with pytest.raises(ServiceError, match="No such grant"):
        account_services.grant_revoke(actor=None, obj=secret, user=bob)


def test_revoking_the_creators_grant_ends_their_ownership(owner, workspace, grant, ctx_for):
    mine = tracking.experiment_create(actor=owner, workspace=workspace, name="mine")
    assert _level(ctx_for(owner, workspace), mine) == Level.MANAGE
    account_services.grant_revoke(actor=None, obj=mine, user=owner)
    assert _level(ctx_for(owner, workspace), mine) == Level.EDIT  # back to the member floor
    grant(mine, Level.MANAGE, user=owner)
    grant(mine, Level.READ, user=owner)
    Experiment.objects.filter(pk=mine.pk).update(restricted=True)
    assert _level(ctx_for(owner, workspace), mine) == Level.READ


def test_a_read_only_token_caps_every_grant_at_use(make_user, workspace, secret, secret_run, grant, wire):
    bob = make_user("bob", workspace, Role.MEMBER)
    grant(secret, Level.MANAGE, user=bob)
    reader = wire(bob, read_only=True)
    ok(reader.get("runs/get", {"run_id": secret_run.run_uuid}))
    error(reader.post("runs/set-tag", {"run_id": secret_run.run_uuid, "key": "k", "value": "v"}), 403, "PERMISSION_DENIED")
    error(reader.post("experiments/delete", {"experiment_id": secret.wire_id}), 403, "PERMISSION_DENIED")


def test_deleting_a_registered_model_takes_its_grants_and_a_new_one_inherits_nothing(make_user, make_team, workspace, owner, grant, ctx_for):
    bob = make_user("bob", workspace, Role.VIEWER)
    team = make_team("ops", bob)
    model = registry_services.registered_model_create(actor=owner, workspace=workspace, name="iris")
    RegisteredModel.objects.filter(pk=model.pk).update(restricted=True)
    grant(model, Level.MANAGE, user=bob)
    grant(model, Level.EDIT, team=team)
    registry_services.registered_model_delete(actor=owner, model=model)
    # Soft delete: the grants stay with the deleted row, so that a restore brings them back ...
    assert RegisteredModelUserObjectPermission.objects.filter(content_object=model).count() == 2
    again = registry_services.registered_model_create(actor=owner, workspace=workspace, name="iris")
    RegisteredModel.objects.filter(pk=again.pk).update(restricted=True)
    # ... but a new model under the same name inherits none of them.
    assert list(RegisteredModelUserObjectPermission.objects.filter(content_object=again).values_list("user__username", flat=True)) == ["owen"]
    assert not RegisteredModelGroupObjectPermission.objects.filter(content_object=again).exists()
    with pytest.raises(Exception):
        access_registered_model(ctx_for(bob, workspace), "iris", Level.READ)
    RegisteredModel.objects.filter(pk=model.pk).delete()  # the purge: the grants go with the row
    assert not RegisteredModelUserObjectPermission.objects.filter(user=bob).exists()
    assert not RegisteredModelGroupObjectPermission.objects.exists()


def test_purging_an_experiment_takes_its_grants(make_user, workspace, secret, grant):
    grant(secret, Level.EDIT, user=make_user("bob", workspace, Role.MEMBER))
    Experiment.objects.filter(pk=secret.pk).delete()
    assert not ExperimentUserObjectPermission.objects.exists()


def test_removing_a_member_takes_their_grants_teams_and_bound_tokens(make_user, make_team, make_token, workspace, other_workspace, secret, grant):
    bob = make_user("bob", workspace, Role.MEMBER)
    account_services.membership_set(actor=None, workspace=other_workspace, user=bob, role=Role.MEMBER)
    team = make_team("research", bob)
    grant(secret, Level.EDIT, user=bob)
    make_token(bob, workspace=workspace, name="bound")
    make_token(bob, workspace=other_workspace, name="elsewhere")
    account_services.membership_remove(actor=None, workspace=workspace, user=bob)
    assert not ExperimentUserObjectPermission.objects.filter(user=bob).exists()
    assert not team.group.user_set.filter(pk=bob.pk).exists()
    assert ApiToken.objects.get(user=bob, name="bound").revoked_at is not None
    assert ApiToken.objects.get(user=bob, name="elsewhere").revoked_at is None
    # invited again, they start from the floor: nothing of the old membership survives
    account_services.membership_set(actor=None, workspace=workspace, user=bob, role=Role.MEMBER)
    assert _level(context_for(bob, workspace), secret) == Level.NONE


def test_the_last_admin_cannot_leave_or_step_down(people, workspace):
    admin = people[Role.ADMIN]
    with pytest.raises(ServiceError, match="at least one admin"):
        account_services.membership_change(actor=None, workspace=workspace, user=admin, role=Role.MEMBER)
    with pytest.raises(ServiceError, match="at least one admin"):
        account_services.membership_remove(actor=None, workspace=workspace, user=admin)


def test_deleting_a_team_takes_its_grants(make_user, make_team, workspace, secret, grant, ctx_for):
    bob = make_user("bob", workspace, Role.MEMBER)
    team = make_team("research", bob)
    grant(secret, Level.READ, team=team)
    assert _level(ctx_for(bob, workspace), secret) == Level.READ
    account_services.team_delete(actor=None, team=team)
    assert not ExperimentGroupObjectPermission.objects.exists()
    assert _level(ctx_for(bob, workspace), secret) == Level.NONE


def test_access_helpers_decide_with_the_fetch(make_user, make_team, workspace, secret, secret_run, grant, django_assert_num_queries):
    bob = make_user("bob", workspace, Role.MEMBER)
    grant(secret, Level.READ, user=bob)
    grant(secret, Level.EDIT, team=make_team("research", bob))
    ctx = context_for(bob, workspace)
    with django_assert_num_queries(1):
        assert access_run(ctx, secret_run.run_uuid, Level.EDIT).pk == secret_run.pk
    with django_assert_num_queries(1):
        assert access_experiment(ctx, secret.wire_id, Level.EDIT).pk == secret.pk
    assert granted_level(ctx, secret) == Level.EDIT
