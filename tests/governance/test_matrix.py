"""The permission matrix: every route of the table x every principal (x shared / restricted
targets for object routes), expected status computed from the rules, never written per cell.

Rules (DESIGN §3): unauthenticated -> 401; outside the workspace -> 404; on an object, a level
below READ -> 404 (exactly like a missing object), below the route's need -> 403, else the
route's success status. Workspace-wide routes compare the role floor; Warden's own API routes
compare the role (``role``) or only need a signed-in caller (``auth``). Read-only tokens are
capped at USE, and Warden's own API refuses them any write up front.
"""

import json
from dataclasses import dataclass, field

import pytest
from django.db import transaction

from accounts.api.permissions import ROLE_RANK
from accounts.models import Role
from accounts.permissions import Level
from tests.governance.world import OUTSIDERS, PRINCIPALS, ROLE_OF, UNAUTHENTICATED, World, object_level, workspace_level

R, U, E, M = Level.READ, Level.USE, Level.EDIT, Level.MANAGE
SAFE = {"GET", "HEAD", "OPTIONS"}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # relative to /api/2.0/mlflow/ unless it starts with "/"; formatted with the targets
    need: object  # a Level, or a Role for scope "role"
    scope: str = "object"  # object | workspace | role | auth
    params: dict = field(default_factory=dict)  # values formatted with the targets
    ok: int = 200
    drf: bool = False
    hidden: int = 404  # how a missing object answers (an invisible one must answer the same)

    def url(self, t) -> str:
        path = self.path.format(t=t)
        return path if path.startswith("/") else f"/api/2.0/mlflow/{path}"

    def data(self, t):
        def fill(value):
            if isinstance(value, str):
                return value.format(t=t)
            if isinstance(value, list):
                return [fill(v) for v in value]
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            return value

        return fill(self.params)

    @property
    def touches_storage(self) -> bool:
        return "mlflow-artifacts" in self.path

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"


RUN = {"run_id": "{t.run.run_uuid}"}
EXP = {"experiment_id": "{t.exp.wire_id}"}
RM = {"name": "{t.model.name}"}
MV = {"name": "{t.model.name}", "version": "1"}
ART = "/api/2.0/mlflow-artifacts/artifacts/{t.exp.wire_id}/{t.run.run_uuid}/artifacts"
GOV = "/api/v1/workspaces/acme"
HOOK_URL = "http://127.0.0.1:9/hook"  # allowlisted below; nothing listens on port 9
MV_CREATED = {"entity": "MODEL_VERSION", "action": "CREATED"}

