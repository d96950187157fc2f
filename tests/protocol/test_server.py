"""Server-level endpoints: open, cheap, and revealing no data."""

import pytest

from tests.protocol.expect import ok


@pytest.mark.django_db
def test_health_is_ok_text(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.content == b"OK"
    assert response["Content-Type"].startswith("text/plain")


@pytest.mark.django_db
def test_version_is_plain_text(client):
    response = client.get("/version")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert text and text[0].isdigit() and "\n" not in text


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/api/3.0/mlflow/server-info", "/ajax-api/3.0/mlflow/server-info"])
def test_server_info_reports_workspaces(client, path):
    info = ok(client.get(path))
    assert info["workspaces_enabled"] is True
    assert isinstance(info["store_type"], str)


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/health", "/version", "/api/3.0/mlflow/server-info"])
def test_server_endpoints_are_get_only(client, path):
    assert client.post(path).status_code == 405


@pytest.mark.django_db
def test_server_info_needs_no_credentials_and_ignores_bad_ones(client):
    assert ok(client.get("/api/3.0/mlflow/server-info", HTTP_AUTHORIZATION="Bearer junk"))["workspaces_enabled"] is True
