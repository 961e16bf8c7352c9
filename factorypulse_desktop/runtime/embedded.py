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

This module holds the lifecycle itself; the pieces it relies on live next to it:
``cluster_config`` (postgresql.conf, pg_hba.conf, :class:`ClusterSettings`), ``cluster_state``
(``cluster.json``: port and socket folder), ``server_process`` (postmaster.pid and the postgres
processes), ``run_as`` (the unprivileged account when we are root), ``file_lock``,
``pg_command`` (running initdb/pg_ctl), ``server_log`` and ``superuser_password`` (Windows).
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import FrameType, TracebackType

import psutil

from factorypulse_desktop.runtime import pgbinaries
from factorypulse_desktop.runtime.cluster_config import (
    CONF_FILE,
    PROTECTED_SETTINGS,
    ClusterSettings,
    conf_text,
    hba_text,
    include_text,
)
from factorypulse_desktop.runtime.cluster_state import (
    IS_WINDOWS,
    SOCKET_PATH_MAX,
    STATE_FILE,
    TCP_HOST,
    UNIX_PORT,
    ClusterState,
    choose_state,
    load_state,
    save_state,
)
from factorypulse_desktop.runtime.errors import EmbeddedError
from factorypulse_desktop.runtime.file_lock import FileLock
from factorypulse_desktop.runtime.pg_command import run_pg_command
from factorypulse_desktop.runtime.run_as import (
    RUN_AS_ENV_VAR,
    RunAs,
    chown_to,
    copy_binaries,
    first_blocked_ancestor,
    make_private_dir,
    resolve_run_as,
    user_can_run,
    write_owned,
)
from factorypulse_desktop.runtime.server_log import (
    LOG_NAME,
    LOG_ROTATE_BYTES,
    LOG_TAIL_LINES,
    rotate_log,
)
from factorypulse_desktop.runtime.server_log import tail as log_tail
from factorypulse_desktop.runtime.server_process import (
    PID_FILE,
    PidFile,
    accepts_connections,
    postmaster_of,
    process_alive,
    read_pid_file,
    refuse_if_unsure,
    wait_for_leftover_backends,
    wait_gone,
)
from factorypulse_desktop.runtime.superuser_password import (
    KEYRING_SERVICE,
    create_superuser_password,
    read_superuser_password,
)

__all__ = [
    "CONF_FILE",
    "INIT_TIMEOUT",
    "IS_WINDOWS",
    "KEYRING_SERVICE",
    "LOCK_FILE",
    "LOG_NAME",
    "LOG_ROTATE_BYTES",
    "LOG_TAIL_LINES",
    "PROTECTED_SETTINGS",
    "RUN_AS_ENV_VAR",
    "SHELL_UNSAFE_CHARS",
    "SOCKET_PATH_MAX",
    "STATE_FILE",
    "TCP_HOST",
    "UNIX_PORT",
    "USERS_FILE",
    "ClusterSettings",
    "EmbeddedCluster",
    "EmbeddedError",
    "install_sigterm_handler",
]

log = logging.getLogger(__name__)

LOCK_FILE = "cluster.lock"
USERS_FILE = "cluster.users"
INIT_TIMEOUT = 300.0
# pg_ctl and initdb run the server through a shell inside double quotes (POSIX).
SHELL_UNSAFE_CHARS = '"\\$`'
_ROLE_NAME_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_DEFAULT_SETTINGS = ClusterSettings()  # frozen, so sharing the default is safe


def install_sigterm_handler() -> None:
    """Make SIGTERM raise SystemExit so ``with cluster:`` blocks stop the server on the way out.

    Call it from the main thread, before entering the ``with`` block.
    """

    def _raise_system_exit(signum: int, _frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, _raise_system_exit)


