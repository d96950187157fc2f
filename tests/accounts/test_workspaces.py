"""Which workspace a request acts in, and that another workspace's existence never leaks."""

import pytest

from accounts import services
from accounts.models import Membership, Role, User
from experiments import services as tracking
from experiments.models import Experiment, Run
from tests.conftest import WireClient
from tests.protocol.expect import expect_error, ok

SEARCH = "experiments/search"


def names(response) -> set[str]:
    return {e["name"] for e in ok(response)["experiments"]}


@pytest.fixture
def both(make_user, workspace, other_workspace):
    """A user who is a member of acme (first, their default) and of globex (second)."""
    user = make_user("bo", workspace, Role.MEMBER)
    services.membership_set(actor=None, workspace=other_workspace, user=user, role=Role.MEMBER)
    tracking.experiment_create(actor=user, workspace=workspace, name="acme-only")
    tracking.experiment_create(actor=user, workspace=other_workspace, name="globex-only")
    return user


def not_found_body(response, slug: str) -> dict:
    """The 404 body with the requested slug blanked out, to compare answers."""
    body = expect_error(response, 404, "RESOURCE_DOES_NOT_EXIST")
    return {**body, "message": body["message"].replace(slug, "<slug>")}


# ------------------------------------------------------------------ selection order


def test_header_picks_the_workspace(wire, both):
    assert names(wire(both, "globex").get(SEARCH)) == {"Default", "globex-only"}
    assert names(wire(both, "acme").get(SEARCH)) == {"Default", "acme-only"}


def test_without_header_the_bound_workspace_wins(wire, both, other_workspace):
    assert names(wire(both).get(SEARCH)) == {"Default", "acme-only"}
    bound = WireClient(wire(both).client, _token(both, workspace=other_workspace))
    assert names(bound.get(SEARCH)) == {"Default", "globex-only"}


def _token(user, **options):
    return services.token_create(actor=None, user=user, name="t", **options)[1]


def test_without_header_or_binding_the_default_workspace_wins(wire, both, other_workspace):
    both.default_workspace = other_workspace
    both.save(update_fields=["default_workspace"])
    assert names(wire(both).get(SEARCH)) == {"Default", "globex-only"}


def test_without_default_the_oldest_membership_wins(wire, both):
    both.default_workspace = None
    both.save(update_fields=["default_workspace"])
    assert names(wire(both).get(SEARCH)) == {"Default", "acme-only"}


def test_a_default_the_user_left_is_ignored(wire, both, other_workspace):
    both.default_workspace = other_workspace
    both.save(update_fields=["default_workspace"])
    Membership.objects.filter(user=both, workspace=other_workspace).delete()
    assert names(wire(both).get(SEARCH)) == {"Default", "acme-only"}


def test_empty_header_falls_back_like_no_header(wire, both):
    assert names(wire(both).get(SEARCH, HTTP_X_MLFLOW_WORKSPACE="")) == {"Default", "acme-only"}


def test_writes_land_in_the_selected_workspace(wire, both, other_workspace):
    experiment_id = ok(wire(both, "globex").post("experiments/create", {"name": "fresh"}))["experiment_id"]
    assert Experiment.objects.get(pk=int(experiment_id)).workspace == other_workspace


def test_user_without_any_membership_is_404(wire, make_user):
    loner = make_user("loner")
    expect_error(wire(loner).get(SEARCH), 404, "RESOURCE_DOES_NOT_EXIST")


# ------------------------------------------------------------------ no existence leak


def test_foreign_and_missing_workspaces_answer_identically(wire, member, other_workspace):
    foreign = wire(member, "globex").get(SEARCH)
    missing = wire(member, "no-such-ws").get(SEARCH)
    assert not_found_body(foreign, "globex") == not_found_body(missing, "no-such-ws")
    assert foreign.status_code == missing.status_code == 404
    assert foreign["Content-Type"] == missing["Content-Type"]
    foreign_write = wire(member, "globex").post("experiments/create", {"name": "x"})
    missing_write = wire(member, "no-such-ws").post("experiments/create", {"name": "x"})
    assert not_found_body(foreign_write, "globex") == not_found_body(missing_write, "no-such-ws")
    assert not Experiment.objects.filter(name="x").exists()


