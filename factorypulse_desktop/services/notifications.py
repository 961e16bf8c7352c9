"""A person's notifications: the unread count, the list, read state and preferences.

The database writes notifications (revision 0011: definer triggers on assignments, mentions,
approvals and reviews; `fp_private.notify_due` for stages and due dates); a person only reads
their own and marks them read. Preferences say which events notify, in the app and on the
desktop; no stored row means "in the app only".

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, text

from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import units
from factorypulse_desktop.services.workspace import Workspace

PAGE = 50

# The events the database notifies about (the CHECK of notification_preferences.event), with
# the words the preferences dialog shows.
EVENTS: tuple[tuple[str, str], ...] = (
    ("assignment", "I am added to a project"),
    ("mention", "Someone mentions me in a message"),
    ("approval_waiting", "An approval waits for me"),
    ("approval_decided", "My approval request is decided"),
    ("review_requested", "A review is asked of me or my role"),
    ("review_decided", "A review I asked for is decided"),
    ("stage_overdue", "A project of mine is longer in its stage than estimated"),
    ("due_soon", "A project of mine is due within 3 days"),
    ("low_stock", "An item falls below its minimum stock (procurement)"),
)
EVENT_LABELS = dict(EVENTS)


@dataclass(frozen=True)
class NotificationRow:
    id: uuid.UUID
    type: str
    title: str
    message: str
    created_at: dt.datetime
    unread: bool
    related_entity_type: str | None
    related_entity_id: uuid.UUID | None
    project_id: uuid.UUID | None

    @property
    def cursor(self) -> tuple[dt.datetime, uuid.UUID]:
        return self.created_at, self.id

    @property
    def opens_project(self) -> uuid.UUID | None:
        """The project to open for it: the record itself, or the project it belongs to."""
        if self.related_entity_type == "project":
            return self.related_entity_id
        return self.project_id


@dataclass(frozen=True)
class Preference:
    event: str
    label: str
    in_app: bool = True
    desktop: bool = False


def _me(ws: Workspace) -> uuid.UUID:
    return ws.identity.person_id


def unread_count(ws: Workspace, org: uuid.UUID) -> int:
    return int(units.read(ws, lambda conn: conn.execute(text(
        "SELECT count(*) FROM notifications WHERE organization_id = :org "
        "AND person_id = :me AND status = 'unread'"),
        {"org": org, "me": _me(ws)}).scalar_one()))


def _row(r: Any) -> NotificationRow:
    project = (r.metadata or {}).get("project_id")
    return NotificationRow(r.id, r.type, r.title, r.message or "", r.created_at,
                           r.status == "unread", r.related_entity_type, r.related_entity_id,
                           uuid.UUID(project) if project else None)


def recent(ws: Workspace, org: uuid.UUID, *, unread_only: bool = False,
           after: tuple[dt.datetime, uuid.UUID] | None = None,
           limit: int = PAGE) -> list[NotificationRow]:
    """Newest first; `after` is the cursor of the last row of the previous page."""
    params = {"org": org, "me": _me(ws), "unread": unread_only, "limit": limit,
              "after_at": after[0] if after else None, "after_id": after[1] if after else None}
    sql = text(
        "SELECT id, type, title, message, created_at, status, related_entity_type, "
        "related_entity_id, metadata FROM notifications "
        "WHERE organization_id = :org AND person_id = :me "
        "AND status <> 'archived' AND (NOT :unread OR status = 'unread') "
        "AND (CAST(:after_at AS timestamptz) IS NULL OR (created_at, id) < "
        "(CAST(:after_at AS timestamptz), CAST(:after_id AS uuid))) "
        "ORDER BY created_at DESC, id DESC LIMIT :limit")
    return units.read(ws, lambda conn: [_row(r) for r in conn.execute(sql, params)])


@dataclass(frozen=True)
class BellState:
    """What the bell shows: the unread count, the newest unread, the desktop events."""

    unread: int
    latest: tuple[NotificationRow, ...]
    desktop_events: frozenset[str]


def bell_state(ws: Workspace, org: uuid.UUID, *, latest: int = 20) -> BellState:
    """One read for the bell: count, the newest unread (to spot new ones) and preferences."""

    def run(conn: Connection) -> BellState:
        params = {"org": org, "me": _me(ws), "limit": latest}
        count = int(conn.execute(text(
            "SELECT count(*) FROM notifications WHERE organization_id = :org "
            "AND person_id = :me AND status = 'unread'"), params).scalar_one())
        rows = tuple(_row(r) for r in conn.execute(text(
            "SELECT id, type, title, message, created_at, status, related_entity_type, "
            "related_entity_id, metadata FROM notifications "
            "WHERE organization_id = :org AND person_id = :me AND status = 'unread' "
            "ORDER BY created_at DESC, id DESC LIMIT :limit"), params))
        desktop = frozenset(conn.execute(text(
            "SELECT event FROM notification_preferences WHERE organization_id = :org "
            "AND person_id = :me AND in_app AND desktop"), params).scalars())
        return BellState(count, rows, desktop)

    return units.read(ws, run)


def mark_read(ws: Workspace, org: uuid.UUID, ids: Iterable[uuid.UUID]) -> int:
    """Mark these of the person's notifications read; how many changed."""
    wanted = list(ids)
    if not wanted:
        return 0
    return int(units.write(ws, lambda conn: conn.execute(text(
        "UPDATE notifications SET status = 'read', read_at = now() "
        "WHERE organization_id = :org AND person_id = :me AND status = 'unread' "
        "AND id = ANY (CAST(:ids AS uuid[]))"),
        {"org": org, "me": _me(ws), "ids": wanted}).rowcount))


