"""The Documents page: every project's documents in one searchable list."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.documents_panel import DocumentsPanel

__all__ = ["DocumentsPage"]

PAGE_MARGIN = 24


class DocumentsPage(QWidget):
    """Search by title, tag, category, provider or uploader across projects."""

    sig_open_project = Signal(object)  # the project's uuid

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 formatter: Formatter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("page-documents")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(PAGE_MARGIN, 18, PAGE_MARGIN, PAGE_MARGIN)
        heading = QLabel(self.tr("Documents"))
        heading.setObjectName("pageTitle")
        layout.addWidget(heading)
        self.panel = DocumentsPanel(runner, workspace, organization_id, formatter)
        self.panel.sig_open_project.connect(self.sig_open_project)
        layout.addWidget(self.panel, 1)

    def reload(self) -> None:
        self.panel.reload()

    def on_documents_changed(self, ids: list[uuid.UUID]) -> None:
        self.panel.on_documents_changed(ids)

    def set_organization(self, organization_id: uuid.UUID) -> None:
        self.panel.set_organization(organization_id)
