"""Messages, parents before answers, and their read times as `message_reads` rows.

Our `messages_thread` trigger sets `thread_id` from the parent (a new thread is its own id),
so a message is written after the one it answers and the old thread_id is not copied.
"""

from __future__ import annotations

import uuid

from factorypulse_desktop.backup.web_import.mapping import TABLES, Row
from factorypulse_desktop.backup.web_import.state import ImportState


def import_messages(state: ImportState, rows: list[Row]) -> None:
    for row in _parents_first(rows):
        new = state.insert(TABLES["messages"], row)
        if new is not None:
            _read(state, row, new)


def _parents_first(rows: list[Row]) -> list[Row]:
    """Each message after its parent; a parent not in the backup leaves the answer last."""
    by_id = {row.get("id"): row for row in rows}
    ordered: list[Row] = []
    seen: set[str | None] = set()

    def visit(row: Row, depth: int) -> None:
        if row.get("id") in seen or depth > len(rows):  # depth: a cycle in a corrupt file
            return
        parent = by_id.get(row.get("parent_message_id"))
        if parent is not None:
            visit(parent, depth + 1)
        seen.add(row.get("id"))
        ordered.append(row)

    for row in rows:
        visit(row, 0)
    return ordered


def _read(state: ImportState, row: Row, message: uuid.UUID) -> None:
    """The old read_at is the recipient's: ours keeps one read row per reader."""
    reader = state.ref("users", row.get("recipient_id"))
    if row.get("read_at") is None or reader is None:
        return
    old_id = row.get("id") or ""
    accepted, created = state.execute(
        "messages", old_id,
        "INSERT INTO message_reads (id, organization_id, message_id, person_id, read_at, "
        "created_at) VALUES (:id, :org, :message, :person, :at, :at) "
        "ON CONFLICT DO NOTHING RETURNING id", {
            "id": state.new_id("message_reads", old_id), "org": state.org,
            "message": message, "person": reader, "at": row.get("read_at")})
    if accepted:
        state.report.count("message_reads", created is not None)
