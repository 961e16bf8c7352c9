"""Connecting Google Drive: the OAuth loopback flow for installed apps, ours to control.

`google_auth_oauthlib`'s ``run_local_server()`` cannot be cancelled, hangs on a connection
that sends nothing, fails the sign-in on a stray request (``/favicon.ico``) and has no timeout
on the token exchange (TESTING.md). So the flow here uses only the library's public `Flow` API
and a listener of its own:

1. a socket on ``127.0.0.1`` with a port the operating system picks (never a fixed 8080);
2. ``Flow.authorization_url`` with PKCE S256, a ``state`` of 256 bits, ``access_type=offline``
   and exactly the configured scopes (T-OAUTH-01); the URL goes to the system browser;
3. a loop that waits for the browser's redirect in short slices, so Cancel and the overall
   timeout (5 minutes) end it at once (T-OAUTH-04); connections are read side by side, each
   with 5 s to send its request line, so a silent one holds nothing up; requests without
   ``code`` or ``error`` (``/favicon.ico``, ``/``) are answered and ignored (T-OAUTH-03);
   a wrong ``state`` (T-OAUTH-02) or ``error=access_denied`` (T-OAUTH-05) ends the flow
   with a clear message;
4. ``Flow.fetch_token(code=...)`` with a timeout; the scopes actually granted are compared with
   the ones needed, so an unticked Drive box is explained now rather than failing later with
   403 (T-OAUTH-06).

The port is closed whatever happens. Run it off the GUI thread.
"""

from __future__ import annotations

import contextlib
import html
import logging
import secrets
import select
import socket
import time
import urllib.parse
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from factorypulse_desktop.domain.errors import UserFacingError

AUTH_URI = "https://accounts.google.com/o/oauth2/auth"
TOKEN_URI = "https://oauth2.googleapis.com/token"
REVOKE_URI = "https://oauth2.googleapis.com/revoke"
DRIVE_FILE = "https://www.googleapis.com/auth/drive.file"
DRIVE_READONLY = "https://www.googleapis.com/auth/drive.readonly"
FLOW_TIMEOUT_S = 300.0
REQUEST_TIMEOUT_S = 5.0
TOKEN_TIMEOUT_S = 30.0
_SLICE_S = 0.2

# requests-oauthlib logs whole token responses at DEBUG (found by T-OAUTH-09): these libraries
# never log below WARNING, whatever level the app's logging is set to.
for _name in ("requests_oauthlib", "oauthlib", "google_auth_oauthlib", "google.auth",
              "google.oauth2", "googleapiclient", "urllib3", "httplib2"):
    logging.getLogger(_name).setLevel(logging.WARNING)


@dataclass(frozen=True)
class OAuthClient:
    """The organization's OAuth client of type "Desktop", and where Google listens."""

    client_id: str
    client_secret: str
    scopes: tuple[str, ...] = (DRIVE_FILE,)
    auth_uri: str = AUTH_URI
    token_uri: str = TOKEN_URI
    revoke_uri: str = REVOKE_URI

    def __repr__(self) -> str:
        return f"OAuthClient(client_id={self.client_id!r}, scopes={self.scopes!r})"


@dataclass(frozen=True)
class Connected:
    """The outcome of a successful flow (keep `refresh_token` only in the keyring)."""

    refresh_token: str
    access_token: str = field(repr=False)
    scopes: tuple[str, ...]
    credentials: Any = field(repr=False, default=None)

    def __repr__(self) -> str:
        return f"Connected(scopes={self.scopes!r}, tokens=<hidden>)"


class OAuthError(UserFacingError):
    """The flow ended without a connection; `code` says why, the message what to do."""

    MESSAGES = {
        "state": "Google sign-in failed: the answer did not belong to this sign-in. Nothing "
                 "was connected; try again.",
        "denied": "Access was not granted in the browser, so Google Drive is not connected.",
        "timeout": "Google sign-in took too long and was stopped. Try again when you are "
                   "ready to sign in in the browser.",
        "cancelled": "Google sign-in was cancelled.",
        "scope": "Google Drive access was not granted: on Google's consent page, leave the "
                 "box for “{scope}” ticked. Connect again.",
        "no_refresh": "Google did not allow offline access, so the connection cannot be kept. "
                      "Connect again and accept all requested access.",
        "exchange": "Google refused to finish the sign-in ({detail}). Try again.",
        "offline": "Google cannot be reached: check the internet connection and try again.",
    }

    def __init__(self, code: str, **details: str) -> None:
        super().__init__(self.MESSAGES[code].format(**details))
        self.code = code


