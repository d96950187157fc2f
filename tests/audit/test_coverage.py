"""Every state-changing service writes its audit event, with the right actor, target and changes.

The list of services is read from the service modules themselves: a new public function there
fails ``test_every_service_is_covered_or_exempt`` until it has a case below (the change made,
the event asserted) or an entry in ``EXEMPT`` saying why it writes no event.
"""

import inspect
import io
import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import timezone

from accounts import services as account_services
from accounts import tokens
from accounts.models import Role
from accounts.permissions import Level
from accounts.sso import groups as sso_groups
from accounts.sso import mappings as sso_mappings
from accounts.sso import provisioning as sso_provisioning
from audit import actions, context, exports
from audit import governance as audit_governance
from audit import retention as audit_retention
from audit.access import AuditScope
from audit.models import ActorKind, AuditEvent
from audit.sealing import seal_chain
from experiments import purge as tracking_purge
from experiments import retention as tracking_retention
from experiments import services as tracking
from experiments import sweeps as tracking_sweeps
from experiments.artifacts import services as artifact_services
from experiments.artifacts.storage import STAGING_DIR, save_stream
from experiments.models import Experiment, LoggedModel, Run, RunStatus
from notifications import watches
from notifications.models import Watch
from notifications.webhooks import services as webhook_services
from registry import promotion
from registry import services as registry_services
from registry.models import ModelVersion, RegisteredModel, Stage, TransitionRequest
from tests.audit.conftest import principal_context

SERVICE_MODULES = (
    account_services, tracking, artifact_services, registry_services, promotion,
    tracking_retention, tracking_purge, tracking_sweeps,
    audit_governance, audit_retention, exports,
    sso_mappings, sso_provisioning, sso_groups,
    webhook_services, watches,
)
_READ = "a read; writes nothing"
_CHECK = "a check or a parser of input; writes nothing"

_TRACKING_DATA = "tracking data, not lifecycle (DESIGN §6): the run's creation and ending are audited"
EXEMPT = {
    "experiments.services.now_ms": "a clock",
    "registry.services.now_ms": "a clock",
    "registry.services.actor_name": "a name for a user; writes nothing",
    "registry.services.lock_model": "takes a row lock for the caller's transaction; writes nothing",
    "registry.promotion.needed_level_for_stage": "a rule; writes nothing",
    "registry.promotion.pending_error": "builds the 403 of an opened request; writes nothing",
    "experiments.services.require_active_run": "a check; writes nothing",
    "experiments.services.default_experiment_ensure": "Warden's own Default experiment, made with its workspace (workspace.created)",
    "experiments.services.experiment_set_tag": _TRACKING_DATA,
    "experiments.services.experiment_delete_tag": _TRACKING_DATA,
    "experiments.services.run_set_tag": _TRACKING_DATA,
    "experiments.services.run_delete_tag": _TRACKING_DATA,
    "experiments.services.run_log_param": _TRACKING_DATA,
    "experiments.services.run_log_batch": _TRACKING_DATA + "; the hot ingest path stays free of extra queries",
    "experiments.services.run_log_model_history": _TRACKING_DATA,
    "experiments.services.run_log_inputs": _TRACKING_DATA,
    "experiments.services.run_log_outputs": _TRACKING_DATA,
    "experiments.services.logged_model_set_tags": _TRACKING_DATA,
    "experiments.services.logged_model_delete_tag": _TRACKING_DATA,
    "experiments.services.logged_model_log_params": _TRACKING_DATA,
    "experiments.artifacts.services.artifact_save": "uploads are logging, one per file; deletes are audited",
    # retention and the purge
    "experiments.retention.retention_days": _READ,
    "experiments.retention.cutoff_ms": "arithmetic on the retention; writes nothing",
    "experiments.retention.purge_due_ms": "arithmetic on the retention; writes nothing",
    "experiments.retention.refuse_if_purging": "a check under the caller's lock (the restores); writes nothing",
    "experiments.purge.contained": "a check of a storage key; writes nothing",
    "experiments.purge.due": _READ,
    "experiments.purge.run_folder": "derives a storage key; writes nothing",
    "experiments.purge.logged_model_folder": "derives a storage key; writes nothing",
    "experiments.sweeps.find_orphans": "lists storage folders; its caller orphan_sweep removes and records them",
    # the audit log's own governance and exports
    "audit.governance.auditors_of": _READ,
    "audit.governance.retention_of": _READ,
    "audit.governance.export_request": "queues the job; the export is recorded (audit.exported) by audit.exports.write_job when it runs",
    "audit.exports.csv_chunks": "formats rows; its callers start_stream and write_job record the export",
    "audit.exports.jsonl_chunks": "formats rows; its callers start_stream and write_job record the export",
    "audit.exports.rows_of": _READ,
    "audit.exports.formula_safe": "escapes a CSV cell; writes nothing",
    "audit.exports.export_dir": "the folder of export files; writes no governed state",
    "audit.exports.job_path": "a file name; writes nothing",
    "audit.exports.job_queryset": _READ,
    "audit.exports.requester_scope": _READ,
    "audit.exports.may_download": _READ,
    "audit.exports.file_response": "serves a finished file; the export was recorded when the file was written (write_job)",
    # single sign-on
    "accounts.sso.provisioning.email_of": "reads the provider's claims; writes nothing",
    "accounts.sso.groups.names_in": "reads the provider's claims; writes nothing",
    # webhooks
    "notifications.webhooks.services.now_ms": "a clock",
    "notifications.webhooks.services.require_admin": _CHECK,
    "notifications.webhooks.services.access_webhook": "fetches and authorises (a 403 is recorded by audit.denials); writes nothing",
    "notifications.webhooks.services.checked_url": _CHECK,
    "notifications.webhooks.services.parse_event": _CHECK,
    "notifications.webhooks.services.validate_events": _CHECK,
    "notifications.webhooks.services.validate_name": _CHECK,
    "notifications.webhooks.services.validate_status": _CHECK,
}


