"""How approvals and reviews are named on screen: one wording for the inbox and the project tab."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from PySide6.QtCore import QT_TRANSLATE_NOOP, QCoreApplication

__all__ = [
    "APPROVAL_TYPE_CHOICES", "approval_status_label", "approval_type_label", "history_line",
    "review_status_label", "review_type_label", "risk_category_label", "risk_severity_label",
    "step_words",
]

_CONTEXT = "ApprovalWords"

_TYPES = {
    "stage_transition": QT_TRANSLATE_NOOP(_CONTEXT, "Stage move"),
    "document_approval": QT_TRANSLATE_NOOP(_CONTEXT, "Document"),
    "engineering_change": QT_TRANSLATE_NOOP(_CONTEXT, "Engineering change"),
    "supplier_qualification": QT_TRANSLATE_NOOP(_CONTEXT, "Supplier qualification"),
    "purchase_order": QT_TRANSLATE_NOOP(_CONTEXT, "Purchase order"),
    "cost_approval": QT_TRANSLATE_NOOP(_CONTEXT, "Quote / cost"),
    "quality_review": QT_TRANSLATE_NOOP(_CONTEXT, "Quality review"),
    "production_release": QT_TRANSLATE_NOOP(_CONTEXT, "Production release"),
    "shipping_approval": QT_TRANSLATE_NOOP(_CONTEXT, "Shipping"),
    "contract_approval": QT_TRANSLATE_NOOP(_CONTEXT, "Contract"),
    "budget_approval": QT_TRANSLATE_NOOP(_CONTEXT, "Budget"),
    "safety_review": QT_TRANSLATE_NOOP(_CONTEXT, "Safety review"),
    "custom": QT_TRANSLATE_NOOP(_CONTEXT, "Other"),
}
APPROVAL_TYPE_CHOICES = tuple(_TYPES)

_APPROVAL_STATUSES = {
    "pending": QT_TRANSLATE_NOOP(_CONTEXT, "Waiting"),
    "in_review": QT_TRANSLATE_NOOP(_CONTEXT, "In review"),
    "approved": QT_TRANSLATE_NOOP(_CONTEXT, "Approved"),
    "rejected": QT_TRANSLATE_NOOP(_CONTEXT, "Rejected"),
    "delegated": QT_TRANSLATE_NOOP(_CONTEXT, "Delegated"),
    "expired": QT_TRANSLATE_NOOP(_CONTEXT, "Expired"),
    "cancelled": QT_TRANSLATE_NOOP(_CONTEXT, "Cancelled"),
    "auto_approved": QT_TRANSLATE_NOOP(_CONTEXT, "Approved automatically"),
    "escalated": QT_TRANSLATE_NOOP(_CONTEXT, "Escalated (overdue)"),
}
_REVIEW_TYPES = {
    "engineering": QT_TRANSLATE_NOOP(_CONTEXT, "Engineering"),
    "qa": QT_TRANSLATE_NOOP(_CONTEXT, "Quality (QA)"),
    "production": QT_TRANSLATE_NOOP(_CONTEXT, "Production"),
    # Kinds the original also allowed (data imported from it may hold them).
    "management": QT_TRANSLATE_NOOP(_CONTEXT, "Management"),
    "technical": QT_TRANSLATE_NOOP(_CONTEXT, "Technical"),
    "quality": QT_TRANSLATE_NOOP(_CONTEXT, "Quality"),
}
_REVIEW_STATUSES = {
    "pending": QT_TRANSLATE_NOOP(_CONTEXT, "Waiting"),
    "in_progress": QT_TRANSLATE_NOOP(_CONTEXT, "In progress"),
    "approved": QT_TRANSLATE_NOOP(_CONTEXT, "Approved"),
    "rejected": QT_TRANSLATE_NOOP(_CONTEXT, "Rejected"),
    "revision_requested": QT_TRANSLATE_NOOP(_CONTEXT, "Revision requested"),
}
_CATEGORIES = {
    "technical": QT_TRANSLATE_NOOP(_CONTEXT, "Technical"),
    "timeline": QT_TRANSLATE_NOOP(_CONTEXT, "Timeline"),
    "cost": QT_TRANSLATE_NOOP(_CONTEXT, "Cost"),
    "quality": QT_TRANSLATE_NOOP(_CONTEXT, "Quality"),
}
_SEVERITIES = {
    "low": QT_TRANSLATE_NOOP(_CONTEXT, "Low"),
    "medium": QT_TRANSLATE_NOOP(_CONTEXT, "Medium"),
    "high": QT_TRANSLATE_NOOP(_CONTEXT, "High"),
}
_ACTIONS = {
    "requested": QT_TRANSLATE_NOOP(_CONTEXT, "asked for approval"),
    "submitted": QT_TRANSLATE_NOOP(_CONTEXT, "asked for approval"),
    "approved": QT_TRANSLATE_NOOP(_CONTEXT, "approved"),
    "rejected": QT_TRANSLATE_NOOP(_CONTEXT, "rejected"),
    "escalated": QT_TRANSLATE_NOOP(_CONTEXT, "escalated it (overdue)"),
}


def _tr(text: object) -> str:
    return QCoreApplication.translate(_CONTEXT, str(text))


def _label(table: Mapping[str, object], value: str | None) -> str:
    if value is None:
        return ""
    return _tr(table[value]) if value in table else value.replace("_", " ")


def approval_type_label(kind: str) -> str:
    return _label(_TYPES, kind)


def approval_status_label(status: str) -> str:
    return _label(_APPROVAL_STATUSES, status)


def review_type_label(kind: str) -> str:
    return _label(_REVIEW_TYPES, kind)


def review_status_label(status: str) -> str:
    return _label(_REVIEW_STATUSES, status)


def risk_category_label(category: str) -> str:
    return _label(_CATEGORIES, category)


def risk_severity_label(severity: str) -> str:
    return _label(_SEVERITIES, severity)


def step_words(step: int, total: int, name: str | None = None) -> str:
    """"Step 2 of 3" — with the step's name when it has one."""
    words = _tr("Step {n} of {total}").format(n=step, total=total)
    return f"{words}: {name}" if name else words


def history_line(moment: str, who: str | None, action: str,
                 comment: str | None, on_behalf_of: str | None = None) -> str:
    """One entry of an approval's history as a sentence (plain text; may quote a comment)."""
    someone = who or _tr("The system")
    line = f"{moment} — {someone} {_label(_ACTIONS, action)}"
    if on_behalf_of:
        line += " " + _tr("(for {name})").format(name=on_behalf_of)
    if comment:
        line += f"\n“{comment}”"
    return line


def is_overdue(due: dt.datetime | None, now: dt.datetime | None = None) -> bool:
    """Whether a due moment has passed."""
    if due is None:
        return False
    return due < (now or dt.datetime.now(dt.UTC))
