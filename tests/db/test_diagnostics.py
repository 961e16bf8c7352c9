"""Diagnostics for support, from a real sign-in: the facts are there, the secrets are not.

The person signs in with a password, "remember me" keeps it in an in-memory keyring with a
Google grant beside it, and the log file holds the workspace's conninfo and tokens (logged on
purpose, as a careless line would). None of them may appear in the diagnostics text.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import psycopg
import pytest
from fake_keyrings import MemoryKeyring
from support import profile_for

from factorypulse_desktop.data import migrate
from factorypulse_desktop.integrations.gdrive.tokens import Grant, GrantStore
from factorypulse_desktop.runtime import logs, secrets
from factorypulse_desktop.services import auth, diagnostics

PASSWORD = "Zq7-diag-S3cret!pw"
DEMO_PASSWORD = "factorypulse-demo"
REFRESH = "1//0gDiagnosticsRefreshToken-abc_123"
ACCESS = "ya29.a0DiagnosticsAccessToken-xyz_789"
CLIENT_SECRET = "GOCSPX-DiagnosticsClientSecret"
USER = "acme.management"


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def log_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv(logs.LOG_DIR_ENV_VAR, str(tmp_path / "logs"))
    saved = (logs._file_handler, logs._console_handler)
    root = logging.getLogger()
    for handler in saved:
        if handler is not None:
            root.removeHandler(handler)
    logs._file_handler = logs._console_handler = None
    path = logs.configure_logging(console=False)
    assert path is not None
    try:
        yield path
    finally:
        logs.unconfigure_logging()
        logs._file_handler, logs._console_handler = saved
        for handler in saved:
            if handler is not None:
                root.addHandler(handler)


@pytest.fixture
def workspace(demo_db: Any) -> Iterator[auth.Workspace]:
    # Logins are cluster-wide: the demo password comes back for the tests that follow.
    with psycopg.connect(demo_db.owner_conninfo(), autocommit=True) as conn:
        conn.execute(f"ALTER ROLE \"{USER}\" PASSWORD '{PASSWORD}'")
    try:
        ws = auth.sign_in(profile_for(demo_db), USER, PASSWORD)
        try:
            yield ws
        finally:
            ws.close()
    finally:
        with psycopg.connect(demo_db.owner_conninfo(), autocommit=True) as conn:
            conn.execute(f"ALTER ROLE \"{USER}\" PASSWORD '{DEMO_PASSWORD}'")


def test_diagnostics_tell_what_support_needs_and_no_secret(
        workspace: auth.Workspace, memory_keyring: MemoryKeyring, log_file: Path) -> None:
    profile = workspace.profile
    assert secrets.store_password(profile, USER, PASSWORD)
    org = workspace.identity.memberships[0].organization_id
    assert GrantStore().save(org, Grant("1234", REFRESH, "client.apps.googleusercontent.com",
                                        ("drive.file",), "anna@example.com"))
    assert any(PASSWORD in v for v in memory_keyring.items.values())
    # Careless lines a developer might write one day; the log must not keep their secrets.
    log = logging.getLogger("factorypulse_desktop.test_diagnostics")
    log.info("listener conninfo: %s", workspace.conninfo())
    log.info("token response %s", {"access_token": ACCESS, "refresh_token": REFRESH})
    log.warning("POST /token client_secret=%s&code=4/0AbcdefghijklmnoP", CLIENT_SECRET)
    try:
        raise RuntimeError(f"connection to postgresql://{USER}:{PASSWORD}@db/fp failed")
    except RuntimeError:
        log.exception("sign-in broke")
    logs._file_handler.flush()  # type: ignore[union-attr]
    logged = log_file.read_text(encoding="utf-8")
    assert "listener conninfo:" in logged and "sign-in broke" in logged

    text = diagnostics.collect(workspace=workspace, connection_state="online",
                               ui_facts=[("Qt", "6.x-test")])

    for secret in (PASSWORD, REFRESH, ACCESS, CLIENT_SECRET, "4/0AbcdefghijklmnoP",
                   "DiagnosticsRefreshToken", "DiagnosticsAccessToken"):
        assert secret not in text, secret
        assert secret not in logged, secret
    # What support needs is there.
    assert "version: " in text and "Python: " in text and "Qt: 6.x-test" in text
    assert f"log file: {log_file}" in text
    assert "profile: test" in text and "kind: server" in text
    assert f"database: {profile.database}" in text and "TLS (sslmode): disable" in text
    assert "state: online" in text
    assert f"signed in as: {USER}" in text
    assert "organizations: acme (management)" in text
    assert "server version: " in text
    assert f"schema revision: {migrate.head_revision()} (up to date)" in text
    assert "PostgreSQL programs on this computer: " in text
    assert "keyring: tests.fake_keyrings.MemoryKeyring" in text or \
        "keyring: fake_keyrings.MemoryKeyring" in text
    assert "listener conninfo:" in text and "password=***" in text  # the log's end, masked
    assert "sign-in broke" in text


def test_diagnostics_before_sign_in_and_without_keyring(log_file: Path) -> None:
    text = diagnostics.collect()
    assert "profile: none chosen yet" in text
    assert "server: not signed in" in text
    assert "keyring: none (passwords are not remembered)" in text  # tests' "fail" backend


def test_a_closed_workspace_is_not_asked(workspace: auth.Workspace, log_file: Path) -> None:
    workspace.close()
    text = diagnostics.collect(workspace=workspace, connection_state="offline")
    assert "server: not signed in" in text
    assert "state: offline" in text
    assert str(uuid.UUID(int=0)) not in text
