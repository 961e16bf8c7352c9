"""Connecting Google Drive (RELIABILITY.md T-OAUTH-01 … 14) with the real google-auth-oauthlib
and google-auth against the fake authorization server on 127.0.0.1 (`fake_google`).

The "browser" is a thread that goes through the fake consent screen and calls the app's
loopback listener, as a real browser's redirect would.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
import urllib.parse
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import keyring
import pytest
from fake_google import CLIENT_ID, CLIENT_SECRET, FakeGoogle, serve, silent_connection, visit
from fake_keyrings import MemoryKeyring, PlaintextKeyring, SlowKeyring
from keyring.backends import fail

from factorypulse_desktop.integrations.gdrive import oauth, tokens
from factorypulse_desktop.integrations.gdrive.oauth import (
    DRIVE_FILE,
    GrantRevokedError,
    LoopbackFlow,
    OAuthClient,
    OAuthError,
)
from factorypulse_desktop.integrations.gdrive.tokens import Grant, GrantStore
from factorypulse_desktop.runtime import secrets

ORG_A = uuid.UUID("00000000-0000-4000-8000-00000000000a")
ORG_B = uuid.UUID("00000000-0000-4000-8000-00000000000b")
# The in-memory keyring of conftest.py for every test: never the real OS keyring.
pytestmark = pytest.mark.usefixtures("kept")


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGoogle]:
    # requests-oauthlib refuses an http token endpoint otherwise (tests only, TESTING.md).
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    google = FakeGoogle()
    server = serve(google)
    try:
        yield google
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def client(fake: FakeGoogle) -> OAuthClient:
    return OAuthClient(CLIENT_ID, CLIENT_SECRET, (DRIVE_FILE,), auth_uri=fake.auth_uri,
                       token_uri=fake.token_uri, revoke_uri=fake.revoke_uri)


def browser(fake: FakeGoogle, action: Callable[[str, dict[str, str]], None]
            ) -> tuple[Callable[[str], None], list[str]]:
    """An `open_browser` that runs `action(redirect_uri, consent_query)` on a thread."""
    seen: list[str] = []

    def open_browser(url: str) -> None:
        seen.append(url)
        query = {k: v[0] for k, v in urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
                 .items()}
        answer = fake.consent(url)
        threading.Thread(target=action, args=(query["redirect_uri"], answer),
                         daemon=True).start()

    return open_browser, seen


def redirect(uri: str, **params: str) -> int:
    return visit(uri + "?" + urllib.parse.urlencode(params))


def consent_and_return(uri: str, answer: dict[str, str]) -> None:
    redirect(uri, **answer)


def test_T_OAUTH_01_the_authorization_url(fake: FakeGoogle, client: OAuthClient) -> None:
    open_browser, seen = browser(fake, consent_and_return)
    flow = LoopbackFlow(client, open_browser=open_browser)
    connected = flow.run()
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(seen[0]).query)
    redirect_uri = urllib.parse.urlsplit(query["redirect_uri"][0])
    assert redirect_uri.hostname == "127.0.0.1"
    assert redirect_uri.port == flow.port and flow.port != 8080
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) >= 43
    assert len(query["state"][0]) * 6 >= 128  # url-safe base64: 6 bits a character
    assert query["access_type"] == ["offline"]
    assert query["scope"] == [DRIVE_FILE]  # exactly the configured set
    assert connected.refresh_token.startswith("1//") and connected.scopes == (DRIVE_FILE,)
    assert flow.closed
    assert "1//" not in repr(connected)


def test_T_OAUTH_02_wrong_state_fails_and_closes_the_port(
        fake: FakeGoogle, client: OAuthClient) -> None:
    def forged(uri: str, answer: dict[str, str]) -> None:
        redirect(uri, code=answer["code"], state="forged-" + answer["state"][:8])

    open_browser, _seen = browser(fake, forged)
    flow = LoopbackFlow(client, open_browser=open_browser)
    with pytest.raises(OAuthError) as failed:
        flow.run()
    assert failed.value.code == "state" and "sign-in failed" in str(failed.value)
    assert fake.token_calls == []  # no code was exchanged, no token exists
    assert flow.closed


def test_T_OAUTH_03_stray_requests_do_not_end_the_sign_in(
        fake: FakeGoogle, client: OAuthClient) -> None:
    statuses: list[int] = []
    browsed = threading.Event()

    def noisy(uri: str, answer: dict[str, str]) -> None:
        port = urllib.parse.urlsplit(uri).port
        assert port is not None
        with silent_connection(port):  # sends nothing while the others go on
            statuses.append(visit(uri + "favicon.ico"))
            statuses.append(visit(uri))
            statuses.append(redirect(uri, **answer))
        browsed.set()

    open_browser, _seen = browser(fake, noisy)
    flow = LoopbackFlow(client, open_browser=open_browser)
    started = time.monotonic()
    connected = flow.run()
    elapsed = time.monotonic() - started
    # The listener answers the redirect before the browser thread records the status.
    assert browsed.wait(5)
    assert connected.refresh_token
    assert statuses == [404, 404, 200]
    assert elapsed < 3  # the silent connection held nothing up
    assert flow.closed


def test_T_OAUTH_04_cancel_or_timeout_ends_a_sign_in_nobody_finishes(
        fake: FakeGoogle, client: OAuthClient) -> None:
    asked = time.monotonic() + 0.3
    flow = LoopbackFlow(client, open_browser=lambda _url: None,
                        cancelled=lambda: time.monotonic() > asked)
    started = time.monotonic()
    with pytest.raises(OAuthError) as cancelled:
        flow.run()
    assert cancelled.value.code == "cancelled" and time.monotonic() - started < 2
    assert flow.closed
    late = LoopbackFlow(client, open_browser=lambda _url: None, timeout_s=0.5)
    with pytest.raises(OAuthError) as timed_out:
        late.run()
    assert timed_out.value.code == "timeout" and late.closed
    assert oauth.FLOW_TIMEOUT_S <= 300


def test_T_OAUTH_05_access_denied(fake: FakeGoogle, client: OAuthClient) -> None:
    def deny(uri: str, answer: dict[str, str]) -> None:
        redirect(uri, error="access_denied", state=answer["state"])

    open_browser, _seen = browser(fake, deny)
    with pytest.raises(OAuthError) as denied:
        LoopbackFlow(client, open_browser=open_browser).run()
    assert str(denied.value) == ("Access was not granted in the browser, so Google Drive is "
                                 "not connected.")


def test_T_OAUTH_06_an_unticked_drive_scope_is_explained_at_once(
        fake: FakeGoogle, client: OAuthClient) -> None:
    fake.grant_scopes = ["openid"]  # the person unticked the Drive box
    open_browser, _seen = browser(fake, consent_and_return)
    with pytest.raises(OAuthError) as missing:
        LoopbackFlow(client, open_browser=open_browser).run()
    assert missing.value.code == "scope"
    assert "leave the box for “See, edit, create and delete only the specific Google Drive " \
           "files you use with this app” ticked" in str(missing.value)


def _connect(fake: FakeGoogle, client: OAuthClient) -> oauth.Connected:
    open_browser, _seen = browser(fake, consent_and_return)
    return LoopbackFlow(client, open_browser=open_browser).run()


def test_T_OAUTH_07_invalid_grant_on_refresh(fake: FakeGoogle, client: OAuthClient) -> None:
    connected = _connect(fake, client)
    credentials = oauth.credentials_for(client, connected.refresh_token, connected.scopes)
    oauth.refresh(credentials)
    assert credentials.token in fake.access_tokens
    fake.revoked.add(connected.refresh_token)  # withdrawn at myaccount.google.com
    with pytest.raises(GrantRevokedError, match="Reconnect Google Drive"):
        oauth.refresh(oauth.credentials_for(client, connected.refresh_token, connected.scopes))


def test_T_OAUTH_08_disconnect_revokes_and_forgets(
        fake: FakeGoogle, client: OAuthClient, kept: MemoryKeyring) -> None:
    connected = _connect(fake, client)
    store = GrantStore()
    grant = Grant("perm-123", connected.refresh_token, CLIENT_ID, connected.scopes)
    assert store.save(ORG_A, grant) is True
    assert oauth.revoke(client, connected.refresh_token) is True
    store.forget(ORG_A, "perm-123")
    assert kept.items == {}
    assert store.load(ORG_A, "perm-123") is None
    with pytest.raises(GrantRevokedError):
        oauth.refresh(oauth.credentials_for(client, connected.refresh_token, connected.scopes))


def test_T_OAUTH_10_no_secure_keyring_keeps_the_grant_in_memory_only(
        tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    store = GrantStore()
    grant = Grant("perm-1", "1//" + "r" * 100, CLIENT_ID, (DRIVE_FILE,))
    assert store.save(ORG_A, grant) is False  # the caller tells the person
    assert store.load(ORG_A, "perm-1") == grant  # for this session
    assert GrantStore().load(ORG_A, "perm-1") is None  # never written anywhere
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert all("r" * 100 not in p.read_text(errors="ignore") for p in written)


def test_T_OAUTH_11_a_blocking_keyring_does_not_hang_the_caller() -> None:
    slow = SlowKeyring()
    keyring.set_keyring(slow)
    try:
        started = time.monotonic()
        saved = GrantStore().save(ORG_A, Grant("perm-1", "1//tok", CLIENT_ID, (DRIVE_FILE,)))
        assert saved is False
        assert time.monotonic() - started < secrets.KEYRING_TIMEOUT + 1
    finally:
        slow.release.set()


def test_T_OAUTH_12_what_is_kept_fits_windows_credential_manager() -> None:
    realistic = Grant("0123456789" * 2, "1//" + "x" * 103, CLIENT_ID,
                      (DRIVE_FILE, oauth.DRIVE_READONLY), "someone.with.a.long.name@example.com")
    assert len(tokens.encode(realistic)) <= tokens.MAX_PAYLOAD <= 1280
    with pytest.raises(tokens.GrantTooLargeError):
        tokens.encode(Grant("a", "x" * 3000, CLIENT_ID, (DRIVE_FILE,)))


def test_T_OAUTH_13_entries_are_per_organization_and_account(
        kept: MemoryKeyring) -> None:
    store = GrantStore()
    store.save(ORG_A, Grant("acct-1", "1//a", CLIENT_ID, (DRIVE_FILE,)))
    store.save(ORG_B, Grant("acct-1", "1//b", CLIENT_ID, (DRIVE_FILE,)))
    store.save(ORG_A, Grant("acct-2", "1//c", CLIENT_ID, (DRIVE_FILE,)))
    assert set(kept.items) == {
        ("factorypulse-desktop", f"gdrive:{ORG_A}:acct-1"),
        ("factorypulse-desktop", f"gdrive:{ORG_B}:acct-1"),
        ("factorypulse-desktop", f"gdrive:{ORG_A}:acct-2"),
    }
    loaded_a, loaded_b = store.load(ORG_A, "acct-1"), store.load(ORG_B, "acct-1")
    assert loaded_a is not None and loaded_b is not None
    assert (loaded_a.refresh_token, loaded_b.refresh_token) == ("1//a", "1//b")
    assert "1//a" not in repr(loaded_a)


def test_T_OAUTH_14_a_plain_text_keyring_is_refused_and_logged(
        caplog: pytest.LogCaptureFixture, tmp_path: Path) -> None:
    plain = PlaintextKeyring()
    keyring.set_keyring(plain)
    with caplog.at_level(logging.INFO, logger="factorypulse_desktop.runtime.secrets"):
        saved = GrantStore().save(ORG_A, Grant("perm-1", "1//secret-r", CLIENT_ID,
                                               (DRIVE_FILE,)))
    assert saved is False and plain.items == {}
    assert any("not using" in r.getMessage() for r in caplog.records)
    assert not any("1//secret-r" in r.getMessage() for r in caplog.records)


def test_the_token_exchange_has_a_timeout(monkeypatch: pytest.MonkeyPatch,
                                         fake: FakeGoogle, client: OAuthClient) -> None:
    """A token endpoint that never answers cannot hang the sign-in (no timeout in the
    library's run_local_server)."""
    monkeypatch.setattr(oauth, "TOKEN_TIMEOUT_S", 0.5)
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    port = silent.getsockname()[1]
    stuck = OAuthClient(CLIENT_ID, CLIENT_SECRET, (DRIVE_FILE,), auth_uri=fake.auth_uri,
                        token_uri=f"http://127.0.0.1:{port}/token")
    open_browser, _seen = browser(fake, consent_and_return)
    started = time.monotonic()
    try:
        with pytest.raises(OAuthError) as offline:
            LoopbackFlow(stuck, open_browser=open_browser).run()
    finally:
        silent.close()
    assert offline.value.code == "offline" and time.monotonic() - started < 10