def test_token_bound_to_a_answers_b_like_a_missing_workspace(client, both, workspace):
    token = _token(both, workspace=workspace)
    bound_to_a_asking_b = WireClient(client, token, "globex").get(SEARCH)
    missing = WireClient(client, token, "no-such-ws").get(SEARCH)
    assert not_found_body(bound_to_a_asking_b, "globex") == not_found_body(missing, "no-such-ws")
    assert names(WireClient(client, token, "acme").get(SEARCH)) == {"Default", "acme-only"}
    write = WireClient(client, token, "globex").post("experiments/create", {"name": "escape"})
    expect_error(write, 404, "RESOURCE_DOES_NOT_EXIST")
    assert not Experiment.objects.filter(name="escape").exists()


def test_bound_token_stops_when_its_membership_is_removed(client, both, workspace):
    token = _token(both, workspace=workspace)
    Membership.objects.filter(user=both, workspace=workspace).delete()
    expect_error(WireClient(client, token).get(SEARCH), 404, "RESOURCE_DOES_NOT_EXIST")


@pytest.mark.parametrize("slug", ["acme\x00", "ac me", "x" * 300, "ACME", "acme/../globex", "%61cme", "é"])
def test_unusual_header_values_are_plain_not_found(wire, member, slug):
    expect_error(wire(member).get(SEARCH, HTTP_X_MLFLOW_WORKSPACE=slug), 404, "RESOURCE_DOES_NOT_EXIST")


# ------------------------------------------------------------------ isolation of experiments


def test_experiments_of_a_are_invisible_from_b(wire, both, workspace):
    in_a = wire(both, "acme")
    from_b = wire(both, "globex")
    experiment_id = ok(in_a.post("experiments/create", {"name": "secret-plans"}))["experiment_id"]
    assert ok(in_a.get("experiments/get", {"experiment_id": experiment_id}))["experiment"]["name"] == "secret-plans"

    foreign = from_b.get("experiments/get", {"experiment_id": experiment_id})
    never = from_b.get("experiments/get", {"experiment_id": "987654321"})
    assert expect_error(foreign, 404, "RESOURCE_DOES_NOT_EXIST")["message"].replace(experiment_id, "<id>") == expect_error(
        never, 404, "RESOURCE_DOES_NOT_EXIST"
    )["message"].replace("987654321", "<id>")

    by_name = from_b.get("experiments/get-by-name", {"experiment_name": "secret-plans"})
    never_name = from_b.get("experiments/get-by-name", {"experiment_name": "never-made"})
    assert expect_error(by_name, 404, "RESOURCE_DOES_NOT_EXIST")["message"].replace("secret-plans", "<n>") == expect_error(
        never_name, 404, "RESOURCE_DOES_NOT_EXIST"
    )["message"].replace("never-made", "<n>")

    assert "secret-plans" not in names(from_b.get(SEARCH))
    searched = ok(from_b.post(SEARCH, {"filter": "name = 'secret-plans'"}))
    assert searched.get("experiments", []) == []
    assert "secret-plans" in names(in_a.get(SEARCH))


def test_same_name_may_exist_in_both_workspaces(wire, both):
    a_id = ok(wire(both, "acme").post("experiments/create", {"name": "shared-name"}))["experiment_id"]
    b_id = ok(wire(both, "globex").post("experiments/create", {"name": "shared-name"}))["experiment_id"]
    assert a_id != b_id
    got = ok(wire(both, "globex").get("experiments/get-by-name", {"experiment_name": "shared-name"}))
    assert got["experiment"]["experiment_id"] == b_id


