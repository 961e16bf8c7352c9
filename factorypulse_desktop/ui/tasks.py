"""The task runner: the one way the GUI runs work off the GUI thread (DESIGN.md 5).

`TaskRunner.run` puts a short task (a query, a save) on a `QThreadPool`; `TaskRunner.run_long`
gives long work (upload, backup, OAuth) its own thread, a `TaskState` for cooperative
cancellation and throttled progress. Either way the callbacks run on the GUI thread: the worker
emits a signal of the runner, which lives in the GUI thread, through a queued connection.

Task bodies must not touch widgets: write them as plain functions that take what they need and
return frozen data (STYLE.md 2, rec. 5). The callbacks are the place to update widgets.

    runner.run(lambda: projects.search(uow_factory, text), on_done=self.on_results, key="search")
"""

from __future__ import annotations

import functools
import itertools
import logging
import math
import threading
import time
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, QThread, QThreadPool, QTimer, Signal, Slot

from factorypulse_desktop.domain.errors import UserFacingError

__all__ = ["Cancelled", "TaskHandle", "TaskRunner", "TaskState", "describe_error"]

_log = logging.getLogger(__name__)

T = TypeVar("T")

# Progress reaches the GUI at most this often (20 per second); the newest value always wins.
PROGRESS_INTERVAL_S = 0.05

_GENERIC_DETAIL_MAX = 200

_QUEUED = Qt.ConnectionType.QueuedConnection


class Cancelled(Exception):
    """Raised by `TaskState.check()` once the task was asked to stop; the runner reports it as
    cancelled, not as an error. A body may raise it itself (the user gave up in the browser)."""


def describe_error(error: BaseException) -> str:
    """The plain-words message the window shows for `error`.

    A `UserFacingError` is already written for people and is shown as is; anything else is a
    fault of ours, shown as a generic sentence whose detail is the first line of the error (the
    traceback goes to the log).
    """
    if isinstance(error, UserFacingError):
        return str(error) or "Something went wrong."
    lines = str(error).strip().splitlines()
    detail = (lines[0].strip() if lines else "") or type(error).__name__
    if len(detail) > _GENERIC_DETAIL_MAX:
        detail = detail[: _GENERIC_DETAIL_MAX - 1].rstrip() + "…"
    return f"Something went wrong: {detail.rstrip('.')}. The details are in the log."


class TaskState:
    """What a long task's body gets: cancellation and progress. Every method is thread-safe."""

    def __init__(self, on_progress_pending: Callable[[], None] | None = None) -> None:
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._latest: tuple[float | None, str] | None = None
        self._posted = False
        self._on_progress_pending = on_progress_pending

    @property
    def cancelled(self) -> bool:
        """Whether someone asked the task to stop."""
        return self._cancel.is_set()

    def check(self) -> None:
        """Raise `Cancelled` if the task was asked to stop; call it between steps."""
        if self._cancel.is_set():
            raise Cancelled

    def sleep(self, seconds: float) -> None:
        """Wait up to `seconds`; wake at once if the task is cancelled, and raise `Cancelled`."""
        if self._cancel.wait(max(0.0, seconds)):
            raise Cancelled

    def progress(self, fraction: float | None, message: str = "") -> None:
        """Report progress: `fraction` in 0..1, or None when the total is unknown.

        Cheap to call often: the GUI gets at most about 20 updates per second, always the newest.
        """
        if fraction is not None:
            fraction = None if math.isnan(fraction) else min(1.0, max(0.0, float(fraction)))
        with self._lock:
            self._latest = (fraction, message)
            if self._posted:
                return  # the GUI has not picked up the previous value yet; it will see this one
            self._posted = True
        if self._on_progress_pending is not None:
            self._on_progress_pending()

    # -- for the runner -------------------------------------------------------------------

    def _request_cancel(self) -> None:
        self._cancel.set()

    def _take_progress(self) -> tuple[float | None, str] | None:
        with self._lock:
            latest, self._latest = self._latest, None
            self._posted = False
            return latest


class _Kind(Enum):
    SHORT = "short"
    LONG = "long"


class _Outcome(Enum):
    SKIPPED = "skipped"  # cancelled or superseded before its body started
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