ROUTES = [
    # experiments
    Route("POST", "experiments/create", E, "workspace", {"name": "new-{t.n}"}),
    Route("GET", "experiments/get", R, params=EXP),
    Route("GET", "experiments/get-by-name", R, params={"experiment_name": "{t.exp.name}"}),
    Route("POST", "experiments/search", R, "workspace"),
    Route("POST", "experiments/update", M, params={**EXP, "new_name": "renamed-{t.n}"}),
    Route("POST", "experiments/delete", M, params=EXP),
    Route("POST", "experiments/restore", M, params=EXP),
    Route("POST", "experiments/set-experiment-tag", E, params={**EXP, "key": "k", "value": "v"}),
    Route("POST", "experiments/delete-experiment-tag", E, params={**EXP, "key": "t"}),
    # runs and metrics
    Route("POST", "runs/create", E, params=EXP),
    Route("GET", "runs/get", R, params=RUN),
    Route("GET", "/ajax-api/2.0/mlflow/runs/get", R, params=RUN),
    Route("POST", "runs/update", E, params={**RUN, "status": "FINISHED"}),
    Route("POST", "runs/delete", E, params=RUN),
    Route("POST", "runs/restore", E, params=RUN),
    Route("POST", "runs/search", R, "workspace", {"experiment_ids": ["{t.exp.wire_id}"]}),
    Route("POST", "runs/set-tag", E, params={**RUN, "key": "k", "value": "v"}),
    Route("POST", "runs/delete-tag", E, params={**RUN, "key": "t"}),
    Route("POST", "runs/log-parameter", E, params={**RUN, "key": "p", "value": "1"}),
    Route("POST", "runs/log-metric", E, params={**RUN, "key": "m", "value": 2, "timestamp": 2}),
    Route("POST", "runs/log-batch", E, params={**RUN, "metrics": [{"key": "m", "value": 3, "timestamp": 3, "step": 1}]}),
    Route("POST", "runs/log-model", E, params={**RUN, "model_json": "{{}}"}),
    Route(
        "POST", "runs/log-inputs", E,
        params={**RUN, "datasets": [{"dataset": {"name": "d", "digest": "x", "source_type": "local", "source": "s"}}]},
    ),
    Route("POST", "runs/outputs", E, params={**RUN, "models": [{"model_id": "{t.logged.model_id}", "step": 0}]}),
    # MLflow answers an unknown run's history with an empty body; an invisible run answers alike
    Route("GET", "metrics/get-history", R, params={**RUN, "metric_key": "m"}, hidden=200),
    Route("GET", "metrics/get-history-bulk-interval", R, params={"run_ids": "{t.run.run_uuid}", "metric_key": "m"}),
    # logged models
    Route("POST", "logged-models", E, params=EXP),
    Route("POST", "logged-models/search", R, "workspace", {"experiment_ids": ["{t.exp.wire_id}"]}),
    Route("GET", "logged-models/{t.logged.model_id}", R),
    Route("PATCH", "logged-models/{t.logged.model_id}", E, params={"status": "LOGGED_MODEL_READY"}),
    Route("DELETE", "logged-models/{t.logged.model_id}", E),
    Route("PATCH", "logged-models/{t.logged.model_id}/tags", E, params={"tags": [{"key": "k", "value": "v"}]}),
    Route("DELETE", "logged-models/{t.logged.model_id}/tags/t", E),
    Route("POST", "logged-models/{t.logged.model_id}/params", E, params={"params": [{"key": "p", "value": "1"}]}),
    # artifacts
    Route("GET", "artifacts/list", R, params={**RUN, "path": ""}),
    Route("GET", ART + "/a.txt", R),
    Route("PUT", ART + "/b.txt", E),
    Route("DELETE", ART + "/a.txt", M),
    Route("GET", "/api/2.0/mlflow-artifacts/artifacts", R, params={"path": "{t.exp.wire_id}/{t.run.run_uuid}/artifacts"}),
    Route("POST", "/api/2.0/mlflow-artifacts/mpu/create/{t.exp.wire_id}/{t.run.run_uuid}/artifacts/c.bin", E, ok=501),
    # registered models
    Route("POST", "registered-models/create", E, "workspace", {"name": "rm-new-{t.n}"}),
    Route("GET", "registered-models/get", R, params=RM),
    Route("PATCH", "registered-models/update", E, params={**RM, "description": "d"}),
    Route("POST", "registered-models/rename", M, params={**RM, "new_name": "rm-renamed-{t.n}"}),
    Route("DELETE", "registered-models/delete", M, params=RM),
    Route("GET", "registered-models/search", R, "workspace"),
    Route("POST", "registered-models/get-latest-versions", R, params=RM),
    Route("POST", "registered-models/set-tag", E, params={**RM, "key": "k", "value": "v"}),
    Route("DELETE", "registered-models/delete-tag", E, params={**RM, "key": "t"}),
    Route("POST", "registered-models/alias", E, params={**RM, "alias": "a2", "version": "1"}),
    Route("DELETE", "registered-models/alias", E, params={**RM, "alias": "a1"}),
    Route("GET", "registered-models/alias", R, params={**RM, "alias": "a1"}),
    # model versions
    Route("POST", "model-versions/create", E, params={**RM, "source": "runs:/{t.run.run_uuid}/model", "run_id": "{t.run.run_uuid}"}),
    Route("GET", "model-versions/get", R, params=MV),
    Route("PATCH", "model-versions/update", E, params={**MV, "description": "d"}),
    Route("DELETE", "model-versions/delete", M, params=MV),
    Route("POST", "model-versions/transition-stage", E, params={**MV, "stage": "Staging"}),
    Route("GET", "model-versions/get-download-uri", R, params=MV),
    Route("GET", "model-versions/search", R, "workspace"),
    Route("POST", "model-versions/set-tag", E, params={**MV, "key": "k", "value": "v"}),
    Route("DELETE", "model-versions/delete-tag", E, params={**MV, "key": "t"}),
    # webhooks (MLflow's API): workspace admins only; a read-only token is the maintainer's
    Route("GET", "webhooks", Role.ADMIN, "role"),
    Route("POST", "webhooks", Role.ADMIN, "role", {"name": "hook-{t.n}", "url": HOOK_URL, "events": [MV_CREATED]}),
    Route("GET", "webhooks/{t.webhook}", Role.ADMIN, "role"),
    Route("PATCH", "webhooks/{t.webhook}", Role.ADMIN, "role", {"description": "d"}),
    Route("DELETE", "webhooks/{t.webhook}", Role.ADMIN, "role"),
    Route("POST", "webhooks/{t.webhook}/test", Role.ADMIN, "role"),
    # Warden's notification API
    Route("GET", GOV + "/webhooks/{t.webhook}/deliveries", Role.ADMIN, "role", drf=True),
    Route("GET", GOV + "/watches", Role.VIEWER, "role", drf=True),
    Route("PUT", GOV + "/watches/registered-models/{t.model.name}", R, ok=201, drf=True),
    Route("PUT", GOV + "/watches/experiments/{t.exp.wire_id}", R, ok=201, drf=True),
    # Warden's registry API
    Route("GET", "/api/v1/registry/models/{t.model.name}/protection", R, drf=True),
    Route("PUT", "/api/v1/registry/models/{t.model.name}/protection", M, params={"protected": False}, drf=True),
    # Warden's governance API
    Route("GET", GOV + "/experiments/{t.exp.wire_id}/grants", M, drf=True),
    Route("POST", GOV + "/experiments/{t.exp.wire_id}/grants", M, params={"user": "bystander", "level": "READ"}, ok=201, drf=True),
    Route("PATCH", GOV + "/experiments/{t.exp.wire_id}/grants/teams/{t.team_id}", M, params={"level": "USE"}, drf=True),
    Route("GET", GOV + "/registered-models/{t.model.name}/grants", M, drf=True),
    Route("DELETE", GOV + "/registered-models/{t.model.name}/grants/users/owner", M, ok=204, drf=True),
    Route("GET", GOV + "/members", Role.VIEWER, "role", drf=True),
    Route("POST", GOV + "/members", Role.ADMIN, "role", {"username": "loner", "role": "viewer"}, ok=201, drf=True),
    Route("POST", GOV + "/teams", Role.ADMIN, "role", {"name": "team-{t.n}"}, ok=201, drf=True),
    Route("GET", GOV + "/service-accounts", Role.ADMIN, "role", drf=True),
    # the audit log's governance: a workspace's auditors and audit retention
    Route("GET", GOV + "/auditors", Role.ADMIN, "role", drf=True),
    Route("POST", GOV + "/auditors", Role.ADMIN, "role", {"username": "loner"}, ok=201, drf=True),
    Route("GET", GOV + "/audit-retention", Role.VIEWER, "role", drf=True),
    Route("PUT", GOV + "/audit-retention", Role.ADMIN, "role", {"keep_days": 90}, drf=True),
    Route("GET", "/api/v1/me", None, "auth", drf=True),
    Route("GET", "/api/v1/tokens", None, "auth", drf=True),
]


