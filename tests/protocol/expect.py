"""Assertions on MLflow wire answers, shared by the accounts and protocol tests."""

JSON = "application/json"


def ok(response) -> dict:
    assert response.status_code == 200, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith(JSON), response["Content-Type"]
    return response.json()


def expect_error(response, status: int, code: str) -> dict:
    """The answer is MLflow's error shape: JSON with a string error_code and message."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"].startswith(JSON), (response["Content-Type"], response.content[:200])
    body = response.json()
    assert body["error_code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    return body


def expect_unauthenticated(response) -> dict:
    body = expect_error(response, 401, "UNAUTHENTICATED")
    assert response["WWW-Authenticate"].startswith("Bearer"), response.headers
    return body
