"""The packaged app's entry script (fast checks; the built bundle: test_linux_bundle.py)."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

import pytest

ENTRY = Path(__file__).resolve().parents[2] / "packaging" / "factorypulse_entry.py"


def _entry() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fp_entry", ENTRY)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def frozen_linux(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "platform", "linux")


def test_children_get_the_users_library_path_back(
        frozen_linux: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/app/_internal:/opt/userlib")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/opt/userlib")
    _entry().restore_library_path()
    assert os.environ["LD_LIBRARY_PATH"] == "/opt/userlib"
    assert os.environ["LD_LIBRARY_PATH_ORIG"] == "/opt/userlib"  # pgbinaries reads it


def test_no_library_path_when_the_user_had_none(
        frozen_linux: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LD_LIBRARY_PATH", "/opt/app/_internal")
    monkeypatch.delenv("LD_LIBRARY_PATH_ORIG", raising=False)
    _entry().restore_library_path()
    assert "LD_LIBRARY_PATH" not in os.environ


def test_running_from_source_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/somewhere")
    _entry().restore_library_path()
    assert os.environ["LD_LIBRARY_PATH"] == "/somewhere"


def test_preview_worker_flag_goes_to_the_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    import factorypulse_desktop.preview.worker as worker

    seen: list[list[str]] = []

    def fake_main(argv: list[str]) -> int:
        seen.append(argv)
        return 0

    monkeypatch.setattr(worker, "main", fake_main)
    monkeypatch.setattr(sys, "argv", ["factorypulse", "--preview-worker", "--kind", "pdf"])
    assert _entry().run() == 0
    assert seen == [["--kind", "pdf"]]
