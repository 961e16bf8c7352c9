"""Backups as the Administration page runs them: which connection, the folder's state, and
"back up now" = create, verify (a trial restore) and only then prune.

Everything here does file or database I/O: call it through the task runner. A person's own
login cannot make a backup (it sees one organization); the embedded database is backed up with
this computer's own superuser, a server with the owner or backup login the administrator gives
(its password comes from the OS keyring or is typed for this session, never written to a file).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from factorypulse_desktop.backup import listing
from factorypulse_desktop.backup.create import create_backup
from factorypulse_desktop.backup.health import Health, backup_health
from factorypulse_desktop.backup.listing import BackupFile
from factorypulse_desktop.backup.restore import Restored, default_name, restore_backup
from factorypulse_desktop.backup.settings import BackupSettings, BackupSettingsStore, folder_of
from factorypulse_desktop.backup.verify import Verification, verify_backup
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.runtime import local_server, secrets
from factorypulse_desktop.runtime.profiles import ConnectionProfile, ProfileStore

Progress = Callable[[str], None]
AUTOMATIC_EVERY = timedelta(days=1)

__all__ = [
    "AUTOMATIC_EVERY",
    "BackupFile",
    "BackupRun",
    "BackupSettings",
    "BackupSettingsStore",
    "BackupsState",
    "Health",
    "Restored",
    "Verification",
    "automatic_backup",
    "automatic_due",
    "backup_now",
    "default_name",
    "load_state",
    "owner_url",
    "remember_password",
    "restore",
    "switch_profile_to",
    "verify",
]


@dataclass(frozen=True)
class BackupsState:
    folder: Path
    backups: list[BackupFile]
    health: Health
    password_stored: bool


@dataclass(frozen=True)
class BackupRun:
    created: Path
    verification: Verification
    pruned: list[Path]


def load_state(profile: ConnectionProfile, settings: BackupSettings,
               now: datetime | None = None) -> BackupsState:
    folder = folder_of(settings, profile.name)
    backups = listing.list_backups(folder)
    health = backup_health(backups, now or datetime.now(UTC), settings.alert_after_days)
    stored = (not profile.is_embedded and bool(settings.login)
              and secrets.load_secret(_password_key(profile, settings.login)) is not None)
    return BackupsState(folder, backups, health, stored)


def owner_url(profile: ConnectionProfile, settings: BackupSettings,
              typed_password: str = "") -> str:
    """A connection that may act as fp_backup and create databases (restore, trial restore)."""
    if profile.is_embedded:
        cluster = local_server.shared_cluster(profile.embedded_profile)
        return cluster.url(profile.database or local_server.DATABASE_NAME)
    if not settings.login:
        raise UserFacingError(
            "Enter the server's backup login (the database owner or a member of fp_backup) "
            "under Connection for backups: a person's own login cannot back up the database.")
    from sqlalchemy.engine import URL

    password = typed_password or secrets.load_secret(_password_key(profile, settings.login))
    return URL.create(
        "postgresql+psycopg", username=settings.login, password=password or None,
        database=profile.database,
        # In the query, as the embedded URLs have it: a socket folder is not a host name.
        query={"host": profile.host, "port": str(profile.port), "sslmode": profile.sslmode},
    ).render_as_string(hide_password=False)


def remember_password(profile: ConnectionProfile, login: str, password: str) -> bool:
    """Keep the backup login's password in the OS keyring; False when there is none."""
    return secrets.store_secret(_password_key(profile, login), password)


def _password_key(profile: ConnectionProfile, login: str) -> str:
    return f"backup:{profile.name}:{login}"


def backup_now(url: str, folder: Path, settings: BackupSettings,
               progress: Progress | None = None) -> BackupRun:
    """Create a complete backup, verify it, and prune by the retention policy once it verified
    (a backup that fails its check never pushes an older good one out)."""
    made = create_backup(url, folder, "complete", progress=progress)
    verification = verify_backup(url, made.path, progress=progress)
    pruned: list[Path] = []
    if verification.ok:
        pruned = listing.prune(folder, settings.policy)
    return BackupRun(made.path, verification, pruned)


def verify(url: str, path: Path, progress: Progress | None = None) -> Verification:
    return verify_backup(url, path, progress=progress)


def restore(url: str, path: Path, into: str, progress: Progress | None = None) -> Restored:
    def poll() -> None:
        if progress is not None:
            progress(f"Restoring {path.name} into {into}")

    return restore_backup(url, path, into=into, poll=poll)


def automatic_due(backups: list[BackupFile], now: datetime) -> bool:
    """Whether the daily automatic backup should run: no backup of the last day exists."""
    return not backups or now - backups[0].created_at >= AUTOMATIC_EVERY


def automatic_backup(profile: ConnectionProfile, store: BackupSettingsStore | None = None,
                     now: datetime | None = None,
                     progress: Progress | None = None) -> BackupRun | None:
    """The app's daily backup: None when it is off or not due yet. A server connection needs
    its backup password in the keyring (nobody is there to type it)."""
    settings = (store or BackupSettingsStore()).load(profile.name)
    if not settings.automatic:
        return None
    folder = folder_of(settings, profile.name)
    if not automatic_due(listing.list_backups(folder), now or datetime.now(UTC)):
        return None
    return backup_now(owner_url(profile, settings), folder, settings, progress)


def switch_profile_to(store: ProfileStore, profile: ConnectionProfile,
                      database: str) -> ConnectionProfile:
    """A new connection profile for the restored database, beside the current one."""
    existing = {p.name for p in store.load()}
    base = f"{profile.name} - {database}"[:80]
    name, n = base, 2
    while name in existing:
        name = f"{base[:75]} ({n})"
        n += 1
    restored = replace(profile, name=name, database=database)
    store.upsert(restored)
    return restored
