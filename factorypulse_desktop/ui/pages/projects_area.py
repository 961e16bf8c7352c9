"""The Projects area: the list/board, and one project's page opened from it (Back returns)."""

from __future__ import annotations

import uuid

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QStackedWidget, QWidget

from factorypulse_desktop.services.workspace import Workspace
from factorypulse_desktop.ui.events import ChangeBus
from factorypulse_desktop.ui.formatting import Formatter
from factorypulse_desktop.ui.pages.project_page import ProjectPage
from factorypulse_desktop.ui.pages.projects import ProjectsPage
from factorypulse_desktop.ui.tasks import TaskRunner


class ProjectsArea(QStackedWidget):
    sig_new_project = Signal()

    def __init__(self, runner: TaskRunner, workspace: Workspace, organization_id: uuid.UUID,
                 formatter: Formatter, bus: ChangeBus | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._runner = runner
        self._workspace = workspace
        self._formatter = formatter
        self._bus = bus
        self.list_page = ProjectsPage(runner, workspace, organization_id, formatter)
        self.list_page.sig_open_project.connect(self.open_project)
        self.list_page.sig_new_project.connect(self.sig_new_project)
        self.addWidget(self.list_page)
        self.project_page: ProjectPage | None = None

    def open_project(self, project_id: uuid.UUID) -> ProjectPage:
        """Show one project's page (replacing one shown before)."""
        self._drop_project_page()
        page = ProjectPage(self._runner, self._workspace, project_id, self._formatter,
                           bus=self._bus)
        page.sig_back.connect(self.show_list)
        page.sig_changed.connect(lambda _id: self.list_page.reload())
        self.addWidget(page)
        self.setCurrentWidget(page)
        self.project_page = page
        return page

    def show_list(self) -> None:
        self.setCurrentWidget(self.list_page)
        self._drop_project_page()

    def set_organization(self, organization_id: uuid.UUID) -> None:
        if organization_id != self.list_page.organization_id:
            self.show_list()  # a project of the other organization makes no sense here
        self.list_page.set_organization(organization_id)

    def on_projects_changed(self, ids: list[uuid.UUID]) -> None:
        self.list_page.on_projects_changed(ids)

    def _drop_project_page(self) -> None:
        page, self.project_page = self.project_page, None
        if page is not None:
            self.removeWidget(page)
            page.deleteLater()