def test_runs_of_a_are_invisible_from_b(wire, both):
    in_a = wire(both, "acme")
    run_id = ok(in_a.post("runs/create", {"experiment_id": "0"}))["run"]["info"]["run_id"]
    expect_error(wire(both, "globex").get("runs/get", {"run_id": run_id}), 404, "RESOURCE_DOES_NOT_EXIST")
    logged = wire(both, "globex").post("runs/log-parameter", {"run_id": run_id, "key": "k", "value": "v"})
    expect_error(logged, 404, "RESOURCE_DOES_NOT_EXIST")
    assert not Run.objects.get(run_uuid=run_id).params.exists()


def test_default_experiment_zero_is_per_workspace(wire, both, workspace, other_workspace):
    a_run = ok(wire(both, "acme").post("runs/create", {"experiment_id": "0"}))["run"]["info"]
    b_run = ok(wire(both, "globex").post("runs/create", {"experiment_id": "0"}))["run"]["info"]
    assert a_run["experiment_id"] == b_run["experiment_id"] == "0"
    assert Run.objects.get(run_uuid=a_run["run_id"]).experiment.workspace == workspace
    assert Run.objects.get(run_uuid=b_run["run_id"]).experiment.workspace == other_workspace


# ------------------------------------------------------------------ superusers


@pytest.fixture
def root(db):
    return User.objects.create_user(username="root", is_superuser=True, is_staff=True)


def test_superuser_acts_as_admin_in_any_workspace(wire, root, workspace, other_workspace, make_user):
    owner = make_user("owner", other_workspace, Role.MEMBER)
    restricted = tracking.experiment_create(actor=owner, workspace=other_workspace, name="locked")
    Experiment.objects.filter(pk=restricted.pk).update(restricted=True)

    as_root = wire(root, "globex")
    assert names(as_root.get(SEARCH)) == {"Default", "locked"}
    ok(as_root.post("experiments/update", {"experiment_id": str(restricted.pk), "new_name": "renamed-by-root"}))
    created = ok(as_root.post("experiments/create", {"name": "root-made"}))["experiment_id"]
    assert Experiment.objects.get(pk=int(created)).workspace == other_workspace
    assert ok(wire(root, "acme").get(SEARCH))["experiments"]
    assert not Membership.objects.filter(user=root).exists()


def test_superuser_without_header_uses_default_then_oldest_workspace(wire, root, workspace, other_workspace):
    tracking.experiment_create(actor=None, workspace=other_workspace, name="globex-marker")
    assert "globex-marker" not in names(wire(root).get(SEARCH))  # acme is older
    root.default_workspace = other_workspace
    root.save(update_fields=["default_workspace"])
    assert "globex-marker" in names(wire(root).get(SEARCH))


def test_superuser_missing_workspace_and_binding_still_404(client, wire, root, workspace, other_workspace):
    expect_error(wire(root, "no-such-ws").get(SEARCH), 404, "RESOURCE_DOES_NOT_EXIST")
    token = _token(root, workspace=workspace)
    expect_error(WireClient(client, token, "globex").get(SEARCH), 404, "RESOURCE_DOES_NOT_EXIST")
    ok(WireClient(client, token, "acme").get(SEARCH))


def test_superuser_read_only_token_cannot_write(client, root, workspace):
    token = _token(root, read_only=True)
    reader = WireClient(client, token, "acme")
    ok(reader.get(SEARCH))
    expect_error(reader.post("experiments/create", {"name": "nope"}), 403, "PERMISSION_DENIED")
    assert not Experiment.objects.filter(name="nope").exists()


def test_request_bodies_never_choose_the_workspace(wire, both, workspace):
    experiment_id = ok(wire(both).post("experiments/create", {"name": "body-ws", "workspace": "globex"}))["experiment_id"]
    assert Experiment.objects.get(pk=int(experiment_id)).workspace == workspace
