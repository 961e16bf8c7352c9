"""What a person sends to support: versions, folders, the connection and the end of the log.

:func:`collect` returns plain text. It holds no password, token or secret: the connection
profile never has one, the workspace's credentials are not read, the keyring is asked for its
backend's name only, and the whole text goes through the log's redaction at the end.

Blocking (asks the database, the keyring and the PostgreSQL binaries; reads the log file):
run it through the task runner, never on the GUI thread.
"""

from __future__ import annotations

import logging
import os
import platform
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from factorypulse_desktop import __version__
from factorypulse_desktop.runtime import logs
from factorypulse_desktop.runtime.logs import configure_logging, log_uncaught_exceptions

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from factorypulse_desktop.runtime.profiles import ConnectionProfile
    from factorypulse_desktop.services.workspace import Workspace

__all__ = ["LOG_LINES", "collect", "configure_logging", "log_folder", "log_uncaught_exceptions"]

log = logging.getLogger(__name__)

LOG_LINES = 50
_ENV_PREFIX = "FACTORYPULSE_"
# Variables that change what a bundle's child processes load (see ui/system_open.py).
_LIBRARY_VARS = ("LD_LIBRARY_PATH", "LD_LIBRARY_PATH_ORIG", "DYLD_LIBRARY_PATH",
                 "DYLD_FRAMEWORK_PATH")


def collect(
    *,
    profile: ConnectionProfile | None = None,
    workspace: Workspace | None = None,
    connection_state: str | None = None,
    ui_facts: Sequence[tuple[str, str]] = (),
    log_lines: int = LOG_LINES,
) -> str:
    """The diagnostics text. `profile` defaults to the workspace's; `ui_facts` are lines the
    UI knows (Qt's version); `connection_state` is the status bar's (online, offline…)."""
    if profile is None and workspace is not None:
        profile = workspace.profile
    sections = [
        ("Factory Pulse", _app(ui_facts)),
        ("Folders", _folders(profile)),
        ("Connection", _connection(profile, workspace, connection_state)),
        ("Database", _database(workspace)),
        ("This computer", _computer()),
        (f"Last {log_lines} log lines", [_safely(lambda: "\n".join(logs.tail(log_lines)))]),
    ]
    out: list[str] = []
    for title, lines in sections:
        out.append(f"== {title} ==")
        out.extend(lines)
        out.append("")
    # The safety net: nothing above should hold a secret, but the log lines and error texts
    # come from elsewhere.
    return logs.redact("\n".join(out).rstrip() + "\n")


def log_folder() -> Path:
    """The folder of the log files, made if missing (blocking: not on the GUI thread)."""
    folder = logs.log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _safely(fact: Callable[[], str]) -> str:
    """A fact, or why it is unknown (diagnostics never fail because one part did)."""
    try:
        return fact()
    except Exception as error:
        first = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"unknown ({type(error).__name__}{': ' + first if first else ''})"


def _app(ui_facts: Sequence[tuple[str, str]]) -> list[str]:
    lines = [
        f"version: {__version__}",
        f"Python: {platform.python_version()} ({platform.python_implementation()})",
        f"installed bundle: {'yes' if getattr(sys, 'frozen', False) else 'no (from source)'}",
        f"executable: {sys.executable}",
    ]
    lines.extend(f"{name}: {value}" for name, value in ui_facts)
    return lines


def _folders(profile: ConnectionProfile | None) -> list[str]:
    from factorypulse_desktop.runtime import paths, profiles

    lines = [
        f"data: {_safely(lambda: str(paths.app_data_dir()))}",
        f"settings: {_safely(lambda: str(profiles.config_dir()))}",
        f"log file: {_safely(lambda: str(logs.log_file()))}",
    ]
    if profile is not None and profile.kind == "embedded":
        name = profile.embedded_profile
        root = _safely(lambda: str(paths.embedded_root(name)))
        lines.append(f"database on this computer: {root}")
        lines.append(f"its server log: {root}/log/postgresql.log")
    if profile is not None:
        lines.append(f"backups: {_safely(lambda: _backup_folder(profile))}")
    return lines


def _backup_folder(profile: ConnectionProfile) -> str:
    from factorypulse_desktop.backup.settings import BackupSettingsStore, folder_of

    return str(folder_of(BackupSettingsStore().load(profile.name), profile.name))


def _connection(profile: ConnectionProfile | None, workspace: Workspace | None,
                state: str | None) -> list[str]:
    if profile is None:
        return ["profile: none chosen yet", f"state: {state or 'not signed in'}"]
    lines = [f"profile: {profile.name}", f"kind: {profile.kind}"]
    if profile.kind == "embedded":
        lines.append(f"embedded cluster: {profile.embedded_profile}")
    else:
        lines += [f"host: {profile.host}", f"port: {profile.port}",
                  f"database: {profile.database}", f"TLS (sslmode): {profile.sslmode}"]
    lines.append(f"password remembered: {'yes' if profile.remember_password else 'no'}")
    lines.append(f"state: {state or ('signed in' if workspace is not None else 'not signed in')}")
    if workspace is not None:
        identity = workspace.identity
        lines.append(f"signed in as: {identity.username}")
        lines.append("organizations: " + ", ".join(
            f"{m.slug} ({m.role.value})" for m in identity.memberships))
    return lines


def _database(workspace: Workspace | None) -> list[str]:
    lines = [f"PostgreSQL programs on this computer: {_safely(_pg_binaries)}"]
    if workspace is None or workspace.closed:
        lines.append("server: not signed in")
        return lines
    lines.append(_safely(lambda: _server_facts(workspace)))
    return lines


def _pg_binaries() -> str:
    from factorypulse_desktop.runtime import pgbinaries

    bin_dir = pgbinaries.find_bin_dir()
    return f"{pgbinaries.pg_version_text(bin_dir)} in {bin_dir}"


def _server_facts(workspace: Workspace) -> str:
    from factorypulse_desktop.data import migrate

    def read(connection: Connection) -> tuple[str, list[str]]:
        version = connection.exec_driver_sql("SHOW server_version").scalar()
        revisions = connection.exec_driver_sql(
            "SELECT version_num FROM alembic_version").scalars().all()
        return str(version), [str(r) for r in revisions]

    version, revisions = workspace.read(read, attempts=1)
    head = migrate.head_revision()
    schema = ", ".join(revisions) or "empty"
    state = "up to date" if revisions == [head] else f"this app has {head}"
    return f"server version: {version}\nschema revision: {schema} ({state})"


def _computer() -> list[str]:
    from factorypulse_desktop.runtime import secrets

    keyring = _safely(lambda: secrets.backend_name() or "none (passwords are not remembered)")
    lines = [f"system: {platform.platform()} ({platform.machine()})", f"keyring: {keyring}"]
    for name in sorted(k for k in os.environ if k.startswith(_ENV_PREFIX)):
        lines.append(f"{name}={os.environ[name]}")
    for name in _LIBRARY_VARS:
        if name in os.environ:
            lines.append(f"{name}={os.environ[name]}")
    return lines
