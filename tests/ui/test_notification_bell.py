"""The bell: the unread count as a badge, updated live when the database notifies the person.

Signed in as acme.engineering; management puts them on a project through the services (the
database writes the notification). The GUI thread is banned from database I/O throughout.
"""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import psycopg
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from support import DEMO_PASSWORD, off_gui, profile_for

from factorypulse_desktop.domain.live import Change, FeedState
from factorypulse_desktop.services import messages, notifications, project_detail
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.io_guard import (
    allow_database_io_on_current_thread,
    forbid_database_io_on_current_thread,
)
from factorypulse_desktop.services.live import ChangeFeed
from factorypulse_desktop.services.notifications import Preference
from factorypulse_desktop.ui.events import ChangeBus
from factorypulse_desktop.ui.live import LiveUpdates
from factorypulse_desktop.ui.tasks import TaskRunner
from factorypulse_desktop.ui.widgets.notification_bell import NotificationBell, badge_text

WAIT = 15000
FEED = functools.partial(ChangeFeed, backoff=(0.05, 0.1), poll_interval=30.0)


@dataclass
class FakeNotifier:
    shown: list[tuple[str, str]] = field(default_factory=list)

    def notify(self, title: str, message: str) -> None:
        self.shown.append((title, message))


@dataclass
class Env:
    runner: TaskRunner
    engineering: Workspace
    management: Workspace
    org: uuid.UUID
    projects: list[uuid.UUID]

    def assign(self, project: uuid.UUID) -> None:
        off_gui(lambda: project_detail.assign_person(self.management, project,
                                                     self.engineering.identity.person_id,
                                                     "machinist"))

    def unread(self) -> int:
        return off_gui(lambda: notifications.unread_count(self.engineering, self.org))


@pytest.fixture
def env(qapp: QApplication, demo_db: Any) -> Iterator[Env]:
    runner = TaskRunner()
    engineering = off_gui(lambda: sign_in(profile_for(demo_db), "acme.engineering",
                                          DEMO_PASSWORD))
    management = off_gui(lambda: sign_in(profile_for(demo_db), "acme.management",
                                         DEMO_PASSWORD))
    org = engineering.identity.memberships[0].organization_id

    with psycopg.connect(demo_db.owner_conninfo()) as conn:  # projects nobody works on yet
        projects = [uuid.UUID(str(conn.execute(
            "INSERT INTO projects (organization_id, title) VALUES (%s, %s) RETURNING id",
            (org, f"Bell test {n}")).fetchone()[0])) for n in range(3)]  # type: ignore[index]
    forbid_database_io_on_current_thread()
    try:
        yield Env(runner, engineering, management, org, projects)
    finally:
        runner.shutdown(timeout_ms=5000)
        allow_database_io_on_current_thread()
        engineering.close()
        management.close()


def make_bell(qtbot: QtBot, env: Env, notifier: FakeNotifier) -> NotificationBell:
    bell = NotificationBell(env.runner, env.engineering, env.org, notifier=notifier)
    qtbot.addWidget(bell)
    bell.show()
    return bell


def test_badge_words() -> None:
    assert [badge_text(n) for n in (0, 1, 99, 100, 2500)] == ["", "1", "99", "99+", "99+"]


def test_the_bell_shows_the_count_and_follows_the_bus(qtbot: QtBot, env: Env) -> None:
    notifier = FakeNotifier()
    bell = make_bell(qtbot, env, notifier)
    opened: list[bool] = []
    bell.sig_open.connect(lambda: opened.append(True))
    before = env.unread()
    with qtbot.waitSignal(bell.sig_count_changed, timeout=WAIT):
        bell.refresh()
    assert bell.count == before and bell.badge.text() == badge_text(before)
    assert bell.badge.isVisible() == (before > 0)

    # Engineering wants assignments on the desktop; then management assigns them twice.
    off_gui(lambda: notifications.save_preferences(env.engineering, env.org, [
        Preference("assignment", "", in_app=True, desktop=True)]))
    bus = ChangeBus()
    bus.subscribe("notifications", bell.on_notifications_changed)
    env.assign(env.projects[0])
    bus.publish([Change(1, env.org, "notifications", uuid.uuid4(), "I", 1)])
    qtbot.waitUntil(lambda: bell.count == before + 1, timeout=WAIT)
    assert bell.badge.text() == badge_text(before + 1) and bell.badge.isVisible()
    assert len(notifier.shown) == 1 and notifier.shown[0][0].startswith("You were added to")

    # Switched off on the desktop: the badge still counts, nothing pops up.
    off_gui(lambda: notifications.save_preferences(env.engineering, env.org, [
        Preference("assignment", "", in_app=True, desktop=False)]))
    env.assign(env.projects[1])
    bus.publish([Change(2, env.org, "notifications", uuid.uuid4(), "I", 1)])
    qtbot.waitUntil(lambda: bell.count == before + 2, timeout=WAIT)
    assert len(notifier.shown) == 1

    off_gui(lambda: notifications.mark_all_read(env.engineering, env.org))
    bus.publish([Change(3, env.org, "notifications", uuid.uuid4(), "U", 2)])
    qtbot.waitUntil(lambda: bell.count == 0, timeout=WAIT)
    assert not bell.badge.isVisible() and bell.badge.text() == ""
    qtbot.mouseClick(bell, Qt.MouseButton.LeftButton)
    assert opened == [True]


def test_a_mention_or_assignment_reaches_the_bell_through_the_live_feed(
        qtbot: QtBot, env: Env, demo_db: Any) -> None:
    bell = make_bell(qtbot, env, FakeNotifier())
    before = env.unread()
    with qtbot.waitSignal(bell.sig_count_changed, timeout=WAIT):
        bell.refresh()
    assert bell.count == before
    live = LiveUpdates(FEED)
    bus = ChangeBus()
    live.sig_changes.connect(bus.publish)
    bus.subscribe("notifications", bell.on_notifications_changed)
    try:
        with qtbot.waitSignal(live.sig_state, timeout=5000,
                              check_params_cb=lambda s: s is FeedState.ONLINE):
            live.start(demo_db.conninfo_for("acme.engineering"), last_seen=None)
        env.assign(env.projects[2])
        qtbot.waitUntil(lambda: bell.count == before + 1, timeout=WAIT)
        # Management mentions engineering in the project's conversation: one more, live.
        engineer = env.engineering.identity.person_id
        off_gui(lambda: messages.post(env.management, env.org, project_id=env.projects[2],
                                      content="@acme.engineering please check the bores",
                                      mention_ids=[engineer]))
        qtbot.waitUntil(lambda: bell.count == before + 2, timeout=WAIT)
    finally:
        live.stop()