class _Task:
    """One task's bookkeeping, shared by the GUI thread and the worker."""

    _ids = itertools.count(1)

    def __init__(
        self,
        kind: _Kind,
        fn: Callable[..., Any],
        *,
        on_done: Callable[[Any], None] | None,
        on_error: Callable[[BaseException], None] | None,
        on_cancelled: Callable[[], None] | None = None,
        on_progress: Callable[[float | None, str], None] | None = None,
        key: str | None = None,
    ) -> None:
        self.id = next(self._ids)
        self.kind = kind
        self.fn = fn
        self.name = getattr(fn, "__qualname__", None) or repr(fn)
        self.on_done = on_done
        self.on_error = on_error
        self.on_cancelled = on_cancelled
        self.on_progress = on_progress
        self.key = key
        self.state = TaskState()
        self.thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._started = False
        self._body_finished = False
        # GUI thread only:
        self.superseded = False
        self.finalized = False
        self.last_progress_at = -math.inf

    def begin(self) -> bool:
        """Worker: claim the task; False if it was cancelled before it started."""
        with self._lock:
            if self.state.cancelled:
                return False
            self._started = True
            return True

    def end(self) -> None:
        with self._lock:
            self._body_finished = True

    def body_running(self) -> bool:
        with self._lock:
            return self._started and not self._body_finished

    def __repr__(self) -> str:
        return f"<task {self.id} {self.kind.value} {self.name}>"


class TaskHandle:
    """A submitted task: cancel it, or ask whether it is done. Safe to use from any thread."""

    def __init__(self, task: _Task) -> None:
        self._task = task

    def cancel(self) -> None:
        """Ask the task to stop.

        A task not started yet never runs. A short task that is running finishes, but its
        outcome is dropped. A long task stops at its next `state.check()` and then reports
        `on_cancelled`; if its body returns anyway, the work happened and `on_done` says so.
        """
        self._task.state._request_cancel()

    @property
    def done(self) -> bool:
        """True once the task is over and its callbacks have run (or were dropped)."""
        return self._task.finalized

    @property
    def cancelled(self) -> bool:
        """Whether cancellation was requested."""
        return self._task.state.cancelled

    def __repr__(self) -> str:
        return f"<TaskHandle {self._task!r} done={self.done}>"


