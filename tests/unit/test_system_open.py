"""Opening addresses and files: a bundle's library paths never reach the browser or viewer."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

from factorypulse_desktop.ui import system_open

BUNDLE = "/opt/factorypulse/_internal"


class Recorder:
    """Stands in for QDesktopServices.openUrl: what it was asked, with the environment then."""

    def __init__(self, answer: bool = True) -> None:
        self.calls: list[tuple[QUrl, dict[str, str | None]]] = []
        self.answer = answer

    def __call__(self, url: QUrl) -> bool:
        seen = {name: os.environ.get(name) for name in (
            "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "DYLD_FRAMEWORK_PATH", "HOME")}
        self.calls.append((url, seen))
        return self.answer


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Recorder:
    fake = Recorder()
    monkeypatch.setattr(QDesktopServices, "openUrl", fake)
    return fake


def _bundle_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """What PyInstaller's bootloader leaves: its own paths, the user's kept in *_ORIG."""
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", BUNDLE)
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/home/anna/lib")
    monkeypatch.setenv("DYLD_LIBRARY_PATH", BUNDLE)
    monkeypatch.delenv("DYLD_LIBRARY_PATH_ORIG", raising=False)
    monkeypatch.setenv("DYLD_FRAMEWORK_PATH", BUNDLE)
    monkeypatch.setenv("DYLD_FRAMEWORK_PATH_ORIG", "/Library/Frameworks")


def test_in_a_bundle_the_launched_program_gets_the_users_environment(
        recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    _bundle_environment(monkeypatch)
    home = os.environ.get("HOME")
    assert system_open.open_url(QUrl("https://drive.google.com/file/d/abc/view")) is True
    (url, seen), = recorder.calls
    assert url.toString() == "https://drive.google.com/file/d/abc/view"
    assert seen == {"LD_LIBRARY_PATH": "/home/anna/lib", "DYLD_LIBRARY_PATH": None,
                    "DYLD_FRAMEWORK_PATH": "/Library/Frameworks", "HOME": home}
    # The app itself goes on with the bundle's paths.
    assert os.environ["LD_LIBRARY_PATH"] == BUNDLE
    assert os.environ["DYLD_LIBRARY_PATH"] == BUNDLE
    assert os.environ["DYLD_FRAMEWORK_PATH"] == BUNDLE


def test_in_a_bundle_without_originals_the_variables_are_removed(
        recorder: Recorder, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    _bundle_environment(monkeypatch)
    monkeypatch.delenv("LD_LIBRARY_PATH_ORIG")
    monkeypatch.setenv("DYLD_FRAMEWORK_PATH_ORIG", "")  # empty counts as "was not set"
    drawing = tmp_path / "drawing 1.pdf"
    assert system_open.open_file(drawing) is True
    (url, seen), = recorder.calls
    assert url.isLocalFile() and Path(url.toLocalFile()) == drawing
    assert seen["LD_LIBRARY_PATH"] is None
    assert seen["DYLD_FRAMEWORK_PATH"] is None
    assert os.environ["LD_LIBRARY_PATH"] == BUNDLE


def test_restored_even_when_opening_fails(
        monkeypatch: pytest.MonkeyPatch) -> None:
    _bundle_environment(monkeypatch)

    def broken(_url: QUrl) -> bool:
        assert os.environ["LD_LIBRARY_PATH"] == "/home/anna/lib"
        raise RuntimeError("no handler")

    monkeypatch.setattr(QDesktopServices, "openUrl", broken)
    with pytest.raises(RuntimeError):
        system_open.open_url(QUrl("https://example.com"))
    assert os.environ["LD_LIBRARY_PATH"] == BUNDLE


def test_from_source_nothing_changes(recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setenv("LD_LIBRARY_PATH", "/usr/local/lib")
    monkeypatch.setenv("LD_LIBRARY_PATH_ORIG", "/somewhere/else")
    recorder.answer = False
    assert system_open.open_url(QUrl("https://example.com")) is False
    assert recorder.calls[0][1]["LD_LIBRARY_PATH"] == "/usr/local/lib"


def test_the_app_opens_nothing_with_qdesktopservices_directly() -> None:
    """Every place that opens something goes through system_open (or a test hook over it)."""
    root = Path(system_open.__file__).resolve().parent
    offenders = [str(p.relative_to(root)) for p in root.rglob("*.py")
                 if p.name != "system_open.py" and "QDesktopServices" in p.read_text("utf-8")]
    assert offenders == []
