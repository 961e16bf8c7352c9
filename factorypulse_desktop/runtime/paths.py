"""Where the application keeps its data on disk."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import platformdirs

APP_NAME = "factorypulse-desktop"
DATA_DIR_ENV_VAR = "FACTORYPULSE_DATA_DIR"

_PROFILE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def _running_as_root() -> bool:
    return os.name == "posix" and os.geteuid() == 0


def app_data_dir() -> Path:
    """The per-user data folder (``FACTORYPULSE_DATA_DIR`` overrides it).

    As root the default is a system folder instead of root's home: that home is 0700, so the
    unprivileged user that runs PostgreSQL could not reach a cluster inside it.
    """
    override = os.environ.get(DATA_DIR_ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser().absolute()
    if _running_as_root():
        if sys.platform == "darwin":
            return Path(platformdirs.site_data_dir(APP_NAME, appauthor=False))
        return Path("/var/lib") / APP_NAME
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def embedded_root(profile: str = "default") -> Path:
    """The folder of one embedded PostgreSQL cluster (``"default"``, or ``"demo"`` for --demo)."""
    if not _PROFILE_RE.match(profile):
        raise ValueError(f"Invalid profile name {profile!r}: use letters, digits, '-', '_' or '.'.")
    return app_data_dir() / "embedded" / profile