@dataclass
class Expect:
    action: str
    target: tuple  # (type, id, name)
    actor: tuple = ("token", "ada")  # (kind, name)
    outcome: str = "success"
    changes: dict = field(default_factory=dict)  # a subset of the event's changes
    in_workspace: bool = True  # False: the event belongs to no workspace (sign-ins, staging files)


CASES = {}


def case(qualified_name, *, principal="ada-token"):
    """``principal``: whose request the change is made in ("ada-token", "bot-token", "sign-in": a
    request not signed in yet, or "none": a job)."""

    def register(function):
        CASES[qualified_name] = (function, principal)
        return function

    return register


def service_functions():
    for module in SERVICE_MODULES:
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ == module.__name__ and not name.startswith("_"):
                yield f"{module.__name__}.{name}"


def test_every_service_is_covered_or_exempt():
    services = set(service_functions())
    assert not sorted(services - set(CASES) - set(EXEMPT)), "services without an audit case or an exemption"
    assert not sorted((set(CASES) | set(EXEMPT)) - services), "cases or exemptions for services that do not exist"
    assert not set(CASES) & set(EXEMPT)
    assert all(reason.strip() for reason in EXEMPT.values())


def test_every_action_in_the_catalogue_is_dotted_and_unique():
    names = [value for key, value in vars(actions).items() if key.isupper() and isinstance(value, str)]
    assert len(names) == len(set(names)) == len(actions.ALL)
    assert all(name.count(".") == 1 and name == name.lower() for name in names)


# ---------------------------------------------------------------- accounts


@case("accounts.services.workspace_create", principal="none")
def _(w):
    workspace = account_services.workspace_create(actor=None, slug="initech", name="Initech")
    return Expect(
        actions.WORKSPACE_CREATED, ("workspace", workspace.pk, "initech"), actor=("system", "warden"),
        changes={"after": {"slug": "initech", "name": "Initech"}},
    )


@case("accounts.services.workspace_update")
def _(w):
    account_services.workspace_update(actor=w.ada, workspace=w.workspace, name="Acme Corp")
    return Expect(
        actions.WORKSPACE_UPDATED, ("workspace", w.workspace.pk, "acme"),
        changes={"before": {"name": "Acme"}, "after": {"name": "Acme Corp"}},
    )


@case("accounts.services.membership_set")
def _(w):
    account_services.membership_set(actor=w.ada, workspace=w.workspace, user=w.bob, role=Role.VIEWER)
    return Expect(actions.MEMBERSHIP_ADDED, ("user", w.bob.pk, "bob"), changes={"after": {"role": "viewer"}})


@case("accounts.services.membership_change")
def _(w):
    account_services.membership_change(actor=w.ada, workspace=w.workspace, user=w.mia, role=Role.MAINTAINER)
    return Expect(
        actions.MEMBERSHIP_ROLE_CHANGED, ("user", w.mia.pk, "mia"),
        changes={"before": {"role": "member"}, "after": {"role": "maintainer"}},
    )


@case("accounts.services.membership_remove")
def _(w):
    account_services.membership_remove(actor=w.ada, workspace=w.workspace, user=w.vic)
    return Expect(actions.MEMBERSHIP_REMOVED, ("user", w.vic.pk, "vic"), changes={"before": {"role": "viewer"}})


@case("accounts.services.team_create")
def _(w):
    team = account_services.team_create(actor=w.ada, workspace=w.workspace, name="ml")
    return Expect(actions.TEAM_CREATED, ("team", team.pk, "ml"), changes={"after": {"name": "ml"}})


@case("accounts.services.team_rename")
def _(w):
    team = account_services.team_create(actor=w.ada, workspace=w.workspace, name="ml")
    account_services.team_rename(actor=w.ada, team=team, name="ml-platform")
    return Expect(
        actions.TEAM_RENAMED, ("team", team.pk, "ml-platform"), changes={"before": {"name": "ml"}, "after": {"name": "ml-platform"}}
    )


@case("accounts.services.team_delete")
def _(w):
    team = account_services.team_create(actor=w.ada, workspace=w.workspace, name="ml")
    account_services.team_member_add(actor=w.ada, team=team, user=w.mia)
    account_services.team_delete(actor=w.ada, team=team)
    return Expect(actions.TEAM_DELETED, ("team", team.pk, "ml"), changes={"before": {"name": "ml", "members": ["mia"]}})


@case("accounts.services.team_member_add")
def _(w):
    team = account_services.team_create(actor=w.ada, workspace=w.workspace, name="ml")
    account_services.team_member_add(actor=w.ada, team=team, user=w.mia)
    return Expect(actions.TEAM_MEMBER_ADDED, ("team", team.pk, "ml"), changes={"after": {"member": "mia"}})


@case("accounts.services.team_member_remove")
def _(w):
    team = account_services.team_create(actor=w.ada, workspace=w.workspace, name="ml")
    account_services.team_member_add(actor=w.ada, team=team, user=w.mia)
    account_services.team_member_remove(actor=w.ada, team=team, user=w.mia)
    return Expect(actions.TEAM_MEMBER_REMOVED, ("team", team.pk, "ml"), changes={"before": {"member": "mia"}})


@case("accounts.services.grant_set")
def _(w):
    experiment = w.experiment()
    account_services.grant_set(actor=w.ada, obj=experiment, level=Level.READ, user=w.vic)
    w.mark()
    account_services.grant_set(actor=w.ada, obj=experiment, level=Level.EDIT, user=w.vic)
    return Expect(
        actions.GRANT_CHANGED, ("experiment", experiment.wire_id, "exp"),
        changes={"grantee": {"user": "vic"}, "before": {"level": "READ"}, "after": {"level": "EDIT"}},
    )


