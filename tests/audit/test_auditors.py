"""The auditor capability: who grants it, what it opens (the log) and what it does not (data)."""

import pytest

from accounts.models import Role
from audit.access import scope_of
from accounts.authentication import Principal
from audit.models import AuditEvent, AuditorGrant


def test_a_workspace_admin_grants_and_revokes_an_auditor_and_both_are_audited(rest, admin, make_user, workspace):
    make_user("ivy")
    api = rest(admin)
    response = api.post("workspaces/acme/auditors", {"username": "ivy"})
    assert response.status_code == 201, response.content
    assert [row["username"] for row in response.json()] == ["ivy"] and response.json()[0]["granted_by"] == "ada"
    assert api.post("workspaces/acme/auditors", {"username": "ivy"}).status_code == 200  # already one
    assert [row["username"] for row in api.get("workspaces/acme/auditors").json()] == ["ivy"]
    assert api.delete("workspaces/acme/auditors/ivy").status_code == 204
    assert api.delete("workspaces/acme/auditors/ivy").status_code == 404
    events = AuditEvent.objects.filter(workspace=workspace, action__startswith="auditor.").order_by("id")
    assert [(e.action, e.actor_name, e.target_name) for e in events] == [("auditor.granted", "ada", "ivy"), ("auditor.revoked", "ada", "ivy")]
    assert events[0].changes == {"after": {"user": "ivy", "workspace": "acme"}}


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER, Role.MAINTAINER])
def test_only_admins_manage_a_workspace_s_auditors(rest, make_user, workspace, role):
    make_user("ivy")
    api = rest(make_user("someone", workspace, role))
    assert api.get("workspaces/acme/auditors").status_code == 403
    assert api.post("workspaces/acme/auditors", {"username": "ivy"}).status_code == 403
    assert api.post("workspaces/globex/auditors", {"username": "ivy"}).status_code == 404
    assert not AuditorGrant.objects.exists()


def test_global_auditors_are_for_superusers_to_grant(rest, root, admin, make_user):
    make_user("gail")
    assert rest(admin).post("audit/auditors", {"username": "gail"}).status_code == 403
    response = rest(root).post("audit/auditors", {"username": "gail"})
    assert response.status_code == 201 and response.json()[0]["workspace"] is None
    [event] = AuditEvent.objects.filter(action="auditor.granted")
    assert event.workspace_id is None and event.actor_name == "root"
    assert rest(root).delete("audit/auditors/gail").status_code == 204
    assert AuditEvent.objects.filter(action="auditor.revoked", target_name="gail").count() == 1


def test_granting_to_an_unknown_user_is_a_clear_error(rest, admin):
    response = rest(admin).post("workspaces/acme/auditors", {"username": "nobody"})
    assert response.status_code == 400 and "nobody" in response.json()["detail"]
    assert rest(admin).post("workspaces/acme/auditors", {}).status_code == 400


def test_a_read_only_token_cannot_grant(rest, admin, make_user):
    make_user("ivy")
    assert rest(admin, read_only=True).post("workspaces/acme/auditors", {"username": "ivy"}).status_code == 403


def test_the_scope_of_each_kind_of_caller(auditor, root, admin, member, workspace, other_workspace, make_user, make_token):
    from accounts.models import ApiToken

    assert scope_of(Principal(auditor, None, "session")).workspace_ids == {workspace.pk}
    assert scope_of(Principal(root, None, "session")).is_global
    assert scope_of(Principal(admin, None, "session")).empty  # admins need a grant, see audit.access
    assert scope_of(Principal(member, None, "session")).empty
    make_token(root, workspace=other_workspace, name="bound")
    bound = ApiToken.objects.get(name="bound")
    assert scope_of(Principal(root, bound, "token")).workspace_ids == {other_workspace.pk}


def test_an_auditor_reads_the_log_but_no_experiment_data(rest, wire, auditor, log):
    assert rest(auditor).get("audit/events").status_code == 200
    mlflow = wire(auditor, workspace="acme")
    assert mlflow.post("experiments/search", {"max_results": 10}).status_code == 404  # not a member: no workspace
    assert mlflow.get("experiments/get", {"experiment_id": "0"}).status_code == 404
    assert rest(auditor).get("workspaces/acme/members").status_code == 404


def test_the_audit_retention_is_set_by_admins_and_audited(rest, admin, member, workspace):
    assert rest(member).get("workspaces/acme/audit-retention").json() == {"keep_days": None}
    assert rest(member).send("put", "workspaces/acme/audit-retention", {"keep_days": 30}).status_code == 403
    response = rest(admin).send("put", "workspaces/acme/audit-retention", {"keep_days": 400})
    assert response.status_code == 200 and response.json() == {"keep_days": 400}
    assert rest(admin).send("put", "workspaces/acme/audit-retention", {"keep_days": 0}).status_code == 400
    assert rest(admin).send("put", "workspaces/acme/audit-retention", {"keep_days": None}).json() == {"keep_days": None}
    changes = [e.changes for e in AuditEvent.objects.filter(action="audit.retention_changed", workspace=workspace).order_by("id")]
    assert changes == [{"before": {"keep_days": None}, "after": {"keep_days": 400}}, {"before": {"keep_days": 400}, "after": {"keep_days": None}}]
