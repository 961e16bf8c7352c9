"""Open an address in the browser or a file with its usual program, as the system would.

Use these instead of ``QDesktopServices.openUrl``. An installed bundle (PyInstaller) points
``LD_LIBRARY_PATH`` at its own libraries, and Qt hands the current environment to
``xdg-open``/``open``, so the browser or viewer would load the bundle's libraries and may fail
to start. While it is launched, the variables are put back as they were when the app started
(PyInstaller keeps the original in ``<NAME>_ORIG``, or the variable was not set), then
restored for the app. Outside a bundle nothing changes.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices

# Search paths a bundle sets for its own libraries (Linux; macOS).
LIBRARY_PATH_VARS = ("LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH", "DYLD_FRAMEWORK_PATH")
_lock = threading.Lock()


def _frozen() -> bool:
    return bool(getattr(sys, "frozen", False))


@contextmanager
def launch_environment() -> Iterator[None]:
    """Inside the block, ``os.environ`` is what the app was started with, as far as library
    search paths go (a bundle only); afterwards it is the bundle's again."""
    if not _frozen():
        yield
        return
    with _lock:  # two openings at once must not restore each other's half-changed state
        saved = {name: os.environ.get(name) for name in LIBRARY_PATH_VARS}
        try:
            for name in LIBRARY_PATH_VARS:
                original = os.environ.get(f"{name}_ORIG")
                if original:
                    os.environ[name] = original
                else:
                    os.environ.pop(name, None)
            yield
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


def open_url(url: QUrl) -> bool:
    """Open `url` with the system's handler (browser, mail, file viewer); False if it could
    not be handed over."""
    with launch_environment():
        return bool(QDesktopServices.openUrl(url))


def open_file(path: Path | str) -> bool:
    """Open a local file or folder with the program the system uses for it."""
    return open_url(QUrl.fromLocalFile(str(path)))
