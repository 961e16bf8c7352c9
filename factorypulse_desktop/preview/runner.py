"""Rendering a document's preview in a separate process, under a timeout and a memory cap.

T-IN-07: a hostile file (zip bomb, 50,000 x 50,000 PNG, malformed PDF, huge text) may at
worst cost the worker process its life, never the app's window or memory. Called from a
worker thread with the file already in a local temporary file. No Qt here: services call
this (import-linter checks it); the Qt decoding happens in `preview.worker`.
"""

from __future__ import annotations

import json
import logging
import math
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psutil

from factorypulse_desktop.domain.errors import UserFacingError

log = logging.getLogger(__name__)

KINDS = frozenset({"image", "pdf", "text"})
POLL_SECONDS = 0.05
_MIB = 1024 * 1024
_STDOUT_LIMIT = 64 * 1024  # the reply is one short JSON line
_STDERR_LIMIT = 2 * 1024  # the tail: where a traceback names its exception

_MESSAGES = {
    "unsupported": "This file type has no preview. Open it in its application instead.",
    "timeout": "The preview took too long and was stopped.",
    "too_large": "The file is too large to preview.",
    "memory": "The preview needed too much memory and was stopped.",
    "damaged": "This file could not be read: it may be damaged.",
    "protected": "This PDF is protected by a password and has no preview.",
    "failed": "The preview could not be started.",
    "cancelled": "Preview cancelled.",
}

_IMAGE_SUFFIXES = frozenset({"png", "jpg", "jpeg", "gif", "bmp", "webp", "tif", "tiff"})
# Plain text that job shops exchange: CAD exchange formats and NC programs are text too.
_TEXT_SUFFIXES = frozenset({
    "txt", "csv", "md", "log", "json", "xml", "dxf", "step", "stp", "igs", "iges",
    "nc", "gcode", "ini", "yaml", "yml",
})
_IMAGE_MIME_TYPES = frozenset({
    "image/png", "image/jpeg", "image/gif", "image/bmp", "image/webp", "image/tiff",
})
_TEXT_MIME_TYPES = frozenset({"application/json", "application/xml"})


@dataclass(frozen=True)
class PreviewResult:
    """A rendered preview: a PNG (images, PDF pages) or plain text, plus a short note."""

    kind: str  # "image" | "text"
    png_path: Path | None
    text: str | None
    page_count: int | None
    note: str | None  # e.g. "Page 1 of 12", "First 200 KB shown"


class PreviewError(UserFacingError):
    """No preview; `str()` is for the user, `code` for the program, `detail` for the log."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(_MESSAGES.get(code, _MESSAGES["damaged"]))
        self.code = code if code in _MESSAGES else "damaged"
        self.detail = detail  # the worker's stderr: never shown to the user


class PreviewCancelled(PreviewError):
    """The caller's `cancelled()` said so; the worker was stopped."""

    def __init__(self) -> None:
        super().__init__("cancelled")


def preview_kind(file_name: str, mime_type: str | None) -> str | None:
    """"image", "pdf", "text" or None (no preview), from the name's suffix, else the type."""
    suffix = file_name.rpartition(".")[2].lower() if "." in file_name else ""
    if suffix in _IMAGE_SUFFIXES:
        return "image"
    if suffix == "pdf":
        return "pdf"
    if suffix in _TEXT_SUFFIXES:
        return "text"
    return _kind_from_mime_type(mime_type)


def _kind_from_mime_type(mime_type: str | None) -> str | None:
    essence = (mime_type or "").partition(";")[0].strip().lower()
    if essence in _IMAGE_MIME_TYPES:
        return "image"
    if essence == "application/pdf":
        return "pdf"
    if essence.startswith("text/") or essence in _TEXT_MIME_TYPES:
        return "text"
    return None


def worker_command() -> list[str]:
    """The program and first arguments that start `preview.worker`."""
    if getattr(sys, "frozen", False):
        # The packaged app's entry point dispatches on this flag to preview.worker.main.
        return [sys.executable, "--preview-worker"]
    return [sys.executable, "-m", "factorypulse_desktop.preview.worker"]


def render_preview(
    source: Path,
    kind: str,
    out_dir: Path,
    *,
    max_side: int = 1600,
    page: int = 0,
    timeout_s: float = 15.0,
    memory_mb: int = 512,
    cancelled: Callable[[], bool] | None = None,
    command: list[str] | None = None,
) -> PreviewResult:
    """Render `source` as `kind` in a worker process; its PNG or text file lands in `out_dir`.

    Blocks (up to `timeout_s`): call it from a worker thread, never the GUI thread. `command`
    replaces `worker_command()` (tests start misbehaving workers with it). Raises
    PreviewError (PreviewCancelled when `cancelled()` turned true).
    """
    _check_limits(max_side, timeout_s, memory_mb)
    if kind not in KINDS:
        raise PreviewError("unsupported")
    argv = [*(command or worker_command()),
            *_worker_arguments(source, kind, out_dir, max_side, page, timeout_s, memory_mb)]
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        # Files, not pipes: a chatty worker cannot block on a full pipe nobody reads.
        process = _start(argv, stdout, stderr)
        try:
            stopped_for = _supervise(process, timeout_s, memory_mb * _MIB, cancelled)
        finally:
            _reap(process)
        reply_text = _read_head(stdout, _STDOUT_LIMIT)
        error_text = _read_tail(stderr, _STDERR_LIMIT)
    return _outcome(stopped_for, process.returncode, reply_text, error_text, out_dir)


def _check_limits(max_side: int, timeout_s: float, memory_mb: int) -> None:
    # A zero would mean "no limit" to Qt's allocation limit: a caller's bug, not the file's.
    if max_side < 1 or memory_mb < 1 or not timeout_s > 0:
        raise ValueError(f"bad preview limits: {max_side=}, {timeout_s=}, {memory_mb=}")


