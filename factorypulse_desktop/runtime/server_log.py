"""The server's log file (``log/postgresql.log``): rotation, and its tail for error messages."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

LOG_NAME = "postgresql.log"
LOG_ROTATE_BYTES = 10 * 1024 * 1024
LOG_TAIL_LINES = 20


def tail(path: Path, offset: int = 0, lines: int = LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of ``path`` written after ``offset``."""
    try:
        with path.open("rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(offset, size - 64 * 1024, 0))
            text = fh.read().decode("utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def rotate_log(log_file: Path) -> None:
    """Move a log larger than LOG_ROTATE_BYTES to ``<name>.1`` (replacing the previous one)."""
    with contextlib.suppress(FileNotFoundError):
        if log_file.stat().st_size > LOG_ROTATE_BYTES:
            os.replace(log_file, log_file.with_name(LOG_NAME + ".1"))
