"""The log file: where it goes, rotation, and that no password or token ever lands in it."""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from factorypulse_desktop.runtime import logs

PASSWORD = "Hunter2-s3cret!"
ACCESS = "ya29.a0AfH6SMBx-access-token_value"
REFRESH = "1//0gFake-refresh-token-Value_123"


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fresh configuration writing into tmp_path; the previous one comes back after."""
    folder = tmp_path / "logs"
    monkeypatch.setenv(logs.LOG_DIR_ENV_VAR, str(folder))
    package = logging.getLogger(logs.PACKAGE_LOGGER)
    level = package.level
    saved = (logs._file_handler, logs._console_handler)
    root = logging.getLogger()
    for handler in saved:
        if handler is not None:
            root.removeHandler(handler)
    logs._file_handler = logs._console_handler = None
    package.setLevel(logging.NOTSET)
    try:
        yield folder
    finally:
        logs.unconfigure_logging()
        package.setLevel(level)
        logs._file_handler, logs._console_handler = saved
        for handler in saved:
            if handler is not None:
                root.addHandler(handler)


@pytest.mark.parametrize(("text", "secret"), [
    (f"connecting with password={PASSWORD} host=db", PASSWORD),
    (f"host=db user=anna password='{PASSWORD} x' dbname=fp", PASSWORD),
    (f"PGPASSWORD={PASSWORD} pg_dump", PASSWORD),
    (f"DB_PASSWORD: {PASSWORD}", PASSWORD),
    (f"postgresql+psycopg://anna:{PASSWORD}@db.example.com:5432/fp", PASSWORD),
    (f"https://user:{PASSWORD}@example.com/path", PASSWORD),
    (f"Authorization: Bearer {ACCESS}", ACCESS),
    ("headers {'Authorization': 'Basic YW5uYTpodW50ZXIy'}", "YW5uYTpodW50ZXIy"),
    (f'{{"access_token": "{ACCESS}", "refresh_token": "{REFRESH}"}}', ACCESS),
    (f'{{"access_token": "{ACCESS}", "refresh_token": "{REFRESH}"}}', REFRESH),
    (f"grant_type=refresh_token&refresh_token={REFRESH}&client_secret=GOCSPX-abcDEF123",
     REFRESH),
    ("client_secret=GOCSPX-abcDEF123&x=1", "GOCSPX-abcDEF123"),
    ("token endpoint said GOCSPX-abcDEF123 is wrong", "abcDEF123"),
    ("GET /?state=xyz&code=4/0AX4XfWjSecretCode&scope=drive", "4/0AX4XfWjSecretCode"),
    (f"a token in free text: {ACCESS}.", "a0AfH6SMBx"),
    (f"a refresh token in free text: {REFRESH}", "0gFake"),
    ("ALTER ROLE x PASSWORD 'SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy'", "c2FsdA=="),
])
def test_redact_masks_secrets(text: str, secret: str) -> None:
    masked = logs.redact(text)
    assert secret not in masked
    assert logs.MASK in masked


@pytest.mark.parametrize("text", [
    "Signed in as acme.admin to fp on db.example.com:5432 (2 organizations)",
    'password authentication failed for user "anna"',
    "Enter your password.",
    "https://www.googleapis.com/drive/v3/files?pageSize=100",
    "Keyring: using keyring.backends.SecretService.Keyring",
    "Backup written to /home/anna/Factory Pulse/backups/2026-01-01.dump (exit code 0)",
])
def test_redact_keeps_ordinary_text(text: str) -> None:
    assert logs.redact(text) == text


def _record(msg: str, *args: object, exc: BaseException | None = None) -> logging.LogRecord:
    exc_info = (type(exc), exc, exc.__traceback__) if exc is not None else None
    return logging.LogRecord("factorypulse_desktop.test", logging.ERROR, __file__, 1, msg,
                             args, exc_info)


def test_filter_masks_message_arguments_and_exception_text() -> None:
    try:
        raise RuntimeError(f"could not connect: password={PASSWORD}")
    except RuntimeError as error:
        record = _record("retrying %s with %r", "postgresql://anna:" + PASSWORD + "@db/fp",
                         {"refresh_token": REFRESH}, exc=error)
    assert logs.RedactingFilter().filter(record) is True
    text = logging.Formatter(logs.FORMAT).format(record)
    assert "retrying postgresql://anna:***@db/fp" in text
    assert "RuntimeError: could not connect: password=***" in text
    assert PASSWORD not in text and REFRESH not in text


def test_filter_survives_arguments_that_do_not_fit() -> None:
    record = _record("two %s %s", f"password={PASSWORD}")
    logs.RedactingFilter().filter(record)
    assert PASSWORD not in record.getMessage()


def test_configure_writes_a_rotating_utf8_file_without_secrets(log_dir: Path) -> None:
    path = logs.configure_logging(console=False)
    assert path == log_dir / "factorypulse.log"
    assert logs.configure_logging(console=False) == path  # again: nothing added
    handlers = [h for h in logging.getLogger().handlers
                if isinstance(h, logging.handlers.RotatingFileHandler)
                and Path(h.baseFilename) == path]
    assert len(handlers) == 1
    assert handlers[0].maxBytes == 2 * 1024 * 1024 and handlers[0].backupCount == 5
    log = logging.getLogger("factorypulse_desktop.some.module")
    log.info("Grüße from the shop floor, password=%s", PASSWORD)
    logging.getLogger("some.library").info("a library's INFO stays out")
    logging.getLogger("some.library").warning("a library's warning goes in")
    handlers[0].flush()
    text = path.read_text(encoding="utf-8")
    assert "INFO    factorypulse_desktop.some.module [MainThread] Grüße from the shop floor, " \
           "password=***" in text
    assert PASSWORD not in text
    assert "a library's INFO" not in text
    assert "a library's warning goes in" in text


def test_console_gets_warnings_on_the_current_stderr(
        log_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    logs.configure_logging()
    log = logging.getLogger("factorypulse_desktop.cli_test")
    log.info("only in the file")
    log.warning("Disk nearly full; token=%s", ACCESS)
    err = capsys.readouterr().err
    assert "factorypulse: WARNING: Disk nearly full; token=***" in err
    assert "only in the file" not in err
    assert ACCESS not in err


def test_no_stderr_is_no_error(log_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    logs.configure_logging()
    monkeypatch.setattr(sys, "stderr", None)  # a windowed app on Windows
    logging.getLogger("factorypulse_desktop.x").warning("nobody to tell")


def test_unwritable_folder_leaves_the_app_running(
        log_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = log_dir.parent / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(logs.LOG_DIR_ENV_VAR, str(blocker / "logs"))
    assert logs.configure_logging(console=False) is None


def test_tail_gives_the_last_lines_masked(tmp_path: Path) -> None:
    path = tmp_path / "factorypulse.log"
    lines = [f"line {i}" for i in range(200)] + [f"last: password={PASSWORD}"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tail = logs.tail(50, path)
    assert len(tail) == 50
    assert tail[0] == "line 151"
    assert tail[-1] == "last: password=***"
    assert logs.tail(50, tmp_path / "missing.log") == []


def test_default_folder_is_the_platforms(monkeypatch: pytest.MonkeyPatch) -> None:
    import platformdirs

    monkeypatch.delenv(logs.LOG_DIR_ENV_VAR, raising=False)
    assert logs.log_dir() == Path(platformdirs.user_log_dir("factorypulse-desktop",
                                                           appauthor=False))


def test_the_command_logs_its_start_but_not_its_arguments(
        log_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from factorypulse_desktop import cli

    with pytest.raises(SystemExit):
        cli.main(["--version"])
    assert not log_dir.exists(), "--version leaves no log folder behind"
    missing = tmp_path / "no-such-folder"
    url = f"postgresql://owner:{PASSWORD}@db.example.com/fp"
    assert cli.main(["import", "factory-pulse-web", str(missing), "--database-url", url]) == 2
    text = (log_dir / "factorypulse.log").read_text(encoding="utf-8")
    assert "Factory Pulse " in text and "starting: command import web" in text
    assert PASSWORD not in text and "db.example.com" not in text
    capsys.readouterr()


def test_uncaught_errors_are_logged_masked_then_handled_as_before(
        log_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    seen: list[type[BaseException]] = []
    monkeypatch.setattr(sys, "excepthook", lambda kind, _e, _tb: seen.append(kind))
    monkeypatch.setattr(threading, "excepthook", lambda args: seen.append(args.exc_type))
    monkeypatch.setattr(logs, "_hooked", False)
    path = logs.configure_logging(console=False)
    assert path is not None
    logs.log_uncaught_exceptions()
    try:
        raise ValueError(f"bad conninfo password={PASSWORD}")
    except ValueError as error:
        sys.excepthook(ValueError, error, error.__traceback__)
    worker = threading.Thread(target=lambda: 1 / 0, name="worker-x")
    worker.start()
    worker.join()
    assert seen == [ValueError, ZeroDivisionError]
    text = path.read_text(encoding="utf-8")
    assert "CRITICAL factorypulse_desktop [MainThread] Unexpected error" in text
    assert "ValueError: bad conninfo password=***" in text
    assert "Unexpected error in thread worker-x" in text and "ZeroDivisionError" in text
    assert PASSWORD not in text