@case("accounts.services.grant_revoke")
def _(w):
    model = w.registered_model()
    team = account_services.team_create(actor=w.ada, workspace=w.workspace, name="ml")
    account_services.grant_set(actor=w.ada, obj=model, level=Level.USE, team=team)
    account_services.grant_revoke(actor=w.ada, obj=model, team=team)
    return Expect(
        actions.GRANT_REVOKED, ("registered_model", model.pk, "clf"),
        changes={"grantee": {"team": "ml"}, "before": {"level": "USE"}, "after": {"level": None}},
    )


@case("accounts.services.grant_creator")
def _(w):
    experiment = w.experiment()  # experiment_create grants its creator MANAGE
    return Expect(
        actions.GRANT_CREATED, ("experiment", experiment.wire_id, "exp"), actor=("user", "mia"),
        changes={"grantee": {"user": "mia"}, "after": {"level": "MANAGE"}, "reason": "creator"},
    )


@case("accounts.services.service_account_create")
def _(w):
    bot = account_services.service_account_create(actor=w.ada, workspace=w.workspace, username="nightly", role=Role.VIEWER)
    return Expect(
        actions.SERVICE_ACCOUNT_CREATED, ("service_account", bot.pk, "nightly"), changes={"after": {"username": "nightly", "role": "viewer"}}
    )


@case("accounts.services.service_account_deactivate")
def _(w):
    account_services.service_account_deactivate(actor=w.ada, user=w.bot)
    return Expect(
        actions.SERVICE_ACCOUNT_DEACTIVATED, ("service_account", w.bot.pk, "ci-bot"),
        changes={"before": {"active": True}, "after": {"active": False}, "tokens_revoked": 1},
    )


@case("accounts.services.token_create")
def _(w):
    token, plaintext = account_services.token_create(actor=w.ada, user=w.bot, name="deploy", workspace=w.workspace, read_only=True)
    expect = Expect(
        actions.TOKEN_CREATED, ("api_token", token.pk, "deploy"),
        changes={"after": {"owner": "ci-bot", "prefix": token.prefix, "workspace": "acme", "read_only": True, "expires_at": None}},
    )
    [event] = w.events(actions.TOKEN_CREATED)
    assert tokens.split(plaintext)[1] not in str(event.changes)  # the secret never reaches the log
    return expect


@case("accounts.services.token_revoke")
def _(w):
    account_services.token_revoke(actor=w.ada, token=w.bot_token)
    return Expect(
        actions.TOKEN_REVOKED, ("api_token", w.bot_token.pk, "bot"),
        changes={"before": {"revoked": False}},
    )


# ---------------------------------------------------------------- tracking


@case("experiments.services.experiment_create", principal="bot-token")
def _(w):
    experiment = tracking.experiment_create(actor=w.bot, workspace=w.workspace, name="nightly")
    return Expect(
        actions.EXPERIMENT_CREATED, ("experiment", experiment.wire_id, "nightly"), actor=("service", "ci-bot"),
        changes={"after": {"name": "nightly"}},
    )


@case("experiments.services.experiment_rename")
def _(w):
    experiment = w.experiment()
    tracking.experiment_rename(actor=w.ada, experiment=experiment, new_name="exp-2")
    return Expect(
        actions.EXPERIMENT_RENAMED, ("experiment", experiment.wire_id, "exp-2"), changes={"before": {"name": "exp"}, "after": {"name": "exp-2"}}
    )


@case("experiments.services.experiment_delete")
def _(w):
    experiment = w.experiment()
    w.run(experiment)
    tracking.experiment_delete(actor=w.ada, experiment=experiment)
    return Expect(
        actions.EXPERIMENT_DELETED, ("experiment", experiment.wire_id, "exp"),
        changes={"before": {"lifecycle_stage": "active"}, "after": {"lifecycle_stage": "deleted"}},
    )


@case("experiments.services.experiment_restore")
def _(w):
    experiment = w.experiment()
    tracking.experiment_delete(actor=w.ada, experiment=experiment)
    tracking.experiment_restore(actor=w.ada, experiment=experiment)
    return Expect(
        actions.EXPERIMENT_RESTORED, ("experiment", experiment.wire_id, "exp"),
        changes={"before": {"lifecycle_stage": "deleted"}, "after": {"lifecycle_stage": "active"}},
    )


@case("experiments.services.run_create")
def _(w):
    experiment = w.experiment()
    run = tracking.run_create(actor=w.ada, experiment=experiment, run_name="first")
    return Expect(actions.RUN_CREATED, ("run", run.run_uuid, "first"), changes={"after": {"name": "first", "experiment": experiment.wire_id}})


@case("experiments.services.run_update")
def _(w):
    run = w.run()
    tracking.run_update(actor=w.ada, run=run, run_name="renamed")  # not an ending: no event
    assert w.events(actions.RUN_FINISHED) == []
    tracking.run_update(actor=w.ada, run=run, status=RunStatus.FINISHED, end_time=1)
    tracking.run_update(actor=w.ada, run=run, status=RunStatus.FINISHED)  # already finished: no second event
    return Expect(
        actions.RUN_FINISHED, ("run", run.run_uuid, "renamed"), changes={"before": {"status": "RUNNING"}, "after": {"status": "FINISHED"}}
    )


@case("experiments.services.run_delete")
def _(w):
    run = w.run()
    tracking.run_delete(actor=w.ada, run=run)
    return Expect(actions.RUN_DELETED, ("run", run.run_uuid, run.name), changes={"after": {"lifecycle_stage": "deleted"}})


@case("experiments.services.run_restore")
def _(w):
    run = w.run()
    tracking.run_delete(actor=w.ada, run=run)
    tracking.run_restore(actor=w.ada, run=run)
    return Expect(actions.RUN_RESTORED, ("run", run.run_uuid, run.name), changes={"after": {"lifecycle_stage": "active"}})


@case("experiments.services.logged_model_create")
def _(w):
    run = w.run()
    model = tracking.logged_model_create(actor=w.ada, experiment=run.experiment, name="clf", source_run=run)
    return Expect(
        actions.LOGGED_MODEL_CREATED, ("logged_model", model.model_id, "clf"),
        changes={"after": {"name": "clf", "experiment": run.experiment.wire_id, "source_run": run.run_uuid}},
    )


