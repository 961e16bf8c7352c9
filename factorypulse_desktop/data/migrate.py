"""Apply and inspect the schema migrations (Alembic, script location `migrations/`)."""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config

# Revision files are named "<YYYYMMDD>_<NNNN>_<slug>.py" and the revision id is the first two
# parts; history is linear (a test checks both against Alembic). Reading the names instead of
# importing Alembic keeps signing in fast: Alembic is loaded only to actually migrate.
_REVISION_FILE = re.compile(r"^(\d{8}_\d{4})_[a-z0-9_]+\.py$")


def migrations_dir() -> Path:
    """The `migrations/` folder, in a source tree or in a frozen bundle."""
    frozen_root = getattr(sys, "_MEIPASS", None)
    candidates = [Path(__file__).resolve().parents[2] / "migrations"]
    if frozen_root:
        candidates.insert(0, Path(frozen_root) / "migrations")
    for candidate in candidates:
        if (candidate / "env.py").is_file():
            return candidate
    raise FileNotFoundError("the migrations folder is missing from this installation")


def alembic_config(url: str) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["url"] = url
    return config


def known_revisions() -> set[str]:
    found = set()
    for path in (migrations_dir() / "versions").iterdir():
        match = _REVISION_FILE.match(path.name)
        if match:
            found.add(match.group(1))
    return found


def head_revision() -> str:
    revisions = known_revisions()
    if not revisions:
        raise RuntimeError("no migration revisions found")
    return max(revisions)


def current_revision(url: str) -> str | None:
    from sqlalchemy import create_engine, pool, text  # signing in reads revisions without it

    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            exists = connection.execute(
                text("SELECT to_regclass('public.alembic_version') IS NOT NULL")).scalar_one()
            if not exists:
                return None
            return connection.execute(
                text("SELECT version_num FROM alembic_version")).scalar_one_or_none()
    finally:
        engine.dispose()


def upgrade(url: str, target: str = "head") -> None:
    """Create the cluster roles if missing and migrate to `target`."""
    from alembic import command

    command.upgrade(alembic_config(url), target)


def upgrade_if_needed(url: str) -> None:
    """`upgrade` unless the database is already at head (then no Alembic is even loaded)."""
    if current_revision(url) != head_revision():
        upgrade(url)


def downgrade(url: str, target: str) -> None:
    from alembic import command

    command.downgrade(alembic_config(url), target)


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def newer_than_app(self) -> bool:
        """The database was migrated by a newer Factory Pulse than this one."""
        return self.current is not None and self.current not in known_revisions()


def schema_status(url: str) -> SchemaStatus:
    return SchemaStatus(current=current_revision(url), head=head_revision())