def _client_config(client: OAuthClient) -> dict[str, Any]:
    return {"installed": {
        "client_id": client.client_id, "client_secret": client.client_secret,
        "auth_uri": client.auth_uri, "token_uri": client.token_uri,
        "redirect_uris": ["http://127.0.0.1"],
    }}


class LoopbackFlow:
    """One sign-in attempt; `run()` blocks (call it on a worker) and always closes the port."""

    def __init__(self, client: OAuthClient, *, open_browser: Callable[[str], object],
                 cancelled: Callable[[], bool] = lambda: False,
                 timeout_s: float = FLOW_TIMEOUT_S) -> None:
        self.client = client
        self._open_browser = open_browser
        self._cancelled = cancelled
        self._timeout_s = timeout_s
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))  # the OS picks a free port
        self._listener.listen(8)
        self._listener.settimeout(_SLICE_S)
        self.port: int = self._listener.getsockname()[1]
        self.state = secrets.token_urlsafe(32)  # 256 bits
        self.redirect_uri = f"http://127.0.0.1:{self.port}/"
        self.auth_url = ""

    @property
    def closed(self) -> bool:
        return self._listener.fileno() == -1

    def run(self) -> Connected:
        try:
            from google_auth_oauthlib.flow import Flow

            flow = Flow.from_client_config(_client_config(self.client),
                                           scopes=list(self.client.scopes),
                                           redirect_uri=self.redirect_uri)
            self.auth_url, _state = flow.authorization_url(
                state=self.state, access_type="offline", prompt="consent")
            self._open_browser(self.auth_url)
            code = self._wait_for_code()
            return self._exchange(flow, code)
        finally:
            self._listener.close()

    # -- the listener -------------------------------------------------------------------------

    def _wait_for_code(self) -> str:
        """Serve the port until the redirect arrives. Connections are read side by side
        (select), so one that sends nothing never holds up the browser's real request."""
        deadline = time.monotonic() + self._timeout_s
        pending: dict[socket.socket, tuple[float, bytes]] = {}
        try:
            while True:
                if self._cancelled():
                    raise OAuthError("cancelled")
                now = time.monotonic()
                if now >= deadline:
                    raise OAuthError("timeout")
                for conn in [c for c, (until, _) in pending.items() if until < now]:
                    del pending[conn]
                    conn.close()  # sent nothing in time
                readable, _w, _x = select.select([self._listener, *pending], [], [], _SLICE_S)
                for ready in readable:
                    if ready is self._listener:
                        conn, _address = self._listener.accept()
                        conn.setblocking(False)
                        pending[conn] = (now + REQUEST_TIMEOUT_S, b"")
                        continue
                    code = self._read(ready, pending)
                    if code is not None:
                        return code
        finally:
            for conn in pending:
                conn.close()

    def _read(self, conn: socket.socket,
              pending: dict[socket.socket, tuple[float, bytes]]) -> str | None:
        until, data = pending[conn]
        try:
            chunk = conn.recv(8192)
        except (BlockingIOError, InterruptedError):
            return None
        except OSError:
            chunk = b""
        data += chunk
        if chunk and b"\r\n" not in data and len(data) < 8192:
            pending[conn] = (until, data)  # the request line is not complete yet
            return None
        del pending[conn]
        with conn:
            conn.setblocking(True)
            conn.settimeout(REQUEST_TIMEOUT_S)
            return self._answer(conn, data.decode("latin-1")) if data else None

    def _answer(self, conn: socket.socket, request: str) -> str | None:
        """Answer one request; the code when it is the redirect, None for anything else."""
        parts = request.split(" ", 2)
        if len(parts) < 2 or parts[0] != "GET":
            _reply(conn, 400, "Bad request.")
            return None
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(parts[1]).query)
        if "code" not in query and "error" not in query:
            _reply(conn, 404, "Nothing here.")  # /favicon.ico and the like
            return None
        if not secrets.compare_digest(query.get("state", [""])[0], self.state):
            _reply(conn, 400, "Sign-in failed. You can close this tab and try again in "
                              "Factory Pulse.")
            raise OAuthError("state")
        if "error" in query:
            _reply(conn, 200, "Access was not granted. You can close this tab.")
            raise OAuthError("denied")
        _reply(conn, 200, "Factory Pulse is connected to Google Drive. You can close this "
                          "tab.")
        return query["code"][0]

    # -- the token exchange -------------------------------------------------------------------

    def _exchange(self, flow: Any, code: str) -> Connected:
        import requests

        try:
            token = flow.fetch_token(code=code, timeout=TOKEN_TIMEOUT_S)
        except Warning as changed:  # oauthlib: the granted scopes differ from those asked
            token = getattr(changed, "token", None) or {}
            granted = _scope_list(getattr(changed, "new_scope", None) or ())
            missing = [s for s in self.client.scopes if s not in granted]
            if missing:
                raise OAuthError("scope", scope=_scope_words(missing[0])) from None
            flow.oauth2session.token = token
        except requests.ConnectionError:
            raise OAuthError("offline") from None
        except requests.Timeout:
            raise OAuthError("offline") from None
        except Exception as error:  # oauthlib's errors carry Google's error code
            detail = getattr(error, "error", None) or type(error).__name__
            raise OAuthError("exchange", detail=str(detail)) from None
        granted = _scope_list(token.get("scope", self.client.scopes))
        missing = [s for s in self.client.scopes if s not in granted]
        if missing:
            raise OAuthError("scope", scope=_scope_words(missing[0]))
        refresh = token.get("refresh_token")
        if not refresh:
            raise OAuthError("no_refresh")
        return Connected(refresh_token=str(refresh), access_token=str(token.get(
            "access_token", "")), scopes=granted, credentials=flow.credentials)


