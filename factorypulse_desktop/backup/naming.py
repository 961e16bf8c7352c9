"""Backup file names: `factory_pulse_<kind>_backup_YYYYMMDD_HHMMSS.dump` and its sidecars."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

KINDS = ("complete", "schema", "data")
_NAME_RE = re.compile(r"^factory_pulse_(complete|schema|data)_backup_(\d{8}_\d{6})\.dump$")
_STAMP = "%Y%m%d_%H%M%S"


def backup_name(kind: str, when: datetime) -> str:
    return f"factory_pulse_{kind}_backup_{when.astimezone(UTC).strftime(_STAMP)}.dump"


def parse_name(path: Path) -> tuple[str, datetime] | None:
    """(kind, UTC time) of a backup file name, None for any other file."""
    match = _NAME_RE.match(path.name)
    if match is None:
        return None
    return match.group(1), datetime.strptime(match.group(2), _STAMP).replace(tzinfo=UTC)


def manifest_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".manifest.json")


def verified_path(dump: Path) -> Path:
    return dump.with_name(dump.name + ".verified.json")


def sidecars(dump: Path) -> list[Path]:
    return [manifest_path(dump), verified_path(dump)]
