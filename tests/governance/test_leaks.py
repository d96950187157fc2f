"""Leaks across workspaces and past restrictions: exact visible and hidden id sets for
experiments, runs, logged models, registered models, versions, artifacts and searches, and
guessed ids and names answering byte for byte like ones that never existed."""

import io
import uuid

import pytest

from accounts import services as account_services
from accounts.models import Role
from accounts.permissions import Level
from experiments import services as tracking
from experiments.artifacts.services import artifact_save
from experiments.models import Experiment
from registry import services as registry_services
from registry.models import RegisteredModel
from registry.sources import resolve_source
from tests.governance.conftest import context_for


def _estate(workspace, owner, label):
    """Three experiments (shared, restricted, restricted-but-granted) with a run, an artifact and
    a logged model each, and three registered models alike with one version each."""
    made = {}
    for kind in ("shared", "restricted", "granted"):
        exp = tracking.experiment_create(actor=owner, workspace=workspace, name=f"{label}-{kind}")
        run = tracking.run_create(actor=owner, experiment=exp, run_name=f"{label}-{kind}-run")
        artifact_save(actor=owner, run=run, path="f.txt", stream=io.BytesIO(b"x"), expected_size=1)
        logged = tracking.logged_model_create(actor=owner, experiment=exp, name=f"{label}-{kind}-lm")
        model = registry_services.registered_model_create(actor=owner, workspace=workspace, name=f"{label}-{kind}-model")
        source = resolve_source(context_for(owner, workspace), f"runs:/{run.run_uuid}/model", run_id=run.run_uuid)
        registry_services.model_version_create(actor=owner, model=model, source=source)
        if kind != "shared":
            Experiment.objects.filter(pk=exp.pk).update(restricted=True)
            RegisteredModel.objects.filter(pk=model.pk).update(restricted=True)
        made[kind] = {"exp": exp, "run": run, "logged": logged, "model": model}
    return made


@pytest.fixture
def estate(workspace, other_workspace, make_user, settings, tmp_path):
    settings.ARTIFACT_ROOT = str(tmp_path / "artifacts")
    ours = _estate(workspace, make_user("owner", workspace, Role.MEMBER), "acme")
    theirs = _estate(other_workspace, make_user("rival", other_workspace, Role.ADMIN), "globex")
    return ours, theirs


@pytest.fixture
def reader(make_user, workspace, estate, wire):
    """A member of acme with READ granted (through a team) on the "granted" objects only."""
    ours, _ = estate
    user = make_user("rita", workspace, Role.MEMBER)
    team = account_services.team_create(actor=None, workspace=workspace, name="readers")
    account_services.team_member_add(actor=None, team=team, user=user)
    for key in ("exp", "model"):
        account_services.grant_set(actor=None, obj=ours["granted"][key], level=Level.READ, team=team)
    return wire(user, workspace="acme")


VISIBLE, HIDDEN = ("shared", "granted"), ("restricted",)


def _all(estate, field, kinds=("shared", "restricted", "granted")):
    ours, theirs = estate
    return [side[kind][field] for side in (ours, theirs) for kind in kinds]


def test_searches_return_exactly_the_visible_sets(reader, estate):
    ours, theirs = estate
    every_exp_id = [e.wire_id for e in _all(estate, "exp")] + ["0"]
    names = {e["name"] for e in reader.post("experiments/search", {"view_type": "ALL"}).json()["experiments"]}
    assert names == {"Default", "acme-shared", "acme-granted"}
    runs = reader.post("runs/search", {"experiment_ids": every_exp_id, "run_view_type": "ALL"}).json()["runs"]
    assert {r["info"]["run_id"] for r in runs} == {ours[k]["run"].run_uuid for k in VISIBLE}
    logged = reader.post("logged-models/search", {"experiment_ids": every_exp_id}).json()["models"]
    assert {m["info"]["model_id"] for m in logged} == {ours[k]["logged"].model_id for k in VISIBLE}
    models = reader.get("registered-models/search").json()["registered_models"]
    assert {m["name"] for m in models} == {"acme-shared-model", "acme-granted-model"}
    versions = reader.get("model-versions/search").json()["model_versions"]
    assert {(v["name"], v["version"]) for v in versions} == {("acme-shared-model", "1"), ("acme-granted-model", "1")}
    for hidden in ("acme-restricted", "globex-shared", "globex-granted"):
        found = reader.post("experiments/search", {"filter": f"name = '{hidden}'"}).json()
        assert found.get("experiments", []) == [], hidden
        found = reader.get("registered-models/search", {"filter": f"name = '{hidden}-model'"}).json()
        assert found.get("registered_models", []) == [], hidden
    hidden_ids = [ours["restricted"]["exp"].wire_id] + [e.wire_id for e in _all(estate, "exp")[3:]]
    assert reader.post("runs/search", {"experiment_ids": hidden_ids}).json().get("runs", []) == []


