"""A project's timeline: everything that happened to it, newest first, filtered by kind.

Filters All / Conversation / Changes / Files / Approvals keep the conversation from drowning in
machine records; "Load older" reads the next keyset page. Every read runs on the task runner.
User text (messages, comments, titles, changed values) is shown as plain text only (T-IN-10):
list items never interpret markup.

Live updates: subscribe `on_changes` to the tables the timeline reads — ``messages``,
``project_stage_history``, ``documents``, ``document_versions``, ``reviews``, ``approvals``,
``approval_history`` — and `on_projects_changed` to ``projects`` (a field edit writes an
activity row, which has no live feed of its own; the project row's change stands for it).
A burst of changes costs one read.
"""

from __future__ import annotations

import datetime as dt
import uuid

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.services import timeline
from factorypulse_desktop.services.timeline import TimelineEvent
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui import icons, theme
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner

EVENT_ROLE = Qt.ItemDataRole.UserRole + 1
LIVE_DELAY_MS = 300
LIVE_TABLES = ("messages", "project_stage_history", "documents", "document_versions",
               "reviews", "approvals", "approval_history")
_ICONS = {"conversation": "notifications", "changes": "projects", "files": "documents",
          "approvals": "approvals"}


class TimelinePanel(QWidget):
    """The Timeline tab of a project."""

    sig_loaded = Signal()
    """A page arrived and is shown (tests wait for it)."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 project_id: uuid.UUID, formatter: Formatter | None = None,
                 parent: QWidget | None = None, *, page_size: int = timeline.PAGE) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self._organization_id = organization_id
        self._project_id = project_id
        self._formatter = formatter or Formatter()
        self._page_size = page_size
        self._kinds: tuple[str, ...] | None = None
        self._generation = 0  # a page of an older filter or reload is dropped
        self.events: list[TimelineEvent] = []
        self.loaded = False
        self._live = QTimer(self, singleShot=True, interval=LIVE_DELAY_MS)
        self._live.timeout.connect(self._refresh)
        self._build()
        self.reload()

    # --- construction ---------------------------------------------------------------------
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 8, 0, 0)
        self.banner = Banner(self)
        layout.addWidget(self.banner)

        bar = QHBoxLayout()
        bar.setSpacing(6)
        self.filter_group = QButtonGroup(self)
        self.filter_group.setExclusive(True)
        self.filter_buttons: dict[str, QPushButton] = {}
        for key, label in (("all", self.tr("All")), ("conversation", self.tr("Conversation")),
                           ("changes", self.tr("Changes")), ("files", self.tr("Files")),
                           ("approvals", self.tr("Approvals"))):
            button = QPushButton(label)
            button.setCheckable(True)
            button.setObjectName(f"timelineFilter_{key}")
            if key != "all":
                button.setIcon(icons.icon(_ICONS[key], theme.current().accent))
            button.clicked.connect(lambda _checked=False, k=key: self.set_filter(k))
            self.filter_group.addButton(button)
            self.filter_buttons[key] = button
            bar.addWidget(button)
        bar.addStretch(1)
        self.filter_buttons["all"].setChecked(True)
        layout.addLayout(bar)

        self.list = QListWidget()
        self.list.setObjectName("timelineList")
        self.list.setWordWrap(True)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.list.setSpacing(2)
        layout.addWidget(self.list, 1)

        self.empty_label = QLabel(self.tr("Nothing has happened here yet."))
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.hide()
        layout.addWidget(self.empty_label)

        bottom = QHBoxLayout()
        self.load_older_button = QPushButton(self.tr("Load older"))
        self.load_older_button.clicked.connect(self.load_older)
        self.load_older_button.setEnabled(False)
        bottom.addStretch(1)
        bottom.addWidget(self.load_older_button)
        bottom.addStretch(1)
        layout.addLayout(bottom)

    # --- public API -------------------------------------------------------------------------
    def set_filter(self, key: str) -> None:
        """Show all events ("all") or only one kind (``timeline.KINDS``)."""
        self._kinds = None if key == "all" else (key,)
        self.filter_buttons[key].setChecked(True)
        self.reload()

    def reload(self) -> None:
        """Read the newest page again (with as many events as are shown, at least a page)."""
        self._read(before=None, limit=max(self._page_size, len(self.events)), replace=True)

    def load_older(self) -> None:
        if not self.events:
            return
        self.load_older_button.setEnabled(False)
        self._read(before=self.events[-1].cursor, limit=self._page_size, replace=False)

    def on_changes(self, _ids: list[uuid.UUID]) -> None:
        """Live: rows of a table the timeline reads changed (messages, documents, …)."""
        self._live.start()

    def on_projects_changed(self, ids: list[uuid.UUID]) -> None:
        """Live: projects changed; a field edit of this one adds an event."""
        if self._project_id in ids:
            self._live.start()

    # --- reading ----------------------------------------------------------------------------
    def _refresh(self) -> None:
        self.reload()

    def _read(self, *, before: tuple[dt.datetime, uuid.UUID] | None, limit: int,
              replace: bool) -> None:
        if replace:
            self._generation += 1
        generation = self._generation
        ws, org, project, kinds = (self._workspace, self._organization_id, self._project_id,
                                   self._kinds)
        self._runner.run(
            lambda: timeline.timeline(ws, org, project, kinds=kinds, before=before,
                                      limit=limit),
            on_done=lambda events: self._arrived(generation, events, limit, replace),
            on_error=lambda error: self._failed(generation, error))

    def _arrived(self, generation: int, events: list[TimelineEvent], limit: int,
                 replace: bool) -> None:
        if generation != self._generation:
            return
        self.banner.hide()
        if replace:
            self.events = list(events)
            self.list.clear()
        else:
            self.events.extend(events)
        for event in events:
            self.list.addItem(self._item(event))
        self.load_older_button.setEnabled(len(events) >= limit)
        self.empty_label.setVisible(not self.events)
        self.loaded = True
        self.sig_loaded.emit()

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation != self._generation:
            return
        self.load_older_button.setEnabled(bool(self.events))
        self.banner.show_message(describe_error(error), kind="error",
                                 action=self.tr("Retry"), on_action=self.reload)

    # --- showing ----------------------------------------------------------------------------
    def _when(self, moment: dt.datetime) -> str:
        local = moment.astimezone() if moment.tzinfo is not None else moment
        return f"{self._formatter.date(local.date())} {local:%H:%M}"

    def item_text(self, event: TimelineEvent) -> str:
        """The event as the list shows it: title, who and when, detail, one line per change."""
        who = event.actor or self.tr("System")
        lines = [event.title, f"{who} \u00b7 {self._when(event.at)}"]
        if event.detail:
            lines.append(event.detail)
        lines.extend(str(change) for change in event.changes)
        return "\n".join(lines)

    def _item(self, event: TimelineEvent) -> QListWidgetItem:
        # A list item's text is never read as markup: plain text whatever the user typed.
        item = QListWidgetItem(icons.icon(_ICONS[event.kind], theme.current().accent),
                               self.item_text(event))
        item.setData(EVENT_ROLE, event)
        item.setToolTip("")  # no rich-text tooltip built from user text
        return item
