"""The app's log file: where it is, rotation, and the filter that keeps secrets out of it.

:func:`configure_logging` (called first thing by the ``factorypulse`` command, GUI or not)
writes to ``factorypulse.log`` in the platform's log folder (``FACTORYPULSE_LOG_DIR``
overrides it), rotating at :data:`MAX_BYTES` with :data:`BACKUP_COUNT` old files, and sends
warnings to the terminal when there is one (what Python did before any handler existed).

Every record that reaches our handlers goes through :class:`RedactingFilter` first:
passwords, tokens and secrets in the message, its arguments, the exception text and the stack
are replaced with ``***`` (:func:`redact`). The filter is the safety net; code should still
not log secrets in the first place.

Cheap at start-up: only the standard library and platformdirs (already loaded by the paths).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import re
import sys
import threading
from collections.abc import Callable
from pathlib import Path

import platformdirs

from factorypulse_desktop.runtime.paths import APP_NAME

LOG_DIR_ENV_VAR = "FACTORYPULSE_LOG_DIR"
LOG_LEVEL_ENV_VAR = "FACTORYPULSE_LOG_LEVEL"
LOG_FILE = "factorypulse.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"
MASK = "***"
# Our own package logs at INFO and above; other libraries keep Python's default (WARNING),
# and those that need a stricter rule set it themselves (integrations/gdrive/oauth.py).
PACKAGE_LOGGER = "factorypulse_desktop"

_lock = threading.Lock()
_file_handler: logging.Handler | None = None
_console_handler: logging.Handler | None = None
_hooked = False


def log_dir() -> Path:
    """The folder of the log files (``FACTORYPULSE_LOG_DIR`` overrides the platform's).

    Linux: ``~/.local/state/factorypulse-desktop/log``; macOS: ``~/Library/Logs/
    factorypulse-desktop``; Windows: ``%LOCALAPPDATA%\\factorypulse-desktop\\Logs``. As root
    the user's own folder is right: only this process writes there (unlike the data folder,
    which PostgreSQL's unprivileged account must reach; see runtime/paths.py).
    """
    override = os.environ.get(LOG_DIR_ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser().absolute()
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def log_file() -> Path:
    """The current log file (older ones beside it end in ``.1`` … ``.5``)."""
    return log_dir() / LOG_FILE


# --- redaction ----------------------------------------------------------------------------

# Names whose value is a secret, in key=value, key: value, "key": "value" and conninfo forms.
# Not preceded by a letter, so PGPASSWORD and db_password count but "passwords" alone does not
# need a value to be masked.
_SECRET_KEYS = (
    r"pgpassword|password|passwd|pwd|passphrase|client_secret|secret|access_token|"
    r"refresh_token|id_token|api_key|apikey|auth_token|token"
)
_VALUE = r"""(?:'(?:\\.|[^'\\])*'|"(?:\\.|[^"\\])*"|[^\s&,;'"}\])]+)"""
_RULES: tuple[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]], ...] = (
    # scheme://user:secret@host -> scheme://user:***@host
    (re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^:/@\s]*):[^@\s/]*@"), rf"\1:{MASK}@"),
    # Authorization: Bearer <token> (and Basic, or a bare value)
    (re.compile(r"(?i)(authorization[\"']?\s*[:=]\s*[\"']?)(?:(?:bearer|basic|token)\s+)?"
                r"[^\s\"',;]+"), rf"\1{MASK}"),
    (re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}"), rf"\1{MASK}"),
    # password=…, "refresh_token": "…", PGPASSWORD=…, conninfo password='…'
    (re.compile(rf"(?i)(?<![a-z])([\"']?(?:{_SECRET_KEYS})[\"']?\s*[:=]\s*){_VALUE}"),
     rf"\1{MASK}"),
    # an OAuth authorization code in a query string or a form body
    (re.compile(r"(?i)(?<![a-z_])(code=)[^\s&\"']+"), rf"\1{MASK}"),
    # Google tokens wherever they appear: access tokens, refresh tokens, codes, client secrets
    (re.compile(r"\bya29\.[0-9A-Za-z._-]+"), f"ya29.{MASK}"),
    (re.compile(r"(?<![A-Za-z0-9/:])1//[0-9A-Za-z._-]+"), f"1//{MASK}"),
    (re.compile(r"(?<![A-Za-z0-9/])4/0[0-9A-Za-z._-]{8,}"), f"4/{MASK}"),
    (re.compile(r"\bGOCSPX-[0-9A-Za-z._-]+"), f"GOCSPX-{MASK}"),
    # a PostgreSQL SCRAM verifier is as good as the password for a dictionary attack
    (re.compile(r"SCRAM-SHA-256\$[^\s'\"]+"), f"SCRAM-SHA-256${MASK}"),
)


