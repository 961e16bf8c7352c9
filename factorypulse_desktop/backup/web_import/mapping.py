"""Which old tables and columns (ORIGIN.md section 2) become which of ours.

A column mapped to None is known and dropped on purpose; a column not listed is unknown and is
reported. `refs` name the old table an id column points to; a row whose required parent is not
in the backup is skipped. What a column copy cannot do is in extras.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from factorypulse_desktop.backup.web_import import extras
from factorypulse_desktop.backup.web_import.extras import Extra, Row
from factorypulse_desktop.domain.enums import (
    ApprovalPriority,
    ApprovalStatus,
    ApprovalType,
    ContactType,
    Priority,
    ProjectStatus,
)

__all__ = ["TABLES", "Row", "TableMap"]


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
    synonyms: dict[str, dict[str, str]] = field(default_factory=dict)  # old value → ours
    order: tuple[str, tuple[str, ...]] | None = None  # a unique order column and its scope


def _same(*names: str) -> dict[str, str | None]:
    return {name: name for name in names}


def _dropped(*names: str) -> dict[str, str | None]:
    return dict.fromkeys(names)


# Value sets of our CHECK constraints (migrations 0003-0014).
PROGRESS_STATUS = frozenset({"pending", "in_progress", "completed", "skipped", "blocked"})
ACCESS_ACTIONS = frozenset({"view", "download", "upload", "delete", "share", "comment",
                            "approve"})
REVIEW_STATUS = frozenset({"pending", "in_progress", "approved", "rejected",
                           "revision_requested"})
RFQ_STATUS = frozenset({"draft", "sent", "viewed", "quoted", "declined", "expired",
                        "cancelled"})
QUOTE_STATUS = frozenset({"draft", "submitted", "under_review", "accepted", "rejected",
                          "expired", "withdrawn"})
MESSAGE_TYPES = frozenset({"internal", "customer", "supplier", "system"})
RECIPIENT_TYPES = frozenset({"user", "role", "project", "customer", "supplier"})
NOTIFICATION_STATUS = frozenset({"unread", "read", "archived"})
# The old free-text priorities borrowed approval words; ours has four levels.
PRIORITY_SYNONYMS = {"priority": {"normal": "medium", "urgent": "critical"}}

COMMON = _dropped("id", "organization_id", "created_at", "updated_at")
# Messages, reviews, logs…: their old time is what a user reads ("sent at"), so it is kept.
KEPT = _dropped("id", "organization_id", "updated_at") | {"created_at": "created_at"}


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
        match_sql="SELECT id FROM workflow_stages WHERE organization_id = :organization_id "
                  "AND (slug = :slug OR lower(name) = lower(:name)) "
                  "ORDER BY slug = :slug DESC LIMIT 1",
        order=("stage_order", ()),
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
                    "sync_status", "last_synced_at",
                    # Recounted by our trigger from the imported document_access_log rows.
                    "link_access_count", "link_last_accessed")},
        refs={"project_id": "projects", "uploaded_by": "users", "approved_by": "users"},
        required_refs=frozenset({"project_id"}),
        extra=extras.document,
    ),
    "document_versions": TableMap(
        "document_versions", "document_versions",
        {**COMMON, **_same(
            "document_id", "version_number", "file_name", "file_path", "file_size",
            "mime_type", "title", "description", "change_summary", "uploaded_by",
            "uploaded_at", "is_current"), "metadata": None},
        refs={"document_id": "documents", "uploaded_by": "users"},
        required_refs=frozenset({"document_id"}),
        extra=extras.not_in_backup,
    ),

    "workflow_sub_stages": TableMap(
        "workflow_sub_stages", "workflow_sub_stages",
        {**COMMON, **_same(
            "workflow_stage_id", "name", "slug", "description", "color", "sub_stage_order",
            "is_active", "exit_criteria", "responsible_roles", "estimated_duration_hours",
            "is_required", "can_skip", "auto_advance", "requires_approval", "approval_roles",
            "metadata")},
        refs={"workflow_stage_id": "workflow_stages"},
        required_refs=frozenset({"workflow_stage_id"}),
        match_sql="SELECT id FROM workflow_sub_stages WHERE organization_id = :organization_id "
                  "AND workflow_stage_id = :workflow_stage_id "
                  "AND (slug = :slug OR lower(name) = lower(:name)) "
                  "ORDER BY slug = :slug DESC LIMIT 1",
        order=("sub_stage_order", ("workflow_stage_id",)),
    ),
    "project_sub_stage_progress": TableMap(
        "project_sub_stage_progress", "project_sub_stage_progress",
        {**COMMON, **_same(
            "project_id", "workflow_stage_id", "sub_stage_id", "status", "started_at",
            "completed_at", "assigned_to", "notes", "metadata")},
        refs={"project_id": "projects", "workflow_stage_id": "workflow_stages",
              "sub_stage_id": "workflow_sub_stages", "assigned_to": "users"},
        required_refs=frozenset({"project_id", "workflow_stage_id", "sub_stage_id"}),
        enums={"status": PROGRESS_STATUS},
    ),
    # Who works on a project: some roles see a project only through it (ORIGIN.md: access).
    "project_assignments": TableMap(
        "project_assignments", "project_assignments",
        {**COMMON, "user_id": "person_id", **_same(
            "project_id", "role", "assigned_at", "assigned_by", "is_active")},
        refs={"project_id": "projects", "user_id": "users", "assigned_by": "users"},
        required_refs=frozenset({"project_id", "user_id"}),
    ),
    "document_access_log": TableMap(
        "document_access_log", "document_access_log",
        {**KEPT, "user_id": "person_id", **_same(
            "document_id", "action", "ip_address", "user_agent", "accessed_at")},
        refs={"document_id": "documents", "user_id": "users"},
        required_refs=frozenset({"document_id"}),
        enums={"action": ACCESS_ACTIONS},
        extra=extras.access,
    ),
    "reviews": TableMap(
        "reviews", "reviews",
        {**KEPT, **_same(
            "project_id", "reviewer_id", "status", "priority", "comments", "recommendations",
            "decision", "decision_reason", "metadata", "due_date", "completed_at",
            "created_by"), "review_type": None},
        refs={"project_id": "projects", "reviewer_id": "users", "created_by": "users"},
        required_refs=frozenset({"project_id"}),
        enums={"status": REVIEW_STATUS, "priority": frozenset(Priority)},
        synonyms=PRIORITY_SYNONYMS,
        extra=extras.review,
    ),
    "supplier_rfqs": TableMap(
        "supplier_rfqs", "supplier_rfqs",
        {**KEPT, **_same(
            "project_id", "supplier_id", "rfq_number", "status", "sent_at", "viewed_at",
            "due_date", "expected_response_date", "priority", "requirements",
            "special_instructions", "created_by")},
        refs={"project_id": "projects", "supplier_id": "contacts", "created_by": "users"},
        required_refs=frozenset({"project_id", "supplier_id"}),
        enums={"status": RFQ_STATUS, "priority": frozenset(Priority)},
        synonyms=PRIORITY_SYNONYMS,
    ),
    "supplier_quotes": TableMap(
        "supplier_quotes", "supplier_quotes",
        {**KEPT, **_same(
            "project_id", "supplier_id", "supplier_rfq_id", "quote_number", "total_amount",
            "currency", "lead_time_days", "valid_until", "status", "terms_and_conditions",
            "notes", "metadata", "submitted_at")},
        refs={"project_id": "projects", "supplier_id": "contacts",
              "supplier_rfq_id": "supplier_rfqs"},
        required_refs=frozenset({"project_id", "supplier_id"}),
        enums={"status": QUOTE_STATUS},
    ),
    "messages": TableMap(
        "messages", "messages",
        {**KEPT, **_same(
            "project_id", "sender_id", "recipient_id", "recipient_type", "subject", "content",
            "message_type", "priority", "status", "parent_message_id", "metadata"),
         # Our trigger derives the thread from the parent; read_at becomes a message_reads row.
         **_dropped("thread_id", "attachments", "read_at")},
        refs={"project_id": "projects", "sender_id": "users", "recipient_id": "users",
              "parent_message_id": "messages"},
        required_refs=frozenset({"project_id", "parent_message_id"}),
        enums={"recipient_type": RECIPIENT_TYPES, "message_type": MESSAGE_TYPES,
               "priority": frozenset(Priority)},
        synonyms=PRIORITY_SYNONYMS,
        extra=extras.message,
    ),
    "notifications": TableMap(
        "notifications", "notifications",
        {**KEPT, "user_id": "person_id", **_same(
            "title", "message", "type", "priority", "status", "action_url", "action_label",
            "related_entity_type", "metadata", "expires_at", "read_at"),
         "related_entity_id": None},
        refs={"user_id": "users"},
        required_refs=frozenset({"user_id"}),
        enums={"status": NOTIFICATION_STATUS, "priority": frozenset(Priority)},
        synonyms=PRIORITY_SYNONYMS,
        extra=extras.notification,
    ),
    "activity_log": TableMap(
        "activity_log", "activity_log",
        {**KEPT, "user_id": "actor_id", **_same("description", "metadata", "project_id"),
         # Ours keeps no addresses; entity, action and old/new values are rebuilt by _activity.
         **_dropped("entity_type", "entity_id", "action", "old_values", "new_values",
                    "ip_address", "user_agent")},
        refs={"user_id": "users", "project_id": "projects"},
        extra=extras.activity,
    ),
    "approvals": TableMap(
        "approvals", "approvals",
        {**KEPT, **_same(
            "approval_type", "title", "description", "reference_id", "step_number",
            "total_steps", "requested_by", "requested_at", "request_reason",
            "request_metadata", "status", "priority", "due_date", "expires_at",
            "decision_comments", "decision_reason", "decided_by", "decided_at",
            "escalated_to", "escalated_at", "escalation_reason"),
         # Entity: rebuilt by _approval. Chains, delegation and auto-approval rules were never
         # used (no rows in the web version) and ours models them as steps.
         **_dropped("entity_type", "entity_id", "approval_chain_id", "current_approver_id",
                    "current_approver_role", "current_approver_department",
                    "decision_metadata", "escalated_from", "delegated_from", "delegated_to",
                    "delegated_at", "delegation_reason", "delegation_end_date",
                    "auto_approval_rules", "auto_approved_at", "auto_approval_reason",
                    "created_by")},
        refs={"requested_by": "users", "decided_by": "users", "escalated_to": "users"},
        enums={"approval_type": frozenset(ApprovalType), "status": frozenset(ApprovalStatus),
               "priority": frozenset(ApprovalPriority)},
        extra=extras.approval,
    ),
    "approval_history": TableMap(
        "approval_history", "approval_history",
        {**KEPT, **_same(
            "approval_id", "action_type", "action_by", "action_at", "old_status", "new_status",
            "comments", "metadata")},
        refs={"approval_id": "approvals", "action_by": "users"},
        required_refs=frozenset({"approval_id"}),
        enums={"old_status": frozenset(ApprovalStatus), "new_status": frozenset(ApprovalStatus)},
    ),
}
