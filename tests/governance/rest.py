"""A small client for Warden's own API (/api/v1/), authenticating like a script would."""

import json


class Rest:
    def __init__(self, client, token: str | None = None):
        self.client = client
        self.headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    @staticmethod
    def url(path: str) -> str:
        return path if path.startswith("/") else f"/api/v1/{path}"

    def get(self, path, **params):
        return self.client.get(self.url(path), params, **self.headers)

    def send(self, method, path, body=None):
        data = json.dumps(body) if body is not None else ""
        return getattr(self.client, method)(self.url(path), data, content_type="application/json", **self.headers)

    def post(self, path, body=None):
        return self.send("post", path, body or {})

    def patch(self, path, body=None):
        return self.send("patch", path, body or {})

    def delete(self, path):
        return self.send("delete", path)
