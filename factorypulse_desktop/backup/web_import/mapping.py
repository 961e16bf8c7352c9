"""Which old tables and columns (ORIGIN.md section 2) become which of ours.

A column mapped to None is known and dropped on purpose; a column not listed is unknown and is
reported. `refs` name the old table an id column points to; a row whose required parent is not
in the backup is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from factorypulse_desktop.domain.enums import ContactType, Priority, ProjectStatus

Extra = Callable[[dict[str, str | None], dict[str, Any]], None]


@dataclass(frozen=True)
class TableMap:
    old: str
    new: str
    columns: dict[str, str | None]
    refs: dict[str, str] = field(default_factory=dict)
    required_refs: frozenset[str] = frozenset()
    enums: dict[str, frozenset[str]] = field(default_factory=dict)
    fixed: dict[str, Any] = field(default_factory=dict)
    extra: Extra | None = None
    match_sql: str | None = None  # finds a row our database already has (default workflow)


def _same(*names: str) -> dict[str, str | None]:
    return {name: name for name in names}


def _dropped(*names: str) -> dict[str, str | None]:
    return dict.fromkeys(names)


def _not_in_backup(row: dict[str, str | None], values: dict[str, Any]) -> None:
    """The web backups never held file bytes: say so, and keep where the file was."""
    values["metadata"] = {
        "content_in_backup": False,
        "original_storage_path": row.get("file_path"),
        "imported_from": "factory-pulse-web",
    }


def _document(row: dict[str, str | None], values: dict[str, Any]) -> None:
    _not_in_backup(row, values)
    values["storage_provider"] = "supabase"
    values["sync_status"] = "failed"  # nothing to sync: the content is not here


COMMON = _dropped("id", "organization_id", "created_at", "updated_at")

TABLES: dict[str, TableMap] = {
    "organizations": TableMap("organizations", "organizations", {**COMMON, **_same(
        "name", "slug", "domain", "logo_url", "description", "industry", "settings",
        "subscription_plan", "is_active")}),
    "users": TableMap("users", "persons", {**COMMON, **_same(
        "email", "name", "role", "department", "phone", "avatar_url", "status", "description",
        "employee_id", "direct_manager_id", "direct_reports", "last_login_at", "preferences")}),
    "contacts": TableMap(
        "contacts", "contacts",
        {**COMMON, **_same(
            "type", "company_name", "contact_name", "email", "phone", "address", "city",
            "state", "country", "postal_code", "website", "tax_id", "payment_terms",
            "credit_limit", "is_active", "notes", "metadata", "ai_category", "ai_capabilities",
            "ai_risk_score", "ai_last_analyzed", "created_by")},
        refs={"created_by": "users"},
        enums={"type": frozenset(ContactType)},
    ),
    "workflow_stages": TableMap(
        "workflow_stages", "workflow_stages",
        {**COMMON, **_same(
            "name", "slug", "description", "color", "stage_order", "is_active", "exit_criteria",
            "responsible_roles", "estimated_duration_days")},
        match_sql="SELECT id FROM workflow_stages "
                  "WHERE organization_id = :organization_id AND slug = :slug",
    ),
    "projects": TableMap(
        "projects", "projects",
        {**COMMON, "project_id": "project_number", **_same(
            "title", "description", "customer_id", "current_stage_id", "status",
            "priority_score", "priority_level", "estimated_value", "estimated_delivery_date",
            "actual_delivery_date", "source", "tags", "metadata", "project_type", "notes",
            "created_by", "assigned_to", "intake_type", "intake_source"),
         "stage_entered_at": None},
        refs={"customer_id": "contacts", "current_stage_id": "workflow_stages",
              "created_by": "users", "assigned_to": "users"},
        enums={"status": frozenset(ProjectStatus), "priority_level": frozenset(Priority)},
    ),
    "documents": TableMap(
        "documents", "documents",
        {**COMMON, **_same(
            "project_id", "title", "description", "file_name", "file_path", "file_size",
            "file_type", "mime_type", "category", "tags", "access_level", "uploaded_by",
            "approved_by", "approved_at", "external_id", "external_url", "link_type"),
         **_dropped("version", "is_current_version", "metadata", "storage_provider",
                    "sync_status", "last_synced_at")},
        refs={"project_id": "projects", "uploaded_by": "users", "approved_by": "users"},
        required_refs=frozenset({"project_id"}),
        extra=_document,
    ),
    "document_versions": TableMap(
        "document_versions", "document_versions",
        {**COMMON, **_same(
            "document_id", "version_number", "file_name", "file_path", "file_size",
            "mime_type", "title", "description", "change_summary", "uploaded_by",
            "uploaded_at", "is_current"), "metadata": None},
        refs={"document_id": "documents", "uploaded_by": "users"},
        required_refs=frozenset({"document_id"}),
        extra=_not_in_backup,
    ),
}
