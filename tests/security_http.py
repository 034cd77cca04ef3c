"""A small HTTP client for the security tests: a real socket to the served app, cookies kept,
and a chosen source address (127.0.0.x), so throttling by client address can be tested."""
from __future__ import annotations

import base64
import http.client
import json
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit


class Reply:
    """Status, headers and body of one response."""

    def __init__(self, status: int, headers: http.client.HTTPMessage, body: bytes):
        self.status, self.headers, self.body = status, headers, body

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body)


class Client:
    """Requests from ``address`` to ``base`` (http://127.0.0.1:PORT), keeping cookies."""

    def __init__(self, base: str, address: str = "127.0.0.1"):
        parts = urlsplit(base)
        self.host, self.port, self.address = parts.hostname, parts.port, address
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | str | dict | None = None,
                headers: dict | None = None, form: dict | None = None) -> Reply:
        headers = dict(headers or {})
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif isinstance(body, dict):
            body = json.dumps(body)
            headers["Content-Type"] = "application/json"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60,
                                          source_address=(self.address, 0))
        try:
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        finally:
            conn.close()
        for raw in resp.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                if morsel["max-age"] == "0" or "1970" in (morsel["expires"] or ""):
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value
        return Reply(resp.status, resp.headers, data)

    def get(self, path: str, **kw) -> Reply:
        return self.request("GET", path, **kw)

    def login(self, username: str, password: str) -> Reply:
        """The login form as a browser sends it (CSRF token from the page)."""
        page = self.get("/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        return self.request("POST", "/login", form={"username": username, "password": password,
                                                    "csrf_token": token, "next": "/"})


def basic(username: str, password: str) -> dict:
    """An HTTP basic Authorization header."""
    return {"Authorization": "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()}


def bearer(token: str) -> dict:
    """A bearer Authorization header."""
    return {"Authorization": f"Bearer {token}"}