def redact(text: str) -> str:
    """`text` with every password, token and secret that we recognize replaced by ``***``."""
    if not text:
        return text
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets in a record before any handler formats it (message, arguments,
    exception and stack text). Always lets the record through."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: keep both, masked
            message = f"{record.msg!s} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class _StderrHandler(logging.StreamHandler):
    """Writes to whatever ``sys.stderr`` is now (tests swap it), and nothing without one
    (a windowed app on Windows has none)."""

    def __init__(self) -> None:
        super().__init__(None)

    @property
    def stream(self) -> object:
        return sys.stderr

    @stream.setter
    def stream(self, _value: object) -> None:  # StreamHandler.__init__ assigns it
        pass

    def emit(self, record: logging.LogRecord) -> None:
        if sys.stderr is not None:
            super().emit(record)


def _level_from_env() -> int:
    name = os.environ.get(LOG_LEVEL_ENV_VAR, "").strip().upper()
    level = logging.getLevelName(name) if name else logging.INFO
    return level if isinstance(level, int) else logging.INFO


def configure_logging(*, console: bool = True) -> Path | None:
    """Send the app's log records to the rotating log file (and warnings to stderr).

    Returns the log file, or None when its folder cannot be written (then only the terminal
    gets warnings, and the app runs on). Calling it again changes nothing.
    """
    global _file_handler, _console_handler
    with _lock:
        root = logging.getLogger()
        package = logging.getLogger(PACKAGE_LOGGER)
        if package.level == logging.NOTSET:
            package.setLevel(_level_from_env())
        formatter = logging.Formatter(FORMAT)
        if console and _console_handler is None:
            handler: logging.Handler = _StderrHandler()
            handler.setLevel(logging.WARNING)
            handler.addFilter(RedactingFilter())
            handler.setFormatter(logging.Formatter("factorypulse: %(levelname)s: %(message)s"))
            root.addHandler(handler)
            _console_handler = handler
        if _file_handler is not None:
            return Path(getattr(_file_handler, "baseFilename", log_file()))
        path = log_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            file_handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8")
        except OSError as error:
            logging.getLogger(__name__).warning("Cannot write the log file %s: %s", path, error)
            return None
        file_handler.setLevel(logging.DEBUG)
        file_handler.addFilter(RedactingFilter())
        file_handler.setFormatter(formatter)
        root.addHandler(file_handler)
        _file_handler = file_handler
    return path


def log_start(what: str) -> None:
    """One line at start: which version runs what, where (no arguments' values: they may hold
    a URL with a password, which the filter would mask anyway)."""
    import platform

    logging.getLogger(PACKAGE_LOGGER).info(
        "Factory Pulse %s starting: %s (Python %s, %s%s)", _version(), what,
        platform.python_version(), sys.platform, ", installed bundle"
        if getattr(sys, "frozen", False) else "")


def _version() -> str:
    from factorypulse_desktop import __version__

    return __version__


def log_uncaught_exceptions() -> None:
    """Errors nobody caught (in Qt slots, in threads) go to the log, then on as before."""
    previous = sys.excepthook
    previous_thread = threading.excepthook
    log = logging.getLogger(PACKAGE_LOGGER)

    def hook(kind: type[BaseException], error: BaseException, tb: object) -> None:
        if not issubclass(kind, KeyboardInterrupt):
            log.critical("Unexpected error", exc_info=(kind, error, tb))  # type: ignore[arg-type]
        previous(kind, error, tb)  # type: ignore[arg-type]

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_type is not SystemExit and args.exc_value is not None:
            log.critical("Unexpected error in thread %s",
                         args.thread.name if args.thread else "?",
                         exc_info=(args.exc_type, args.exc_value, args.exc_traceback))
        previous_thread(args)

    global _hooked
    with _lock:
        if _hooked:
            return
        _hooked = True
    sys.excepthook = hook
    threading.excepthook = thread_hook


def unconfigure_logging() -> None:
    """Remove the handlers :func:`configure_logging` added (tests)."""
    global _file_handler, _console_handler
    with _lock:
        root = logging.getLogger()
        for handler in (_file_handler, _console_handler):
            if handler is not None:
                root.removeHandler(handler)
                handler.close()
        _file_handler = _console_handler = None


def tail(lines: int = 50, path: Path | None = None) -> list[str]:
    """The last `lines` lines of the log file, redacted again; empty when there is none.

    Blocking (reads a file): not on the GUI thread.
    """
    path = path or log_file()
    try:
        with path.open("rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            # The file rotates at 2 MB; the last 256 KB hold far more than 50 lines.
            handle.seek(max(0, size - 256 * 1024))
            data = handle.read()
    except OSError:
        return []
    text = data.decode("utf-8", errors="replace")
    kept = text.splitlines()[-lines:] if lines > 0 else []
    return [redact(line) for line in kept]