def _same(hidden, missing, hidden_key: str, missing_key: str):
    """A hidden object answers exactly like a missing one, the id aside."""
    assert hidden.status_code == missing.status_code == 404, (hidden.content, missing.content)
    assert hidden.content.replace(hidden_key.encode(), b"ID") == missing.content.replace(missing_key.encode(), b"ID")


def _hidden(estate):
    ours, theirs = estate
    return [ours["restricted"]] + [theirs[k] for k in ("shared", "restricted", "granted")]


def test_guessed_ids_and_names_answer_like_missing_ones(reader, estate):
    ghost_run, ghost_model = uuid.uuid4().hex, "m-" + uuid.uuid4().hex
    for objs in _hidden(estate):
        exp, run, logged, model = objs["exp"], objs["run"], objs["logged"], objs["model"]
        _same(reader.get("experiments/get", {"experiment_id": exp.wire_id}),
              reader.get("experiments/get", {"experiment_id": "99999999"}), exp.wire_id, "99999999")
        _same(reader.get("experiments/get-by-name", {"experiment_name": exp.name}),
              reader.get("experiments/get-by-name", {"experiment_name": "no-such-thing"}), exp.name, "no-such-thing")
        _same(reader.get("runs/get", {"run_id": run.run_uuid}), reader.get("runs/get", {"run_id": ghost_run}), run.run_uuid, ghost_run)
        _same(reader.get(f"logged-models/{logged.model_id}"), reader.get(f"logged-models/{ghost_model}"), logged.model_id, ghost_model)
        _same(reader.get("registered-models/get", {"name": model.name}),
              reader.get("registered-models/get", {"name": "no-such-model"}), model.name, "no-such-model")
        _same(reader.get("model-versions/get", {"name": model.name, "version": "1"}),
              reader.get("model-versions/get", {"name": "no-such-model", "version": "1"}), model.name, "no-such-model")
        _same(reader.get("artifacts/list", {"run_id": run.run_uuid}), reader.get("artifacts/list", {"run_id": ghost_run}), run.run_uuid, ghost_run)
        path = f"{exp.wire_id}/{run.run_uuid}/artifacts/f.txt"
        ghost_path = f"{exp.wire_id}/{ghost_run}/artifacts/f.txt"
        _same(reader.get(f"/api/2.0/mlflow-artifacts/artifacts/{path}"),
              reader.get(f"/api/2.0/mlflow-artifacts/artifacts/{ghost_path}"), run.run_uuid, ghost_run)
        assert reader.post("runs/log-metric", {"run_id": run.run_uuid, "key": "m", "value": 1, "timestamp": 1}).status_code == 404


def test_visible_objects_and_their_artifacts_are_readable(reader, estate):
    ours, _ = estate
    for kind in VISIBLE:
        run, exp = ours[kind]["run"], ours[kind]["exp"]
        assert reader.get("runs/get", {"run_id": run.run_uuid}).status_code == 200
        response = reader.get(f"/api/2.0/mlflow-artifacts/artifacts/{exp.wire_id}/{run.run_uuid}/artifacts/f.txt")
        assert response.status_code == 200 and b"".join(response.streaming_content) == b"x"
        assert [f["path"] for f in reader.get("artifacts/list", {"run_id": run.run_uuid}).json()["files"]] == ["f.txt"]
        assert reader.get("registered-models/get", {"name": ours[kind]["model"].name}).status_code == 200
    # READ through the team is not EDIT: visible, refused
    granted = ours["granted"]["run"].run_uuid
    assert reader.post("runs/set-tag", {"run_id": granted, "key": "k", "value": "v"}).json()["error_code"] == "PERMISSION_DENIED"


def test_a_token_bound_elsewhere_sees_nothing_here(client, make_token, make_user, workspace, other_workspace, estate):
    from tests.conftest import WireClient

    user = make_user("bo", workspace, Role.ADMIN)
    account_services.membership_set(actor=None, workspace=other_workspace, user=user, role=Role.VIEWER)
    token = make_token(user, workspace=other_workspace)
    ours, _ = estate
    asking_for_acme = WireClient(client, token, "acme")
    assert asking_for_acme.get("runs/get", {"run_id": ours["shared"]["run"].run_uuid}).status_code == 404
    assert asking_for_acme.get("registered-models/search").status_code == 404
    at_home = WireClient(client, token)  # no header: the token's own workspace, as a viewer there
    assert {m["name"] for m in at_home.get("registered-models/search").json()["registered_models"]} == {"globex-shared-model"}