def mark_all_read(ws: Workspace, org: uuid.UUID) -> int:
    return int(units.write(ws, lambda conn: conn.execute(text(
        "UPDATE notifications SET status = 'read', read_at = now() "
        "WHERE organization_id = :org AND person_id = :me AND status = 'unread'"),
        {"org": org, "me": _me(ws)}).rowcount))


def preferences(ws: Workspace, org: uuid.UUID) -> list[Preference]:
    """Every event with the person's choice (the default where they made none)."""

    def run(conn: Connection) -> list[Preference]:
        stored = {r.event: r for r in conn.execute(text(
            "SELECT event, in_app, desktop FROM notification_preferences "
            "WHERE organization_id = :org AND person_id = :me"), {"org": org, "me": _me(ws)})}
        return [Preference(event, label, stored[event].in_app, stored[event].desktop)
                if event in stored else Preference(event, label) for event, label in EVENTS]

    return units.read(ws, run)


def save_preferences(ws: Workspace, org: uuid.UUID, prefs: Sequence[Preference]) -> None:
    """Store the person's choices (desktop notifications need the in-app one)."""
    if any(p.event not in EVENT_LABELS for p in prefs):
        # Only the listed events can be chosen (a FieldError is a ValueError too).
        raise FieldError("event", "Choose the notifications from the list; reload the "
                                  "preferences and try again.")

    def run(conn: Connection) -> None:
        for p in prefs:
            conn.execute(text(
                "INSERT INTO notification_preferences (organization_id, person_id, event, "
                "in_app, desktop) VALUES (:org, :me, :event, :in_app, :desktop) "
                "ON CONFLICT (organization_id, person_id, event) DO UPDATE "
                "SET in_app = excluded.in_app, desktop = excluded.desktop "
                "WHERE (notification_preferences.in_app, notification_preferences.desktop) "
                "IS DISTINCT FROM (excluded.in_app, excluded.desktop)"),
                {"org": org, "me": _me(ws), "event": p.event, "in_app": p.in_app,
                 "desktop": p.desktop and p.in_app})

    units.write(ws, run)


def desktop_events(ws: Workspace, org: uuid.UUID) -> frozenset[str]:
    """The events the person wants on the desktop too."""
    return frozenset(p.event for p in preferences(ws, org) if p.desktop and p.in_app)


def check_due(ws: Workspace, org: uuid.UUID) -> int:
    """Notify about projects overdue in their stage or due soon (run at sign-in); how many."""
    return int(units.write(ws, lambda conn: conn.execute(text(
        "SELECT fp_private.notify_due(:org)"), {"org": org}).scalar_one()))