@case("experiments.services.logged_model_finalize")
def _(w):
    model = w.logged_model()
    tracking.logged_model_finalize(actor=w.ada, model=model, status="LOGGED_MODEL_READY")
    return Expect(
        actions.LOGGED_MODEL_FINALIZED, ("logged_model", model.model_id, model.name),
        changes={"before": {"status": "LOGGED_MODEL_PENDING"}, "after": {"status": "LOGGED_MODEL_READY"}},
    )


@case("experiments.services.logged_model_delete")
def _(w):
    model = w.logged_model()
    tracking.logged_model_delete(actor=w.ada, model=model)
    return Expect(actions.LOGGED_MODEL_DELETED, ("logged_model", model.model_id, model.name), changes={"after": {"lifecycle_stage": "deleted"}})


@case("experiments.services.logged_model_restore")
def _(w):
    model = w.logged_model()
    tracking.logged_model_delete(actor=w.ada, model=model)
    deleted_time = LoggedModel.objects.get(pk=model.pk).deleted_time
    tracking.logged_model_restore(actor=w.ada, model=LoggedModel.objects.get(pk=model.pk))
    return Expect(
        actions.LOGGED_MODEL_RESTORED, ("logged_model", model.model_id, model.name),
        changes={"before": {"deleted_time": deleted_time}, "after": {"deleted_time": None}},
    )


@case("experiments.artifacts.services.artifact_delete")
def _(w):
    run = w.run()
    artifact_services.artifact_save(actor=w.mia, run=run, path="plots/a.png", stream=io.BytesIO(b"png"), expected_size=3)
    artifact_services.artifact_delete(actor=w.ada, run=run, path="plots")
    return Expect(actions.ARTIFACT_DELETED, ("run", run.run_uuid, run.name), changes={"path": "plots"})


@case("experiments.artifacts.services.model_download_record")
def _(w):
    model = w.logged_model()
    assert not artifact_services.model_download_record(actor=w.ada, model=model, path="model.pkl")  # not the descriptor
    assert artifact_services.model_download_record(actor=w.ada, model=model, path="MLmodel")
    return Expect(actions.MODEL_DOWNLOADED, ("logged_model", model.model_id, model.name), changes={"path": "MLmodel"})


# ---------------------------------------------------------------- registry


@case("registry.services.registered_model_create")
def _(w):
    model = registry_services.registered_model_create(actor=w.ada, workspace=w.workspace, name="fraud")
    return Expect(actions.REGISTERED_MODEL_CREATED, ("registered_model", model.pk, "fraud"), changes={"after": {"name": "fraud"}})


@case("registry.services.registered_model_update")
def _(w):
    model = w.registered_model()
    registry_services.registered_model_update(actor=w.ada, model=model, description="scores claims")
    return Expect(
        actions.REGISTERED_MODEL_UPDATED, ("registered_model", model.pk, "clf"),
        changes={"before": {"description": ""}, "after": {"description": "scores claims"}},
    )


@case("registry.services.registered_model_rename")
def _(w):
    model = w.registered_model()
    registry_services.registered_model_rename(actor=w.ada, model=model, new_name="clf-v2")
    return Expect(
        actions.REGISTERED_MODEL_RENAMED, ("registered_model", model.pk, "clf-v2"), changes={"before": {"name": "clf"}, "after": {"name": "clf-v2"}}
    )


@case("registry.services.registered_model_delete")
def _(w):
    model = w.registered_model()
    pk = model.pk
    registry_services.registered_model_delete(actor=w.ada, model=model)
    return Expect(actions.REGISTERED_MODEL_DELETED, ("registered_model", pk, "clf"), changes={"before": {"name": "clf"}})


@case("registry.services.registered_model_restore")
def _(w):
    model = w.registered_model()
    registry_services.registered_model_delete(actor=w.ada, model=model)
    deleted = RegisteredModel.objects.get(pk=model.pk)
    registry_services.registered_model_restore(actor=w.ada, model=deleted)
    return Expect(
        actions.REGISTERED_MODEL_RESTORED, ("registered_model", model.pk, "clf"),
        changes={"before": {"deleted_time": deleted.deleted_time}, "after": {"deleted_time": None}},
    )


@case("registry.services.registered_model_tag_set")
def _(w):
    model = w.registered_model()
    registry_services.registered_model_tag_set(actor=w.ada, model=model, key="validation", value="pending")
    w.mark()
    registry_services.registered_model_tag_set(actor=w.ada, model=model, key="validation", value="approved")
    return Expect(
        actions.REGISTERED_MODEL_TAG_SET, ("registered_model", model.pk, "clf"),
        changes={"key": "validation", "before": {"value": "pending"}, "after": {"value": "approved"}},
    )


@case("registry.services.registered_model_tag_delete")
def _(w):
    model = w.registered_model()
    registry_services.registered_model_tag_set(actor=w.ada, model=model, key="validation", value="approved")
    registry_services.registered_model_tag_delete(actor=w.ada, model=model, key="validation")
    registry_services.registered_model_tag_delete(actor=w.ada, model=model, key="validation")  # nothing left: no event
    return Expect(
        actions.REGISTERED_MODEL_TAG_DELETED, ("registered_model", model.pk, "clf"),
        changes={"key": "validation", "before": {"value": "approved"}, "after": {"value": None}},
    )


@case("registry.services.model_version_create")
def _(w):
    version = w.version()
    return Expect(
        actions.MODEL_VERSION_CREATED, ("model_version", version.pk, "clf v1"), actor=("user", "mia"),
        changes={"after": {"version": 1, "source": version.source}},
    )


@case("registry.services.model_version_update")
def _(w):
    version = w.version()
    registry_services.model_version_update(actor=w.ada, version=version, description="retrained")
    return Expect(
        actions.MODEL_VERSION_UPDATED, ("model_version", version.pk, "clf v1"),
        changes={"before": {"description": ""}, "after": {"description": "retrained"}},
    )


