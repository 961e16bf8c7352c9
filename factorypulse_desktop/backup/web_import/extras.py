"""What a plain column copy cannot do: per-table fix-ups of an old row's values.

Each `extra` gets the old row, the values built so far and a way to look up imported rows; it
returns a reason to skip the row, or None.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from typing import Any, Protocol

Row = dict[str, str | None]


class Refs(Protocol):
    """What an `extra` may ask the import about other rows."""

    def ref(self, table: str, old: str | None) -> uuid.UUID | None: ...

    def entity(self, old: str | None) -> tuple[str, uuid.UUID] | None: ...


# Fills in what a plain column copy cannot; returns a reason to skip the row, or None.
Extra = Callable[[Row, dict[str, Any], Refs], str | None]

# Our entity names (activity, approvals, notifications) of the old tables we import.
ENTITY_NAMES = {
    "projects": "project", "documents": "document", "contacts": "contact",
    "supplier_rfqs": "supplier_rfq", "supplier_quotes": "supplier_quote", "reviews": "review",
    "messages": "message", "approvals": "approval", "users": "person",
    "workflow_stages": "workflow_stage", "workflow_sub_stages": "workflow_sub_stage",
    "project_sub_stage_progress": "project_step", "document_versions": "document_version",
}
# What our approvals can point at (fp_private.entity_version knows their versions).
APPROVABLE = frozenset({"project", "document", "supplier_rfq", "contact", "project_step"})
# Old review types (department reviews and per-role "stage approvals") → ours and its role.
REVIEW_ROLES = {"engineering": "engineering", "qa": "qa", "production": "production",
                "management": "management", "technical": "engineering", "quality": "qa"}
ACTIONS = {"INSERT": "created", "UPDATE": "updated", "DELETE": "deleted"}


def not_in_backup(row: Row, values: dict[str, Any], _refs: Refs) -> None:
    """The web backups never held file bytes: say so, and keep where the file was."""
    values["metadata"] = {
        "content_in_backup": False,
        "original_storage_path": row.get("file_path"),
        "imported_from": "factory-pulse-web",
    }


def document(row: Row, values: dict[str, Any], refs: Refs) -> None:
    not_in_backup(row, values, refs)
    values["storage_provider"] = "supabase"
    values["sync_status"] = "failed"  # nothing to sync: the content is not here


def _json(value: str | None) -> Any:
    try:
        return json.loads(value) if value else None
    except ValueError:
        return None


def _merged(value: str | None, more: dict[str, Any]) -> dict[str, Any]:
    old = _json(value)
    return {**(old if isinstance(old, dict) else {}), **more}


def review(row: Row, values: dict[str, Any], _refs: Refs) -> str | None:
    old = row.get("review_type") or ""
    kind = old.removeprefix("stage_approval_")
    if kind not in REVIEW_ROLES:
        return f'review_type value "{old}" unknown'
    values["review_type"] = kind
    values["reviewer_role"] = REVIEW_ROLES[kind]
    metadata = _merged(row.get("metadata"), {})
    if isinstance(metadata.get("risks"), list):
        del metadata["risks"]  # they become review_risks rows (reviews.py)
    if kind != old:  # a per-role stage approval: say so, our type names the department only
        metadata["web_review_type"] = old
    values["metadata"] = metadata
    return None


def review_risks(row: Row) -> list[Any]:
    """The risks the old review form kept in the review's metadata."""
    risks = _merged(row.get("metadata"), {}).get("risks")
    return risks if isinstance(risks, list) else []


def message(row: Row, values: dict[str, Any], _refs: Refs) -> str | None:
    attachments = _json(row.get("attachments"))
    if attachments:  # file descriptions only: the backup has no file bytes to link
        values["metadata"] = _merged(row.get("metadata"), {"web_attachments": attachments})
    return None


def notification(row: Row, values: dict[str, Any], refs: Refs) -> str | None:
    old = row.get("related_entity_id")
    found = refs.entity(old)
    if found is not None:
        values["related_entity_type"], values["related_entity_id"] = found
    elif old is not None:  # not imported: keep the old id as information, not as a link
        values["metadata"] = _merged(row.get("metadata"), {"web_related_entity_id": old})
    return None


def approval(row: Row, values: dict[str, Any], refs: Refs) -> str | None:
    found = refs.entity(row.get("entity_id"))
    if found is None or found[0] not in APPROVABLE:
        return (f'its {row.get("entity_type")} {row.get("entity_id")} is not in the backup '
                "or cannot be approved here")
    values["entity_type"], values["entity_id"] = found
    if found[0] == "project":
        values["project_id"] = found[1]
    approver = {k: row.get(k) for k in ("current_approver_role", "current_approver_department")
                if row.get(k)}
    if approver:  # ours routes approvals through steps; keep who was asked as information
        values["request_metadata"] = _merged(row.get("request_metadata"), approver)
    if values.get("created_at") is None:
        values["created_at"] = row.get("requested_at")
    return None


def access(row: Row, values: dict[str, Any], _refs: Refs) -> str | None:
    values["created_at"] = row.get("accessed_at")
    return None


def _changes(old_values: str | None, new_values: str | None) -> dict[str, Any] | None:
    """Our activity format, {field: {old, new}}; fields that did not change are noise."""
    old, new = _json(old_values), _json(new_values)
    old = old if isinstance(old, dict) else {}
    new = new if isinstance(new, dict) else {}
    diff = {k: {"old": old.get(k), "new": new.get(k)} for k in sorted(old.keys() | new.keys())
            if old.get(k) != new.get(k)}
    return diff or None


def activity(row: Row, values: dict[str, Any], refs: Refs) -> str | None:
    old_type, old_id = row.get("entity_type") or "record", row.get("entity_id")
    found = refs.entity(old_id)
    # Old logs name tables ("projects") or things ("user"): both become our entity names.
    named = ENTITY_NAMES.get(old_type) or ENTITY_NAMES.get(f"{old_type}s") or old_type
    values["entity_type"] = found[0] if found else named
    values["entity_id"] = found[1] if found else None
    if found is None and old_id is not None:
        values["metadata"] = _merged(row.get("metadata"), {"web_entity_id": old_id})
    action = row.get("action") or ""
    values["action"] = ACTIONS.get(action, action)
    values["changes"] = _changes(row.get("old_values"), row.get("new_values"))
    values["occurred_at"] = row.get("created_at")
    return None
