"""Workspace roles and read-only tokens: reading is allowed, writing is 403 and writes nothing."""

import pytest

from accounts import services
from accounts.models import Role
from experiments.models import Experiment, Run
from tests.protocol.expect import expect_error, ok


@pytest.fixture
def member_run(api):
    """A run (and an experiment) created by the member "mia" in acme."""
    experiment_id = ok(api.post("experiments/create", {"name": "shared"}))["experiment_id"]
    run_id = ok(api.post("runs/create", {"experiment_id": experiment_id}))["run"]["info"]["run_id"]
    return experiment_id, run_id


def assert_reads(client, experiment_id, run_id):
    assert "shared" in {e["name"] for e in ok(client.get("experiments/search"))["experiments"]}
    assert "shared" in {e["name"] for e in ok(client.post("experiments/search", {"max_results": 10}))["experiments"]}
    assert ok(client.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]["name"] == "shared"
    assert ok(client.get("runs/get", {"run_id": run_id}))["run"]["info"]["run_id"] == run_id


def assert_cannot_write(client, experiment_id, run_id):
    runs_before = Run.objects.count()
    expect_error(client.post("experiments/create", {"name": "forbidden"}), 403, "PERMISSION_DENIED")
    expect_error(client.post("runs/create", {"experiment_id": experiment_id}), 403, "PERMISSION_DENIED")
    expect_error(client.post("runs/create", {"experiment_id": "0"}), 403, "PERMISSION_DENIED")
    tagged = client.post("runs/set-tag", {"run_id": run_id, "key": "k", "value": "v"})
    expect_error(tagged, 403, "PERMISSION_DENIED")
    assert not Experiment.objects.filter(name="forbidden").exists()
    assert Run.objects.count() == runs_before
    assert not Run.objects.get(run_uuid=run_id).tags.filter(key="k").exists()


def test_viewer_reads_but_cannot_write(wire, viewer, member_run):
    assert_reads(wire(viewer), *member_run)
    assert_cannot_write(wire(viewer), *member_run)


def test_read_only_token_of_a_member_reads_but_cannot_write(wire, member, member_run):
    reader = wire(member, read_only=True)
    assert_reads(reader, *member_run)
    assert_cannot_write(reader, *member_run)
    # the same member with a write token still writes
    ok(wire(member).post("experiments/create", {"name": "allowed"}))


def test_read_only_token_of_an_admin_cannot_write(wire, make_user, workspace, member_run):
    admin = make_user("ada", workspace, Role.ADMIN)
    assert_reads(wire(admin, read_only=True), *member_run)
    assert_cannot_write(wire(admin, read_only=True), *member_run)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.MAINTAINER, Role.ADMIN])
def test_writing_roles_can_create(wire, make_user, workspace, role, member_run):
    writer = wire(make_user(f"w-{role}", workspace, role))
    experiment_id = ok(writer.post("experiments/create", {"name": f"by-{role}"}))["experiment_id"]
    ok(writer.post("runs/create", {"experiment_id": experiment_id}))
    ok(writer.post("runs/create", {"experiment_id": member_run[0]}))
    assert_reads(writer, *member_run)


def test_viewer_in_one_workspace_member_in_another(wire, make_user, workspace, other_workspace):
    user = make_user("split", workspace, Role.VIEWER)
    services.membership_set(actor=None, workspace=other_workspace, user=user, role=Role.MEMBER)
    expect_error(wire(user, "acme").post("experiments/create", {"name": "in-acme"}), 403, "PERMISSION_DENIED")
    ok(wire(user, "globex").post("experiments/create", {"name": "in-globex"}))
    assert list(Experiment.objects.filter(name__startswith="in-").values_list("name", flat=True)) == ["in-globex"]
