"""Running PostgreSQL as an unprivileged account when we are root (PostgreSQL refuses root).

The account is, in order: ``FACTORYPULSE_PG_RUN_AS``, the owner of the cluster's root folder,
or ``nobody``. Files the server uses are given to that account, and when it cannot run the
wheel's binaries, they are copied to a folder it can read.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import stat
import sys
from dataclasses import dataclass
from pathlib import Path

from factorypulse_desktop.runtime import pgbinaries
from factorypulse_desktop.runtime.errors import EmbeddedError

if sys.platform != "win32":
    import pwd

log = logging.getLogger(__name__)

RUN_AS_ENV_VAR = "FACTORYPULSE_PG_RUN_AS"


@dataclass(frozen=True)
class RunAs:
    """The unprivileged account that runs PostgreSQL when we are root."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]


def resolve_run_as(root: Path) -> RunAs | None:
    """None unless we are root on POSIX; then the account that must run PostgreSQL."""
    if sys.platform == "win32" or os.geteuid() != 0:
        return None
    override = os.environ.get(RUN_AS_ENV_VAR, "").strip()
    if override:
        try:
            entry = pwd.getpwuid(int(override)) if override.isdigit() else pwd.getpwnam(override)
        except KeyError:
            raise EmbeddedError(f"{RUN_AS_ENV_VAR} names an unknown user: {override}.") from None
        if entry.pw_uid == 0:
            raise EmbeddedError(f"{RUN_AS_ENV_VAR} must name a user other than root.")
        return _run_as_from_entry(entry)
    try:
        st = root.stat()
    except FileNotFoundError:
        st = None
    if st is not None and st.st_uid != 0:
        try:
            return _run_as_from_entry(pwd.getpwuid(st.st_uid))
        except KeyError:  # an owner without a passwd entry (e.g. a mounted volume)
            return RunAs(str(st.st_uid), st.st_uid, st.st_gid, (st.st_gid,))
    try:
        return _run_as_from_entry(pwd.getpwnam("nobody"))
    except KeyError:
        raise EmbeddedError(
            f"PostgreSQL cannot run as root and there is no user 'nobody'; "
            f"set {RUN_AS_ENV_VAR} to an unprivileged user."
        ) from None


def _run_as_from_entry(entry: pwd.struct_passwd) -> RunAs:
    groups = tuple(os.getgrouplist(entry.pw_name, entry.pw_gid))
    return RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid, groups)


# ---------------------------------------------------------------------------------------------
# what the account may do


def _user_may(run_as: RunAs, path: Path, bits: int) -> bool:
    """Whether ``run_as`` has the permission ``bits`` (4=r, 2=w, 1=x) on ``path`` (no ACLs)."""
    try:
        st = path.stat()
    except OSError:
        return False
    if st.st_uid == run_as.uid:
        granted = (st.st_mode >> 6) & 7
    elif st.st_gid in run_as.groups:
        granted = (st.st_mode >> 3) & 7
    else:
        granted = st.st_mode & 7
    return granted & bits == bits


def first_blocked_ancestor(run_as: RunAs, path: Path) -> Path | None:
    """The first existing folder above ``path`` that ``run_as`` cannot traverse."""
    for ancestor in reversed(path.parents):
        if not ancestor.exists():
            return None
        if not _user_may(run_as, ancestor, 1):
            return ancestor
    return None


# ---------------------------------------------------------------------------------------------
# files owned by the account


def chown_to(run_as: RunAs | None, path: Path) -> None:
    """Give ``path`` to the account running PostgreSQL (nothing to do unless we are root)."""
    if run_as is not None:
        os.chown(path, run_as.uid, run_as.gid)


def make_private_dir(run_as: RunAs | None, path: Path) -> None:
    """Create ``path`` (if needed) as a 0700 folder of the account running PostgreSQL."""
    path.mkdir(mode=0o700, exist_ok=True)
    chown_to(run_as, path)
    path.chmod(0o700)


