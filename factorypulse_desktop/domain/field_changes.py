"""Field changes of the activity log in words: "Priority: Medium → High".

The database records an edit as ``{"field": {"old": ..., "new": ...}}`` with the raw column
values (revision 0012). People read labels, not column names, and names, not ids: this module
turns one such record into ``FieldChange`` rows, given the names of the ids it mentions.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

__all__ = ["EMPTY", "FieldChange", "describe_changes", "field_label", "referenced_ids"]

EMPTY = "—"
# The longest value shown in a change line; a long description is cut, not wrapped forever.
MAX_VALUE = 160

_LABELS = {
    "title": "Title",
    "description": "Description",
    "customer_id": "Customer",
    "status": "Status",
    "priority_score": "Priority score",
    "priority_level": "Priority",
    "estimated_value": "Estimated value",
    "estimated_delivery_date": "Estimated delivery",
    "actual_delivery_date": "Delivered on",
    "source": "Source",
    "tags": "Tags",
    "metadata": "Other details",
    "project_type": "Project type",
    "notes": "Notes",
    "created_by": "Created by",
    "assigned_to": "Assigned to",
    "intake_type": "Intake type",
    "intake_source": "Intake source",
    "archived_at": "Archived",
    # contacts
    "type": "Type",
    "company_name": "Company name",
    "contact_name": "Contact name",
    "email": "E-mail",
    "phone": "Phone",
    "address": "Address",
    "city": "City",
    "state": "State",
    "country": "Country",
    "postal_code": "Postal code",
    "website": "Website",
    "tax_id": "Tax ID",
    "payment_terms": "Payment terms",
    "credit_limit": "Credit limit",
    "is_active": "Active",
    "capability_tags": "Capabilities",
}
# Fields holding a code a person reads as a word ("on_hold" → "On hold").
_CODES = frozenset({"status", "priority_level", "source", "project_type", "intake_type",
                    "intake_source", "type"})
# Fields holding the id of a person or a contact: shown by name.
_ID_FIELDS = frozenset({"customer_id", "created_by", "assigned_to"})


@dataclass(frozen=True)
class FieldChange:
    """One changed field: its label and the old and new values in words."""

    label: str
    old: str
    new: str

    def __str__(self) -> str:
        return f"{self.label}: {self.old} \u2192 {self.new}"


def field_label(field: str) -> str:
    """The label of a column ("priority_level" → "Priority"); unknown ones spelled out."""
    return _LABELS.get(field) or field.replace("_", " ").capitalize()


def referenced_ids(changes: Mapping[str, Any] | None) -> set[uuid.UUID]:
    """The ids of people and contacts a change record mentions (to look their names up)."""
    found: set[uuid.UUID] = set()
    for field, change in (changes or {}).items():
        if field in _ID_FIELDS and isinstance(change, Mapping):
            for side in ("old", "new"):
                value = change.get(side)
                if isinstance(value, str):
                    with suppress(ValueError):
                        found.add(uuid.UUID(value))
    return found


def describe_changes(changes: Mapping[str, Any] | None,
                     names: Mapping[uuid.UUID, str] | None = None) -> tuple[FieldChange, ...]:
    """The changes in words, sorted by label; `names` gives the names of referenced ids."""
    if not isinstance(changes, Mapping):
        return ()
    known = names or {}
    out = []
    for field, change in changes.items():
        if not isinstance(change, Mapping):
            continue
        out.append(FieldChange(field_label(field), _words(field, change.get("old"), known),
                               _words(field, change.get("new"), known)))
    return tuple(sorted(out, key=lambda c: c.label))


def _words(field: str, value: Any, names: Mapping[uuid.UUID, str]) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    if field in _ID_FIELDS and isinstance(value, str):
        try:
            return names.get(uuid.UUID(value), "someone no longer visible")
        except ValueError:
            return value
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if field in _CODES and isinstance(value, str):
        return value.replace("_", " ").capitalize()
    if field == "archived_at" and isinstance(value, str):
        return value[:16].replace("T", " ")
    if isinstance(value, list):
        text = ", ".join(str(v) for v in value)
    elif isinstance(value, dict):
        text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    else:
        text = str(value)
    text = " ".join(text.split())  # one line: a change line never breaks a list apart
    return text if len(text) <= MAX_VALUE else text[:MAX_VALUE - 1].rstrip() + "…"
