"""Uploading files as documents: many new ones at once, or one new version of a document.

Files and folders come from a drop (or "Add files…"); folders are walked on a worker thread.
Every file is checked against the organization's size limit before anything is sent
(T-FILE-05). One long task sends the files one after the other; its progress reaches the
window as events on a queue, drained whenever the runner delivers progress (at most 20 times a
second), so no per-file outcome is lost to throttling. A failed file does not stop the others;
Cancel (or closing the window) stops the file being sent and leaves the rest unsent.
"""

from __future__ import annotations

import enum
import functools
import html
import os
import queue
import stat
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePath
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.filenames import display_name
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import document_files
from factorypulse_desktop.services.document_files import Uploaded, UploadRequest
from factorypulse_desktop.services.documents import (
    ACCESS_LEVELS,
    CATEGORIES,
    DocumentEdit,
    check_edit,
)
from factorypulse_desktop.services.upload_journal import UploadJournal
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.storage.blobs import FileTooLargeError, size_words
from factorypulse_desktop.ui import theme
from factorypulse_desktop.ui.tasks import TaskHandle, TaskRunner, TaskState, describe_error
from factorypulse_desktop.ui.widgets.file_drop import FileDropTarget
from factorypulse_desktop.ui.widgets.forms import add_form_row

__all__ = [
    "MAX_FILES",
    "AccessLevelField",
    "CategoryBox",
    "Expanded",
    "FileStatus",
    "PickedFile",
    "UploadDialog",
    "expand_paths",
    "guess_category",
    "plain_tooltip",
]

# More than this in one go is almost always the wrong folder; the rest are not listed.
MAX_FILES = 500

_DRAWING_SUFFIXES = frozenset({".dxf", ".dwg", ".step", ".stp", ".igs", ".iges"})
_TABLE_SUFFIXES = frozenset({".csv", ".xlsx", ".xls", ".ods"})


# -- finding the files (worker thread) ------------------------------------------------------


@dataclass(frozen=True)
class PickedFile:
    """One file to upload; `name` is relative to the dropped folder's parent."""

    path: Path
    name: str
    size: int


@dataclass(frozen=True)
class Expanded:
    files: tuple[PickedFile, ...]
    skipped: int  # hidden files, links and unreadable entries
    capped: bool  # there were more than `limit` files


def expand_paths(paths: Iterable[Path], limit: int = MAX_FILES) -> Expanded:
    """The files in `paths`, folders walked. Blocking disk I/O: run it off the GUI thread.

    Hidden files and folders and symbolic links are skipped: a link could lead anywhere on
    the disk, and hidden files are the system's, not the person's.
    """
    files: list[PickedFile] = []
    skipped = 0
    for path in paths:
        for picked in _walk(path):
            if picked is None:
                skipped += 1
            elif len(files) >= limit:
                return Expanded(tuple(files), skipped, True)
            else:
                files.append(picked)
    return Expanded(tuple(files), skipped, False)


def _walk(path: Path) -> Iterable[PickedFile | None]:
    """Files under `path` (None for each one skipped), in a stable order."""
    try:
        info = path.lstat()
    except OSError:
        yield None
        return
    if path.name.startswith(".") or stat.S_ISLNK(info.st_mode):
        yield None
    elif stat.S_ISREG(info.st_mode):
        yield PickedFile(path, path.name, info.st_size)
    elif stat.S_ISDIR(info.st_mode):
        base = path.parent
        for folder, dirs, names in os.walk(path, onerror=None, followlinks=False):
            # Prune hidden folders in place so os.walk does not descend into them.
            skipped_dirs = [d for d in dirs if d.startswith(".")]
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            yield from (None for _ in skipped_dirs)
            for name in sorted(names):
                yield _picked(Path(folder) / name, base)
    else:
        yield None  # devices, sockets, pipes


def _picked(path: Path, base: Path) -> PickedFile | None:
    try:
        info = path.lstat()
    except OSError:
        return None
    if path.name.startswith(".") or not stat.S_ISREG(info.st_mode):
        return None
    return PickedFile(path, path.relative_to(base).as_posix(), info.st_size)


def guess_category(name: str) -> str:
    """A likely category from a file name: CAD files are drawings, a *bom* sheet is a BOM."""
    pure = PurePath(name.replace("\\", "/"))
    suffix = pure.suffix.lower()
    if suffix in _DRAWING_SUFFIXES:
        return "drawing"
    if suffix in _TABLE_SUFFIXES and "bom" in pure.stem.lower():
        return "bom"
    return "other"