class EmbeddedCluster:
    """A private PostgreSQL cluster under ``root`` (see the module docstring)."""

    def __init__(
        self,
        root: Path,
        *,
        bin_dir: Path | None = None,
        settings: ClusterSettings = _DEFAULT_SETTINGS,
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
        self._run_as_cache: tuple[RunAs | None] | None = None
        self._exec_bin_dir: Path | None = None
        self._users_lock: FileLock | None = None
        self._started_here = False
        self._password_cache: str | None = None

    def __repr__(self) -> str:
        return f"EmbeddedCluster({str(self.root)!r})"

    # -- public properties -------------------------------------------------------------------

    @property
    def port(self) -> int:
        return load_state(self.root).port

    @property
    def socket_dir(self) -> Path:
        """The unix socket folder (on Windows, where TCP is used, the unused ``run/``)."""
        state = load_state(self.root)
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
        from psycopg.conninfo import make_conninfo  # see _other_client_count

        user, password = self._credentials(user, password)
        params = {"host": self._host(), "port": str(self.port), "dbname": dbname, "user": user}
        if password is not None:
            params["password"] = password
        return make_conninfo("", **params)

    def url(
        self, dbname: str = "postgres", user: str | None = None, password: str | None = None
    ) -> str:
        """A SQLAlchemy URL (``postgresql+psycopg``) with host and port as query parameters."""
        # Imported here: the app signs in with psycopg alone and loads SQLAlchemy later.
        from sqlalchemy.engine import URL

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
                if not nobody_else or not self._other_clients_gone():
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
        lock = FileLock(self.root / LOCK_FILE)
        if not lock.acquire(timeout):
            raise EmbeddedError(
                f"Another program kept the embedded database in {self.root} busy for more "
                f"than {timeout:.0f} seconds."
            )
        try:
            chown_to(self._run_as(), self.root / LOCK_FILE)
            yield
        finally:
            lock.release()

    def _take_users_lease(self) -> None:
        """Hold a shared lock while this object uses the server (stop_if_unused looks at it)."""
        if IS_WINDOWS or self._users_lock is not None:
            return
        lease = FileLock(self.root / USERS_FILE)
        if lease.acquire(5, shared=True):
            chown_to(self._run_as(), self.root / USERS_FILE)
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
        probe = FileLock(self.root / USERS_FILE)
        got_it = probe.acquire(0)
        try:
            yield got_it
        finally:
            if got_it:
                probe.release()

    # -- folders, ownership and binaries -----------------------------------------------------

    def _run_as(self) -> RunAs | None:
        if self._run_as_cache is None:
            self._run_as_cache = (resolve_run_as(self.root),)
        return self._run_as_cache[0]

    def _prepare_root(self) -> None:
        """Create ``root`` (owned by the account running PostgreSQL) and check it is reachable."""
        run_as = self._run_as()
        if run_as is None:
            self.root.mkdir(mode=0o700, parents=True, exist_ok=True)
            return
        blocked = first_blocked_ancestor(run_as, self.root)
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
            chown_to(run_as, self.root)

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
            if run_as is None or user_can_run(run_as, self.bin_dir):
                self._exec_bin_dir = self.bin_dir
            else:
                self._exec_bin_dir = copy_binaries(run_as, self.bin_dir, self.root)
        return self._exec_bin_dir

    # -- initdb ------------------------------------------------------------------------------

    def _init_locked(self) -> None:
        self._check_path_chars()
        make_private_dir(self._run_as(), self.log_file.parent)
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
        state = choose_state(self.root, self._run_as())
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
            conf.write(include_text())
        save_state(self.root, state, self._run_as())
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

    def _write_server_files(self, data_dir: Path, state: ClusterState) -> None:
        """pg_hba.conf and factorypulse.conf, from the settings and the chosen port/socket."""
        run_as = self._run_as()
        write_owned(run_as, data_dir / "pg_hba.conf", hba_text(self.superuser))
        write_owned(run_as, data_dir / CONF_FILE, conf_text(self.settings, state))

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
        state = choose_state(self.root, self._run_as())
        save_state(self.root, state, self._run_as())
        self._write_server_files(self.data_dir, state)
        rotate_log(self.log_file)
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
            tail = log_tail(self.log_file, log_offset)
            source = f"Last lines of {self.log_file}" if tail else "pg_ctl said"
            raise EmbeddedError(
                f"PostgreSQL did not start in {self.data_dir}. {source}:\n"
                f"{tail or result.stdout.strip()}"
            )
        # pg_ctl -w returns once postmaster.pid says "ready"; asking the server again (libpq)
        # is for when that line is missing. Skipping it keeps psycopg out of this start.
        ready = new_pid_file.status == "ready" and process_alive(new_pid_file.pid)
        if not ready and not self._wait_accepting(new_pid_file, deadline):
            raise EmbeddedError(
                f"PostgreSQL in {self.data_dir} stopped while starting. Last lines of "
                f"{self.log_file}:\n{log_tail(self.log_file, log_offset)}"
            )
        log.info("Started PostgreSQL in %s (%.2f s)", self.data_dir, time.monotonic() - t0)
        self._started_here = True
        return True

    def _wait_accepting(self, pid_file: PidFile, deadline: float) -> bool:
        """True once the server accepts connections, False if its process ended first."""
        while not self._ping(pid_file):
            if not process_alive(pid_file.pid):
                return False
            if time.monotonic() >= deadline:
                raise EmbeddedError(
                    f"PostgreSQL in {self.data_dir} (pid {pid_file.pid}) does not accept "
                    f"connections. Last lines of {self.log_file}:\n{log_tail(self.log_file)}"
                )
            time.sleep(0.05)
        return True

    def _clear_stale_files(self, pid_file: PidFile | None) -> None:
        """Remove a postmaster.pid and socket lock files that no live server of ours owns."""
        if pid_file is not None:
            refuse_if_unsure(pid_file.pid, self.data_dir)
            log.warning("Removing stale %s (pid %d)", self.data_dir / PID_FILE, pid_file.pid)
            with contextlib.suppress(FileNotFoundError):
                (self.data_dir / PID_FILE).unlink()
            wait_for_leftover_backends(self.data_dir)
        socket_dir = load_state(self.root).socket_dir
        if socket_dir:
            for lock in Path(socket_dir).glob(".s.PGSQL.*.lock"):
                with contextlib.suppress(FileNotFoundError):
                    lock.unlink()

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
            if wait_gone(proc.pid, timeout=5):
                self._started_here = False
                log.info("Stopped PostgreSQL in %s", self.data_dir)
                return
            log.warning("PostgreSQL in %s did not stop with mode %s", self.data_dir, mode)
        raise EmbeddedError(
            f"PostgreSQL in {self.data_dir} (pid {proc.pid}) did not stop. Last lines of "
            f"{self.log_file}:\n{log_tail(self.log_file)}"
        )

    def _other_clients_gone(self, grace: float = 2.0) -> bool:
        """No other client backend, allowing connections that were just closed to exit
        (a backend leaves pg_stat_activity a moment after its client hung up)."""
        deadline = time.monotonic() + grace
        while self._other_client_count() > 0:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def _other_client_count(self) -> int:
        # psycopg is imported where it is used in this module: the app starts the server on a
        # thread while the window's modules load, and the start itself never needs psycopg.
        import psycopg

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

    def _read_pid_file(self) -> PidFile | None:
        return read_pid_file(self.data_dir)

    def _postmaster_of(self, pid_file: PidFile) -> psutil.Process | None:
        """The process of postmaster.pid if it is a postgres serving THIS data folder."""
        return postmaster_of(pid_file, self.data_dir)

    def _live_postmaster(self) -> psutil.Process | None:
        pid_file = self._read_pid_file()
        return None if pid_file is None else self._postmaster_of(pid_file)

    def _ping(self, pid_file: PidFile) -> bool:
        """Whether the server accepts connections (libpq's PQping; needs no password)."""
        state = load_state(self.root)
        host = pid_file.socket_dir or pid_file.listen_address or self._host()
        if host in ("*", "0.0.0.0", "::"):
            host = TCP_HOST
        port = pid_file.port or state.port
        return accepts_connections(host, port, self.superuser)

    # -- subprocesses ------------------------------------------------------------------------

    def _run(
        self, argv: list[str], *, timeout: float, detach: bool = False
    ) -> subprocess.CompletedProcess[str]:
        """Run a PostgreSQL program (as the server account when we are root); output merged."""
        return run_pg_command(
            argv,
            timeout=timeout,
            bin_dir=self._runtime_bin_dir(),
            cwd=self.root,  # a folder the server account can enter
            run_as=self._run_as(),
            detach=detach,
        )

    # -- Windows superuser password ----------------------------------------------------------

    def _superuser_password(self) -> str:
        if self._password_cache is None:
            self._password_cache = read_superuser_password(self.root)
        return self._password_cache

    def _create_superuser_password(self) -> str:
        self._password_cache = create_superuser_password(self.root)
        return self._password_cache