def _worker_arguments(source: Path, kind: str, out_dir: Path, max_side: int, page: int,
                      timeout_s: float, memory_mb: int) -> list[str]:
    # "--name=value": a path starting with "-" cannot pass for an option.
    return [
        f"--kind={kind}", f"--source={source}", f"--out={out_dir}",
        f"--max-side={max_side}", f"--page={page}", f"--memory-mb={memory_mb}",
        # RLIMIT_CPU: a second guard should this process die before it can kill the worker.
        f"--cpu-seconds={math.ceil(timeout_s) + 1}",
    ]


def _start(argv: list[str], stdout: IO[bytes], stderr: IO[bytes]) -> subprocess.Popen[bytes]:
    # No preexec_fn: it is unsafe in a multi-threaded (Qt) process; the worker limits itself.
    try:
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr,
                                creationflags=_creation_flags())
    except OSError as exc:
        raise PreviewError("failed", str(exc)) from exc


def _creation_flags() -> int:
    if sys.platform == "win32":
        return subprocess.CREATE_NO_WINDOW  # no console window flashing up per preview
    return 0


def _supervise(process: subprocess.Popen[bytes], timeout_s: float, memory_bytes: int,
               cancelled: Callable[[], bool] | None) -> str | None:
    """Wait for the worker; "timeout", "memory" or "cancelled" when it must be stopped."""
    deadline = time.monotonic() + timeout_s
    watched = _watchable(process.pid)
    while True:
        try:
            process.wait(timeout=POLL_SECONDS)
            return None
        except subprocess.TimeoutExpired:
            pass
        if cancelled is not None and cancelled():
            return "cancelled"
        if time.monotonic() >= deadline:
            return "timeout"
        # Belt and braces for RLIMIT_AS, which Windows lacks and macOS ignores.
        if _resident_bytes(watched) > memory_bytes:
            return "memory"


def _watchable(pid: int) -> psutil.Process | None:
    try:
        return psutil.Process(pid)
    except psutil.Error:
        return None  # already gone: wait() reports it next


def _resident_bytes(process: psutil.Process | None) -> int:
    if process is None:
        return 0
    try:
        return int(process.memory_info().rss)
    except psutil.Error:
        return 0


def _reap(process: subprocess.Popen[bytes]) -> None:
    """Kill the worker if it still runs and wait for it: no orphan, no zombie."""
    if process.poll() is None:
        process.kill()
    process.wait()


def _read_head(stream: IO[bytes], limit: int) -> str:
    stream.seek(0)
    return stream.read(limit).decode("utf-8", errors="replace")


def _read_tail(stream: IO[bytes], limit: int) -> str:
    size = stream.seek(0, 2)
    stream.seek(max(0, size - limit))
    return stream.read(limit).decode("utf-8", errors="replace")


def _outcome(stopped_for: str | None, returncode: int, reply_text: str, error_text: str,
             out_dir: Path) -> PreviewResult:
    if stopped_for == "cancelled":
        raise PreviewCancelled()
    if stopped_for is not None:
        raise PreviewError(stopped_for, error_text)
    reply = _parse_reply(reply_text)
    if returncode != 0 or reply is None or reply.get("ok") is not True:
        code = _failure_code(reply, returncode, error_text)
        if error_text.strip():  # a crash or traceback, not a plain refusal: worth a look
            log.warning("Preview worker failed (exit %s, %s): %s", returncode, code, error_text)
        raise PreviewError(code, error_text)
    return _result_from_reply(reply, out_dir)


def _parse_reply(text: str) -> dict[str, Any] | None:
    """The worker's JSON reply: its last non-empty line on stdout."""
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        return None
    try:
        reply = json.loads(lines[-1])
    except ValueError:
        return None
    return reply if isinstance(reply, dict) else None


def _failure_code(reply: dict[str, Any] | None, returncode: int, error_text: str) -> str:
    code = reply.get("error") if reply is not None else None
    if isinstance(code, str) and code in _MESSAGES:
        return code
    if "MemoryError" in error_text or "bad_alloc" in error_text:
        return "memory"
    if sys.platform != "win32" and returncode == -signal.SIGXCPU:
        return "timeout"  # its own RLIMIT_CPU
    return "damaged"


def _result_from_reply(reply: dict[str, Any], out_dir: Path) -> PreviewResult:
    kind = reply.get("kind")
    if kind == "image":
        return PreviewResult("image", _own_file(reply.get("png"), out_dir), None,
                             _optional_int(reply.get("page_count")), _note(reply))
    if kind == "text":
        return PreviewResult("text", None, _take_text(_own_file(reply.get("text_path"), out_dir)),
                             None, _note(reply))
    raise PreviewError("damaged", f"unexpected reply: {reply!r}"[:_STDERR_LIMIT])


def _own_file(name: object, out_dir: Path) -> Path:
    """A file the worker wrote: directly in out_dir, nowhere else."""
    if not isinstance(name, str):
        raise PreviewError("damaged", "reply names no file")
    path = Path(name).resolve()
    if path.parent != out_dir.resolve() or not path.is_file():
        raise PreviewError("damaged", f"reply names a file outside the output folder: {name}")
    return path


def _take_text(path: Path) -> str:
    # The text travels in the result: its file is only the worker's way of handing it over.
    try:
        return path.read_text(encoding="utf-8")
    finally:
        path.unlink(missing_ok=True)


def _optional_int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _note(reply: dict[str, Any]) -> str | None:
    note = reply.get("note")
    return note if isinstance(note, str) else None
