"""A project's Messages tab: threads on the left, the open thread and a reply box on the right.

Everything people wrote is shown as plain text (T-IN-10): labels are set to
``Qt.TextFormat.PlainText`` and list items never interpret markup, so ``<img onerror=…>`` is
just characters. Mentions are shown by plain means — a "Mentions:" line under the message —
never by markup. Every read and write runs on the task runner; what is typed stays in the reply
box until the message is stored. Opening a thread marks its messages read.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFont, QStandardItem, QStandardItemModel, QTextCursor
from PySide6.QtWidgets import (
    QCompleter,
    QDialog,
    QDialogButtonBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from factorypulse_desktop.domain.mentions import Person, names, partial_at, resolve
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import documents, messages
from factorypulse_desktop.services.documents import DocumentQuery, DocumentRow
from factorypulse_desktop.services.messages import MessageRow, ThreadRow
from factorypulse_desktop.services.units import SaveOutcomeUnknown
from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner, describe_error
from factorypulse_desktop.ui.widgets.banner import Banner

__all__ = ["MessageCard", "MessagesPanel"]

SEARCH_DELAY_MS = 250
THREAD_ROLE = Qt.ItemDataRole.UserRole
USERNAME_ROLE = Qt.ItemDataRole.UserRole + 1
DELETED_TEXT = "message deleted"


def _plain(text: str = "", *, wrap: bool = True, muted: bool = False) -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.PlainText)  # T-IN-10: never rich text
    label.setWordWrap(wrap)
    label.setText(text)
    if muted:
        label.setObjectName("muted")
    return label


def _first_line(content: str) -> str:
    return next((line.strip() for line in content.splitlines() if line.strip()), "")[:200]


def when(formatter: Formatter, moment: dt.datetime) -> str:
    local = moment.astimezone() if moment.tzinfo is not None else moment
    return f"{formatter.date(local.date())} {local:%H:%M}"


class MessageCard(QFrame):
    """One message: who and when, the text, mentions and attachments — all plain text."""

    def __init__(self, row: MessageRow, formatter: Formatter,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.row = row
        self.setObjectName("card")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(10, 8, 10, 8)
        layout.setSpacing(4)
        top = QHBoxLayout()
        stamp = when(formatter, row.created_at)
        if row.edited_at is not None and not row.deleted:
            stamp += " · " + self.tr("edited")
        self.header_label = _plain(f"{row.sender or self.tr('Someone')} · {stamp}", wrap=False)
        bold = QFont(self.header_label.font())
        bold.setBold(True)
        self.header_label.setFont(bold)
        top.addWidget(self.header_label, 1)
        self.delete_button = QPushButton(self.tr("Delete"))
        self.delete_button.setVisible(row.mine and not row.deleted)
        top.addWidget(self.delete_button)
        layout.addLayout(top)
        if row.deleted:
            self.content_label = _plain(self.tr(DELETED_TEXT), muted=True)
        else:
            self.content_label = _plain(row.content)
            self.content_label.setTextInteractionFlags(
                Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.content_label)
        self.mentions_label = _plain(self.tr("Mentions: ") + names(row.mentions), muted=True)
        self.mentions_label.setVisible(bool(row.mentions))
        layout.addWidget(self.mentions_label)
        attached = ", ".join(f"{a.title} ({a.file_name})" if a.file_name else a.title
                             for a in row.attachments)
        self.attachments_label = _plain(self.tr("Attached: ") + attached, muted=True)
        self.attachments_label.setVisible(bool(row.attachments))
        layout.addWidget(self.attachments_label)


class DocumentChooser(QDialog):
    """Tick documents of the project to attach."""

    def __init__(self, rows: Sequence[DocumentRow], chosen: Sequence[uuid.UUID],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Attach documents"))
        layout = QVBoxLayout(self)
        self.list = QListWidget()
        for row in rows:
            item = QListWidgetItem(f"{row.title} ({row.file_name})" if row.file_name
                                   else row.title)
            item.setData(THREAD_ROLE, row)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if row.id in chosen
                               else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def chosen(self) -> list[DocumentRow]:
        return [self.list.item(i).data(THREAD_ROLE) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]


def _ask_documents(parent: QWidget, rows: list[DocumentRow],
                   chosen: list[uuid.UUID]) -> list[DocumentRow] | None:
    dialog = DocumentChooser(rows, chosen, parent)
    return dialog.chosen() if dialog.exec() == QDialog.DialogCode.Accepted else None


class MessagesPanel(QWidget):
    """The conversation about one project."""

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 project_id: uuid.UUID, formatter: Formatter,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self.organization_id = organization_id
        self.project_id = project_id
        self._formatter = formatter
        self.loaded = False
        self.thread_rows: list[ThreadRow] = []
        self.current_thread: uuid.UUID | None = None
        self.shown_messages: list[MessageRow] = []
        self.cards: dict[uuid.UUID, MessageCard] = {}
        self.matches: list[uuid.UUID] | None = None
        self.people: list[Person] = []
        self.attached: list[DocumentRow] = []
        self.composing_new = False
        self.sending = False
        # The message being sent and its id, until it is stored (see send).
        self._unsent: tuple[tuple[object, ...], uuid.UUID] | None = None
        key = f"messages:{project_id}"
        self._keys = {name: f"{key}:{name}" for name in ("threads", "thread", "search")}
        # Replaced in tests so no modal dialog opens.
        self.choose_documents: Callable[[list[DocumentRow], list[uuid.UUID]],
                                        list[DocumentRow] | None] = (
            lambda rows, chosen: _ask_documents(self, rows, chosen))
        self._build()
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.run_search)
        self.reload()
        self._load_people()

    # -- construction -------------------------------------------------------------------------

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 8, 0, 0)
        self.banner = Banner()
        outer.addWidget(self.banner)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        outer.addWidget(splitter, 1)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.new_thread_button = QPushButton(self.tr("New thread"))
        self.new_thread_button.setObjectName("primary")
        self.new_thread_button.clicked.connect(self.start_new_thread)
        left_layout.addWidget(self.new_thread_button)
        self.thread_list = QListWidget()
        self.thread_list.setWordWrap(True)
        self.thread_list.currentItemChanged.connect(self._thread_chosen)
        left_layout.addWidget(self.thread_list, 1)
        self.empty_label = _plain(self.tr("No messages yet. Start a thread with “New thread”."),
                                  muted=True)
        left_layout.addWidget(self.empty_label)
        splitter.addWidget(left)

        right = QWidget()
        layout = QVBoxLayout(right)
        layout.setContentsMargins(0, 0, 0, 0)
        self.heading = _plain(wrap=True)
        heading_font = QFont(self.heading.font())
        heading_font.setBold(True)
        heading_font.setPointSizeF(heading_font.pointSizeF() * 1.15)
        self.heading.setFont(heading_font)
        layout.addWidget(self.heading)
        search_row = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setClearButtonEnabled(True)
        self.search.setPlaceholderText(self.tr("Search this thread"))
        self.search.textChanged.connect(lambda _text: self._search_timer.start())
        search_row.addWidget(self.search, 1)
        self.search_status = _plain(wrap=False, muted=True)
        search_row.addWidget(self.search_status)
        layout.addLayout(search_row)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        body = QWidget()
        self.messages_layout = QVBoxLayout(body)
        self.messages_layout.setContentsMargins(0, 0, 8, 0)
        self.messages_layout.addStretch(1)
        self.scroll_area.setWidget(body)
        layout.addWidget(self.scroll_area, 1)

        self.subject_edit = QLineEdit()
        self.subject_edit.setPlaceholderText(self.tr("Subject of the new thread"))
        self.subject_edit.setMaxLength(messages.MAX_SUBJECT)
        layout.addWidget(self.subject_edit)
        self.reply_box = QPlainTextEdit()
        self.reply_box.setPlaceholderText(
            self.tr("Write a reply. Type @ to mention someone."))
        self.reply_box.setMaximumHeight(120)
        layout.addWidget(self.reply_box)
        self.attached_label = _plain(muted=True)
        layout.addWidget(self.attached_label)
        actions = QHBoxLayout()
        self.attach_button = QPushButton(self.tr("Attach document…"))
        self.attach_button.clicked.connect(self.attach_documents)
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.clicked.connect(self.cancel_new_thread)
        self.send_button = QPushButton(self.tr("Send"))
        self.send_button.setObjectName("primary")
        self.send_button.clicked.connect(self.send)
        actions.addWidget(self.attach_button)
        actions.addStretch(1)
        actions.addWidget(self.cancel_button)
        actions.addWidget(self.send_button)
        layout.addLayout(actions)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 2)
        splitter.setSizes([320, 640])
        self._build_completer()
        self._update_compose()

    def _build_completer(self) -> None:
        self.completer_model = QStandardItemModel(self)
        self.completer = QCompleter(self.completer_model, self)
        self.completer.setCompletionRole(USERNAME_ROLE)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setFilterMode(Qt.MatchFlag.MatchStartsWith)
        self.completer.setWidget(self.reply_box)
        # activated(str) carries the completion role's value: the user name.
        self.completer.activated.connect(self.insert_mention)
        self.reply_box.textChanged.connect(self._offer_completion)

    # -- loading ------------------------------------------------------------------------------

    def reload(self) -> None:
        ws, org, project = self._workspace, self.organization_id, self.project_id
        self._runner.run(lambda: messages.threads(ws, org, project), on_done=self._show_threads,
                         on_error=self._failed, key=self._keys["threads"])

    def _load_people(self) -> None:
        ws, org, project = self._workspace, self.organization_id, self.project_id
        self._runner.run(lambda: messages.mentionable(ws, org, project),
                         on_done=self._show_people, on_error=self._failed)

    def _show_people(self, people: list[Person]) -> None:
        self.people = people
        self.completer_model.clear()
        for person in people:
            item = QStandardItem(f"{person.username} — {person.display_name}")
            item.setData(person.username, USERNAME_ROLE)
            self.completer_model.appendRow(item)

    def _show_threads(self, rows: list[ThreadRow]) -> None:
        self.thread_rows = rows
        self.loaded = True
        self.thread_list.blockSignals(True)
        self.thread_list.clear()
        for row in rows:
            item = QListWidgetItem(self.thread_text(row))
            item.setData(THREAD_ROLE, row.id)
            if row.unread:
                font = QFont(self.thread_list.font())
                font.setBold(True)
                item.setFont(font)
            self.thread_list.addItem(item)
            if row.id == self.current_thread:
                self.thread_list.setCurrentItem(item)
        self.thread_list.blockSignals(False)
        self.empty_label.setVisible(not rows)
        if self.current_thread is None and rows and not self.composing_new:
            self.thread_list.setCurrentRow(0)

    def thread_text(self, row: ThreadRow) -> str:
        """The list entry: title; replies and last activity; the unread badge. Plain text."""
        replies = (self.tr("1 reply") if row.reply_count == 1
                   else self.tr("%1 replies").replace("%1", str(row.reply_count))
                   if row.reply_count else self.tr("no replies"))
        second = f"{replies} · {when(self._formatter, row.last_activity)}"
        if row.unread:
            second += " · " + self.tr("● %1 new").replace("%1", str(row.unread))
        return f"{row.title}\n{second}"

    def unread(self, thread_id: uuid.UUID) -> int | None:
        row = next((r for r in self.thread_rows if r.id == thread_id), None)
        return None if row is None else row.unread

    def _thread_chosen(self, item: QListWidgetItem | None, _previous: object = None) -> None:
        if item is None:
            return
        thread_id = item.data(THREAD_ROLE)
        if thread_id != self.current_thread:
            self.search.clear()
        self.composing_new = False
        self.open_thread(thread_id)

    def open_thread(self, thread_id: uuid.UUID) -> None:
        self.current_thread = thread_id
        self._update_compose()
        ws, org = self._workspace, self.organization_id
        self._runner.run(lambda: messages.thread(ws, org, thread_id),
                         on_done=lambda rows: self._show_thread(thread_id, rows),
                         on_error=self._failed, key=self._keys["thread"])

    def _show_thread(self, thread_id: uuid.UUID, rows: list[MessageRow]) -> None:
        if thread_id != self.current_thread:
            return
        self.shown_messages = rows
        for card in self.cards.values():
            card.setParent(None)
            card.deleteLater()
        self.cards = {}
        root = rows[0] if rows else None
        self.heading.setText("" if root is None else self.tr(DELETED_TEXT) if root.deleted
                             else root.subject or _first_line(root.content))
        for row in rows:
            card = MessageCard(row, self._formatter)
            card.delete_button.clicked.connect(
                lambda _checked=False, message=row.id: self.delete_message(message))
            self.messages_layout.insertWidget(self.messages_layout.count() - 1, card)
            self.cards[row.id] = card
        self._apply_matches()
        QTimer.singleShot(0, lambda: self.scroll_area.verticalScrollBar().setValue(
            self.scroll_area.verticalScrollBar().maximum()))
        unread = [r.id for r in rows if not r.read_by_me and not r.mine and not r.deleted]
        if unread:
            ws, org = self._workspace, self.organization_id
            self._runner.run(lambda: messages.mark_read(ws, org, unread),
                             on_done=lambda _count: self.reload(), on_error=self._failed)

    def on_messages_changed(self, _ids: list[uuid.UUID]) -> None:
        """Live: someone wrote, edited or deleted a message; read the list (and thread) again."""
        self.reload()
        if self.current_thread is not None:
            self.open_thread(self.current_thread)

    # -- search -------------------------------------------------------------------------------

    def run_search(self) -> None:
        words = self.search.text().strip()
        thread_id = self.current_thread
        if not words or thread_id is None:
            self.matches = None
            self._apply_matches()
            return
        ws, org = self._workspace, self.organization_id
        self._runner.run(lambda: messages.search_thread(ws, org, thread_id, words),
                         on_done=self._show_matches, on_error=self._failed,
                         key=self._keys["search"])

    def _show_matches(self, ids: list[uuid.UUID]) -> None:
        self.matches = ids
        self._apply_matches()

    def _apply_matches(self) -> None:
        wanted = None if self.matches is None else set(self.matches)
        for message_id, card in self.cards.items():
            card.setVisible(wanted is None or message_id in wanted)
        if wanted is None:
            self.search_status.setText("")
        elif not wanted:
            self.search_status.setText(self.tr("No message matches"))
        else:
            self.search_status.setText(self.tr("%1 matching").replace("%1", str(len(wanted))))

    # -- writing ------------------------------------------------------------------------------

    def start_new_thread(self) -> None:
        self.composing_new = True
        self._update_compose()
        self.subject_edit.setFocus()

    def cancel_new_thread(self) -> None:
        self.composing_new = False
        self._update_compose()

    def _update_compose(self) -> None:
        self.subject_edit.setVisible(self.composing_new)
        self.cancel_button.setVisible(self.composing_new)
        can_write = self.composing_new or self.current_thread is not None
        self.reply_box.setEnabled(can_write and not self.sending)
        self.send_button.setEnabled(can_write and not self.sending)
        self.attach_button.setEnabled(can_write and not self.sending)
        self.send_button.setText(self.tr("Start thread") if self.composing_new
                                 else self.tr("Send reply"))
        self.reply_box.setPlaceholderText(
            self.tr("Write the first message. Type @ to mention someone.")
            if self.composing_new else self.tr("Write a reply. Type @ to mention someone."))
        self.attached_label.setVisible(bool(self.attached))
        self.attached_label.setText(
            self.tr("Attaching: ") + ", ".join(d.title for d in self.attached))

    def attach_documents(self) -> None:
        ws, org = self._workspace, self.organization_id
        query = DocumentQuery(project_id=self.project_id)
        self._runner.run(lambda: documents.list_documents(ws, org, query),
                         on_done=self._choose_among, on_error=self._failed)

    def _choose_among(self, rows: list[DocumentRow]) -> None:
        if not rows:
            self.banner.show_message(self.tr("This project has no documents to attach yet."),
                                     kind="info", timeout_ms=6000)
            return
        chosen = self.choose_documents(rows, [d.id for d in self.attached])
        if chosen is not None:
            self.attached = list(chosen)
            self._update_compose()

    def send(self) -> None:
        content = self.reply_box.toPlainText()
        try:
            messages.clean_content(content)
        except FieldError as error:
            self.banner.show_message(str(error))
            return
        parent = None if self.composing_new else self.current_thread
        if parent is None and not self.composing_new:
            return
        subject = self.subject_edit.text() if self.composing_new else None
        mention_ids = [p.id for p in resolve(content, self.people).people]
        document_ids = [d.id for d in self.attached]
        # The same id if the person presses Send again for the same message (after a lost
        # answer the database then finds it instead of storing it twice); a changed message
        # is a new one.
        draft = (parent, subject, content, tuple(mention_ids), tuple(document_ids))
        if self._unsent is None or self._unsent[0] != draft:
            self._unsent = (draft, uuid.uuid4())
        message_id = self._unsent[1]
        ws, org, project = self._workspace, self.organization_id, self.project_id
        self.sending = True
        self._update_compose()
        self._runner.run(
            lambda: messages.post(ws, org, project_id=project, content=content,
                                  parent_id=parent, subject=subject, mention_ids=mention_ids,
                                  document_ids=document_ids, message_id=message_id),
            on_done=self._sent, on_error=self._send_failed)

    def _sent(self, message_id: uuid.UUID) -> None:
        self.sending = False
        self._unsent = None
        self.banner.hide()
        self.reply_box.clear()
        self.attached = []
        if self.composing_new:
            self.subject_edit.clear()
            self.composing_new = False
            self.current_thread = message_id
            self.search.clear()
        self._update_compose()
        self.reload()
        if self.current_thread is not None:
            self.open_thread(self.current_thread)

    def _send_failed(self, error: BaseException) -> None:
        # What was typed stays in the box (and the subject, and the attachments) to send again.
        self.sending = False
        self._update_compose()
        if isinstance(error, SaveOutcomeUnknown):  # maybe sent: Send again stores it once
            self.banner.show_message(describe_error(error))
        else:
            self.banner.show_message(self.tr("The message was not sent: ")
                                     + describe_error(error))

    def delete_message(self, message_id: uuid.UUID) -> None:
        ws, org = self._workspace, self.organization_id
        self._runner.run(lambda: messages.delete(ws, org, message_id),
                         on_done=lambda _none: self.on_messages_changed([message_id]),
                         on_error=self._failed)

    def _failed(self, error: BaseException) -> None:
        self.loaded = True
        self.banner.show_message(describe_error(error))

    # -- @ completion -------------------------------------------------------------------------

    def _offer_completion(self) -> None:
        cursor = self.reply_box.textCursor()
        found = partial_at(self.reply_box.toPlainText(), cursor.position())
        if found is None or not self.people:
            self._hide_popup()
            return
        self.completer.setCompletionPrefix(found[1])
        if self.completer.completionCount() == 0:
            self._hide_popup()
            return
        rect = self.reply_box.cursorRect()
        rect.setWidth(320)
        self.completer.complete(rect)

    def insert_mention(self, username: str) -> None:
        """Replace the @word being typed with ``@username``."""
        cursor = self.reply_box.textCursor()
        position = cursor.position()
        found = partial_at(self.reply_box.toPlainText(), position)
        if found is not None:
            cursor.setPosition(found[0])
            cursor.setPosition(position, QTextCursor.MoveMode.KeepAnchor)
        cursor.insertText(f"@{username} ")
        self.reply_box.setTextCursor(cursor)
        self._hide_popup()

    def _hide_popup(self) -> None:
        popup = self.completer.popup()
        if popup is not None:
            popup.hide()