@case("registry.services.model_version_delete")
def _(w):
    version = w.version()
    registry_services.model_version_delete(actor=w.ada, version=version)
    return Expect(actions.MODEL_VERSION_DELETED, ("model_version", version.pk, "clf v1"), changes={"before": {"stage": "None"}})


@case("registry.services.model_version_restore")
def _(w):
    version = w.version()
    registry_services.model_version_delete(actor=w.ada, version=version)
    deleted = ModelVersion.objects.get(pk=version.pk)
    registry_services.model_version_restore(actor=w.ada, version=deleted)
    return Expect(
        actions.MODEL_VERSION_RESTORED, ("model_version", version.pk, "clf v1"),
        changes={"before": {"deleted_time": deleted.deleted_time}, "after": {"deleted_time": None}},
    )


@case("registry.services.model_version_stage_transition")
def _(w):
    version = w.version()
    registry_services.model_version_stage_transition(actor=w.ada, version=version, stage="Staging")
    return Expect(
        actions.MODEL_VERSION_STAGE_TRANSITIONED, ("model_version", version.pk, "clf v1"),
        changes={"before": {"stage": "None"}, "after": {"stage": "Staging"}, "archived_versions": []},
    )


@case("registry.services.model_version_tag_set")
def _(w):
    version = w.version()
    registry_services.model_version_tag_set(actor=w.ada, version=version, key="approved_by", value="ada")
    return Expect(
        actions.MODEL_VERSION_TAG_SET, ("model_version", version.pk, "clf v1"),
        changes={"key": "approved_by", "before": {"value": None}, "after": {"value": "ada"}},
    )


@case("registry.services.model_version_tag_delete")
def _(w):
    version = w.version()
    registry_services.model_version_tag_set(actor=w.ada, version=version, key="approved_by", value="ada")
    registry_services.model_version_tag_delete(actor=w.ada, version=version, key="approved_by")
    return Expect(
        actions.MODEL_VERSION_TAG_DELETED, ("model_version", version.pk, "clf v1"),
        changes={"key": "approved_by", "before": {"value": "ada"}, "after": {"value": None}},
    )


@case("registry.services.model_version_download_record")
def _(w):
    version = w.version()
    registry_services.model_version_download_record(actor=w.ada, version=version)
    return Expect(actions.MODEL_VERSION_DOWNLOAD_URI_RESOLVED, ("model_version", version.pk, "clf v1"), changes={"version": 1})


@case("registry.services.alias_set")
def _(w):
    first = w.version()
    second = w.version(first.registered_model)
    registry_services.alias_set(actor=w.ada, version=first, alias="champion")
    w.mark()
    registry_services.alias_set(actor=w.ada, version=second, alias="champion")
    registry_services.alias_set(actor=w.ada, version=second, alias="champion")  # unchanged: no second event
    return Expect(
        actions.ALIAS_SET, ("registered_model", first.registered_model_id, "clf"),
        changes={"alias": "champion", "before": {"version": 1}, "after": {"version": 2}},
    )


@case("registry.services.alias_delete")
def _(w):
    version = w.version()
    registry_services.alias_set(actor=w.ada, version=version, alias="champion")
    registry_services.alias_delete(actor=w.ada, model=version.registered_model, alias="champion")
    return Expect(
        actions.ALIAS_DELETED, ("registered_model", version.registered_model_id, "clf"),
        changes={"alias": "champion", "before": {"version": 1}, "after": {"version": None}},
    )


def _protected_version(w):
    version = w.version()
    promotion.protection_set(actor=w.ada, model=version.registered_model, protected=True)
    return version


@case("registry.promotion.protection_set")
def _(w):
    version = w.version()
    promotion.protection_set(actor=w.ada, model=version.registered_model, protected=True, protected_aliases=["champion", "prod"])
    return Expect(
        actions.REGISTERED_MODEL_PROTECTION_CHANGED, ("registered_model", version.registered_model_id, "clf"),
        changes={"before": {"protected": False, "protected_aliases": ["champion"]}, "after": {"protected": True, "protected_aliases": ["champion", "prod"]}},
    )


@case("registry.promotion.stage_transition")
def _(w):
    version = _protected_version(w)
    outcome = promotion.stage_transition(actor=w.ada, level=Level.MANAGE, version=version, stage="Production")
    assert outcome.request is not None and ModelVersion.objects.get(pk=version.pk).current_stage == Stage.NONE
    return Expect(
        actions.TRANSITION_REQUEST_OPENED, ("transition_request", outcome.request.pk, "clf"),
        changes={"after": {"version": 1, "status": "pending", "requested_by": "ada", "to_stage": "Production", "archive_existing_versions": False}},
    )


@case("registry.promotion.alias_assign")
def _(w):
    version = w.version()
    promotion.alias_assign(actor=w.ada, version=version, alias="challenger")
    return Expect(
        actions.ALIAS_SET, ("registered_model", version.registered_model_id, "clf"),
        changes={"alias": "challenger", "before": {"version": None}, "after": {"version": 1}},
    )


@case("registry.promotion.request_open")
def _(w):
    version = w.version()
    request, created = promotion.request_open(actor=w.ada, version=version, alias="champion")
    assert created
    return Expect(
        actions.TRANSITION_REQUEST_OPENED, ("transition_request", request.pk, "clf"),
        changes={"after": {"version": 1, "status": "pending", "requested_by": "ada", "alias": "champion"}},
    )


def _opened_by_mia(w):
    version = _protected_version(w)
    request, _ = promotion.request_open(actor=w.mia, version=version, stage="Production")
    return request


@case("registry.promotion.request_approve")
def _(w):
    request = _opened_by_mia(w)
    promotion.request_approve(actor=w.ada, request=request, comment="ok")
    assert w.events(actions.MODEL_VERSION_STAGE_TRANSITIONED)  # the approved change has its own event
    return Expect(
        actions.TRANSITION_REQUEST_APPROVED, ("transition_request", request.pk, "clf"),
        changes={"before": {"status": "pending"}, "after": {"version": 1, "status": "approved", "requested_by": "mia", "to_stage": "Production", "archive_existing_versions": False}},
    )