def expected(route: Route, principal: str, restricted: bool) -> int:
    if principal in UNAUTHENTICATED:
        return 401
    if route.scope == "auth":
        return route.ok
    if route.drf and principal == "read_only_token" and route.method not in SAFE and route.path.startswith(GOV):
        return 403  # Warden's own API: a read-only token is refused every write, before any lookup
    if principal in OUTSIDERS:
        return 404
    if route.scope == "role":
        return route.ok if ROLE_RANK[ROLE_OF[principal]] >= ROLE_RANK[route.need] else 403
    if route.scope == "workspace":
        return route.ok if workspace_level(principal) >= route.need else 403
    level = object_level(principal, restricted)
    if level < Level.READ:
        return route.hidden
    return route.ok if level >= route.need else 403


def call(client, route: Route, token, t):
    headers = {"HTTP_X_MLFLOW_WORKSPACE": "acme"}
    if token:
        headers["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    url, data = route.url(t), route.data(t)
    if route.method == "GET":
        return client.get(url, data, **headers)
    if route.method == "PUT" and not route.drf:
        return client.put(url, b"bytes", content_type="application/octet-stream", **headers)
    body = json.dumps(data) if (data or route.method != "DELETE") else ""
    return getattr(client, route.method.lower())(url, body, content_type="application/json", **headers)


def _cases():
    for route in ROUTES:
        for restricted in (False, True) if route.scope == "object" else (False,):
            yield pytest.param(route, restricted, id=f"{route.label}{' [restricted]' if restricted else ''}")


MATRIX_SIZE = sum(len(PRINCIPALS) * (2 if r.scope == "object" else 1) for r in ROUTES)


@pytest.fixture
def world(workspace, other_workspace, make_user, make_token, settings, tmp_path):
    from notifications.webhooks.services import webhook_create

    settings.ARTIFACT_ROOT = str(tmp_path / "artifacts")
    settings.WARDEN_WEBHOOK_ALLOWED_HOSTS = ["127.0.0.1"]
    built = World(workspace, other_workspace, make_user, make_token)
    built.webhook = webhook_create(actor=None, workspace=workspace, name="matrix", url=HOOK_URL, events=[MV_CREATED])
    return built


@pytest.mark.parametrize("route,restricted", list(_cases()))
def test_matrix(client, world, route, restricted):
    got, want = {}, {}
    shared = None if route.touches_storage else world.targets(restricted=restricted)
    for principal in PRINCIPALS:
        t = shared or world.targets(restricted=restricted)  # files are not rolled back: fresh ones
        t.team_id = world.team.pk
        t.webhook = world.webhook.webhook_id
        with transaction.atomic():  # every principal meets the same state: writes roll back
            response = call(client, route, world.tokens[principal], t)
            transaction.set_rollback(True)
        got[principal], want[principal] = response.status_code, expected(route, principal, restricted)
        if want[principal] in (403, 404) and response.status_code == want[principal] and not route.drf:
            code = response.json()["error_code"]
            assert code == ("PERMISSION_DENIED" if want[principal] == 403 else "RESOURCE_DOES_NOT_EXIST"), (principal, code)
        insider = principal not in UNAUTHENTICATED | OUTSIDERS
        if route.hidden == 200 and restricted and insider and object_level(principal, restricted) < Level.READ:
            assert response.json() == {}, principal  # nothing of the invisible run
    assert got == want


def test_matrix_covers_every_mlflow_route_and_reports_its_size():
    """Every MLflow route (tracking, artifacts, registry) appears in the table at least once."""
    from accounts.routes import MLFLOW, decision, iter_routes

    import re

    def normal(route: str) -> str:
        route = re.sub(r"^ajax-api/", "api/", route)
        route = re.sub(r"\(\?P<\w+>[^)]*\)", "*", route)  # regex groups of re_path routes
        route = re.sub(r"<[^>]+>", "*", route)  # path converters
        return route.replace("^", "").replace("\\Z", "").replace("$", "")

    table = set()
    for route in ROUTES:
        path = route.path if route.path.startswith("/") else f"/api/2.0/mlflow/{route.path}"
        table.add(re.sub(r"\{t\.[^}]+\}", "*", path.lstrip("/")))
    missing = []
    for route, callback, namespace in iter_routes():
        if decision(callback, namespace) != MLFLOW or "3.0" in route:
            continue
        pattern = "^" + re.escape(normal(route)).replace(r"\*", ".*") + "$"
        if not any(re.match(pattern, entry.replace("ajax-api/", "api/")) for entry in table):
            missing.append(route)
    assert missing == []
    assert MATRIX_SIZE >= 1200
    print(f"permission matrix: {len(ROUTES)} routes, {len(PRINCIPALS)} principals, {MATRIX_SIZE} cells")
