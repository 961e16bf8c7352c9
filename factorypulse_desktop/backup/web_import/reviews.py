"""Reviews, and the risks the old review form kept in their metadata as `review_risks` rows.

Our review screens read risks from `review_risks` (category, severity, description,
mitigation), so a risk left in the metadata would be invisible there.
"""

from __future__ import annotations

import uuid
from typing import Any

from factorypulse_desktop.backup.web_import.extras import review_risks
from factorypulse_desktop.backup.web_import.mapping import TABLES, Row
from factorypulse_desktop.backup.web_import.state import ImportState

# The value sets of our review_risks CHECKs (the old form offered the same words).
CATEGORIES = frozenset({"technical", "timeline", "cost", "quality"})
SEVERITIES = frozenset({"low", "medium", "high"})


def import_reviews(state: ImportState, rows: list[Row]) -> None:
    for row in rows:
        review = state.insert(TABLES["reviews"], row)
        if review is None:
            continue
        for index, risk in enumerate(review_risks(row), start=1):
            _risk(state, f"{row.get('id') or ''}#{index}", review, risk)


def _risk(state: ImportState, old_id: str, review: uuid.UUID, risk: Any) -> None:
    reason = _invalid(risk)
    if reason is not None:
        state.report.skip("reviews (risk)", old_id, reason)
        return
    accepted, created = state.execute(
        "reviews (risk)", old_id,
        "INSERT INTO review_risks (id, organization_id, review_id, category, severity, "
        "description, mitigation) VALUES (:id, :org, :review, :category, :severity, "
        ":description, :mitigation) ON CONFLICT (id) DO NOTHING RETURNING id", {
            "id": state.new_id("review_risks", old_id), "org": state.org, "review": review,
            "category": risk["category"], "severity": risk["severity"],
            "description": risk["description"].strip(), "mitigation": risk.get("mitigation")})
    if accepted:
        state.report.count("review_risks", created is not None)


def _invalid(risk: Any) -> str | None:
    if not isinstance(risk, dict):
        return "a risk that is not an object"
    if risk.get("category") not in CATEGORIES:
        return f'risk category value "{risk.get("category")}" unknown'
    if risk.get("severity") not in SEVERITIES:
        return f'risk severity value "{risk.get("severity")}" unknown'
    if not isinstance(risk.get("description"), str) or not risk["description"].strip():
        return "a risk without a description"
    if not isinstance(risk.get("mitigation"), str | None):
        return "a risk whose mitigation is not text"
    return None
