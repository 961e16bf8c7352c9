"""A fake Google authorization server on 127.0.0.1, and a fake browser (importable as
`fake_google` from tests in this folder).

The token endpoint checks what Google checks: the client (HTTP Basic on the code exchange,
form fields on refresh — both accepted, TESTING.md), the one-time code, and PKCE S256 (the
``code_verifier`` must hash to the ``code_challenge`` the browser was sent with). A refresh
returns no new refresh token, as Google's does. ``/revoke`` withdraws a token; a revoked or
unknown refresh token gets ``invalid_grant``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import socket
import threading
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CLIENT_ID = "1234-fake.apps.googleusercontent.com"
CLIENT_SECRET = "GOCSPX-fake-secret"


@dataclass
class FakeGoogle:
    """State of the fake: issued codes, refresh tokens, what was asked."""

    grant_scopes: Sequence[str] | None = None  # None: grant what was asked
    codes: dict[str, dict[str, Any]] = field(default_factory=dict)
    refresh_tokens: set[str] = field(default_factory=set)
    revoked: set[str] = field(default_factory=set)
    access_tokens: list[str] = field(default_factory=list)
    token_calls: list[dict[str, str]] = field(default_factory=list)
    base: str = ""

    @property
    def auth_uri(self) -> str:
        return self.base + "/auth"

    @property
    def token_uri(self) -> str:
        return self.base + "/token"

    @property
    def revoke_uri(self) -> str:
        return self.base + "/revoke"

    # -- the consent screen, as the browser would go through it ------------------------------

    def consent(self, auth_url: str) -> dict[str, str]:
        """Accept the consent screen: issue a code bound to the PKCE challenge; returns the
        query the browser would be redirected with."""
        query = {k: v[0] for k, v in urllib.parse.parse_qs(
            urllib.parse.urlsplit(auth_url).query).items()}
        code = "4/" + secrets.token_urlsafe(24)
        scopes = list(self.grant_scopes) if self.grant_scopes is not None else \
            query["scope"].split()
        self.codes[code] = {"challenge": query["code_challenge"],
                            "method": query["code_challenge_method"],
                            "redirect_uri": query["redirect_uri"], "scopes": scopes}
        return {"code": code, "state": query["state"], "scope": " ".join(scopes)}

    # -- endpoints ---------------------------------------------------------------------------

    def token(self, form: dict[str, str], basic: tuple[str, str] | None) -> tuple[int, dict]:
        self.token_calls.append(form)
        client = basic or (form.get("client_id", ""), form.get("client_secret", ""))
        if client != (CLIENT_ID, CLIENT_SECRET):
            return 401, {"error": "invalid_client"}
        if form.get("grant_type") == "authorization_code":
            issued = self.codes.pop(form.get("code", ""), None)
            if issued is None or form.get("redirect_uri") != issued["redirect_uri"]:
                return 400, {"error": "invalid_grant"}
            verifier = form.get("code_verifier", "")
            digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            if issued["method"] != "S256" or digest.rstrip(b"=").decode() != issued["challenge"]:
                return 400, {"error": "invalid_grant", "error_description": "PKCE"}
            refresh = "1//" + secrets.token_urlsafe(72)  # Google's are ~100 characters
            self.refresh_tokens.add(refresh)
            return 200, self._access(" ".join(issued["scopes"]), refresh)
        if form.get("grant_type") == "refresh_token":
            refresh = form.get("refresh_token", "")
            if refresh not in self.refresh_tokens or refresh in self.revoked:
                return 400, {"error": "invalid_grant", "error_description": "Token has been "
                                                                             "expired or revoked."}
            return 200, self._access(form.get("scope", ""), None)
        return 400, {"error": "unsupported_grant_type"}

    def _access(self, scope: str, refresh: str | None) -> dict[str, Any]:
        access = "ya29." + secrets.token_urlsafe(120)
        self.access_tokens.append(access)
        body: dict[str, Any] = {"access_token": access, "expires_in": 3599,
                                "token_type": "Bearer", "scope": scope}
        if refresh:
            body["refresh_token"] = refresh
        return body

    def revoke(self, form: dict[str, str]) -> tuple[int, dict]:
        token = form.get("token", "")
        if token in self.refresh_tokens or token in self.access_tokens:
            self.revoked.add(token)
            return 200, {}
        return 400, {"error": "invalid_token"}


def serve(fake: FakeGoogle) -> ThreadingHTTPServer:
    """Start the fake on 127.0.0.1 (an OS-chosen port) in a daemon thread."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            form = {k: v[0] for k, v in urllib.parse.parse_qs(
                self.rfile.read(length).decode()).items()}
            basic = None
            auth = self.headers.get("Authorization", "")
            if auth.startswith("Basic "):
                user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
                basic = (urllib.parse.unquote_plus(user), urllib.parse.unquote_plus(password))
            if self.path == "/token":
                status, body = fake.token(form, basic)
            elif self.path == "/revoke":
                status, body = fake.revoke(form)
            else:
                status, body = 404, {"error": "not_found"}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *_args: Any) -> None:
            pass

    server, fake.base = start(Handler)
    return server


def start(handler: type[BaseHTTPRequestHandler]) -> tuple[ThreadingHTTPServer, str]:
    """A server on 127.0.0.1 (an OS-chosen port) in a daemon thread, and its base URL. A short
    poll, so shutdown() at teardown does not wait half a second."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                     daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def visit(url: str) -> int:
    """A browser request to the app's loopback listener; the HTTP status it answered."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def silent_connection(port: int) -> socket.socket:
    """A client that connects and sends nothing (what made run_local_server hang)."""
    return socket.create_connection(("127.0.0.1", port), timeout=5)
