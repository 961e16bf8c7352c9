"""The command as a new user runs it: no server configured, the embedded cluster is used."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from factorypulse_desktop.runtime.embedded import EmbeddedCluster

pytestmark = pytest.mark.slow


@pytest.fixture
def data_dir() -> Iterator[Path]:
    # Under /tmp (not pytest's 0700 folder) so that, as root, PostgreSQL's account can enter it.
    path = Path(tempfile.mkdtemp(prefix="fp data "))  # a space, like "Application Support"
    path.chmod(0o711)
    yield path
    for profile in ("default", "demo"):
        root = path / "embedded" / profile
        if root.exists():
            EmbeddedCluster(root).stop()
    shutil.rmtree(path, ignore_errors=True)


def factorypulse(*args: str, data_dir: Path,
                 extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "FACTORYPULSE_DATABASE_URL"}
    env["FACTORYPULSE_DATA_DIR"] = str(data_dir)
    env.update(extra_env or {})
    return subprocess.run(
        [sys.executable, "-m", "factorypulse_desktop.cli", *args],
        env=env, capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )


def test_demo_seed_fills_a_new_embedded_cluster_once(data_dir: Path) -> None:
    first = factorypulse("demo", "seed", data_dir=data_dir)
    assert first.returncode == 0, first.stderr
    assert "Demo data added: 2 organizations, 18 people" in first.stdout
    second = factorypulse("demo", "seed", data_dir=data_dir)
    assert second.returncode == 0, second.stderr
    assert "already there" in second.stdout
    status = factorypulse("db", "status", data_dir=data_dir)
    assert status.returncode == 0 and "Up to date" in status.stdout

    cluster = EmbeddedCluster(data_dir / "embedded" / "default")
    # Each command stopped the server it started: no orphan is left behind.
    assert not cluster.is_running()
    cluster.start()
    try:
        conninfo = cluster.conninfo("factorypulse", user="acme.admin",
                                    password="factorypulse-demo")
        with psycopg.connect(conninfo) as conn:
            slugs = [r[0] for r in conn.execute("SELECT slug FROM organizations")]
            projects = conn.execute("SELECT count(*) FROM projects").fetchone()
        assert slugs == ["acme"]
        assert projects is not None and projects[0] > 10
    finally:
        cluster.stop()


def test_demo_flag_opens_the_main_window_on_the_separate_demo_cluster(
    data_dir: Path, tmp_path: Path
) -> None:
    env_extra = {"QT_QPA_PLATFORM": "offscreen", "FACTORYPULSE_CONFIG_DIR": str(tmp_path),
                 "XDG_CONFIG_HOME": str(tmp_path)}
    result = factorypulse("--demo", "--smoke-test", data_dir=data_dir, extra_env=env_extra)
    assert result.returncode == 0, result.stderr
    assert "main window ready" in result.stdout
    assert (data_dir / "embedded" / "demo").is_dir()
    assert not (data_dir / "embedded" / "default").exists()