class TaskRunner(QObject):
    """Runs work off the GUI thread and brings the outcome back to it.

    Create it on the GUI thread and call its methods there. Call `shutdown()` from the main
    window's `closeEvent`, before the runner is deleted.
    """

    sig_busy_changed = Signal(bool)
    """True when the first task starts, False when the last one is over (for a busy indicator)."""

    sig_error = Signal(str)
    """A plain-words message for a failed task that had no `on_error` (shown as a banner)."""

    # Emitted on worker threads, received on the GUI thread (queued connections, see __init__).
    _sig_outcome = Signal(object)
    _sig_progress_pending = Signal(object)

    def __init__(self, parent: QObject | None = None, *, max_threads: int | None = None) -> None:
        super().__init__(parent)
        self._pool = QThreadPool(self)
        if max_threads is not None:
            if max_threads < 1:
                raise ValueError("max_threads must be at least 1")
            self._pool.setMaxThreadCount(max_threads)
        self._active: dict[int, _Task] = {}
        self._latest_by_key: dict[str, _Task] = {}
        self._busy = False
        self._shut_down = False
        # Always queued: the slot must run on the GUI thread even if a signal were ever emitted
        # there, and a plain lambda would run on the worker (TESTING.md, Qt).
        self._sig_outcome.connect(self._on_outcome, _QUEUED)
        self._sig_progress_pending.connect(self._on_progress_pending, _QUEUED)

    # -- public API -----------------------------------------------------------------------

    @property
    def busy(self) -> bool:
        """Whether any task is running or waiting."""
        return self._busy

    def run(
        self,
        fn: Callable[[], T],
        *,
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        key: str | None = None,
    ) -> TaskHandle:
        """Run `fn()` on the thread pool; `on_done(result)` or `on_error(error)` on the GUI thread.

        With `key`, a newer task with the same key supersedes an older one: the older one is
        skipped if it has not started, and its outcome is dropped if it has (search as you type).
        Without `on_error`, a failure becomes `sig_error` with a plain message.
        """
        self._check_thread()
        task = _Task(_Kind.SHORT, fn, on_done=on_done, on_error=on_error, key=key)
        if self._refuse_after_shutdown(task):
            return TaskHandle(task)
        if key is not None:
            older = self._latest_by_key.get(key)
            if older is not None:
                older.superseded = True
                older.state._request_cancel()
            self._latest_by_key[key] = task
        self._add(task)
        self._pool.start(functools.partial(self._run_short_body, task))
        return TaskHandle(task)

    def run_long(
        self,
        fn: Callable[[TaskState], T],
        *,
        on_progress: Callable[[float | None, str], None] | None = None,
        on_done: Callable[[T], None] | None = None,
        on_error: Callable[[BaseException], None] | None = None,
        on_cancelled: Callable[[], None] | None = None,
    ) -> TaskHandle:
        """Run `fn(state)` on a thread of its own; progress and outcome arrive on the GUI thread.

        The body calls `state.check()` between steps (it raises `Cancelled` once
        `handle.cancel()` was called) and `state.progress(fraction, message)` as it goes. An
        error raised after a cancel request counts as the cancel (aborting a transfer usually
        makes it fail) and reports `on_cancelled`.
        """
        self._check_thread()
        task = _Task(
            _Kind.LONG,
            fn,
            on_done=on_done,
            on_error=on_error,
            on_cancelled=on_cancelled,
            on_progress=on_progress,
        )
        task.state = TaskState(functools.partial(self._post_progress_pending, task))
        if self._refuse_after_shutdown(task):
            return TaskHandle(task)
        self._add(task)
        # A daemon Python thread, not a QThread: a QThread still running when the application
        # object is destroyed aborts the process, and shutdown() may have to give up on a task
        # stuck in a network call.
        task.thread = threading.Thread(
            target=self._run_long_body, args=(task,), name=f"fp-task-{task.id}", daemon=True
        )
        task.thread.start()
        return TaskHandle(task)

    def shutdown(self, timeout_ms: int = 5000) -> None:
        """Cancel every task and wait up to `timeout_ms` for them to stop; no callback runs after.

        Called from the main window's closeEvent. A task still running after the timeout is
        abandoned (logged); long tasks run on daemon threads, so it cannot hold the process.
        """
        self._check_thread()
        if self._shut_down:
            return
        self._shut_down = True
        for task in self._active.values():
            task.state._request_cancel()
        self._pool.clear()  # queued short tasks never start
        deadline = time.monotonic() + max(0, timeout_ms) / 1000
        self._pool.waitForDone(max(0, timeout_ms))
        for task in list(self._active.values()):
            if task.thread is not None:
                task.thread.join(max(0.0, deadline - time.monotonic()))
        for task in list(self._active.values()):
            if task.body_running():
                _log.warning(
                    "%r was still running %d ms after shutdown; abandoned", task, timeout_ms
                )
            self._finalize(task)
        self._latest_by_key.clear()
        self._update_busy()

    # -- worker side (runs on pool threads and task threads) ------------------------------

    def _run_short_body(self, task: _Task) -> None:
        if not task.begin():
            self._post_outcome(task, _Outcome.SKIPPED, None)
            return
        try:
            result: Any = task.fn()
        except BaseException as error:  # reported on the GUI thread, never lost
            outcome, value = _Outcome.FAILED, error
        else:
            outcome, value = _Outcome.SUCCEEDED, result
        finally:
            task.end()
        self._post_outcome(task, outcome, value)

    def _run_long_body(self, task: _Task) -> None:
        if not task.begin():
            self._post_outcome(task, _Outcome.CANCELLED, None)
            return
        try:
            result: Any = task.fn(task.state)
        except Cancelled:
            outcome, value = _Outcome.CANCELLED, None
        except BaseException as error:
            if task.state.cancelled:
                _log.debug("%r failed after cancel; counted as cancelled", task, exc_info=error)
                outcome, value = _Outcome.CANCELLED, None
            else:
                outcome, value = _Outcome.FAILED, error
        else:
            outcome, value = _Outcome.SUCCEEDED, result
        finally:
            task.end()
        self._post_outcome(task, outcome, value)

    def _post_outcome(self, task: _Task, outcome: _Outcome, value: object) -> None:
        try:
            self._sig_outcome.emit((task, outcome, value))
        except RuntimeError:  # the runner is gone (deleted without shutdown): nobody to tell
            _log.debug("%r ended (%s) after its runner was deleted", task, outcome.value)

    def _post_progress_pending(self, task: _Task) -> None:
        try:
            self._sig_progress_pending.emit(task)
        except RuntimeError:
            _log.debug("%r reported progress after its runner was deleted", task)

    # -- GUI side --------------------------------------------------------------------------

    @Slot(object)
    def _on_outcome(self, payload: tuple[_Task, _Outcome, Any]) -> None:
        task, outcome, value = payload
        if outcome is _Outcome.FAILED:
            self._log_failure(task, value)
        if task.finalized:
            return  # shutdown already wrapped it up
        pending_progress = task.state._take_progress() if task.kind is _Kind.LONG else None
        self._finalize(task)
        try:
            if self._shut_down or task.superseded:
                return
            if task.kind is _Kind.SHORT and task.state.cancelled:
                return  # cancelled by its owner: the result is no longer wanted
            if pending_progress is not None and task.on_progress is not None:
                _invoke(task.on_progress, *pending_progress)
            if outcome is _Outcome.SUCCEEDED:
                if task.on_done is not None:
                    _invoke(task.on_done, value)
            elif outcome is _Outcome.FAILED:
                if task.on_error is not None:
                    _invoke(task.on_error, value)
                else:
                    self.sig_error.emit(describe_error(value))
            elif outcome is _Outcome.CANCELLED and task.on_cancelled is not None:
                _invoke(task.on_cancelled)
        finally:
            # After the callbacks, so that a callback starting the next task causes no flicker.
            self._update_busy()

    @Slot(object)
    def _on_progress_pending(self, task: _Task) -> None:
        if task.finalized:
            return
        wait_s = task.last_progress_at + PROGRESS_INTERVAL_S - time.monotonic()
        if wait_s > 0:
            QTimer.singleShot(math.ceil(wait_s * 1000), self, lambda: self._deliver_progress(task))
        else:
            self._deliver_progress(task)

    def _deliver_progress(self, task: _Task) -> None:
        if task.finalized:
            return
        latest = task.state._take_progress()
        task.last_progress_at = time.monotonic()
        if latest is not None and task.on_progress is not None and not self._shut_down:
            _invoke(task.on_progress, *latest)

    def _add(self, task: _Task) -> None:
        self._active[task.id] = task
        self._update_busy()

    def _finalize(self, task: _Task) -> None:
        task.finalized = True
        self._active.pop(task.id, None)
        if task.key is not None and self._latest_by_key.get(task.key) is task:
            del self._latest_by_key[task.key]

    def _update_busy(self) -> None:
        busy = bool(self._active)
        if busy != self._busy:
            self._busy = busy
            self.sig_busy_changed.emit(busy)

    def _refuse_after_shutdown(self, task: _Task) -> bool:
        if not self._shut_down:
            return False
        _log.debug("%r not started: the runner is shut down", task)
        task.state._request_cancel()
        task.finalized = True
        return True

    def _check_thread(self) -> None:
        if QThread.currentThread() is not self.thread():
            raise RuntimeError("TaskRunner methods must be called on the thread it lives in")

    @staticmethod
    def _log_failure(task: _Task, error: BaseException) -> None:
        if isinstance(error, UserFacingError):
            _log.info("%r: %s", task, error)
        else:
            _log.error("%r failed", task, exc_info=error)


def _receiver_deleted(callback: Callable[..., Any]) -> bool:
    """Whether `callback` is a method of a QObject whose C++ side was deleted."""
    target: Any = callback
    while isinstance(target, functools.partial):
        target = target.func
    owner = getattr(target, "__self__", None)
    return isinstance(owner, QObject) and not shiboken6.isValid(owner)


def _invoke(callback: Callable[..., Any], *args: Any) -> None:
    """Call a task callback on the GUI thread; a receiver deleted meanwhile just misses it."""
    if _receiver_deleted(callback):
        _log.debug("dropped a task result: its receiver %r was deleted", callback)
        return
    try:
        callback(*args)
    except RuntimeError as error:
        # A lambda or closure that reaches a deleted widget; anything else is a real bug.
        if "already deleted" not in str(error):
            raise
        _log.debug("dropped a task result: %s", error)
