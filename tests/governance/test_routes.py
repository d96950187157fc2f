"""Fail-closed routing: every route of the resolver has a permission decision; one without is
found by the walk and refused at run time."""

import pytest

from accounts import routes

PUBLIC_ROUTES = {
    "health",
    "version",
    "api/3.0/mlflow/server-info",
    "ajax-api/3.0/mlflow/server-info",
    "api/v1/schema/",
    "api/v1/docs/",
    "api/v1/redoc/",
    # signing in and out: anonymous browsers must reach them (accounts/pages/urls.py)
    "signin",
    "signout",
    "oidc/authenticate/",
    "oidc/callback/",
}


def all_routes():
    return [(route, routes.decision(callback, namespace), callback) for route, callback, namespace in routes.iter_routes()]


def test_every_route_declares_a_permission_decision():
    found = all_routes()
    assert len(found) > 80  # the walk reaches into every include (MLflow, ajax, artifacts, registry, /api/v1, admin)
    assert routes.undecided_routes() == []


def test_the_walk_covers_every_url_prefix():
    prefixes = {route.split("/")[0] for route, _, _ in all_routes()}
    assert {"api", "ajax-api", "admin", "health", "version"} <= prefixes
    route_set = {route for route, _, _ in all_routes()}
    for expected in (
        "api/2.0/mlflow/runs/log-batch",
        "ajax-api/2.0/mlflow/runs/log-batch",
        "api/2.0/mlflow-artifacts/^mpu/(?P<action>create|complete|abort)/(?P<artifact_path>[\\s\\S]*)\\Z",
        "ajax-api/2.0/mlflow-artifacts/artifacts",
        "api/2.0/mlflow/registered-models/create",
        "api/2.0/mlflow/artifacts/list",
    ):
        assert expected in route_set, expected


def test_only_the_listed_routes_are_public_and_each_says_why():
    public = {route: callback for route, decided, callback in all_routes() if decided == routes.PUBLIC}
    assert set(public) <= PUBLIC_ROUTES
    assert {"health", "version", "api/3.0/mlflow/server-info"} <= set(public)
    for route, callback in public.items():
        assert getattr(callback, routes.REASON_ATTR, "").strip(), route


def test_mlflow_routes_are_all_endpoint_views():
    for route, decided, callback in all_routes():
        if "mlflow" in route.split("/")[1:2] or route.startswith(("api/2.0/", "ajax-api/2.0/")):
            assert decided == routes.MLFLOW, route
            assert callback.mlflow_methods


def test_drf_views_declare_their_own_permission_classes():
    from rest_framework.views import APIView

    class Forgetful(APIView):
        pass

    class Careful(APIView):
        permission_classes = []

    assert routes.decision(Forgetful.as_view()) is None  # the settings default does not count
    assert routes.decision(Careful.as_view()) is None  # nor does declaring nothing
    for route, decided, callback in all_routes():
        if getattr(callback, "cls", None) is not None and decided != routes.PUBLIC:
            assert decided == routes.DRF, route


def test_pages_are_signed_in_pages():
    pages = {route for route, decided, _ in all_routes() if decided == routes.PAGE}
    assert {"", "tokens", "workspaces/<slug:slug>/service-accounts", "workspaces/<slug:slug>/group-mappings"} <= pages


def test_a_public_route_needs_a_reason():
    with pytest.raises(ValueError):
        routes.public(" ")


@pytest.mark.django_db
def test_an_undecided_route_is_found_by_the_walk_and_refused_at_run_time(client, settings):
    settings.ROOT_URLCONF = "tests.governance.undecided_urls"
    assert routes.undecided_routes() == ["forgotten"]
    response = client.get("/forgotten")
    assert response.status_code == 403
    assert response.json()["error_code"] == "PERMISSION_DENIED"
    assert client.get("/health").status_code == 200
