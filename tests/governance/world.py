"""The world the matrix and leak tests act in: principals of every kind, and fresh targets.

Principals (all speak with the ``X-MLFLOW-WORKSPACE: acme`` header):
anonymous, no_membership, viewer, member, maintainer, admin, team_grantee (a viewer whose team
holds EDIT on the targets), other_workspace_admin, read_only_token (the maintainer's),
token_bound_elsewhere (the admin's, bound to globex), expired_token, revoked_token (the admin's).
"""

import datetime
import io
import itertools

from django.utils import timezone

from accounts import services as account_services
from accounts.models import Role, User
from accounts.permissions import ROLE_FLOOR, Level
from experiments import services as tracking
from experiments.artifacts.services import artifact_save
from experiments.models import Experiment
from registry import services as registry_services
from registry.models import RegisteredModel
from registry.sources import resolve_source
from tests.governance.conftest import context_for

PRINCIPALS = (
    "anonymous",
    "no_membership",
    "viewer",
    "member",
    "maintainer",
    "admin",
    "team_grantee",
    "other_workspace_admin",
    "read_only_token",
    "token_bound_elsewhere",
    "expired_token",
    "revoked_token",
)
UNAUTHENTICATED = {"anonymous", "expired_token", "revoked_token"}
OUTSIDERS = {"no_membership", "other_workspace_admin", "token_bound_elsewhere"}
ROLE_OF = {
    "viewer": Role.VIEWER,
    "member": Role.MEMBER,
    "maintainer": Role.MAINTAINER,
    "admin": Role.ADMIN,
    "team_grantee": Role.VIEWER,
    "read_only_token": Role.MAINTAINER,
}
TEAM_GRANT = Level.EDIT

_names = itertools.count(1)


class World:
    """Users, tokens and the team of the two workspaces; ``targets()`` makes fresh objects."""

    def __init__(self, workspace, other_workspace, make_user, make_token):
        self.workspace, self.other = workspace, other_workspace
        self.owner = make_user("owner", workspace, Role.MEMBER)  # creates the targets; no principal
        self.bystander = make_user("bystander", workspace, Role.MEMBER)
        users = {
            "no_membership": make_user("loner"),
            "viewer": make_user("viewer", workspace, Role.VIEWER),
            "member": make_user("member", workspace, Role.MEMBER),
            "maintainer": make_user("maintainer", workspace, Role.MAINTAINER),
            "admin": make_user("admin", workspace, Role.ADMIN),
            "team_grantee": make_user("grantee", workspace, Role.VIEWER),
            "other_workspace_admin": make_user("outsider", other_workspace, Role.ADMIN),
        }
        account_services.membership_set(actor=None, workspace=other_workspace, user=users["admin"], role=Role.MEMBER)
        self.team = account_services.team_create(actor=None, workspace=workspace, name="grantees")
        account_services.team_member_add(actor=None, team=self.team, user=users["team_grantee"])
        self.users = users
        past = timezone.now() - datetime.timedelta(minutes=1)
        self.tokens = {name: make_token(user) for name, user in users.items()}
        self.tokens.update(
            anonymous=None,
            read_only_token=make_token(users["maintainer"], read_only=True),
            token_bound_elsewhere=make_token(users["admin"], workspace=other_workspace),
            expired_token=make_token(users["admin"], expires_at=past),
        )
        revoked = make_token(users["admin"], name="revoked")
        from accounts.models import ApiToken

        ApiToken.objects.filter(name="revoked").update(revoked_at=past)
        self.tokens["revoked_token"] = revoked

    def targets(self, *, restricted: bool):
        """A fresh experiment (tag, run with a tag, metric and artifact, logged model with a tag)
        and registered model (tag, version 1 from the run with a tag and alias "a1"), both created
        by the owner, with the team's EDIT grant; restricted or not."""
        n = next(_names)
        owner = self.owner
        exp = tracking.experiment_create(actor=owner, workspace=self.workspace, name=f"exp-{n}")
        tracking.experiment_set_tag(actor=owner, experiment=exp, key="t", value="v")
        run = tracking.run_create(actor=owner, experiment=exp)
        tracking.run_set_tag(actor=owner, run=run, key="t", value="v")
        tracking.run_log_batch(actor=owner, run=run, metrics=[{"key": "m", "value": 1.0, "timestamp": 1, "step": 0}], params=[], tags=[])
        artifact_save(actor=owner, run=run, path="a.txt", stream=io.BytesIO(b"x"), expected_size=1)
        logged = tracking.logged_model_create(actor=owner, experiment=exp, source_run=run, tags=[{"key": "t", "value": "v"}])
        model = registry_services.registered_model_create(actor=owner, workspace=self.workspace, name=f"rm-{n}", tags=[{"key": "t", "value": "v"}])
        source = resolve_source(context_for(owner, self.workspace), f"runs:/{run.run_uuid}/model", run_id=run.run_uuid)
        version = registry_services.model_version_create(actor=owner, model=model, source=source, tags=[{"key": "t", "value": "v"}])
        registry_services.alias_set(actor=owner, version=version, alias="a1")
        for obj in (exp, model):
            account_services.grant_set(actor=None, obj=obj, level=TEAM_GRANT, team=self.team)
        if restricted:
            Experiment.objects.filter(pk=exp.pk).update(restricted=True)
            RegisteredModel.objects.filter(pk=model.pk).update(restricted=True)
        return Targets(n=n, exp=exp, run=run, logged=logged, model=model, version=version)


class Targets:
    def __init__(self, **fields):
        self.__dict__.update(fields)


def object_level(principal: str, restricted: bool) -> Level:
    """The effective level of an insider on a target (owner-created, team grant EDIT)."""
    role = ROLE_OF[principal]
    floor = Level.MANAGE if role == Role.ADMIN else (Level.NONE if restricted else ROLE_FLOOR[role])
    level = max(floor, TEAM_GRANT if principal == "team_grantee" else Level.NONE)
    return min(level, Level.USE) if principal == "read_only_token" else level


def workspace_level(principal: str) -> Level:
    level = ROLE_FLOOR[ROLE_OF[principal]]
    return min(level, Level.USE) if principal == "read_only_token" else level


def user(world, principal) -> User | None:
    return world.users.get(principal)