@case("registry.promotion.request_reject")
def _(w):
    request = _opened_by_mia(w)
    promotion.request_reject(actor=w.ada, request=request, comment="not yet")
    assert TransitionRequest.objects.get(pk=request.pk).status == TransitionRequest.Status.REJECTED
    return Expect(
        actions.TRANSITION_REQUEST_REJECTED, ("transition_request", request.pk, "clf"),
        changes={"before": {"status": "pending"}, "after": {"version": 1, "status": "rejected", "requested_by": "mia", "to_stage": "Production", "archive_existing_versions": False}},
    )


@case("registry.promotion.request_cancel")
def _(w):
    request = _opened_by_mia(w)
    promotion.request_cancel(actor=w.mia, request=request)
    return Expect(
        actions.TRANSITION_REQUEST_CANCELLED, ("transition_request", request.pk, "clf"), actor=("user", "mia"),
        changes={"before": {"status": "pending"}},
    )


# ---------------------------------------------------------------- retention, protection and the purge


@case("experiments.retention.retention_set")
def _(w):
    tracking_retention.retention_set(actor=w.ada, workspace=w.workspace, days=7)
    tracking_retention.retention_set(actor=w.ada, workspace=w.workspace, days=7)  # unchanged: no second event
    return Expect(
        actions.WORKSPACE_DELETION_RETENTION_CHANGED, ("workspace", w.workspace.pk, "acme"),
        changes={"before": {"retention_days": None}, "after": {"retention_days": 7}},
    )


@case("experiments.retention.experiment_protection_set")
def _(w):
    experiment = w.experiment()
    tracking_retention.experiment_protection_set(actor=w.ada, experiment=experiment, protected=True)
    return Expect(
        actions.EXPERIMENT_PROTECTION_CHANGED, ("experiment", experiment.wire_id, "exp"),
        changes={"before": {"protected": False}, "after": {"protected": True}},
    )


def _deleted_long_ago(model, obj):
    model.objects.filter(pk=obj.pk).update(deleted_time=1)  # 1970: past any retention


@case("experiments.purge.purge", principal="none")
def _(w):
    run = w.run()
    tracking.run_delete(actor=w.ada, run=run)
    _deleted_long_ago(Run, run)
    report = tracking_purge.purge(workspace=w.workspace)
    assert report.purged["run"] == [run.run_uuid] and not Run.objects.filter(pk=run.pk).exists()
    return Expect(actions.RUN_PURGED, ("run", "", "1 runs"), actor=("system", "warden"), changes={"ids": [run.run_uuid]})


@case("experiments.purge.purge_workspace", principal="none")
def _(w):
    experiment = w.experiment()
    w.run(experiment)
    tracking.experiment_delete(actor=w.ada, experiment=experiment)
    _deleted_long_ago(Experiment, experiment)
    tracking_purge.purge_workspace(w.workspace, report=tracking_purge.Report())
    [event] = w.events(actions.EXPERIMENT_PURGED)
    assert event.changes["removed"]["run"] == 1 and event.changes["removed"]["experiment"] == 1
    return Expect(
        actions.EXPERIMENT_PURGED, ("experiment", experiment.wire_id, "exp"), actor=("system", "warden"), changes={"deleted_time": 1}
    )


def _aged(path: Path, seconds: float):
    stamp = time.time() - seconds
    for folder, _, files in os.walk(path, topdown=False):
        for name in files:
            os.utime(os.path.join(folder, name), (stamp, stamp))
        os.utime(folder, (stamp, stamp))
    if path.is_file():
        os.utime(path, (stamp, stamp))


@case("experiments.sweeps.orphan_sweep", principal="none")
def _(w):
    key = f"{w.workspace.pk}/999999"  # an experiment folder whose row does not exist
    save_stream(f"{key}/artifacts/left.bin", io.BytesIO(b"left behind"))
    _aged(Path(settings.ARTIFACT_ROOT) / key, 2 * 24 * 3600)
    report = tracking_purge.Report()
    tracking_sweeps.orphan_sweep(report, workspace=w.workspace)
    assert report.orphans == [key] and not (Path(settings.ARTIFACT_ROOT) / key).exists()
    return Expect(
        actions.ARTIFACTS_ORPHANS_PURGED, ("artifact_prefix", w.workspace.pk, "1 orphaned folders"), actor=("system", "warden"),
        changes={"prefixes": [key]},
    )


@case("experiments.sweeps.abandoned_upload_sweep", principal="none")
def _(w):
    staging = Path(settings.ARTIFACT_ROOT) / STAGING_DIR
    staging.mkdir(exist_ok=True)
    (staging / "upload-old").write_bytes(b"partial")
    _aged(staging / "upload-old", 2 * 3600)
    with override_settings(WARDEN_UPLOAD_ABANDON_SECONDS=3600):
        tracking_sweeps.abandoned_upload_sweep(tracking_purge.Report())
    assert not (staging / "upload-old").exists()
    return Expect(
        actions.ARTIFACTS_ABANDONED_UPLOADS_PURGED, ("artifact_staging", "", "1 staging files"), actor=("system", "warden"),
        changes={"files": ["upload-old"], "older_than_seconds": 3600}, in_workspace=False,
    )


# ---------------------------------------------------------------- the audit log's governance, retention and exports


@case("audit.governance.auditor_grant")
def _(w):
    _, created = audit_governance.auditor_grant(actor=w.ada, user=w.bob, workspace=w.workspace)
    assert created and not audit_governance.auditor_grant(actor=w.ada, user=w.bob, workspace=w.workspace)[1]  # again: no event
    return Expect(actions.AUDITOR_GRANTED, ("user", w.bob.pk, "bob"), changes={"after": {"user": "bob", "workspace": "acme"}})


