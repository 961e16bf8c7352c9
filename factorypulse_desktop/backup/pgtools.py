"""Running pg_dump / pg_restore from the bundled binaries against a SQLAlchemy URL."""

from __future__ import annotations

import re
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.runtime import pgbinaries


def conninfo(url: str, dbname: str | None = None, with_password: bool = True) -> str:
    """A libpq connection string for a `postgresql+psycopg://` URL (host may be a query arg)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    params: dict[str, Any] = {}
    host = parsed.host or parsed.query.get("host")
    port = parsed.port or parsed.query.get("port")
    if host:
        params["host"] = host if isinstance(host, str) else host[0]
    if port:
        params["port"] = str(port if not isinstance(port, tuple) else port[0])
    sslmode = parsed.query.get("sslmode")
    if sslmode:
        params["sslmode"] = sslmode if isinstance(sslmode, str) else sslmode[0]
    if parsed.username:
        params["user"] = parsed.username
    if parsed.password and with_password:
        params["password"] = parsed.password
    params["dbname"] = dbname or parsed.database or "postgres"
    return make_conninfo(**params)


def connect(url: str, dbname: str | None = None,
            autocommit: bool = False) -> psycopg.Connection[Any]:
    return psycopg.connect(conninfo(url, dbname), autocommit=autocommit)


def bin_dir() -> Path:
    try:
        return pgbinaries.find_bin_dir()
    except pgbinaries.PgBinariesError as error:
        raise UserFacingError(str(error)) from error


def password(url: str) -> str | None:
    from sqlalchemy.engine import make_url

    return make_url(url).password


Poll = Callable[[], None]
"""Called about four times a second while a program runs; raising from it stops the program
(the user cancelled) and the exception goes on to the caller."""

_POLL_SECONDS = 0.25


def run(program: str, args: list[str], secret: str | None = None,
        poll: Poll | None = None) -> subprocess.CompletedProcess[str]:
    """Run a bundled program; a password goes in its environment, never on the command line
    (where `ps` would show it to every user of the computer)."""
    folder = bin_dir()
    env = pgbinaries.pg_env(folder)
    if secret:
        env["PGPASSWORD"] = secret
    command = [str(pgbinaries.program_path(folder, program)), *args]
    if poll is None:
        return subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          env=env) as process:
        try:
            while True:
                try:
                    stdout, stderr = process.communicate(timeout=_POLL_SECONDS)
                    break
                except subprocess.TimeoutExpired:
                    poll()
        except BaseException:
            # Cancelled (or interrupted): stop the program before anything else happens.
            process.kill()
            process.communicate()
            raise
    return subprocess.CompletedProcess(command, process.returncode, stdout, stderr)


def elapsed_message(started: float, what: str) -> str:
    seconds = int(time.monotonic() - started)
    return f"{what} ({seconds // 60}:{seconds % 60:02d})"


def tool_version(program: str) -> str:
    """e.g. "15.14" from `pg_dump --version`."""
    result = run(program, ["--version"])
    match = re.search(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)?)", result.stdout)
    if result.returncode != 0 or match is None:
        detail = (result.stderr or result.stdout).strip()
        raise UserFacingError(f"Could not run {program}: {detail}")
    return match.group(1)


def major(version: str) -> int:
    return int(version.split(".")[0])


def check_dump_version(dump_version: str, server_version: str) -> None:
    """T-BAK-07: an older pg_dump cannot read a newer server faithfully; refuse before dumping."""
    if major(dump_version) < major(server_version):
        raise UserFacingError(
            f"pg_dump {dump_version} is older than the database server "
            f"(PostgreSQL {server_version}); install pg_dump {major(server_version)} or newer "
            "(set FACTORYPULSE_PG_BIN to its bin folder). Nothing was written.")


def failed_object(stderr: str) -> str:
    """The object pg_restore stopped at, in plain words ("" when it does not say)."""
    copy = re.search(r'COPY failed for table "([^"]+)"', stderr)
    if copy is not None:
        return f"the data of table {copy.group(1)}"
    toc = re.search(r"from TOC entry \d+; \d+ \d+ (.+?) \S+$", stderr, re.MULTILINE)
    return toc.group(1) if toc is not None else ""


def first_error(stderr: str) -> str:
    lines = [line.strip() for line in stderr.splitlines() if "error" in line.lower()]
    return lines[0] if lines else stderr.strip().splitlines()[0] if stderr.strip() else ""
