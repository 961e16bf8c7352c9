"""The Dashboard page on the demo database, GUI thread banned from database I/O."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import profile_for

from factorypulse_desktop.services.auth import sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.ui.pages.dashboard import PROJECT_ROLE, DashboardPage
from factorypulse_desktop.ui.tasks import TaskRunner

PASSWORD = "factorypulse-demo"


def _overdue_project(db: Any) -> uuid.UUID:
    result: list[uuid.UUID] = []

    def make() -> None:
        with psycopg.connect(db.owner_conninfo()) as conn:
            row = conn.execute(
                "INSERT INTO projects (organization_id, title, estimated_delivery_date, "
                "priority_level) SELECT id, 'Late gearbox housings', current_date - 3, 'high' "
                "FROM organizations WHERE slug = 'acme' RETURNING id").fetchone()
            assert row is not None
            result.append(uuid.UUID(str(row[0])))

    worker = threading.Thread(target=make)
    worker.start()
    worker.join(30)
    return result[0]


@pytest.fixture
def page(qtbot: QtBot, qapp: QApplication, demo_db: Any) -> Iterator[DashboardPage]:
    profile = profile_for(demo_db)
    workspace = sign_in(profile, "acme.management", PASSWORD)
    runner = TaskRunner()
    forbid_database_io_on_current_thread()
    try:
        dashboard = DashboardPage(runner, workspace,
                                  workspace.identity.memberships[0].organization_id)
        qtbot.addWidget(dashboard)
        dashboard.resize(1200, 900)
        dashboard.show()
        qtbot.waitUntil(lambda: dashboard.data is not None, timeout=15000)
        yield dashboard
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        workspace.close()


def test_dashboard_shows_attention_items_and_charts(qtbot: QtBot, page: DashboardPage,
                                                    demo_db: Any) -> None:
    late = _overdue_project(demo_db)
    with qtbot.waitSignal(page.sig_loaded, timeout=10000):
        page.refresh_button.click()
    data = page.data
    assert data is not None
    assert data.stage_distribution[0].name == "Inquiry Received"
    assert page.stages.labels == tuple(s.name for s in data.stage_distribution)
    assert page.stage_times.labels and len(page.stage_times.series) == 2
    assert len(page.throughput.labels) == len(data.weekly_throughput) == 12
    items = [page.attention.item(i) for i in range(page.attention.count())]
    mine = [i for i in items if i is not None and i.data(PROJECT_ROLE) == late]
    assert mine and "Late gearbox housings" in mine[0].text()
    with qtbot.waitSignal(page.sig_open_project, timeout=2000) as opened:
        page.attention.itemDoubleClicked.emit(mine[0])
    assert opened.args == [late]
    page.grab().save("/tmp/dashboard-page.png")