@case("audit.governance.auditor_revoke")
def _(w):
    audit_governance.auditor_grant(actor=w.ada, user=w.bob, workspace=w.workspace)
    audit_governance.auditor_revoke(actor=w.ada, user=w.bob, workspace=w.workspace)
    return Expect(actions.AUDITOR_REVOKED, ("user", w.bob.pk, "bob"), changes={"before": {"user": "bob", "workspace": "acme"}})


@case("audit.governance.retention_set")
def _(w):
    audit_governance.retention_set(actor=w.ada, workspace=w.workspace, keep_days=30)
    return Expect(
        actions.AUDIT_RETENTION_CHANGED, ("workspace", w.workspace.pk, "acme"),
        changes={"before": {"keep_days": None}, "after": {"keep_days": 30}},
    )


def _sealed_then_later(w):
    """Seal what the world recorded; the purge then runs ten days later."""
    seal_chain(w.workspace.pk)
    return timezone.now() + timedelta(days=10)


@case("audit.retention.purge_chain", principal="none")
def _(w):
    later = _sealed_then_later(w)
    summary = audit_retention.purge_chain(w.workspace.pk, 1, now=later)
    assert summary["count"] > 0 and not AuditEvent.objects.filter(workspace=w.workspace, seq__isnull=False).exists()
    return Expect(
        actions.AUDIT_PURGED, ("audit_log", "acme", ""), actor=("system", "warden"),
        changes={"count": summary["count"], "last_seq": summary["last_seq"], "anchor_hash": summary["anchor_hash"]},
    )


@case("audit.retention.purge_expired", principal="none")
def _(w):
    audit_governance.retention_set(actor=w.ada, workspace=w.workspace, keep_days=1)
    later = _sealed_then_later(w)
    [summary] = audit_retention.purge_expired(now=later)
    return Expect(
        actions.AUDIT_PURGED, ("audit_log", "acme", ""), actor=("system", "warden"), changes={"keep_days": 1, "count": summary["count"]}
    )


@case("audit.exports.start_stream")
def _(w):
    rows = AuditEvent.objects.filter(workspace=w.workspace)
    expected = rows.count()
    chunks = exports.start_stream(rows, actor=w.ada, fmt="jsonl", filters={"workspace": "acme"}, workspace=w.workspace)
    assert b"".join(chunks).count(b"\n") == expected  # the export's own event is not in it
    return Expect(
        actions.AUDIT_EXPORTED, ("audit_log", "acme", ""),
        changes={"format": "jsonl", "delivery": "stream", "rows": expected, "filters": {"workspace": "acme"}},
    )


@case("audit.exports.write_job", principal="none")
def _(w):
    audit_governance.auditor_grant(actor=w.ada, user=w.max, workspace=w.workspace)
    job = audit_governance.export_request(actor=w.max, scope=AuditScope(frozenset({w.workspace.pk})), fmt="csv", filters={})
    with override_settings(WARDEN_AUDIT_EXPORT_DIR=str(Path(settings.ARTIFACT_ROOT).parent / "exports")):
        done = exports.write_job(job.pk)
    assert done.status == "done" and done.row_count > 0
    return Expect(
        actions.AUDIT_EXPORTED, ("audit_log", "acme", ""), actor=("user", "max"),
        changes={"format": "csv", "delivery": "job", "export_id": job.pk, "sha256": done.sha256, "rows": done.row_count},
    )


# ---------------------------------------------------------------- single sign-on


@case("accounts.sso.mappings.group_mapping_create")
def _(w):
    rule = sso_mappings.group_mapping_create(actor=w.ada, workspace=w.workspace, group="data-science", role=Role.MEMBER)
    return Expect(
        actions.GROUP_MAPPING_CREATED, ("group_mapping", rule.pk, "data-science"),
        changes={"after": {"group": "data-science", "role": "member", "team": None}},
    )


@case("accounts.sso.mappings.group_mapping_update")
def _(w):
    team = account_services.team_create(actor=w.ada, workspace=w.workspace, name="ml")
    rule = sso_mappings.group_mapping_create(actor=w.ada, workspace=w.workspace, group="data-science", role=Role.MEMBER)
    sso_mappings.group_mapping_update(actor=w.ada, rule=rule, group="data-science", role=Role.VIEWER, team=team)
    return Expect(
        actions.GROUP_MAPPING_UPDATED, ("group_mapping", rule.pk, "data-science"),
        changes={"before": {"group": "data-science", "role": "member", "team": None}, "after": {"group": "data-science", "role": "viewer", "team": "ml"}},
    )


@case("accounts.sso.mappings.group_mapping_delete")
def _(w):
    rule = sso_mappings.group_mapping_create(actor=w.ada, workspace=w.workspace, group="data-science", role=Role.MEMBER)
    pk = rule.pk
    sso_mappings.group_mapping_delete(actor=w.ada, rule=rule)
    return Expect(
        actions.GROUP_MAPPING_DELETED, ("group_mapping", pk, "data-science"),
        changes={"before": {"group": "data-science", "role": "member", "team": None}},
    )


@case("accounts.sso.provisioning.sign_in", principal="sign-in")
def _(w):
    claims = {"sub": "s-1", "preferred_username": "zoe", "email": "zoe@example.org", "email_verified": True}
    with override_settings(WARDEN_OIDC_PROVISIONING="create"):
        user = sso_provisioning.sign_in(issuer="https://idp.example.org", claims=claims)
        assert sso_provisioning.sign_in(issuer="https://idp.example.org", claims=claims) == user  # known now: no second event
    return Expect(
        actions.USER_PROVISIONED, ("user", user.pk, "zoe"), actor=("user", "zoe"),
        changes={"after": {"username": "zoe", "issuer": "https://idp.example.org", "subject": "s-1"}}, in_workspace=False,
    )