def _scope_list(scope: object) -> tuple[str, ...]:
    """oauthlib hands scopes back as a list; Google's JSON has one space-separated string."""
    if isinstance(scope, str):
        return tuple(scope.split())
    return tuple(str(s) for s in scope) if isinstance(scope, (list, tuple, set)) else ()


def _scope_words(scope: str) -> str:
    return {DRIVE_FILE: "See, edit, create and delete only the specific Google Drive files "
                        "you use with this app",
            DRIVE_READONLY: "See and download all your Google Drive files"}.get(scope, scope)


def _reply(conn: socket.socket, status: int, text: str) -> None:
    body = (f"<!doctype html><meta charset='utf-8'><title>Factory Pulse</title>"
            f"<p style='font-family:sans-serif'>{html.escape(text)}</p>").encode()
    reason = {200: "OK", 400: "Bad Request", 404: "Not Found"}[status]
    head = (f"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
    with contextlib.suppress(OSError):  # the browser may have gone already
        conn.sendall(head + body)


def credentials_for(client: OAuthClient, refresh_token: str,
                    scopes: Sequence[str]) -> Any:
    """Credentials that refresh at the client's token endpoint (built by hand:
    ``Credentials.from_authorized_user_info`` always uses Google's endpoint)."""
    from google.oauth2.credentials import Credentials

    return Credentials(token=None, refresh_token=refresh_token, client_id=client.client_id,
                       client_secret=client.client_secret, token_uri=client.token_uri,
                       scopes=list(scopes))


class GrantRevokedError(UserFacingError):
    def __init__(self) -> None:
        super().__init__("Google Drive was disconnected (the access was withdrawn or has "
                         "expired). Reconnect Google Drive to use it again; everything else "
                         "keeps working.")


def refresh(credentials: Any, timeout_s: float = TOKEN_TIMEOUT_S) -> None:
    """Get a fresh access token; `GrantRevokedError` when Google says ``invalid_grant``."""
    import google.auth.exceptions
    import google.auth.transport.requests
    import requests

    session = requests.Session()
    request = google.auth.transport.requests.Request(session)
    try:
        credentials.refresh(_TimedRequest(request, timeout_s))
    except google.auth.exceptions.RefreshError as error:
        if "invalid_grant" in str(error):
            raise GrantRevokedError() from None
        raise OAuthError("exchange", detail="refresh refused") from None
    except google.auth.exceptions.TransportError:
        raise OAuthError("offline") from None


class _TimedRequest:
    """google-auth's request with a timeout on every call."""

    def __init__(self, inner: Any, timeout_s: float) -> None:
        self._inner = inner
        self._timeout_s = timeout_s

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.setdefault("timeout", self._timeout_s)
        return self._inner(*args, **kwargs)


def revoke(client: OAuthClient, token: str, timeout_s: float = TOKEN_TIMEOUT_S) -> bool:
    """Ask Google to withdraw the grant; True when it confirmed (or already had)."""
    import requests

    try:
        response = requests.post(client.revoke_uri, data={"token": token},
                                 headers={"Content-Type": "application/x-www-form-urlencoded"},
                                 timeout=timeout_s)
    except requests.RequestException:
        return False
    return response.status_code in (200, 400)  # 400: already invalid
