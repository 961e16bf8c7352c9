"""This computer's backup settings for each connection profile (``backup_settings.json``).

Backups are made by a computer, so their folder, retention and alert live with the connection
profiles in the per-user config folder, never in the database. No password is kept here: the
backup login's password of a server connection lives in the OS keyring only.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from factorypulse_desktop.backup import files
from factorypulse_desktop.backup.health import DEFAULT_ALERT_DAYS
from factorypulse_desktop.backup.retention import Policy
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.runtime.paths import app_data_dir
from factorypulse_desktop.runtime.profiles import config_dir

SETTINGS_FILE = "backup_settings.json"
_MAX_KEEP = 1000


@dataclass(frozen=True)
class BackupSettings:
    folder: str = ""  # "" = the default folder of the profile
    daily: int = 7
    weekly: int = 4
    monthly: int = 12
    alert_after_days: int = DEFAULT_ALERT_DAYS
    automatic: bool = False  # a daily backup (create, verify, prune) while the app is open
    login: str = ""  # server connections: the owner or backup login (password in the keyring)

    def __post_init__(self) -> None:
        for name in ("daily", "weekly", "monthly"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _MAX_KEEP:
                raise UserFacingError(f"Keep {name} backups: a number from 0 to {_MAX_KEEP}.")
        days = self.alert_after_days
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 366:
            raise UserFacingError("Warn after: a number of days from 1 to 366.")
        if not isinstance(self.automatic, bool):
            raise UserFacingError("The automatic backup setting must be on or off.")
        if not isinstance(self.folder, str) or not isinstance(self.login, str):
            raise UserFacingError("The backup folder and login must be text.")

    @property
    def policy(self) -> Policy:
        return Policy(self.daily, self.weekly, self.monthly)


def default_folder(profile_name: str) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "-", profile_name).strip("-.") or "default"
    return app_data_dir() / "backups" / safe


def folder_of(settings: BackupSettings, profile_name: str) -> Path:
    return Path(settings.folder).expanduser() if settings.folder else default_folder(profile_name)


class BackupSettingsStore:
    def __init__(self, directory: Path | None = None) -> None:
        self.path = (directory or config_dir()) / SETTINGS_FILE

    def load(self, profile_name: str) -> BackupSettings:
        """The profile's settings; defaults for a profile (or a file) not seen before."""
        data = (files.read_json(self.path) or {}).get(profile_name)
        if not isinstance(data, dict):
            return BackupSettings()
        known = {f.name for f in fields(BackupSettings)}
        try:
            return BackupSettings(**{k: v for k, v in data.items() if k in known})
        except (UserFacingError, TypeError):
            return BackupSettings()  # a hand-edited value we cannot use: start from defaults

    def save(self, profile_name: str, settings: BackupSettings) -> None:
        everything: dict[str, Any] = files.read_json(self.path) or {}
        everything[profile_name] = asdict(settings)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        files.write_json(self.path, everything)
