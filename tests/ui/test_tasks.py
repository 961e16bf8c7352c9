"""The task runner: work off the GUI thread, outcomes back on it, cancel, progress, shutdown."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import QObject, QThread, QTimer, Slot
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.ui.tasks import (
    PROGRESS_INTERVAL_S,
    Cancelled,
    TaskRunner,
    TaskState,
    describe_error,
)

TIMEOUT_MS = 5000
LOGGER = "factorypulse_desktop.ui.tasks"


@pytest.fixture
def runner(qapp: QApplication) -> Iterator[TaskRunner]:
    runner = TaskRunner()
    yield runner
    runner.shutdown(timeout_ms=2000)


def on_gui_thread() -> bool:
    app = QApplication.instance()
    assert app is not None
    return QThread.currentThread() is app.thread()


def test_result_arrives_on_gui_thread_and_body_runs_elsewhere(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    app = QApplication.instance()
    assert app is not None
    body_threads: list[int] = []
    results: list[int] = []

    def body() -> int:
        body_threads.append(threading.get_ident())
        return 42

    def on_done(value: int) -> None:
        # A plain function, not a slot: the runner must still call it on the GUI thread.
        assert QThread.currentThread() is app.thread()
        results.append(value)

    handle = runner.run(body, on_done=on_done)
    qtbot.waitUntil(lambda: handle.done, timeout=TIMEOUT_MS)
    assert results == [42]
    assert body_threads and body_threads[0] != threading.get_ident()


def test_error_reaches_on_error_and_traceback_the_log(
    qtbot: QtBot, runner: TaskRunner, caplog: pytest.LogCaptureFixture
) -> None:
    errors: list[BaseException] = []
    banners: list[str] = []
    runner.sig_error.connect(banners.append)

    def body() -> None:
        raise ValueError("bad row 7")

    def on_error(error: BaseException) -> None:
        assert on_gui_thread()
        errors.append(error)

    with caplog.at_level(logging.INFO, logger=LOGGER):
        handle = runner.run(body, on_error=on_error)
        qtbot.waitUntil(lambda: handle.done, timeout=TIMEOUT_MS)
    assert len(errors) == 1 and isinstance(errors[0], ValueError)
    assert banners == []  # handled: no banner
    assert describe_error(errors[0]) == (
        "Something went wrong: bad row 7. The details are in the log."
    )
    logged = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert logged and logged[0].exc_info is not None
    assert logged[0].exc_info[1] is errors[0]


def test_unhandled_error_becomes_a_plain_banner_message(qtbot: QtBot, runner: TaskRunner) -> None:
    def body() -> None:
        raise KeyError("org_id")

    with qtbot.waitSignal(runner.sig_error, timeout=TIMEOUT_MS) as blocker:
        runner.run(body)
    message = blocker.args[0]
    assert message.startswith("Something went wrong: ")
    assert "org_id" in message
    assert "Traceback" not in message and "\n" not in message


def test_user_facing_error_text_is_shown_as_is(
    qtbot: QtBot, runner: TaskRunner, caplog: pytest.LogCaptureFixture
) -> None:
    def body() -> None:
        raise UserFacingError("That project number is already taken.")

    with (
        caplog.at_level(logging.INFO, logger=LOGGER),
        qtbot.waitSignal(runner.sig_error, timeout=TIMEOUT_MS) as blocker,
    ):
        runner.run(body)
    assert blocker.args == ["That project number is already taken."]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_generic_message_keeps_only_the_first_line() -> None:
    error = RuntimeError("connection lost\n[SQL: SELECT secret FROM t]\n(Background on ...)")
    assert describe_error(error) == (
        "Something went wrong: connection lost. The details are in the log."
    )
    assert describe_error(RuntimeError()) == (
        "Something went wrong: RuntimeError. The details are in the log."
    )


def test_cancel_stops_a_long_task(qtbot: QtBot, runner: TaskRunner) -> None:
    loops = 0
    stopped = threading.Event()
    outcome: list[str] = []

    def body(state: TaskState) -> str:
        nonlocal loops
        try:
            while True:
                state.check()
                loops += 1
                time.sleep(0.002)
        finally:
            stopped.set()

    def on_cancelled() -> None:
        assert on_gui_thread()
        outcome.append("cancelled")

    handle = runner.run_long(
        body,
        on_done=lambda _: outcome.append("done"),
        on_error=lambda e: outcome.append(f"error {e}"),
        on_cancelled=on_cancelled,
    )
    qtbot.waitUntil(lambda: loops >= 3, timeout=TIMEOUT_MS)
    assert not handle.done
    handle.cancel()
    assert stopped.wait(TIMEOUT_MS / 1000)
    qtbot.waitUntil(lambda: handle.done, timeout=TIMEOUT_MS)
    assert outcome == ["cancelled"]
    assert handle.cancelled


def test_state_sleep_wakes_on_cancel(qtbot: QtBot, runner: TaskRunner) -> None:
    cancelled: list[bool] = []
    entered = threading.Event()

    def body(state: TaskState) -> None:
        entered.set()
        state.sleep(30)

    handle = runner.run_long(body, on_cancelled=lambda: cancelled.append(True))
    assert entered.wait(TIMEOUT_MS / 1000)
    started = time.monotonic()
    handle.cancel()
    qtbot.waitUntil(lambda: handle.done, timeout=TIMEOUT_MS)
    assert cancelled == [True]
    assert time.monotonic() - started < 2


def test_long_task_result_and_error(qtbot: QtBot, runner: TaskRunner) -> None:
    results: list[Any] = []
    ok = runner.run_long(lambda state: "uploaded", on_done=results.append)

    def failing(state: TaskState) -> None:
        raise UserFacingError("Google Drive refused the file.")

    bad = runner.run_long(failing, on_error=results.append)
    qtbot.waitUntil(lambda: ok.done and bad.done, timeout=TIMEOUT_MS)
    assert results[0] == "uploaded" or results[1] == "uploaded"
    errors = [r for r in results if isinstance(r, UserFacingError)]
    assert [str(e) for e in errors] == ["Google Drive refused the file."]


def test_progress_arrives_on_gui_thread_throttled_and_newest_wins(
    qtbot: QtBot, runner: TaskRunner
) -> None:
    received: list[tuple[float | None, str]] = []
    calls = 0
    duration_s = 0.3

    def body(state: TaskState) -> None:
        nonlocal calls
        end = time.monotonic() + duration_s
        while time.monotonic() < end:
            calls += 1
            state.progress(0.5, f"step {calls}")
        state.progress(1.0, "finished")

    def on_progress(fraction: float | None, message: str) -> None:
        assert on_gui_thread()
        received.append((fraction, message))

    handle = runner.run_long(body, on_progress=on_progress)
    qtbot.waitUntil(lambda: handle.done, timeout=TIMEOUT_MS)
    assert calls > 100  # the body reported far more often than the GUI may hear
    assert 1 <= len(received) <= duration_s / PROGRESS_INTERVAL_S + 3
    assert received[-1] == (1.0, "finished")  # the last report is never lost


def test_progress_of_a_pausing_task_is_not_held_back(qtbot: QtBot, runner: TaskRunner) -> None:
    """Two quick reports then a long wait: the second must show during the wait, not after."""
    received: list[tuple[float | None, str]] = []
    gate = threading.Event()

    def body(state: TaskState) -> None:
        state.progress(0.5, "Uploading drawing.pdf")
        state.progress(None, "Waiting for Google Drive")
        gate.wait(TIMEOUT_MS / 1000)

    handle = runner.run_long(body, on_progress=lambda f, m: received.append((f, m)))
    try:
        qtbot.waitUntil(
            lambda: bool(received) and received[-1] == (None, "Waiting for Google Drive"),
            timeout=2000,
        )
        assert not handle.done
    finally:
        gate.set()
    qtbot.waitUntil(lambda: handle.done, timeout=TIMEOUT_MS)


def test_progress_fraction_is_clamped() -> None:
    state = TaskState()
    state.progress(1.7, "x")
    assert state._take_progress() == (1.0, "x")
    state.progress(float("nan"))
    assert state._take_progress() == (None, "")


def test_newer_keyed_task_drops_the_older_result(qtbot: QtBot, runner: TaskRunner) -> None:
    results: list[str] = []
    release_old = threading.Event()
    old_started = threading.Event()

    def old_search() -> str:
        old_started.set()
        release_old.wait(TIMEOUT_MS / 1000)
        return "results for 'pum'"

    old = runner.run(old_search, on_done=results.append, key="palette")
    assert old_started.wait(TIMEOUT_MS / 1000)
    new = runner.run(lambda: "results for 'pump'", on_done=results.append, key="palette")
    qtbot.waitUntil(lambda: new.done, timeout=TIMEOUT_MS)
    release_old.set()
    qtbot.waitUntil(lambda: old.done, timeout=TIMEOUT_MS)
    assert results == ["results for 'pump'"]


def test_superseded_task_that_has_not_started_never_runs(qtbot: QtBot, qapp: QApplication) -> None:
    runner = TaskRunner(max_threads=1)
    try:
        gate = threading.Event()
        ran: list[str] = []
        results: list[str] = []

        def blocker() -> None:
            gate.wait(TIMEOUT_MS / 1000)

        def search(text: str) -> str:
            ran.append(text)
            return text

        first = runner.run(blocker)
        b = runner.run(lambda: search("b"), on_done=results.append, key="k")
        c = runner.run(lambda: search("c"), on_done=results.append, key="k")
        gate.set()
        qtbot.waitUntil(lambda: first.done and b.done and c.done, timeout=TIMEOUT_MS)
        assert ran == ["c"]
        assert results == ["c"]
    finally:
        runner.shutdown()


def test_busy_signal_goes_up_then_down(qtbot: QtBot, runner: TaskRunner) -> None:
    changes: list[bool] = []
    runner.sig_busy_changed.connect(changes.append)
    gate = threading.Event()
    one = runner.run(lambda: gate.wait(TIMEOUT_MS / 1000))
    two = runner.run(lambda: gate.wait(TIMEOUT_MS / 1000))
    assert changes == [True] and runner.busy
    gate.set()
    qtbot.waitUntil(lambda: one.done and two.done, timeout=TIMEOUT_MS)
    assert changes == [True, False] and not runner.busy


def test_shutdown_cancels_and_waits(qtbot: QtBot, qapp: QApplication) -> None:
    runner = TaskRunner()
    long_ended = threading.Event()
    short_ended = threading.Event()
    long_running = threading.Event()
    short_running = threading.Event()
    callbacks: list[str] = []

    def long_body(state: TaskState) -> None:
        long_running.set()
        try:
            while True:
                state.check()
                time.sleep(0.005)
        finally:
            long_ended.set()

    def short_body() -> None:  # ignores cancel: shutdown must wait for it to end
        short_running.set()
        time.sleep(0.2)
        short_ended.set()

    long_handle = runner.run_long(long_body, on_cancelled=lambda: callbacks.append("cancelled"))
    short_handle = runner.run(short_body, on_done=lambda _: callbacks.append("done"))
    assert long_running.wait(TIMEOUT_MS / 1000) and short_running.wait(TIMEOUT_MS / 1000)

    runner.shutdown(timeout_ms=TIMEOUT_MS)

    assert long_ended.is_set() and short_ended.is_set()
    assert long_handle.done and short_handle.done and not runner.busy
    qtbot.wait(50)  # queued outcomes are delivered now, and must be dropped
    assert callbacks == []
    ran: list[bool] = []
    late = runner.run(lambda: ran.append(True))
    qtbot.wait(50)
    assert late.done and ran == []


def test_shutdown_gives_up_after_timeout(
    qtbot: QtBot, qapp: QApplication, caplog: pytest.LogCaptureFixture
) -> None:
    runner = TaskRunner()
    gate = threading.Event()
    entered = threading.Event()

    def stubborn(state: TaskState) -> None:  # never checks: stuck in a network call
        entered.set()
        gate.wait(TIMEOUT_MS / 1000)

    handle = runner.run_long(stubborn)
    assert entered.wait(TIMEOUT_MS / 1000)
    started = time.monotonic()
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        runner.shutdown(timeout_ms=100)
    assert time.monotonic() - started < 1.5
    assert handle.done
    assert any("abandoned" in r.getMessage() for r in caplog.records)
    gate.set()


def test_gui_stays_responsive_while_a_task_sleeps(qtbot: QtBot, runner: TaskRunner) -> None:
    ticks: list[float] = []
    timer = QTimer()
    timer.setInterval(20)
    timer.timeout.connect(lambda: ticks.append(time.monotonic()))
    timer.start()
    try:
        started = time.monotonic()
        handle = runner.run(lambda: time.sleep(0.5))
        assert time.monotonic() - started < 0.1  # run() itself does not wait
        qtbot.waitUntil(lambda: handle.done, timeout=TIMEOUT_MS)
    finally:
        timer.stop()
    during = [t for t in ticks if t >= started]
    assert len(during) >= 10
    gaps = [b - a for a, b in zip([started, *during], during, strict=False)]
    assert max(gaps) < 0.25


class _Receiver(QObject):
    def __init__(self) -> None:
        super().__init__()
        self.got: list[object] = []

    @Slot(object)
    def on_done(self, value: object) -> None:
        self.got.append(value)


def test_result_for_a_deleted_receiver_is_dropped(qtbot: QtBot, runner: TaskRunner) -> None:
    gate = threading.Event()
    receiver = _Receiver()
    label = QLabel()
    method = runner.run(lambda: gate.wait(TIMEOUT_MS / 1000), on_done=receiver.on_done)
    closure = runner.run(
        lambda: "text" if gate.wait(TIMEOUT_MS / 1000) else "timed out",
        on_done=lambda text: label.setText(text),
    )
    shiboken6.delete(receiver)
    shiboken6.delete(label)
    assert not shiboken6.isValid(receiver) and not shiboken6.isValid(label)
    gate.set()
    # Any exception in the runner's slot would fail this test (pytest-qt captures them).
    qtbot.waitUntil(lambda: method.done and closure.done, timeout=TIMEOUT_MS)
    assert receiver.got == []  # the Python side lives on; the deleted object is not called


def test_callback_bugs_other_than_deletion_still_surface(qtbot: QtBot, runner: TaskRunner) -> None:
    def on_done(_: object) -> None:
        raise RuntimeError("a real bug")

    with qtbot.captureExceptions() as exceptions:
        handle = runner.run(lambda: 1, on_done=on_done)
        qtbot.waitUntil(lambda: handle.done, timeout=TIMEOUT_MS)
        qtbot.wait(10)
    assert [str(e[1]) for e in exceptions] == ["a real bug"]
    assert not runner.busy  # bookkeeping survived the failing callback


def test_cancelling_a_short_task_drops_its_result(qtbot: QtBot, runner: TaskRunner) -> None:
    gate = threading.Event()
    results: list[object] = []
    handle = runner.run(lambda: gate.wait(TIMEOUT_MS / 1000), on_done=results.append)
    handle.cancel()
    gate.set()
    qtbot.waitUntil(lambda: handle.done, timeout=TIMEOUT_MS)
    assert results == []


def test_runner_refuses_calls_from_another_thread(runner: TaskRunner) -> None:
    errors: list[BaseException] = []

    def elsewhere() -> None:
        try:
            runner.run(lambda: None)
        except RuntimeError as error:
            errors.append(error)

    thread = threading.Thread(target=elsewhere)
    thread.start()
    thread.join()
    assert len(errors) == 1


def test_cancelled_raised_by_the_body_counts_as_cancel(qtbot: QtBot, runner: TaskRunner) -> None:
    outcome: list[str] = []

    def body(state: TaskState) -> None:
        raise Cancelled  # the user closed the browser sign-in

    handle = runner.run_long(
        body, on_error=lambda e: outcome.append("error"), on_cancelled=lambda: outcome.append("c")
    )
    qtbot.waitUntil(lambda: handle.done, timeout=TIMEOUT_MS)
    assert outcome == ["c"]