def is_private_dir(run_as: RunAs | None, path: Path) -> bool:
    """``path`` is a real folder of the account running PostgreSQL that no one else can open."""
    try:
        st = path.lstat()
    except OSError:
        return False
    owner = run_as.uid if run_as else os.geteuid()
    return stat.S_ISDIR(st.st_mode) and st.st_uid == owner and st.st_mode & 0o077 == 0


def write_owned(run_as: RunAs | None, path: Path, text: str) -> None:
    """Replace ``path`` atomically with a 0600 file of the account running PostgreSQL."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.chmod(0o600)
    chown_to(run_as, tmp)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------
# binaries the account can run


def user_can_run(run_as: RunAs, bin_dir: Path) -> bool:
    """Whether ``run_as`` can reach and run the programs and libraries of ``bin_dir``."""
    if first_blocked_ancestor(run_as, bin_dir / "x") is not None:
        return False
    programs = [pgbinaries.program_path(bin_dir, p) for p in pgbinaries.REQUIRED_PROGRAMS]
    if not all(_user_may(run_as, p, 5) for p in programs):
        return False
    for lib_dir in pgbinaries.library_dirs(bin_dir):
        if first_blocked_ancestor(run_as, lib_dir / "x") or not _user_may(run_as, lib_dir, 5):
            return False
    return True


def copy_binaries(run_as: RunAs, bin_dir: Path, root: Path) -> Path:
    """Copy the wheel's binaries into ``root/pgbin`` keeping the layout their rpath expects.

    Returns the copy's bin folder. The copy is reused while it matches the original's version
    and ``postgres`` size (recorded in ``pgbin/source.json``).
    """
    layout_root = pgbinaries.wheel_layout_root(bin_dir)
    if layout_root is None:
        raise EmbeddedError(
            f"PostgreSQL runs as the user '{run_as.name}', who cannot read {bin_dir}; "
            f"set {pgbinaries.BIN_ENV_VAR} to a PostgreSQL bin folder that user can read."
        )
    dest = root / "pgbin"
    dest_bin = dest / pgbinaries.WHEEL_PACKAGE / "pginstall" / "bin"
    postgres = pgbinaries.program_path(bin_dir, "postgres")
    wanted = {
        "version": pgbinaries.pg_version_text(bin_dir),
        "postgres_size": postgres.stat().st_size,
    }
    marker = dest / "source.json"
    with contextlib.suppress(OSError, ValueError):
        if json.loads(marker.read_text()) == wanted:
            return dest_bin
    log.info("Copying PostgreSQL binaries to %s for user %s", dest, run_as.name)
    staging = root / "pgbin.tmp"
    shutil.rmtree(staging, ignore_errors=True)
    src_install = bin_dir.parent
    dst_install = staging / pgbinaries.WHEEL_PACKAGE / "pginstall"
    for part in ("bin", "lib", "share"):
        if (src_install / part).is_dir():
            shutil.copytree(src_install / part, dst_install / part, symlinks=True)
    libs = layout_root / pgbinaries.WHEEL_LIBS_FOLDER
    if libs.is_dir():
        shutil.copytree(libs, staging / pgbinaries.WHEEL_LIBS_FOLDER, symlinks=True)
    _make_world_readable(staging)
    (staging / "source.json").write_text(json.dumps(wanted))
    shutil.rmtree(dest, ignore_errors=True)
    staging.rename(dest)
    return dest_bin


def _make_world_readable(top: Path) -> None:
    """Folders 0755, files readable by all (executables stay executable)."""
    for dirpath, _dirnames, filenames in os.walk(top):
        Path(dirpath).chmod(0o755)
        for name in filenames:
            path = Path(dirpath) / name
            if path.is_symlink():
                continue
            mode = path.stat().st_mode
            path.chmod((mode | 0o444 | (0o111 if mode & 0o100 else 0)) & 0o777)