@case("accounts.sso.groups.sync", principal="sign-in")
def _(w):
    sso_mappings.group_mapping_create(actor=w.ada, workspace=w.workspace, group="data-science", role=Role.MEMBER)
    w.mark()
    sso_groups.sync(user=w.bob, names={"data-science", "unmapped"})
    sso_groups.sync(user=w.bob, names={"data-science"})  # nothing to change: nothing recorded
    assert [event.action for event in w.events()] == [actions.MEMBERSHIP_ADDED]  # once, by the membership service
    return Expect(
        actions.MEMBERSHIP_ADDED, ("user", w.bob.pk, "bob"), actor=("system", "warden"),
        changes={"after": {"role": "member"}, "cause": {"by": "idp_group_sync", "user": "bob", "groups": ["data-science"]}},
    )


# ---------------------------------------------------------------- webhooks (MLflow's webhook API, workspace admins)

_HOOK_URL = "http://127.0.0.1:9/hook"  # the discard port: nothing listens, a test delivery fails fast
_HOOK_EVENTS = [{"entity": "MODEL_VERSION", "action": "CREATED"}]


def _hook(w, **fields):
    with override_settings(WARDEN_WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"]):
        return webhook_services.webhook_create(
            actor=w.ada, workspace=w.workspace, name="ci", url=_HOOK_URL, events=_HOOK_EVENTS, secret="s3cret-value", **fields
        )


def _hook_summary(hook, **changed):
    return {
        "name": "ci", "url_origin": "http://127.0.0.1:9", "events": ["model_version.created"], "status": "ACTIVE",
        "description": "", "signed": True, **changed,
    }


@case("notifications.webhooks.services.webhook_create")
def _(w):
    hook = _hook(w)
    [event] = w.events(actions.WEBHOOK_CREATED)
    assert "s3cret-value" not in str(event.changes) and "/hook" not in str(event.changes)
    return Expect(actions.WEBHOOK_CREATED, ("webhook", hook.webhook_id, "ci"), changes={"after": _hook_summary(hook)})


@case("notifications.webhooks.services.webhook_update")
def _(w):
    hook = _hook(w)
    webhook_services.webhook_update(actor=w.ada, webhook=hook, status="DISABLED", secret="")
    return Expect(
        actions.WEBHOOK_UPDATED, ("webhook", hook.webhook_id, "ci"),
        changes={"before": {"status": "ACTIVE", "signed": True}, "after": {"status": "DISABLED", "signed": False}},
    )


@case("notifications.webhooks.services.webhook_delete")
def _(w):
    hook = _hook(w)
    webhook_services.webhook_delete(actor=w.ada, webhook=hook)
    return Expect(actions.WEBHOOK_DELETED, ("webhook", hook.webhook_id, "ci"), changes={"before": _hook_summary(hook)})


@case("notifications.webhooks.services.webhook_test")
def _(w):
    hook = _hook(w)
    with override_settings(WARDEN_WEBHOOK_ALLOWED_HOSTS=["127.0.0.1"], WARDEN_WEBHOOK_TIMEOUT=2.0):
        webhook_services.webhook_test(actor=w.ada, webhook=hook)
    return Expect(actions.WEBHOOK_TESTED, ("webhook", hook.webhook_id, "ci"), changes={"event": "model_version.created"})


@case("notifications.watches.watch_set")
def _(w):
    model = w.registered_model()
    assert watches.watch_set(actor=w.ada, workspace=w.workspace, kind="registered_model", obj=model)[1]
    assert not watches.watch_set(actor=w.ada, workspace=w.workspace, kind="registered_model", obj=model)[1]  # again: no event
    return Expect(actions.WATCH_CREATED, ("registered_model", model.pk, "clf"), changes={"after": {"watcher": "ada"}})


@case("notifications.watches.watch_remove")
def _(w):
    experiment = w.experiment()
    watches.watch_set(actor=w.ada, workspace=w.workspace, kind="experiment", obj=experiment)
    assert watches.watch_remove(actor=w.ada, kind="experiment", obj=experiment)
    assert not watches.watch_remove(actor=w.ada, kind="experiment", obj=experiment) and not Watch.objects.exists()
    return Expect(actions.WATCH_REMOVED, ("experiment", experiment.wire_id, "exp"), changes={"before": {"watcher": "ada"}})


# ---------------------------------------------------------------- the test, after every case is registered


@pytest.mark.parametrize("qualified_name", sorted(CASES))
def test_the_service_writes_its_event(world, qualified_name):
    function, principal = CASES[qualified_name]
    principals = {
        "ada-token": principal_context(world.ada, world.ada_token),
        "bot-token": principal_context(world.bot, world.bot_token),
        "sign-in": context.AuditContext(source_ip="192.0.2.10", user_agent="pytest", request_id="req-sign-in"),
        "none": context.AuditContext(),
    }
    world.mark()
    with context.bound(principals[principal]):
        expect = function(world)
    target = tuple(str(part) for part in expect.target)
    matching = [event for event in world.events(expect.action) if (event.target_type, event.target_id) == target[:2]]
    assert len(matching) == 1, [(e.action, e.target_type, e.target_id) for e in world.events()]
    event = matching[0]
    assert expect.action in actions.ALL
    assert (event.target_type, event.target_id, event.target_name) == target
    assert (event.actor_kind, event.actor_name) == expect.actor
    assert event.outcome == expect.outcome
    if expect.actor[0] == ActorKind.TOKEN:
        assert event.token_id == world.ada_token.pk and event.auth_method == "token"
    if expect.actor[0] == ActorKind.SERVICE:
        assert event.token_id == world.bot_token.pk
    for key, value in expect.changes.items():
        assert event.changes.get(key) == value, (key, event.changes)
    if expect.target[0] == "workspace":
        assert str(event.workspace_id) == target[1]
    elif expect.target[0] == "api_token":  # a token bound to no workspace is in the chain of none
        assert event.workspace_id in (world.workspace.pk, None)
    elif not expect.in_workspace:
        assert event.workspace_id is None and event.workspace_slug == ""
    else:
        assert event.workspace_id == world.workspace.pk and event.workspace_slug == "acme"