def shown_name(name: str) -> str:
    """A relative name as shown: each part made safe to display (bidi controls visible)."""
    return "/".join(display_name(part) for part in name.split("/"))


def title_of(name: str) -> str:
    """A new document's title: the file's name without its extension."""
    last = display_name(name.rsplit("/", 1)[-1])
    return PurePath(last).stem or last


# -- the shared fields --------------------------------------------------------------------


class CategoryBox(QComboBox):
    """The document categories in plain words; optionally "guess from each file name"."""

    def __init__(self, *, guess: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        labels = {
            "rfq": self.tr("Request for quote"), "drawing": self.tr("Drawing"),
            "specification": self.tr("Specification"), "quote": self.tr("Quote"),
            "contract": self.tr("Contract"), "bom": self.tr("Parts list (BOM)"),
            "inspection": self.tr("Inspection report"), "certificate": self.tr("Certificate"),
            "other": self.tr("Other"),
        }
        if guess:
            self.addItem(self.tr("Guess from each file name"), None)
        for category in CATEGORIES:
            self.addItem(labels.get(category, category), category)
        if not guess:
            self.set_category("other")

    def category(self) -> str | None:
        """The chosen category, or None for "guess from each file name"."""
        value = self.currentData()
        return str(value) if value is not None else None

    def set_category(self, category: str | None) -> None:
        index = self.findData(category)
        if index >= 0:
            self.setCurrentIndex(index)


class AccessLevelField(QWidget):
    """Who may see the document: a choice and one line saying what it means."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._explanations = {
            "public": self.tr("Everyone in the company, and customers or suppliers who can "
                              "see the project in their portal."),
            "internal": self.tr("Everyone in the company."),
            "confidential": self.tr("Only managers, the person who added it and the people "
                                    "assigned to the project."),
        }
        labels = {"public": self.tr("Public"), "internal": self.tr("Internal"),
                  "confidential": self.tr("Confidential")}
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.combo = QComboBox()
        for level in ACCESS_LEVELS:
            self.combo.addItem(labels.get(level, level), level)
        self.explanation = QLabel()
        self.explanation.setObjectName("muted")
        self.explanation.setWordWrap(True)
        self.explanation.setTextFormat(Qt.TextFormat.PlainText)
        layout.addWidget(self.combo)
        layout.addWidget(self.explanation)
        self.combo.currentIndexChanged.connect(self._explain)
        self.combo.setCurrentIndex(max(0, self.combo.findData("internal")))
        self._explain()

    def access_level(self) -> str:
        return str(self.combo.currentData())

    def _explain(self) -> None:
        self.explanation.setText(self._explanations.get(self.access_level(), ""))


def plain_tooltip(text: str) -> str:
    """`text` for a tooltip, shown as typed: tooltips would read "<b>…" in a name as markup."""
    return f"<p style='white-space:pre-wrap'>{html.escape(text)}</p>"


def error_label() -> QLabel:
    """A plain-text label for problems, in the theme's error colour."""
    label = QLabel()
    label.setWordWrap(True)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setStyleSheet(f"color: {theme.current().error};")
    label.hide()
    return label


# -- the table of files --------------------------------------------------------------------


class FileStatus(enum.Enum):
    WAITING = "waiting"
    UPLOADING = "uploading"
    DONE = "done"
    TOO_LARGE = "too_large"
    FAILED = "failed"
    CANCELLED = "cancelled"


_SENDABLE = (FileStatus.WAITING, FileStatus.FAILED, FileStatus.CANCELLED)


@dataclass
class _Row:
    file: PickedFile
    status: FileStatus = FileStatus.WAITING
    detail: str = ""
    sent: int = 0
    uploaded: Uploaded | None = None


class FileTable(QTableWidget):
    """One row per file: name, size, a progress bar and what happened to it."""

    NAME, SIZE, PROGRESS, STATUS = range(4)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, 4, parent)
        self.setHorizontalHeaderLabels(
            [self.tr("File"), self.tr("Size"), self.tr("Progress"), self.tr("Status")])
        self.verticalHeader().hide()
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.setShowGrid(False)
        self.setWordWrap(False)
        header = self.horizontalHeader()
        header.setSectionResizeMode(self.NAME, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(self.SIZE, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(self.PROGRESS, QHeaderView.ResizeMode.Fixed)
        header.setSectionResizeMode(self.STATUS, QHeaderView.ResizeMode.Interactive)
        self.setColumnWidth(self.PROGRESS, 120)
        self.setColumnWidth(self.STATUS, 220)
        colors = theme.current()
        self.setStyleSheet(f'QTableWidget[dropHover="true"] {{ border: 2px dashed '
                           f'{colors.accent}; }}')

    def add_file(self, file: PickedFile) -> None:
        row = self.rowCount()
        self.insertRow(row)
        name = QTableWidgetItem(shown_name(file.name))
        name.setToolTip(plain_tooltip(str(file.path)))
        self.setItem(row, self.NAME, name)
        size = QTableWidgetItem(size_words(file.size))
        size.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setItem(row, self.SIZE, size)
        bar = QProgressBar()
        bar.setRange(0, 100)
        bar.setValue(0)
        self.setCellWidget(row, self.PROGRESS, bar)
        self.setItem(row, self.STATUS, QTableWidgetItem())

    def bar(self, row: int) -> QProgressBar:
        widget = self.cellWidget(row, self.PROGRESS)
        assert isinstance(widget, QProgressBar)
        return widget

    def show_row(self, row: int, state: _Row, status_text: str) -> None:
        size = state.file.size
        done = state.status is FileStatus.DONE
        self.bar(row).setValue(100 if done else (state.sent * 100 // size if size else 0))
        item = self.item(row, self.STATUS)
        assert item is not None
        item.setText(status_text)
        item.setToolTip(plain_tooltip(status_text))

    def text(self, row: int, column: int) -> str:
        item = self.item(row, column)
        return item.text() if item is not None else ""


# -- sending (worker thread) ----------------------------------------------------------------


@dataclass(frozen=True)
class _Job:
    row: int
    request: UploadRequest


# Events from the worker: ("start", row), ("bytes", row, n), ("done", row, Uploaded),
# ("too_large", row, limit), ("failed", row, message), ("cancelled", row).
_Event = tuple[Any, ...]


def _send_all(ws: Workspace, org: uuid.UUID, jobs: Sequence[_Job],
              journal: UploadJournal | None, events: queue.SimpleQueue[_Event],
              state: TaskState) -> None:
    """Upload the files one by one, reporting each step on `events`; never raises for a file."""
    def report(event: _Event) -> None:
        events.put(event)
        state.progress(None)  # only wakes the window; the events carry the numbers

    if journal is None:
        journal = document_files.default_journal()
    for job in jobs:
        if state.cancelled:
            return
        report(("start", job.row))
        try:
            uploaded = document_files.upload(
                ws, org, job.request, journal=journal,
                progress=functools.partial(_report_bytes, report, job.row),
                cancelled=lambda: state.cancelled)
        except FileTooLargeError as error:
            report(("too_large", job.row, error.limit))
        except Exception as error:  # one file's failure must not stop the others
            if state.cancelled:
                report(("cancelled", job.row))
                return
            report(("failed", job.row, describe_error(error)))
        else:
            report(("done", job.row, uploaded))


def _report_bytes(report: Callable[[_Event], None], row: int, sent: int) -> None:
    report(("bytes", row, sent))


# -- the dialog ----------------------------------------------------------------------------


class UploadDialog(QDialog):
    """Upload dropped files as new documents, or one file as a new version of a document.

    Open with `open()`. Drop more files on the list while nothing is being sent.
    """

    sig_uploaded = Signal(list)
    """The ids (uuid.UUID) of the documents stored, once, when an upload run is over."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 paths: Sequence[Path], *, project_id: uuid.UUID | None = None,
                 document_id: uuid.UUID | None = None, document_title: str | None = None,
                 journal: UploadJournal | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self._org = organization_id
        self._project_id = project_id
        self._document_id = document_id
        self._document_title = document_title or ""
        self._journal = journal
        self._rows: list[_Row] = []
        self._limit: int | None = None
        self._limit_known = False
        self._expanding = 0
        self._task: TaskHandle | None = None
        self._events: queue.SimpleQueue[_Event] = queue.SimpleQueue()
        self._run_bytes = 0
        self._run_rows: list[int] = []
        self._ran = False  # an upload run has ended: the dialog now offers "Close"
        self._build()
        self._drop = FileDropTarget.install(self.table, self.add_paths)
        self._fetch_limit()
        if paths:
            self.add_paths(list(paths))
        self._update()

    # -- layout ---------------------------------------------------------------------------

    @property
    def is_new_version(self) -> bool:
        return self._document_id is not None

    def _build(self) -> None:
        self.setMinimumSize(720, 480)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(20, 18, 20, 16)
        layout.setSpacing(10)
        if self.is_new_version:
            heading = self.tr("New version of “{title}”").format(title=self._document_title)
        else:
            heading = self.tr("Upload files")
        self.setWindowTitle(heading)
        self.heading = QLabel(heading)
        self.heading.setTextFormat(Qt.TextFormat.PlainText)
        self.heading.setStyleSheet("font-size: 13pt; font-weight: 600;")
        layout.addWidget(self.heading)
        layout.addLayout(self._build_form())
        hint = QLabel(self.tr("Drop files or folders on the list below."))
        hint.setObjectName("muted")
        layout.addWidget(hint)
        self.table = FileTable()
        layout.addWidget(self.table, 1)
        self.notice = QLabel()
        self.notice.setObjectName("muted")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.PlainText)
        self.notice.hide()
        layout.addWidget(self.notice)
        self.error = error_label()
        layout.addWidget(self.error)
        self.overall = QProgressBar()
        self.overall.setRange(0, 100)
        self.overall.setValue(0)
        layout.addWidget(self.overall)
        self.summary = QLabel()
        self.summary.setTextFormat(Qt.TextFormat.PlainText)
        self.summary.setWordWrap(True)
        self.summary.hide()
        layout.addWidget(self.summary)
        layout.addLayout(self._build_buttons())

    def _build_form(self) -> QFormLayout:
        form = QFormLayout()
        self.category = CategoryBox(guess=True)
        self.access = AccessLevelField()
        self.tags = QLineEdit()
        self.tags.setPlaceholderText(self.tr("For example: flange, rev B (commas between tags)"))
        self.change_summary = QLineEdit()
        self.change_summary.setPlaceholderText(self.tr("For example: hole spacing corrected"))
        if self.is_new_version:
            add_form_row(form, self.tr("What changed:"), self.change_summary)
        else:
            add_form_row(form, self.tr("Category:"), self.category)
            add_form_row(form, self.tr("Who may see it:"), self.access)
            add_form_row(form, self.tr("Tags:"), self.tags)
        return form

    def _build_buttons(self) -> QHBoxLayout:
        buttons = QHBoxLayout()
        self.add_button = QPushButton(self.tr("Add files…"))
        self.add_button.clicked.connect(self._choose_files)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self._cancel_clicked)
        self.upload_button = QPushButton(self.tr("Upload"))
        self.upload_button.setObjectName("primary")
        self.upload_button.setDefault(True)
        self.upload_button.clicked.connect(self.start)
        buttons.addWidget(self.add_button)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.upload_button)
        return buttons

    # -- public API -----------------------------------------------------------------------

    @property
    def uploading(self) -> bool:
        return self._task is not None and not self._task.done

    @property
    def ready(self) -> bool:
        """The files are listed and the size limit is known: Upload may be pressed."""
        return self._expanding == 0 and self._limit_known

    def add_paths(self, paths: list[Path]) -> None:
        """List the files in `paths` (folders are walked on a worker thread)."""
        if self.uploading or not paths:
            return
        self._expanding += 1
        self._update()
        self._runner.run(lambda: expand_paths(paths), on_done=self._files_found,
                         on_error=self._expand_failed)

    def statuses(self) -> list[FileStatus]:
        return [row.status for row in self._rows]

    def uploaded(self) -> list[Uploaded]:
        """What was stored so far, in the order of the list."""
        return [row.uploaded for row in self._rows if row.uploaded is not None]

    def start(self) -> None:
        """Send every file not sent yet (also those that failed or were cancelled before)."""
        if self.uploading or not self._can_start():
            return
        try:
            jobs = self._jobs()
        except FieldError as error:
            self._show_error(str(error))
            return
        if not jobs:
            return
        self._show_error("")
        self.summary.hide()
        self._run_rows = [job.row for job in jobs]
        self._run_bytes = sum(self._rows[row].file.size for row in self._run_rows) or 1
        for row in self._run_rows:
            self._set(row, FileStatus.WAITING, sent=0)
        self.overall.setValue(0)
        events = self._events = queue.SimpleQueue()
        ws, org, journal = self._workspace, self._org, self._journal
        self._task = self._runner.run_long(
            lambda state: _send_all(ws, org, jobs, journal, events, state),
            on_progress=lambda _fraction, _message: self._drain(),
            on_done=lambda _result: self._finish(None),
            on_error=lambda error: self._finish(describe_error(error)),
            on_cancelled=lambda: self._finish(None))
        self._update()

    def cancel_upload(self) -> None:
        """Stop the file being sent; the files after it stay unsent ("Cancelled")."""
        if self._task is not None:
            self._task.cancel()
            self.cancel_button.setEnabled(False)

    def done(self, result: int) -> None:
        if self.uploading:
            self.cancel_upload()  # a closed window never keeps sending
        super().done(result)

    # -- finding files --------------------------------------------------------------------

    def _choose_files(self) -> None:
        names, _ = QFileDialog.getOpenFileNames(self, self.tr("Choose files to upload"))
        self.add_paths([Path(name) for name in names])

    def _files_found(self, expanded: Expanded) -> None:
        self._expanding -= 1
        listed = {row.file.path for row in self._rows}
        room = MAX_FILES - len(self._rows)
        fresh = [f for f in expanded.files if f.path not in listed]
        capped = expanded.capped or len(fresh) > room
        for file in fresh[:max(0, room)]:
            self._rows.append(_Row(file))
            self.table.add_file(file)
            self._check_size(len(self._rows) - 1)
        notes = []
        if expanded.skipped:
            notes.append(self.tr("{count} hidden files or shortcuts were left out.").format(
                count=expanded.skipped) if expanded.skipped != 1 else
                self.tr("1 hidden file or shortcut was left out."))
        if capped:
            notes.append(self.tr("Only the first {limit} files are listed: upload a smaller "
                                 "folder, or the rest in another go.").format(limit=MAX_FILES))
        if notes:
            self.notice.setText(" ".join(notes))
            self.notice.show()
        self._update()

    def _expand_failed(self, error: BaseException) -> None:
        self._expanding -= 1
        self._show_error(describe_error(error))
        self._update()

    # -- the size limit -------------------------------------------------------------------

    def _fetch_limit(self) -> None:
        ws, org = self._workspace, self._org
        self._runner.run(lambda: document_files.file_size_limit(ws, org),
                         on_done=self._limit_found, on_error=self._limit_failed)

    def _limit_found(self, limit: int) -> None:
        self._limit, self._limit_known = limit, True
        for row in range(len(self._rows)):
            self._check_size(row)
        self._update()

    def _limit_failed(self, error: BaseException) -> None:
        # Uploading may still work; the server checks the size again before storing anything.
        self._limit_known = True
        self._show_error(self.tr("The size limit could not be checked: {error}").format(
            error=describe_error(error)))
        self._update()

    def _check_size(self, row: int) -> None:
        state = self._rows[row]
        if self._limit is not None and state.file.size > self._limit:
            self._set(row, FileStatus.TOO_LARGE, detail=size_words(self._limit))
        else:
            self._set(row, state.status)

    # -- sending --------------------------------------------------------------------------

    def _can_start(self) -> bool:
        if not self.ready or not any(r.status in _SENDABLE for r in self._rows):
            return False
        return not (self.is_new_version and len(self._rows) != 1)

    def _jobs(self) -> list[_Job]:
        """One request per file to send; FieldError if the shared fields cannot be used."""
        tags = tuple(t.strip() for t in self.tags.text().split(",") if t.strip())
        chosen = self.category.category()
        access = self.access.access_level()
        jobs = []
        for index, state in enumerate(self._rows):
            if state.status not in _SENDABLE:
                continue
            file = state.file
            if self.is_new_version:
                request = UploadRequest(
                    path=file.path, title=self._document_title or title_of(file.name),
                    document_id=self._document_id, project_id=self._project_id,
                    change_summary=self.change_summary.text().strip(), name=file.name)
            else:
                edit = check_edit(DocumentEdit(title_of(file.name),
                                               chosen or guess_category(file.name), access,
                                               tags))
                request = UploadRequest(
                    path=file.path, title=edit.title, category=edit.category,
                    access_level=edit.access_level, tags=edit.tags,
                    project_id=self._project_id, name=file.name)
            jobs.append(_Job(index, request))
        return jobs

    def _drain(self) -> None:
        while True:
            try:
                event = self._events.get_nowait()
            except queue.Empty:
                break
            self._apply(event)
        sent = sum(self._rows[row].file.size if self._rows[row].status is FileStatus.DONE
                   else self._rows[row].sent for row in self._run_rows)
        self.overall.setValue(min(100, sent * 100 // self._run_bytes))

    def _apply(self, event: _Event) -> None:
        kind, row = event[0], event[1]
        if kind == "start":
            self._set(row, FileStatus.UPLOADING)
        elif kind == "bytes":
            self._set(row, FileStatus.UPLOADING, sent=event[2])
        elif kind == "done":
            self._rows[row].uploaded = event[2]
            self._set(row, FileStatus.DONE, sent=self._rows[row].file.size)
        elif kind == "too_large":
            self._set(row, FileStatus.TOO_LARGE, detail=size_words(event[2]))
        elif kind == "failed":
            self._set(row, FileStatus.FAILED, detail=event[2])
        elif kind == "cancelled":
            self._set(row, FileStatus.CANCELLED, sent=0)

    def _finish(self, error: str | None) -> None:
        """The task is over: settle every row of this run, say how it went, tell the page."""
        self._drain()
        stopped = self._task is not None and self._task.cancelled
        for row in self._run_rows:
            if self._rows[row].status in (FileStatus.WAITING, FileStatus.UPLOADING):
                if error is not None and not stopped:
                    self._set(row, FileStatus.FAILED, detail=error)
                else:
                    self._set(row, FileStatus.CANCELLED, sent=0)
        self._ran = True
        self.summary.setText(self._summary())
        self.summary.show()
        self.cancel_button.setEnabled(True)
        self._update()
        stored = (self._rows[row].uploaded for row in self._run_rows)
        ids = [uploaded.document_id for uploaded in stored if uploaded is not None]
        if ids:
            self.sig_uploaded.emit(ids)

    def _summary(self) -> str:
        counts = {status: self.statuses().count(status) for status in FileStatus}
        parts = []
        words = {
            FileStatus.DONE: (self.tr("1 file uploaded"), self.tr("{n} files uploaded")),
            FileStatus.TOO_LARGE: (self.tr("1 too large"), self.tr("{n} too large")),
            FileStatus.FAILED: (self.tr("1 failed"), self.tr("{n} failed")),
            FileStatus.CANCELLED: (self.tr("1 cancelled"), self.tr("{n} cancelled")),
        }
        for status, (one, many) in words.items():
            count = counts[status]
            if count:
                parts.append(one if count == 1 else many.format(n=count))
        return ", ".join(parts) or self.tr("Nothing was uploaded")

    # -- showing --------------------------------------------------------------------------

    def _set(self, row: int, status: FileStatus, *, detail: str = "",
             sent: int | None = None) -> None:
        state = self._rows[row]
        state.status = status
        state.detail = detail
        if sent is not None:
            state.sent = sent
        self.table.show_row(row, state, self._status_text(state))

    def _status_text(self, state: _Row) -> str:
        if state.status is FileStatus.TOO_LARGE:
            return self.tr("Too large — limit {limit}").format(limit=state.detail)
        if state.status is FileStatus.FAILED:
            return self.tr("Failed: {message}").format(message=state.detail)
        return {
            FileStatus.WAITING: self.tr("Waiting"),
            FileStatus.UPLOADING: self.tr("Uploading"),
            FileStatus.DONE: self.tr("Done"),
            FileStatus.CANCELLED: self.tr("Cancelled"),
        }[state.status]

    def _show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.setVisible(bool(text))

    def _update(self) -> None:
        busy = self.uploading
        pending = any(r.status in _SENDABLE for r in self._rows)
        retry = self._ran and any(r.status in (FileStatus.FAILED, FileStatus.CANCELLED)
                                  for r in self._rows)
        self.upload_button.setText(self.tr("Try again") if retry else self.tr("Upload"))
        self.upload_button.setVisible(busy or pending or not self._ran)
        self.upload_button.setEnabled(not busy and self._can_start())
        # Once something was sent, leaving is no longer "cancelling" anything.
        self.cancel_button.setText(self.tr("Close") if self._ran and not busy
                                   else self.tr("Cancel"))
        self.add_button.setEnabled(not busy and (not self.is_new_version or not self._rows))
        for field in (self.category, self.access, self.tags, self.change_summary):
            field.setEnabled(not busy)
        if self.is_new_version and len(self._rows) > 1:
            self._show_error(self.tr("A new version is one file: drop just one."))

    def _cancel_clicked(self) -> None:
        if self.uploading:
            self.cancel_upload()
        elif self._ran:
            self.accept()
        else:
            self.reject()
