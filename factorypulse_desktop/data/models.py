"""Typed ORM models of every table of the schema (migrations/versions/*_foundation.py).

The migrations own the schema: this module describes it for SQLAlchemy and never creates it.
tests/db/test_models_match_schema.py compares it with a migrated database.

Conventions, all mirroring the migration:

* Tenant tables carry `id` (uuid, filled by the database), `organization_id` and
  UNIQUE (organization_id, id); every reference between tenant rows is the composite
  (organization_id, x) -> parent (organization_id, id), so it can never cross organizations.
  References to people go to memberships (organization_id, person_id).
* Editable tables carry created_at, updated_at and `version`. The trigger fp_private.tg_touch
  sets updated_at and increments version on every UPDATE; the mapper uses `version` as its
  optimistic lock (UPDATE ... WHERE version = <read>), reads the new value back and raises
  StaleDataError when someone else changed the row first.
* Columns the database fills (defaults, generated columns, actor stamps, project numbers) are
  left alone by the ORM on INSERT and read back with RETURNING (eager defaults).

No relationships are declared: the composite keys make them easy to get wrong, and the services
query what they need explicitly.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    CHAR,
    BigInteger,
    Boolean,
    Computed,
    Date,
    DateTime,
    FetchedValue,
    ForeignKey,
    ForeignKeyConstraint,
    FromClause,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, ENUM, INET, JSONB, TSVECTOR, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.sql.elements import TextClause
from sqlalchemy.sql.schema import SchemaItem

from factorypulse_desktop.domain.enums import (
    ApprovalPriority,
    ApprovalStatus,
    ApprovalType,
    ContactType,
    IntakeType,
    PersonStatus,
    Priority,
    ProjectStatus,
    Role,
    SubscriptionPlan,
)

# --------------------------------------------------------------------------------------------
# PostgreSQL enum types (created by the migration, never by SQLAlchemy)
# --------------------------------------------------------------------------------------------


def _enum_values(enum_cls: type[StrEnum]) -> list[str]:
    return [member.value for member in enum_cls]


def _pg_enum(enum_cls: type[StrEnum], name: str) -> ENUM:
    """The database stores the lower-case values ('admin'), not the member names ('ADMIN')."""
    return ENUM(enum_cls, name=name, create_type=False, values_callable=_enum_values)


USER_ROLE = _pg_enum(Role, "user_role")
USER_STATUS = _pg_enum(PersonStatus, "user_status")
INTAKE_TYPE = _pg_enum(IntakeType, "intake_type")
PROJECT_STATUS = _pg_enum(ProjectStatus, "project_status")
PRIORITY_LEVEL = _pg_enum(Priority, "priority_level")
CONTACT_TYPE = _pg_enum(ContactType, "contact_type")
SUBSCRIPTION_PLAN = _pg_enum(SubscriptionPlan, "subscription_plan")
APPROVAL_TYPE = _pg_enum(ApprovalType, "approval_type")
APPROVAL_STATUS = _pg_enum(ApprovalStatus, "approval_status")
APPROVAL_PRIORITY = _pg_enum(ApprovalPriority, "approval_priority")

#: Every PostgreSQL enum type of the schema with the Python enum that mirrors it.
PG_ENUMS: dict[str, ENUM] = {
    enum.name: enum
    for enum in (
        USER_ROLE,
        USER_STATUS,
        INTAKE_TYPE,
        PROJECT_STATUS,
        PRIORITY_LEVEL,
        CONTACT_TYPE,
        SUBSCRIPTION_PLAN,
        APPROVAL_TYPE,
        APPROVAL_STATUS,
        APPROVAL_PRIORITY,
    )
    if enum.name is not None
}

# --------------------------------------------------------------------------------------------
# Server defaults, spelled exactly as PostgreSQL reports them (pg_get_expr), so the schema
# comparison can check them as text.
# --------------------------------------------------------------------------------------------
NOW = text("now()")
NEW_UUID = text("gen_random_uuid()")
TRUE = text("true")
FALSE = text("false")
EMPTY_JSON = text("'{}'::jsonb")
EMPTY_TEXTS = text("'{}'::text[]")
NO_ROLES = text("'{}'::user_role[]")
USD = text("'USD'::bpchar")
PCS = text("'pcs'::text")
ONE_GIB = text("1073741824")


def lit(value: str, pg_type: str = "text") -> TextClause:
    """A constant default such as 'draft'::text or 'medium'::priority_level."""
    return text(f"'{value}'::{pg_type}")


def num(value: int) -> TextClause:
    return text(str(value))


MEDIUM = lit("medium", "priority_level")

# --------------------------------------------------------------------------------------------
# Constraint helpers, the same shapes as fk() and person_fk() in the migration
# --------------------------------------------------------------------------------------------


def _on_delete(column: str, on_delete: str | None) -> str | None:
    # PostgreSQL 15+: SET NULL only the reference column, keep organization_id.
    return f"SET NULL ({column})" if on_delete == "SET NULL" else on_delete


def org_fk(
    column: str, parent: str, on_delete: str | None = None, *, use_alter: bool = False
) -> ForeignKeyConstraint:
    """(organization_id, column) -> parent (organization_id, id)."""
    return ForeignKeyConstraint(
        ["organization_id", column],
        [f"{parent}.organization_id", f"{parent}.id"],
        ondelete=_on_delete(column, on_delete),
        use_alter=use_alter,
    )


def person_fk(column: str, on_delete: str | None = None) -> ForeignKeyConstraint:
    """(organization_id, column) -> memberships (organization_id, person_id)."""
    return ForeignKeyConstraint(
        ["organization_id", column],
        ["memberships.organization_id", "memberships.person_id"],
        ondelete=_on_delete(column, on_delete),
    )


def tenant_args(*items: SchemaItem) -> tuple[SchemaItem, ...]:
    """__table_args__ of a tenant table: UNIQUE (organization_id, id) plus its own items."""
    return (UniqueConstraint("organization_id", "id"), *items)


# --------------------------------------------------------------------------------------------
# Base and mixins
# --------------------------------------------------------------------------------------------


class Base(DeclarativeBase):
    metadata = MetaData()
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        uuid.UUID: UUID(as_uuid=True),
        str: Text(),
        int: Integer(),
        bool: Boolean(),
        datetime: DateTime(timezone=True),
        date: Date(),
        dict[str, Any]: JSONB(),
        list[str]: ARRAY(Text()),
        list[Role]: ARRAY(USER_ROLE),
        Role: USER_ROLE,
        PersonStatus: USER_STATUS,
        IntakeType: INTAKE_TYPE,
        ProjectStatus: PROJECT_STATUS,
        Priority: PRIORITY_LEVEL,
        ContactType: CONTACT_TYPE,
        SubscriptionPlan: SUBSCRIPTION_PLAN,
        ApprovalType: APPROVAL_TYPE,
        ApprovalStatus: APPROVAL_STATUS,
        ApprovalPriority: APPROVAL_PRIORITY,
    }

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        # Read what the database filled in (ids, defaults, trigger stamps) with RETURNING.
        return {"eager_defaults": True}


class Tenant:
    """id and organization_id; the class adds UNIQUE (organization_id, id) via tenant_args."""

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, server_default=NEW_UUID, sort_order=-2)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), sort_order=-1
    )


class Editable:
    """created_at, updated_at and the optimistic lock `version`, all kept by the database."""

    __table__: ClassVar[FromClause]

    created_at: Mapped[datetime] = mapped_column(server_default=NOW, sort_order=100)
    updated_at: Mapped[datetime] = mapped_column(
        server_default=NOW, server_onupdate=FetchedValue(), sort_order=101
    )
    version: Mapped[int] = mapped_column(server_default=num(1), sort_order=102)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:
        return {
            "version_id_col": cls.__table__.c.version,
            # tg_touch increments it; SQLAlchemy only checks it and reads the new value back.
            "version_id_generator": False,
            "eager_defaults": True,
        }


class Created:
    """created_at of the rows that are never edited."""

    created_at: Mapped[datetime] = mapped_column(server_default=NOW, sort_order=100)


# --------------------------------------------------------------------------------------------
# Organizations and people
# --------------------------------------------------------------------------------------------


class Organization(Editable, Base):
    __tablename__ = "organizations"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, server_default=NEW_UUID, sort_order=-2)
    name: Mapped[str]
    slug: Mapped[str] = mapped_column(unique=True)
    domain: Mapped[str | None]
    logo_url: Mapped[str | None]
    description: Mapped[str | None]
    industry: Mapped[str | None]
    settings: Mapped[dict[str, Any]] = mapped_column(
        server_default=text("""'{"currency": "USD", "language": "en", "timezone": "UTC"}'::jsonb""")
    )
    subscription_plan: Mapped[SubscriptionPlan] = mapped_column(
        server_default=lit("starter", "subscription_plan")
    )
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    max_file_size: Mapped[int] = mapped_column(BigInteger, server_default=ONE_GIB)


class Person(Editable, Base):
    """A person; `role_name` is their PostgreSQL login."""

    __tablename__ = "persons"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, server_default=NEW_UUID, sort_order=-2)
    role_name: Mapped[str] = mapped_column(unique=True)
    display_name: Mapped[str]
    email: Mapped[str | None]
    phone: Mapped[str | None]
    avatar_url: Mapped[str | None]
    status: Mapped[PersonStatus] = mapped_column(server_default=lit("active", "user_status"))
    preferences: Mapped[dict[str, Any]] = mapped_column(server_default=EMPTY_JSON)
    last_login_at: Mapped[datetime | None]


class Membership(Tenant, Editable, Base):
    __tablename__ = "memberships"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "person_id"),
        person_fk("direct_manager_id", "SET NULL"),
        # Added after both tables exist (LATE_CONSTRAINTS): contacts refer to memberships too.
        org_fk("contact_id", "contacts", use_alter=True),
        Index("memberships_person_idx", "person_id", "organization_id"),
        # Revision 0016: the shop-floor station finds an operator by badge (employee_id).
        Index("memberships_badge_idx", "organization_id", "employee_id",
              postgresql_where=text("(employee_id IS NOT NULL)")),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    role: Mapped[Role]
    status: Mapped[PersonStatus] = mapped_column(server_default=lit("active", "user_status"))
    department: Mapped[str | None]
    title: Mapped[str | None]
    employee_id: Mapped[str | None]
    contact_id: Mapped[uuid.UUID | None]
    direct_manager_id: Mapped[uuid.UUID | None]


class Contact(Tenant, Editable, Base):
    """A customer, supplier or partner company."""

    __tablename__ = "contacts"
    __table_args__ = tenant_args(
        person_fk("created_by", "SET NULL"),
        Index("contacts_company_idx", "organization_id", text("lower(company_name)")),
        Index(
            "contacts_company_trgm_idx",
            "company_name",
            postgresql_using="gin",
            postgresql_ops={"company_name": "gin_trgm_ops"},
        ),
        Index(
            "contacts_search_trgm_idx",
            text("((organization_id)::text)"),
            "company_name", "contact_name",
            postgresql_using="gin",
            postgresql_ops={"company_name": "gin_trgm_ops", "contact_name": "gin_trgm_ops"},
        ),
    )

    type: Mapped[ContactType] = mapped_column(server_default=lit("customer", "contact_type"))
    company_name: Mapped[str]
    contact_name: Mapped[str | None]
    email: Mapped[str | None]
    phone: Mapped[str | None]
    address: Mapped[str | None]
    city: Mapped[str | None]
    state: Mapped[str | None]
    country: Mapped[str | None]
    postal_code: Mapped[str | None]
    website: Mapped[str | None]
    tax_id: Mapped[str | None]
    payment_terms: Mapped[str | None]
    credit_limit: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    notes: Mapped[str | None]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=EMPTY_JSON)
    capability_tags: Mapped[list[str]] = mapped_column(server_default=EMPTY_TEXTS)
    ai_category: Mapped[dict[str, Any] | None]
    ai_capabilities: Mapped[list[str] | None]
    ai_risk_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 2))
    ai_last_analyzed: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())


# --------------------------------------------------------------------------------------------
# Workflow and projects
# --------------------------------------------------------------------------------------------


class WorkflowStage(Tenant, Editable, Base):
    __tablename__ = "workflow_stages"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "slug"),
        UniqueConstraint("organization_id", "stage_order", deferrable=True, initially="IMMEDIATE"),
    )

    name: Mapped[str]
    slug: Mapped[str]
    description: Mapped[str | None]
    color: Mapped[str] = mapped_column(server_default=lit("#64748b"))
    stage_order: Mapped[int]
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    exit_criteria: Mapped[str | None]
    responsible_roles: Mapped[list[Role]] = mapped_column(server_default=NO_ROLES)
    estimated_duration_days: Mapped[int | None]


class WorkflowSubStage(Tenant, Editable, Base):
    __tablename__ = "workflow_sub_stages"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "workflow_stage_id", "slug"),
        UniqueConstraint(
            "organization_id",
            "workflow_stage_id",
            "sub_stage_order",
            deferrable=True,
            initially="IMMEDIATE",
        ),
        org_fk("workflow_stage_id", "workflow_stages", "CASCADE"),
    )

    workflow_stage_id: Mapped[uuid.UUID]
    name: Mapped[str]
    slug: Mapped[str]
    description: Mapped[str | None]
    color: Mapped[str | None]
    sub_stage_order: Mapped[int]
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    exit_criteria: Mapped[str | None]
    responsible_roles: Mapped[list[Role]] = mapped_column(server_default=NO_ROLES)
    estimated_duration_hours: Mapped[Decimal | None] = mapped_column(Numeric(8, 2))
    is_required: Mapped[bool] = mapped_column(server_default=TRUE)
    can_skip: Mapped[bool] = mapped_column(server_default=FALSE)
    auto_advance: Mapped[bool] = mapped_column(server_default=FALSE)
    requires_approval: Mapped[bool] = mapped_column(server_default=FALSE)
    approval_roles: Mapped[list[Role]] = mapped_column(server_default=NO_ROLES)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=EMPTY_JSON)


class Project(Tenant, Editable, Base):
    """A customer project. The database assigns project_number and the first stage."""

    __tablename__ = "projects"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "project_number"),
        org_fk("customer_id", "contacts", "SET NULL"),
        org_fk("current_stage_id", "workflow_stages"),
        person_fk("created_by", "SET NULL"),
        person_fk("assigned_to", "SET NULL"),
        Index("projects_list_idx", "organization_id", text("updated_at DESC"), text("id DESC")),
        Index("projects_stage_idx", "organization_id", "current_stage_id", text("updated_at DESC")),
        Index("projects_customer_idx", "organization_id", "customer_id"),
        Index("projects_assignee_idx", "organization_id", "assigned_to"),
        # Dashboard (revision 0004): open projects by stage age and due date, deliveries.
        Index("projects_open_stage_idx", "organization_id", "current_stage_id",
              "stage_entered_at", postgresql_where=text(
                  "((status = 'active'::project_status) AND (archived_at IS NULL))")),
        Index("projects_open_due_idx", "organization_id", "estimated_delivery_date",
              postgresql_where=text(
                  "((status = ANY (ARRAY['active'::project_status, 'on_hold'::project_status]))"
                  " AND (archived_at IS NULL))")),
        Index("projects_delivered_idx", "organization_id", "actual_delivery_date",
              postgresql_where=text("(actual_delivery_date IS NOT NULL)")),
        Index("projects_search_idx", "search_text", postgresql_using="gin"),
        Index(
            "projects_title_trgm_idx",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
        Index(
            "projects_search_trgm_idx",
            text("((organization_id)::text)"),
            "project_number", "title",
            postgresql_using="gin",
            postgresql_ops={"project_number": "gin_trgm_ops", "title": "gin_trgm_ops"},
        ),
    )

    # Filled by the trigger tg_project_number (a person never chooses it).
    project_number: Mapped[str] = mapped_column(String(50), server_default=FetchedValue())
    title: Mapped[str]
    description: Mapped[str | None]
    customer_id: Mapped[uuid.UUID | None]
    # The first active stage when left empty (tg_project_number).
    current_stage_id: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())
    status: Mapped[ProjectStatus] = mapped_column(server_default=lit("active", "project_status"))
    priority_score: Mapped[int] = mapped_column(server_default=num(50))
    priority_level: Mapped[Priority] = mapped_column(server_default=MEDIUM)
    estimated_value: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    estimated_delivery_date: Mapped[date | None]
    actual_delivery_date: Mapped[date | None]
    source: Mapped[str] = mapped_column(server_default=lit("manual"))
    tags: Mapped[list[str]] = mapped_column(server_default=EMPTY_TEXTS)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=EMPTY_JSON)
    stage_entered_at: Mapped[datetime] = mapped_column(server_default=NOW)
    project_type: Mapped[str | None]
    notes: Mapped[str | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())
    assigned_to: Mapped[uuid.UUID | None]
    intake_type: Mapped[IntakeType | None]
    intake_source: Mapped[str] = mapped_column(server_default=lit("portal"))
    archived_at: Mapped[datetime | None]
    search_text: Mapped[str | None] = mapped_column(
        TSVECTOR,
        Computed(
            "to_tsvector('simple'::regconfig, (((((COALESCE(project_number, "
            "''::character varying))::text || ' '::text) || COALESCE(title, ''::text)) "
            "|| ' '::text) || COALESCE(description, ''::text)))",
            persisted=True,
        ),
    )


class ProjectNumberCounter(Base):
    """One row per organization and day; its row lock serializes project numbers."""

    __tablename__ = "project_number_counters"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(primary_key=True)
    last_seq: Mapped[int]


class ProjectSubStageProgress(Tenant, Editable, Base):
    __tablename__ = "project_sub_stage_progress"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "project_id", "sub_stage_id"),
        org_fk("project_id", "projects", "CASCADE"),
        org_fk("workflow_stage_id", "workflow_stages"),
        org_fk("sub_stage_id", "workflow_sub_stages"),
        person_fk("assigned_to", "SET NULL"),
        person_fk("completed_by", "SET NULL"),
        Index("progress_project_idx", "organization_id", "project_id"),
        Index("progress_assignee_idx", "organization_id", "assigned_to", postgresql_where=text(
            "(status = ANY (ARRAY['pending'::text, 'in_progress'::text, 'blocked'::text]))")),
    )

    project_id: Mapped[uuid.UUID]
    workflow_stage_id: Mapped[uuid.UUID]
    sub_stage_id: Mapped[uuid.UUID]
    status: Mapped[str] = mapped_column(server_default=lit("pending"))
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    completed_by: Mapped[uuid.UUID | None]
    assigned_to: Mapped[uuid.UUID | None]
    notes: Mapped[str | None]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=EMPTY_JSON)


class ProjectAssignment(Tenant, Editable, Base):
    __tablename__ = "project_assignments"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "project_id", "person_id", "role"),
        org_fk("project_id", "projects", "CASCADE"),
        person_fk("person_id"),
        person_fk("assigned_by", "SET NULL"),
        Index(
            "assignments_person_idx",
            "organization_id",
            "person_id",
            postgresql_where=text("is_active"),
        ),
    )

    project_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID]
    role: Mapped[str] = mapped_column(server_default=lit("member"))
    assigned_at: Mapped[datetime] = mapped_column(server_default=NOW)
    assigned_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)


class ProjectStageHistory(Tenant, Created, Base):
    """Append-only; written only by the database."""

    __tablename__ = "project_stage_history"
    __table_args__ = tenant_args(
        org_fk("project_id", "projects", "CASCADE"),
        org_fk("from_stage_id", "workflow_stages"),
        org_fk("to_stage_id", "workflow_stages"),
        person_fk("actor_id", "SET NULL"),
        Index("stage_history_project_idx", "organization_id", "project_id", "occurred_at"),
        Index("stage_history_period_idx", "organization_id", "occurred_at",
              postgresql_include=["project_id", "to_stage_id", "id"]),
    )

    project_id: Mapped[uuid.UUID]
    from_stage_id: Mapped[uuid.UUID | None]
    to_stage_id: Mapped[uuid.UUID]
    transition: Mapped[str]
    reason: Mapped[str | None]
    comment: Mapped[str | None]
    actor_id: Mapped[uuid.UUID | None]
    occurred_at: Mapped[datetime] = mapped_column(server_default=NOW)


class Review(Tenant, Editable, Base):
    __tablename__ = "reviews"
    __table_args__ = tenant_args(
        org_fk("project_id", "projects", "CASCADE"),
        person_fk("reviewer_id", "SET NULL"),
        person_fk("created_by", "SET NULL"),
        Index("reviews_project_idx", "organization_id", "project_id"),
    )

    project_id: Mapped[uuid.UUID]
    reviewer_id: Mapped[uuid.UUID | None]
    reviewer_role: Mapped[Role | None]
    review_type: Mapped[str]
    status: Mapped[str] = mapped_column(server_default=lit("pending"))
    priority: Mapped[Priority] = mapped_column(server_default=MEDIUM)
    comments: Mapped[str | None]
    recommendations: Mapped[str | None]
    decision: Mapped[str | None]
    decision_reason: Mapped[str | None]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=EMPTY_JSON)
    due_date: Mapped[date | None]
    completed_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())


class ReviewRisk(Tenant, Editable, Base):
    __tablename__ = "review_risks"
    __table_args__ = tenant_args(org_fk("review_id", "reviews", "CASCADE"))

    review_id: Mapped[uuid.UUID]
    category: Mapped[str]
    severity: Mapped[str]
    description: Mapped[str]
    mitigation: Mapped[str | None]


# --------------------------------------------------------------------------------------------
# File storage in the database
# --------------------------------------------------------------------------------------------


class StorageBucket(Tenant, Editable, Base):
    __tablename__ = "storage_buckets"
    __table_args__ = tenant_args(UniqueConstraint("organization_id", "name"))

    name: Mapped[str]
    max_file_size: Mapped[int] = mapped_column(BigInteger, server_default=ONE_GIB)
    allowed_mime_types: Mapped[list[str] | None]


class StorageObject(Tenant, Editable, Base):
    """Content addressed per organization; visible only when complete."""

    __tablename__ = "storage_objects"
    __table_args__ = tenant_args(
        org_fk("bucket_id", "storage_buckets"),
        person_fk("created_by", "SET NULL"),
        Index(
            "storage_objects_content_idx",
            "organization_id",
            "sha256",
            unique=True,
            postgresql_where=text("(status = 'complete'::text)"),
        ),
    )

    bucket_id: Mapped[uuid.UUID]
    sha256: Mapped[str | None]
    size: Mapped[int] = mapped_column(BigInteger, server_default=num(0))
    chunk_size: Mapped[int] = mapped_column(server_default=num(1048576))
    chunk_count: Mapped[int] = mapped_column(server_default=num(0))
    mime_type: Mapped[str | None]
    status: Mapped[str] = mapped_column(server_default=lit("uploading"))
    expected_size: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())
    completed_at: Mapped[datetime | None]
    verified_at: Mapped[datetime | None]


class BlobChunk(Base):
    __tablename__ = "blob_chunks"
    __table_args__ = (
        ForeignKeyConstraint(
            ["organization_id", "object_id"],
            ["storage_objects.organization_id", "storage_objects.id"],
            ondelete="CASCADE",
        ),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    object_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    data: Mapped[bytes] = mapped_column(LargeBinary)
    # sha256 of `data`, computed by the database when the chunk arrives (revision 0005).
    sha256: Mapped[bytes] = mapped_column(LargeBinary)


# --------------------------------------------------------------------------------------------
# Suppliers: requests for quotation and quotes
# --------------------------------------------------------------------------------------------


class SupplierRfq(Tenant, Editable, Base):
    __tablename__ = "supplier_rfqs"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "rfq_number"),
        org_fk("project_id", "projects", "CASCADE"),
        org_fk("supplier_id", "contacts"),
        person_fk("created_by", "SET NULL"),
        Index("supplier_rfqs_project_idx", "organization_id", "project_id"),
        Index("supplier_rfqs_supplier_idx", "organization_id", "supplier_id"),
        Index("supplier_rfqs_group_idx", "organization_id", "rfq_group"),
    )

    project_id: Mapped[uuid.UUID]
    supplier_id: Mapped[uuid.UUID]
    rfq_number: Mapped[str]
    status: Mapped[str] = mapped_column(server_default=lit("draft"))
    sent_at: Mapped[datetime | None]
    viewed_at: Mapped[datetime | None]
    due_date: Mapped[date | None]
    expected_response_date: Mapped[date | None]
    priority: Mapped[Priority] = mapped_column(server_default=MEDIUM)
    requirements: Mapped[str | None]
    special_instructions: Mapped[str | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())
    # The RFQs sent together for one need (one row per supplier), compared and awarded as one.
    rfq_group: Mapped[uuid.UUID | None]


class ProcurementNumberCounter(Base):
    """One row per organization, kind (rfq, po) and day; its row lock serializes numbers."""

    __tablename__ = "procurement_number_counters"

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(primary_key=True)
    last_seq: Mapped[int]


class SupplierRfqDocument(Tenant, Created, Base):
    """A project document attached to an RFQ."""

    __tablename__ = "supplier_rfq_documents"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "supplier_rfq_id", "document_id"),
        org_fk("supplier_rfq_id", "supplier_rfqs", "CASCADE"),
        org_fk("document_id", "documents", "CASCADE"),
    )

    supplier_rfq_id: Mapped[uuid.UUID]
    document_id: Mapped[uuid.UUID]


class SupplierQuote(Tenant, Editable, Base):
    __tablename__ = "supplier_quotes"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "supplier_id", "quote_number"),
        org_fk("project_id", "projects", "CASCADE"),
        org_fk("supplier_rfq_id", "supplier_rfqs", "SET NULL"),
        org_fk("supplier_id", "contacts"),
        person_fk("created_by", "SET NULL"),
        Index("supplier_quotes_project_idx", "organization_id", "project_id"),
        Index("supplier_quotes_rfq_idx", "organization_id", "supplier_rfq_id"),
    )

    project_id: Mapped[uuid.UUID]
    supplier_rfq_id: Mapped[uuid.UUID | None]
    supplier_id: Mapped[uuid.UUID]
    quote_number: Mapped[str | None]
    total_amount: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    currency: Mapped[str] = mapped_column(CHAR(3), server_default=USD)
    lead_time_days: Mapped[int | None]
    valid_until: Mapped[date | None]
    status: Mapped[str] = mapped_column(server_default=lit("submitted"))
    terms_and_conditions: Mapped[str | None]
    notes: Mapped[str | None]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=EMPTY_JSON)
    submitted_at: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())


class SupplierQuoteLine(Tenant, Editable, Base):
    __tablename__ = "supplier_quote_lines"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "supplier_quote_id", "line_no"),
        org_fk("supplier_quote_id", "supplier_quotes", "CASCADE"),
    )

    supplier_quote_id: Mapped[uuid.UUID]
    line_no: Mapped[int]
    description: Mapped[str]
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    unit: Mapped[str] = mapped_column(server_default=PCS)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(15, 4))
    amount: Mapped[Decimal | None] = mapped_column(
        Numeric(15, 2), Computed("round((quantity * unit_price), 2)", persisted=True)
    )


# --------------------------------------------------------------------------------------------
# Inventory and purchasing
# --------------------------------------------------------------------------------------------


class InventoryLocation(Tenant, Editable, Base):
    __tablename__ = "inventory_locations"
    __table_args__ = tenant_args(UniqueConstraint("organization_id", "code"))

    code: Mapped[str]
    name: Mapped[str]
    description: Mapped[str | None]
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)


class InventoryItem(Tenant, Editable, Base):
    __tablename__ = "inventory_items"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "item_code"),
        org_fk("default_location_id", "inventory_locations", "SET NULL"),
        org_fk("preferred_supplier_id", "contacts", "SET NULL"),
        Index(
            "inventory_items_name_trgm_idx",
            "item_name",
            postgresql_using="gin",
            postgresql_ops={"item_name": "gin_trgm_ops"},
        ),
        Index(
            "inventory_items_search_trgm_idx",
            text("((organization_id)::text)"),
            "item_code", "item_name",
            postgresql_using="gin",
            postgresql_ops={"item_code": "gin_trgm_ops", "item_name": "gin_trgm_ops"},
        ),
        Index("inventory_items_list_idx", "organization_id", "item_code", "id"),
    )

    item_code: Mapped[str]
    item_name: Mapped[str]
    description: Mapped[str | None]
    category: Mapped[str | None]
    unit: Mapped[str] = mapped_column(server_default=PCS)
    default_location_id: Mapped[uuid.UUID | None]
    min_stock_level: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    max_stock_level: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(15, 4))
    preferred_supplier_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(server_default=lit("active"))
    allow_negative: Mapped[bool] = mapped_column(server_default=FALSE)
    barcode: Mapped[str | None]


class PurchaseOrder(Tenant, Editable, Base):
    __tablename__ = "purchase_orders"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "po_number"),
        org_fk("supplier_id", "contacts"),
        org_fk("project_id", "projects", "SET NULL"),
        org_fk("supplier_quote_id", "supplier_quotes", "SET NULL"),
        person_fk("created_by", "SET NULL"),
        Index("purchase_orders_list_idx", "organization_id", text("updated_at DESC")),
        Index("purchase_orders_supplier_idx", "organization_id", "supplier_id"),
        Index(
            "purchase_orders_search_trgm_idx",
            text("((organization_id)::text)"),
            "po_number",
            postgresql_using="gin",
            postgresql_ops={"po_number": "gin_trgm_ops"},
        ),
    )

    po_number: Mapped[str]
    supplier_id: Mapped[uuid.UUID]
    project_id: Mapped[uuid.UUID | None]
    supplier_quote_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(server_default=lit("draft"))
    priority: Mapped[Priority] = mapped_column(server_default=MEDIUM)
    currency: Mapped[str] = mapped_column(CHAR(3), server_default=USD)
    total_amount: Mapped[Decimal] = mapped_column(Numeric(15, 2), server_default=num(0))
    order_date: Mapped[date | None]
    due_date: Mapped[date | None]
    sent_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    notes: Mapped[str | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())


class PurchaseOrderLine(Tenant, Editable, Base):
    __tablename__ = "purchase_order_lines"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "purchase_order_id", "line_no"),
        org_fk("purchase_order_id", "purchase_orders", "CASCADE"),
        org_fk("inventory_item_id", "inventory_items"),
    )

    purchase_order_id: Mapped[uuid.UUID]
    line_no: Mapped[int]
    inventory_item_id: Mapped[uuid.UUID | None]
    item_name: Mapped[str]
    description: Mapped[str | None]
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    unit: Mapped[str] = mapped_column(server_default=PCS)
    unit_price: Mapped[Decimal] = mapped_column(Numeric(15, 4))
    total_price: Mapped[Decimal | None] = mapped_column(
        Numeric(15, 2), Computed("round((quantity * unit_price), 2)", persisted=True)
    )
    quantity_received: Mapped[Decimal] = mapped_column(Numeric(14, 3), server_default=num(0))


# --------------------------------------------------------------------------------------------
# Production
# --------------------------------------------------------------------------------------------


class WorkCenter(Tenant, Editable, Base):
    __tablename__ = "work_centers"
    __table_args__ = tenant_args(UniqueConstraint("organization_id", "code"))

    code: Mapped[str]
    name: Mapped[str]
    description: Mapped[str | None]
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)


class ProductionOrder(Tenant, Editable, Base):
    __tablename__ = "production_orders"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "production_number"),
        org_fk("project_id", "projects", "SET NULL"),
        org_fk("inventory_item_id", "inventory_items", "SET NULL"),
        person_fk("assigned_to", "SET NULL"),
        person_fk("created_by", "SET NULL"),
        Index("production_orders_list_idx", "organization_id", text("updated_at DESC")),
        Index(
            "production_orders_search_trgm_idx",
            text("((organization_id)::text)"),
            "production_number", "description",
            postgresql_using="gin",
            postgresql_ops={"production_number": "gin_trgm_ops", "description": "gin_trgm_ops"},
        ),
    )

    production_number: Mapped[str]
    project_id: Mapped[uuid.UUID | None]
    inventory_item_id: Mapped[uuid.UUID | None]
    description: Mapped[str | None]
    status: Mapped[str] = mapped_column(server_default=lit("planned"))
    priority: Mapped[Priority] = mapped_column(server_default=MEDIUM)
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    completed_quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3), server_default=num(0))
    scrapped_quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3), server_default=num(0))
    planned_start: Mapped[date | None]
    planned_end: Mapped[date | None]
    actual_start: Mapped[datetime | None]
    actual_end: Mapped[datetime | None]
    assigned_to: Mapped[uuid.UUID | None]
    notes: Mapped[str | None]
    created_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())


class ProductionOperation(Tenant, Editable, Base):
    __tablename__ = "production_operations"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "production_order_id", "sequence"),
        org_fk("production_order_id", "production_orders", "CASCADE"),
        org_fk("work_center_id", "work_centers"),
    )

    production_order_id: Mapped[uuid.UUID]
    sequence: Mapped[int]
    name: Mapped[str]
    work_center_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(server_default=lit("pending"))
    planned_minutes: Mapped[int | None]


class ProductionOrderMaterial(Tenant, Editable, Base):
    __tablename__ = "production_order_materials"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "production_order_id", "inventory_item_id"),
        org_fk("production_order_id", "production_orders", "CASCADE"),
        org_fk("inventory_item_id", "inventory_items"),
    )

    production_order_id: Mapped[uuid.UUID]
    inventory_item_id: Mapped[uuid.UUID]
    quantity_required: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    quantity_reserved: Mapped[Decimal] = mapped_column(Numeric(14, 3), server_default=num(0))
    quantity_issued: Mapped[Decimal] = mapped_column(Numeric(14, 3), server_default=num(0))


class ProductionEvent(Tenant, Created, Base):
    """A shop-floor scan (append-only); client_event_id makes a retried scan land once."""

    __tablename__ = "production_events"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "client_event_id"),
        org_fk("production_order_id", "production_orders", "CASCADE"),
        org_fk("operation_id", "production_operations", "CASCADE"),
        person_fk("operator_id", "SET NULL"),
        Index(
            "production_events_order_idx", "organization_id", "production_order_id", "occurred_at"
        ),
    )

    production_order_id: Mapped[uuid.UUID]
    operation_id: Mapped[uuid.UUID | None]
    event_type: Mapped[str]
    quantity: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    minutes: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    operator_id: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())
    occurred_at: Mapped[datetime] = mapped_column(server_default=NOW)
    client_event_id: Mapped[uuid.UUID | None]
    note: Mapped[str | None]


class StockMovement(Tenant, Created, Base):
    """The stock ledger (append-only): on-hand is derived from it (inventory_balances)."""

    __tablename__ = "stock_movements"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "client_event_id"),
        org_fk("inventory_item_id", "inventory_items"),
        org_fk("location_id", "inventory_locations"),
        org_fk("purchase_order_line_id", "purchase_order_lines"),
        org_fk("production_order_id", "production_orders"),
        person_fk("moved_by", "SET NULL"),
        Index("stock_movements_item_idx", "organization_id", "inventory_item_id", "location_id"),
        Index("stock_movements_recent_idx", "organization_id", "inventory_item_id",
              text("moved_at DESC"), text("id DESC")),
    )

    inventory_item_id: Mapped[uuid.UUID]
    location_id: Mapped[uuid.UUID]
    movement_type: Mapped[str]
    quantity: Mapped[Decimal] = mapped_column(Numeric(14, 3))
    unit_cost: Mapped[Decimal | None] = mapped_column(Numeric(15, 4))
    purchase_order_line_id: Mapped[uuid.UUID | None]
    production_order_id: Mapped[uuid.UUID | None]
    transfer_group_id: Mapped[uuid.UUID | None]
    reference: Mapped[str | None]
    note: Mapped[str | None]
    moved_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())
    moved_at: Mapped[datetime] = mapped_column(server_default=NOW)
    client_event_id: Mapped[uuid.UUID | None]


class InventoryBalance(Base):
    """On-hand per item and location: the ledger's running sum, kept by its triggers
    (revision 0013); persons only read it."""

    __tablename__ = "inventory_balances"
    __table_args__ = (
        ForeignKeyConstraint(
            ["organization_id", "inventory_item_id"],
            ["inventory_items.organization_id", "inventory_items.id"], ondelete="CASCADE"),
        ForeignKeyConstraint(
            ["organization_id", "location_id"],
            ["inventory_locations.organization_id", "inventory_locations.id"],
            ondelete="CASCADE"),
    )

    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True)
    inventory_item_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    location_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    on_hand: Mapped[Decimal] = mapped_column(Numeric(14, 3), server_default=num(0))


# --------------------------------------------------------------------------------------------
# Approvals
# --------------------------------------------------------------------------------------------


class ApprovalChain(Tenant, Editable, Base):
    __tablename__ = "approval_chains"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "chain_name"),
        person_fk("created_by", "SET NULL"),
    )

    chain_name: Mapped[str]
    approval_type: Mapped[ApprovalType]
    entity_type: Mapped[str]
    min_amount: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    currency: Mapped[str | None] = mapped_column(CHAR(3))
    conditions: Mapped[dict[str, Any]] = mapped_column(server_default=EMPTY_JSON)
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    created_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())


class ApprovalChainStep(Tenant, Editable, Base):
    __tablename__ = "approval_chain_steps"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "chain_id", "step_number"),
        org_fk("chain_id", "approval_chains", "CASCADE"),
    )

    chain_id: Mapped[uuid.UUID]
    step_number: Mapped[int]
    name: Mapped[str]
    mode: Mapped[str] = mapped_column(server_default=lit("parallel"))
    required_approvals: Mapped[int] = mapped_column(server_default=num(1))
    due_hours: Mapped[int | None]
    escalate_to_role: Mapped[Role | None]


class ApprovalChainStepApprover(Tenant, Editable, Base):
    """Exactly one of person_id and role is set."""

    __tablename__ = "approval_chain_step_approvers"
    __table_args__ = tenant_args(
        org_fk("chain_step_id", "approval_chain_steps", "CASCADE"),
        person_fk("person_id"),
    )

    chain_step_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID | None]
    role: Mapped[Role | None]
    position: Mapped[int] = mapped_column(server_default=num(1))


class Approval(Tenant, Editable, Base):
    __tablename__ = "approvals"
    __table_args__ = tenant_args(
        org_fk("project_id", "projects", "CASCADE"),
        org_fk("approval_chain_id", "approval_chains", "SET NULL"),
        person_fk("requested_by", "SET NULL"),
        person_fk("decided_by", "SET NULL"),
        person_fk("escalated_to", "SET NULL"),
        Index("approvals_status_idx", "organization_id", "status", "due_date"),
        Index("approvals_entity_idx", "organization_id", "entity_type", "entity_id"),
        Index("approvals_project_idx", "organization_id", "project_id"),
    )

    approval_type: Mapped[ApprovalType]
    title: Mapped[str]
    description: Mapped[str | None]
    reference_id: Mapped[str | None]
    entity_type: Mapped[str]
    entity_id: Mapped[uuid.UUID]
    entity_version: Mapped[int | None]
    project_id: Mapped[uuid.UUID | None]
    approval_chain_id: Mapped[uuid.UUID | None]
    step_number: Mapped[int] = mapped_column(server_default=num(1))
    total_steps: Mapped[int] = mapped_column(server_default=num(1))
    amount: Mapped[Decimal | None] = mapped_column(Numeric(15, 2))
    currency: Mapped[str | None] = mapped_column(CHAR(3))
    requested_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())
    requested_at: Mapped[datetime] = mapped_column(server_default=NOW)
    request_reason: Mapped[str | None]
    request_metadata: Mapped[dict[str, Any]] = mapped_column(server_default=EMPTY_JSON)
    status: Mapped[ApprovalStatus] = mapped_column(server_default=lit("pending", "approval_status"))
    priority: Mapped[ApprovalPriority] = mapped_column(
        server_default=lit("normal", "approval_priority")
    )
    due_date: Mapped[datetime | None]
    expires_at: Mapped[datetime | None]
    decision_comments: Mapped[str | None]
    decision_reason: Mapped[str | None]
    decided_by: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]
    escalated_to: Mapped[uuid.UUID | None]
    escalated_at: Mapped[datetime | None]
    escalation_reason: Mapped[str | None]


class ApprovalStep(Tenant, Editable, Base):
    __tablename__ = "approval_steps"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "approval_id", "step_number"),
        org_fk("approval_id", "approvals", "CASCADE"),
    )

    approval_id: Mapped[uuid.UUID]
    step_number: Mapped[int]
    name: Mapped[str]
    mode: Mapped[str] = mapped_column(server_default=lit("parallel"))
    required_approvals: Mapped[int] = mapped_column(server_default=num(1))
    status: Mapped[str] = mapped_column(server_default=lit("waiting"))
    due_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]


class ApprovalStepApprover(Tenant, Editable, Base):
    """Exactly one of person_id and role is set."""

    __tablename__ = "approval_step_approvers"
    __table_args__ = tenant_args(
        org_fk("approval_step_id", "approval_steps", "CASCADE"),
        person_fk("person_id"),
        person_fk("decided_by", "SET NULL"),
        person_fk("delegated_from", "SET NULL"),
        Index(
            "approval_approvers_person_idx",
            "organization_id",
            "person_id",
            postgresql_where=text("(decision = 'pending'::text)"),
        ),
        Index("approval_approvers_step_idx", "organization_id", "approval_step_id"),
    )

    approval_step_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID | None]
    role: Mapped[Role | None]
    position: Mapped[int] = mapped_column(server_default=num(1))
    decision: Mapped[str] = mapped_column(server_default=lit("pending"))
    decided_by: Mapped[uuid.UUID | None]
    decided_at: Mapped[datetime | None]
    comment: Mapped[str | None]
    delegated_from: Mapped[uuid.UUID | None]


class ApprovalHistory(Tenant, Created, Base):
    """Append-only."""

    __tablename__ = "approval_history"
    __table_args__ = tenant_args(
        org_fk("approval_id", "approvals", "CASCADE"),
        org_fk("approval_step_id", "approval_steps", "CASCADE"),
        person_fk("action_by", "SET NULL"),
        Index("approval_history_idx", "organization_id", "approval_id", "action_at"),
    )

    approval_id: Mapped[uuid.UUID]
    approval_step_id: Mapped[uuid.UUID | None]
    action_type: Mapped[str]
    action_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())
    action_at: Mapped[datetime] = mapped_column(server_default=NOW)
    old_status: Mapped[ApprovalStatus | None]
    new_status: Mapped[ApprovalStatus | None]
    comments: Mapped[str | None]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=EMPTY_JSON)


class ApprovalDelegation(Tenant, Editable, Base):
    __tablename__ = "approval_delegations"
    __table_args__ = tenant_args(
        person_fk("delegator_id"),
        person_fk("delegate_id"),
    )

    delegator_id: Mapped[uuid.UUID]
    delegate_id: Mapped[uuid.UUID]
    start_date: Mapped[date]
    end_date: Mapped[date]
    reason: Mapped[str | None]
    include_new_approvals: Mapped[bool] = mapped_column(server_default=TRUE)
    status: Mapped[str] = mapped_column(server_default=lit("active"))


class ApprovalDelegationMapping(Tenant, Created, Base):
    __tablename__ = "approval_delegation_mappings"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "delegation_id", "approval_id"),
        org_fk("delegation_id", "approval_delegations", "CASCADE"),
        org_fk("approval_id", "approvals", "CASCADE"),
    )

    delegation_id: Mapped[uuid.UUID]
    approval_id: Mapped[uuid.UUID]


# --------------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------------


class Document(Tenant, Editable, Base):
    __tablename__ = "documents"
    __table_args__ = tenant_args(
        org_fk("project_id", "projects", "CASCADE"),
        org_fk("supplier_rfq_id", "supplier_rfqs", "CASCADE"),
        org_fk("purchase_order_id", "purchase_orders", "CASCADE"),
        org_fk("production_order_id", "production_orders", "CASCADE"),
        person_fk("uploaded_by", "SET NULL"),
        person_fk("approved_by", "SET NULL"),
        Index("documents_project_idx", "organization_id", "project_id", text("updated_at DESC")),
        Index("documents_project_time_idx", "organization_id", "project_id",
              text("created_at DESC")),
        Index(
            "documents_title_trgm_idx",
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
        Index(
            "documents_search_trgm_idx",
            text("((organization_id)::text)"),
            "title",
            postgresql_using="gin",
            postgresql_ops={"title": "gin_trgm_ops"},
        ),
    )

    project_id: Mapped[uuid.UUID | None]
    supplier_rfq_id: Mapped[uuid.UUID | None]
    purchase_order_id: Mapped[uuid.UUID | None]
    production_order_id: Mapped[uuid.UUID | None]
    title: Mapped[str]
    description: Mapped[str | None]
    file_name: Mapped[str | None]
    file_path: Mapped[str | None]
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    file_type: Mapped[str | None]
    mime_type: Mapped[str | None]
    current_version_number: Mapped[int] = mapped_column(server_default=num(1))
    category: Mapped[str] = mapped_column(server_default=lit("other"))
    tags: Mapped[list[str]] = mapped_column(server_default=EMPTY_TEXTS)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=EMPTY_JSON)
    access_level: Mapped[str] = mapped_column(server_default=lit("internal"))
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())
    approved_by: Mapped[uuid.UUID | None]
    approved_at: Mapped[datetime | None]
    external_id: Mapped[str | None]
    external_url: Mapped[str | None]
    storage_provider: Mapped[str] = mapped_column(server_default=lit("database"))
    sync_status: Mapped[str | None]
    last_synced_at: Mapped[datetime | None]
    ai_extracted_data: Mapped[dict[str, Any] | None]
    ai_processing_status: Mapped[str | None]
    ai_confidence_score: Mapped[Decimal | None] = mapped_column(Numeric(5, 4))
    ai_processed_at: Mapped[datetime | None]
    link_type: Mapped[str] = mapped_column(server_default=lit("file"))
    link_permissions: Mapped[dict[str, Any] | None]
    link_expires_at: Mapped[datetime | None]
    link_access_count: Mapped[int] = mapped_column(server_default=num(0))
    link_last_accessed: Mapped[datetime | None]
    archived_at: Mapped[datetime | None]


class DocumentVersion(Tenant, Editable, Base):
    __tablename__ = "document_versions"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "document_id", "version_number"),
        org_fk("document_id", "documents", "CASCADE"),
        org_fk("storage_object_id", "storage_objects"),
        person_fk("uploaded_by", "SET NULL"),
        Index("document_versions_object_idx", "organization_id", "storage_object_id"),
    )

    document_id: Mapped[uuid.UUID]
    version_number: Mapped[int]
    storage_object_id: Mapped[uuid.UUID | None]
    file_name: Mapped[str | None]
    file_path: Mapped[str | None]
    file_size: Mapped[int | None] = mapped_column(BigInteger)
    mime_type: Mapped[str | None]
    sha256: Mapped[str | None]
    title: Mapped[str | None]
    description: Mapped[str | None]
    change_summary: Mapped[str | None]
    uploaded_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())
    uploaded_at: Mapped[datetime] = mapped_column(server_default=NOW)
    is_current: Mapped[bool] = mapped_column(server_default=FALSE)
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=EMPTY_JSON)


class DocumentAccessLog(Tenant, Created, Base):
    """Append-only."""

    __tablename__ = "document_access_log"
    __table_args__ = tenant_args(
        org_fk("document_id", "documents", "CASCADE"),
        person_fk("person_id", "SET NULL"),
        Index("document_access_idx", "organization_id", "document_id", "accessed_at"),
    )

    document_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())
    action: Mapped[str]
    ip_address: Mapped[str | None] = mapped_column(INET)
    user_agent: Mapped[str | None]
    accessed_at: Mapped[datetime] = mapped_column(server_default=NOW)


# --------------------------------------------------------------------------------------------
# Messages and notifications
# --------------------------------------------------------------------------------------------


class Message(Tenant, Editable, Base):
    __tablename__ = "messages"
    __table_args__ = tenant_args(
        org_fk("project_id", "projects", "CASCADE"),
        org_fk("supplier_rfq_id", "supplier_rfqs", "CASCADE"),
        org_fk("purchase_order_id", "purchase_orders", "CASCADE"),
        org_fk("production_order_id", "production_orders", "CASCADE"),
        org_fk("thread_id", "messages", "CASCADE"),
        org_fk("parent_message_id", "messages", "CASCADE"),
        person_fk("sender_id", "SET NULL"),
        person_fk("recipient_id", "SET NULL"),
        Index("messages_project_idx", "organization_id", "project_id", "created_at"),
        Index("messages_thread_idx", "organization_id", "thread_id", "created_at"),
        Index("messages_search_idx", "search_text", postgresql_using="gin"),
        Index("messages_threads_idx", "organization_id", "project_id", text("created_at DESC"),
              postgresql_where=text("(parent_message_id IS NULL)")),
    )

    project_id: Mapped[uuid.UUID | None]
    supplier_rfq_id: Mapped[uuid.UUID | None]
    purchase_order_id: Mapped[uuid.UUID | None]
    production_order_id: Mapped[uuid.UUID | None]
    thread_id: Mapped[uuid.UUID | None]
    parent_message_id: Mapped[uuid.UUID | None]
    sender_id: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())
    recipient_id: Mapped[uuid.UUID | None]
    recipient_type: Mapped[str] = mapped_column(server_default=lit("project"))
    recipient_role: Mapped[Role | None]
    subject: Mapped[str | None]
    content: Mapped[str]
    message_type: Mapped[str] = mapped_column(server_default=lit("internal"))
    priority: Mapped[Priority] = mapped_column(server_default=MEDIUM)
    status: Mapped[str] = mapped_column(server_default=lit("sent"))
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=EMPTY_JSON)
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]
    search_text: Mapped[str | None] = mapped_column(
        TSVECTOR,
        Computed(
            "to_tsvector('simple'::regconfig, ((COALESCE(subject, ''::text) || ' '::text) "
            "|| COALESCE(content, ''::text)))",
            persisted=True,
        ),
    )


class MessageRead(Tenant, Created, Base):
    __tablename__ = "message_reads"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "message_id", "person_id"),
        org_fk("message_id", "messages", "CASCADE"),
        person_fk("person_id"),
    )

    message_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID]
    read_at: Mapped[datetime] = mapped_column(server_default=NOW)


class MessageMention(Tenant, Created, Base):
    __tablename__ = "message_mentions"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "message_id", "person_id"),
        org_fk("message_id", "messages", "CASCADE"),
        person_fk("person_id"),
    )

    message_id: Mapped[uuid.UUID]
    person_id: Mapped[uuid.UUID]


class MessageAttachment(Tenant, Created, Base):
    __tablename__ = "message_attachments"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "message_id", "document_id"),
        org_fk("message_id", "messages", "CASCADE"),
        org_fk("document_id", "documents", "CASCADE"),
        Index("message_attachments_document_idx", "organization_id", "document_id"),
    )

    message_id: Mapped[uuid.UUID]
    document_id: Mapped[uuid.UUID]


class ApprovalAttachment(Tenant, Created, Base):
    __tablename__ = "approval_attachments"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "approval_id", "document_id"),
        org_fk("approval_id", "approvals", "CASCADE"),
        org_fk("document_id", "documents", "CASCADE"),
    )

    approval_id: Mapped[uuid.UUID]
    document_id: Mapped[uuid.UUID]
    attachment_type: Mapped[str | None]
    description: Mapped[str | None]


class Notification(Tenant, Editable, Base):
    __tablename__ = "notifications"
    __table_args__ = tenant_args(
        person_fk("person_id"),
        Index(
            "notifications_person_idx",
            "organization_id",
            "person_id",
            "status",
            text("created_at DESC"),
        ),
        Index("notifications_entity_idx", "organization_id", "related_entity_id", "type"),
    )

    person_id: Mapped[uuid.UUID]
    title: Mapped[str]
    message: Mapped[str | None]
    type: Mapped[str] = mapped_column(server_default=lit("info"))
    priority: Mapped[Priority] = mapped_column(server_default=MEDIUM)
    status: Mapped[str] = mapped_column(server_default=lit("unread"))
    action_url: Mapped[str | None]
    action_label: Mapped[str | None]
    related_entity_type: Mapped[str | None]
    related_entity_id: Mapped[uuid.UUID | None]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=EMPTY_JSON)
    expires_at: Mapped[datetime | None]
    read_at: Mapped[datetime | None]


class NotificationPreference(Tenant, Editable, Base):
    """Which events notify a person, in the app and on the desktop (revision 0011)."""

    __tablename__ = "notification_preferences"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "person_id", "event"),
        person_fk("person_id", "CASCADE"),
    )

    person_id: Mapped[uuid.UUID]
    event: Mapped[str]
    in_app: Mapped[bool] = mapped_column(server_default=TRUE)
    desktop: Mapped[bool] = mapped_column(server_default=FALSE)


# --------------------------------------------------------------------------------------------
# Activity and change logs
# --------------------------------------------------------------------------------------------


class ActivityLog(Tenant, Created, Base):
    """What happened, in words (append-only)."""

    __tablename__ = "activity_log"
    __table_args__ = tenant_args(
        org_fk("project_id", "projects", "SET NULL"),
        person_fk("actor_id", "SET NULL"),
        Index("activity_log_project_idx", "organization_id", "project_id",
              text("occurred_at DESC"), text("id DESC")),
        Index("activity_log_time_idx", "organization_id", text("occurred_at DESC"),
              text("id DESC")),
        Index("activity_log_actor_idx", "organization_id", "actor_id", text("occurred_at DESC"),
              text("id DESC")),
        Index("activity_log_action_idx", "organization_id", "action", text("occurred_at DESC"),
              text("id DESC")),
        Index("activity_log_entity_idx", "organization_id", "entity_type",
              text("occurred_at DESC"), text("id DESC")),
    )

    actor_id: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())
    entity_type: Mapped[str]
    entity_id: Mapped[uuid.UUID | None]
    action: Mapped[str]
    description: Mapped[str | None]
    changes: Mapped[dict[str, Any] | None]
    metadata_: Mapped[dict[str, Any]] = mapped_column("metadata", server_default=EMPTY_JSON)
    project_id: Mapped[uuid.UUID | None]
    occurred_at: Mapped[datetime] = mapped_column(server_default=NOW)


class ChangeLog(Base):
    """One row per change of tenant data, written by the trigger tg_change_log (live updates)."""

    __tablename__ = "change_log"
    __table_args__ = (Index("change_log_org_idx", "organization_id", "id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    organization_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("organizations.id", ondelete="CASCADE")
    )
    entity_type: Mapped[str]
    entity_id: Mapped[uuid.UUID]
    operation: Mapped[str] = mapped_column(CHAR(1))
    row_version: Mapped[int | None]
    actor_id: Mapped[uuid.UUID | None]
    changed_at: Mapped[datetime] = mapped_column(server_default=NOW)


# --------------------------------------------------------------------------------------------
# Google Drive and personal settings
# --------------------------------------------------------------------------------------------


class GoogleDriveConfig(Tenant, Editable, Base):
    __tablename__ = "google_drive_config"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id"),
        person_fk("configured_by", "SET NULL"),
    )

    client_id: Mapped[str]
    scopes: Mapped[list[str]] = mapped_column(
        server_default=text("'{https://www.googleapis.com/auth/drive.file}'::text[]")
    )
    allow_readonly_scope: Mapped[bool] = mapped_column(server_default=FALSE)
    is_active: Mapped[bool] = mapped_column(server_default=TRUE)
    configured_by: Mapped[uuid.UUID | None] = mapped_column(server_default=FetchedValue())


class GoogleDriveClientSecret(Tenant, Editable, Base):
    """Readable by administrators only."""

    __tablename__ = "google_drive_client_secrets"
    __table_args__ = tenant_args(UniqueConstraint("organization_id"))

    client_secret: Mapped[str]


class GoogleDriveConnection(Tenant, Editable, Base):
    """Non-secret connection facts only: tokens live in the OS keyring."""

    __tablename__ = "google_drive_connections"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "person_id", "google_account_id"),
        person_fk("person_id"),
    )

    person_id: Mapped[uuid.UUID]
    google_account_id: Mapped[str]
    google_email: Mapped[str | None]
    scopes: Mapped[list[str]] = mapped_column(server_default=EMPTY_TEXTS)
    status: Mapped[str] = mapped_column(server_default=lit("connected"))
    connected_at: Mapped[datetime] = mapped_column(server_default=NOW)
    last_refreshed_at: Mapped[datetime | None]


class SavedFilter(Tenant, Editable, Base):
    __tablename__ = "saved_filters"
    __table_args__ = tenant_args(
        UniqueConstraint("organization_id", "person_id", "page", "name"),
        person_fk("person_id"),
    )

    person_id: Mapped[uuid.UUID]
    page: Mapped[str]
    name: Mapped[str]
    filter: Mapped[dict[str, Any]] = mapped_column(server_default=EMPTY_JSON)
    is_default: Mapped[bool] = mapped_column(server_default=FALSE)
