"""Restore an archive into a NEW database in one transaction; on any error it is dropped again.

The fixed roles are created first when the cluster lacks them (data/bootstrap.py), and after the
restore every person of the archive gets a login if the cluster has none of that name: without
a password (nobody can sign in as them until an administrator sets one).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy.exc import SQLAlchemyError

from factorypulse_desktop.backup import files, naming, pgtools
from factorypulse_desktop.domain.errors import UserFacingError

_MAGIC = b"PGDMP"
_DB_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


@dataclass(frozen=True)
class Restored:
    database: str
    logins_created: list[str]
    checksum_checked: bool


def check_archive(path: Path) -> None:
    """T-BAK-05: only pg_dump custom archives are restored; a SQL script never reaches psql."""
    if not path.is_file():
        raise UserFacingError(f"{path} does not exist.")
    with path.open("rb") as handle:
        head = handle.read(len(_MAGIC))
    if head != _MAGIC:
        raise UserFacingError(
            f"{path.name} is not a Factory Pulse backup archive (pg_dump custom format). The app "
            "never runs SQL files: they can contain commands for your computer. For a backup of "
            "the Factory Pulse web version use `factorypulse import factory-pulse-web FOLDER`; "
            "for other SQL files ask your administrator to follow the offline import procedure.")


def check_checksum(path: Path) -> dict[str, Any] | None:
    """The manifest, after checking the file against it (None when there is no manifest)."""
    manifest = files.read_json(naming.manifest_path(path))
    if manifest is None:
        return None
    sha256, size = files.sha256_of(path)
    if size != manifest.get("size"):
        raise UserFacingError(
            f"{path.name} is damaged: {size} bytes, the manifest says {manifest.get('size')} "
            "(the file was cut short or changed). Nothing was restored.")
    if sha256 != manifest.get("sha256"):
        raise UserFacingError(
            f"{path.name} is damaged: its checksum differs from the manifest (the file changed "
            "after it was written). Nothing was restored.")
    return manifest


def default_name(path: Path) -> str:
    parsed = naming.parse_name(path)
    stamp = parsed[1].strftime("%Y%m%d_%H%M%S") if parsed else "backup"
    return f"factory_pulse_restored_{stamp}"


def restore_backup(url: str, path: Path, into: str | None = None, checked: bool = False,
                   poll: pgtools.Poll | None = None) -> Restored:
    """Restore `path` into the new database `into`; raise UserFacingError naming what failed.

    `poll` is called while pg_restore runs; raising from it stops the restore, and the new
    database is dropped as on any error."""
    check_archive(path)
    checksum_checked = checked or check_checksum(path) is not None
    target = into or default_name(path)
    if not _DB_NAME_RE.match(target):
        raise UserFacingError(
            f"{target!r} cannot be a database name: use lowercase letters, digits and _.")
    try:
        with pgtools.connect(url, autocommit=True) as admin:
            exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                   (target,)).fetchone()
            if exists:
                raise UserFacingError(
                    f"A database named {target} already exists; choose another name (--into).")
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(target)))
    except psycopg.Error as error:
        raise UserFacingError(
            f"Could not create the database {target}: {_message(error)}. Restoring needs the "
            "connection of the database owner or an administrator allowed to create databases."
        ) from error
    try:
        try:
            _bootstrap(url, target)
        except SQLAlchemyError as error:
            raise UserFacingError(
                f"Could not prepare the roles and rights of {target}: {_message(error)}."
            ) from error
        result = pgtools.run("pg_restore", [
            "--single-transaction", "--exit-on-error", "--no-password",
            "-d", pgtools.conninfo(url, target, with_password=False), str(path)],
            secret=pgtools.password(url), poll=poll)
        if result.returncode != 0:
            what = pgtools.failed_object(result.stderr)
            raise UserFacingError(
                f"The restore stopped{' at ' + what if what else ''}: "
                f"{pgtools.first_error(result.stderr)}. Nothing was restored.")
        logins = _create_missing_logins(url, target)
    except BaseException:
        drop_database(url, target)
        raise
    return Restored(target, logins, checksum_checked)


def _message(error: Exception) -> str:
    original = getattr(error, "orig", error)
    diag = getattr(original, "diag", None)
    primary = getattr(diag, "message_primary", None)
    return str(primary or original).strip()


def drop_database(url: str, name: str) -> None:
    with pgtools.connect(url, autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
            sql.Identifier(name)))


def _bootstrap(url: str, target: str) -> None:
    """Fixed roles, database rights and extensions, as `db upgrade` makes them."""
    from sqlalchemy.engine import make_url

    from factorypulse_desktop.data.bootstrap import bootstrap_database
    from factorypulse_desktop.data.db import make_engine

    engine = make_engine(make_url(url).set(database=target).render_as_string(hide_password=False))
    try:
        with engine.begin() as connection:
            bootstrap_database(connection)
    finally:
        engine.dispose()


def _create_missing_logins(url: str, target: str) -> list[str]:
    created: list[str] = []
    with pgtools.connect(url, target, autocommit=True) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT p.role_name FROM persons p WHERE NOT EXISTS "
            "(SELECT 1 FROM pg_roles r WHERE r.rolname = p.role_name) ORDER BY 1")]
        for name in names:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN INHERIT IN ROLE fp_member").format(
                sql.Identifier(name)))
            created.append(name)
    return created


