"""Foundation: the whole schema, per-person security, default workflow.

Every table the product needs, with row level security forced on each, composite
(organization_id, id) foreign keys, audit triggers and the change log for live updates.

Revision ID: 20261125_0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# --------------------------------------------------------------------------------------------
# Enum types: values exactly as the original web version (ORIGIN.md 2.1).
# --------------------------------------------------------------------------------------------
ENUMS: dict[str, tuple[str, ...]] = {
    "intake_type": ("rfq", "purchase_order", "project_idea", "direct_request"),
    "user_role": (
        "admin", "management", "sales", "engineering", "qa", "production", "procurement",
        "supplier", "customer",
    ),
    "user_status": ("active", "inactive", "pending", "suspended"),
    "project_status": ("active", "completed", "cancelled", "on_hold"),
    "priority_level": ("low", "medium", "high", "critical"),
    "contact_type": ("customer", "supplier", "partner", "internal"),
    "subscription_plan": ("starter", "growth", "enterprise"),
    "approval_type": (
        "stage_transition", "document_approval", "engineering_change", "supplier_qualification",
        "purchase_order", "cost_approval", "quality_review", "production_release",
        "shipping_approval", "contract_approval", "budget_approval", "safety_review", "custom",
    ),
    "approval_status": (
        "pending", "in_review", "approved", "rejected", "delegated", "expired", "cancelled",
        "auto_approved", "escalated",
    ),
    "approval_priority": ("low", "normal", "high", "urgent", "critical"),
}


def _check(column: str, values: Sequence[str]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"CHECK ({column} IN ({quoted}))"


# Value sets the original kept in CHECK constraints or only in application code.
PROJECT_TYPES = ("fabrication", "manufacturing", "system_build")
PROJECT_SOURCES = ("manual", "portal", "email", "api", "import", "migration")
INTAKE_SOURCES = ("portal", "email", "api", "phone", "walk_in")
DOC_CATEGORIES = (
    "rfq", "drawing", "specification", "quote", "contract", "bom", "inspection", "certificate",
    "other",
)
ACCESS_LEVELS = ("public", "internal", "confidential")
LINK_TYPES = ("file", "folder", "shared_link", "embed")
# "database" is ours (bytes in blob_chunks); "url" is a plain https link.
STORAGE_PROVIDERS = (
    "database", "supabase", "google_drive", "dropbox", "onedrive", "s3", "azure_blob", "url",
)
SYNC_STATUSES = ("synced", "pending", "failed", "conflict")
AI_STATUSES = ("pending", "processing", "completed", "failed", "skipped")
ACCESS_ACTIONS = ("view", "download", "upload", "delete", "share", "comment", "approve")
PROGRESS_STATUSES = ("pending", "in_progress", "completed", "skipped", "blocked")
RFQ_STATUSES = ("draft", "sent", "viewed", "quoted", "declined", "expired", "cancelled")
QUOTE_STATUSES = ("draft", "submitted", "under_review", "accepted", "rejected", "expired", "withdrawn")
DELEGATION_STATUSES = ("active", "inactive", "expired")
REVIEW_TYPES = ("engineering", "qa", "production", "management", "technical", "quality")
REVIEW_STATUSES = ("pending", "in_progress", "approved", "rejected", "revision_requested")
RISK_CATEGORIES = ("technical", "timeline", "cost", "quality")
RISK_SEVERITIES = ("low", "medium", "high")
TRANSITION_KINDS = ("created", "advance", "back", "skip")
PO_STATUSES = (
    "draft", "pending_approval", "approved", "sent", "acknowledged", "partially_received",
    "received", "closed", "cancelled",
)
ITEM_STATUSES = ("active", "inactive", "discontinued")
MOVEMENT_TYPES = ("receipt", "issue", "return", "adjustment", "transfer_out", "transfer_in")
PRODUCTION_STATUSES = ("planned", "released", "in_progress", "on_hold", "completed", "cancelled")
OPERATION_STATUSES = ("pending", "in_progress", "paused", "completed", "skipped")
PRODUCTION_EVENTS = ("start", "pause", "resume", "complete", "good_quantity", "scrap", "note")
STEP_MODES = ("sequential", "parallel")
STEP_STATUSES = ("waiting", "pending", "approved", "rejected", "skipped", "cancelled")
APPROVER_DECISIONS = ("pending", "approved", "rejected", "delegated", "skipped")
MESSAGE_TYPES = ("internal", "customer", "supplier", "system")
RECIPIENT_TYPES = ("user", "role", "project", "customer", "supplier")
NOTIFICATION_STATUSES = ("unread", "read", "archived")
UPLOAD_STATUSES = ("uploading", "complete")
CONNECTION_STATUSES = ("connected", "disconnected", "revoked")

# --------------------------------------------------------------------------------------------
# Table building blocks
# --------------------------------------------------------------------------------------------
ORG = "organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE"
EDITABLE = """
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    version integer NOT NULL DEFAULT 1 CHECK (version > 0)"""
CREATED = "created_at timestamptz NOT NULL DEFAULT now()"


def fk(column: str, parent: str, on_delete: str = "NO ACTION") -> str:
    """A foreign key that can never cross organizations."""
    action = on_delete
    if on_delete == "SET NULL":
        action = f"SET NULL ({column})"  # PostgreSQL 15+: keep organization_id
    return (
        f"FOREIGN KEY (organization_id, {column}) REFERENCES {parent} (organization_id, id) "
        f"ON DELETE {action}"
    )


def person_fk(column: str, on_delete: str = "NO ACTION") -> str:
    """A reference to a person, who must be a member of the same organization."""
    action = f"SET NULL ({column})" if on_delete == "SET NULL" else on_delete
    return (
        f"FOREIGN KEY (organization_id, {column}) REFERENCES memberships (organization_id, "
        f"person_id) ON DELETE {action}"
    )


def tenant_table(name: str, body: str, *, editable: bool = True) -> str:
    tail = EDITABLE if editable else CREATED
    return f"""
CREATE TABLE {name} (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    {ORG},
{body.strip().rstrip(",")},
    {tail.strip()},
    UNIQUE (organization_id, id)
);"""


# Tables in creation order; each entry: (name, DDL, editable, append_only, change_log).
TABLES: list[tuple[str, str, bool, bool, bool]] = []


def table(name: str, ddl: str, *, editable: bool = True, append_only: bool = False,
          change_log: bool = True) -> None:
    TABLES.append((name, ddl, editable, append_only, change_log))


table("organizations", f"""
CREATE TABLE organizations (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name text NOT NULL CHECK (length(btrim(name)) > 0),
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{{1,62}}$'),
    domain text,
    logo_url text,
    description text,
    industry text,
    settings jsonb NOT NULL DEFAULT '{{"timezone": "UTC", "currency": "USD", "language": "en"}}'::jsonb,
    subscription_plan subscription_plan NOT NULL DEFAULT 'starter',
    is_active boolean NOT NULL DEFAULT true,
    max_file_size bigint NOT NULL DEFAULT 1073741824 CHECK (max_file_size > 0),
    {EDITABLE.strip()}
);""")

table("persons", f"""
CREATE TABLE persons (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    role_name text NOT NULL UNIQUE,
    display_name text NOT NULL CHECK (length(btrim(display_name)) > 0),
    email text,
    phone text,
    avatar_url text,
    status user_status NOT NULL DEFAULT 'active',
    preferences jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    last_login_at timestamptz,
    {EDITABLE.strip()}
);""", change_log=False)  # not tenant data: membership changes are logged instead

table("memberships", tenant_table("memberships", f"""
    person_id uuid NOT NULL REFERENCES persons (id) ON DELETE CASCADE,
    role user_role NOT NULL,
    status user_status NOT NULL DEFAULT 'active',
    department text,
    title text,
    employee_id text,
    contact_id uuid,
    direct_manager_id uuid,
    UNIQUE (organization_id, person_id),
    CHECK (role NOT IN ('customer', 'supplier') OR contact_id IS NOT NULL),
    {person_fk("direct_manager_id", "SET NULL")}
"""))

table("contacts", tenant_table("contacts", f"""
    type contact_type NOT NULL DEFAULT 'customer',
    company_name text NOT NULL CHECK (length(btrim(company_name)) > 0),
    contact_name text,
    email text,
    phone text,
    address text,
    city text,
    state text,
    country text,
    postal_code text,
    website text,
    tax_id text,
    payment_terms text,
    credit_limit numeric(15, 2),
    is_active boolean NOT NULL DEFAULT true,
    notes text,
    metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    capability_tags text[] NOT NULL DEFAULT '{{}}',
    ai_category jsonb,
    ai_capabilities text[],
    ai_risk_score numeric(5, 2),
    ai_last_analyzed timestamptz,
    created_by uuid,
    {person_fk("created_by", "SET NULL")}
"""))

table("workflow_stages", tenant_table("workflow_stages", """
    name text NOT NULL,
    slug text NOT NULL,
    description text,
    color text NOT NULL DEFAULT '#64748b' CHECK (color ~ '^#[0-9a-fA-F]{6}$'),
    stage_order integer NOT NULL CHECK (stage_order > 0),
    is_active boolean NOT NULL DEFAULT true,
    exit_criteria text,
    responsible_roles user_role[] NOT NULL DEFAULT '{}',
    estimated_duration_days integer CHECK (estimated_duration_days >= 0),
    UNIQUE (organization_id, slug),
    UNIQUE (organization_id, stage_order) DEFERRABLE INITIALLY IMMEDIATE
"""))

table("workflow_sub_stages", tenant_table("workflow_sub_stages", f"""
    workflow_stage_id uuid NOT NULL,
    name text NOT NULL,
    slug text NOT NULL,
    description text,
    color text CHECK (color ~ '^#[0-9a-fA-F]{{6}}$'),
    sub_stage_order integer NOT NULL CHECK (sub_stage_order > 0),
    is_active boolean NOT NULL DEFAULT true,
    exit_criteria text,
    responsible_roles user_role[] NOT NULL DEFAULT '{{}}',
    estimated_duration_hours numeric(8, 2) CHECK (estimated_duration_hours >= 0),
    is_required boolean NOT NULL DEFAULT true,
    can_skip boolean NOT NULL DEFAULT false,
    auto_advance boolean NOT NULL DEFAULT false,
    requires_approval boolean NOT NULL DEFAULT false,
    approval_roles user_role[] NOT NULL DEFAULT '{{}}',
    metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    UNIQUE (organization_id, workflow_stage_id, slug),
    UNIQUE (organization_id, workflow_stage_id, sub_stage_order) DEFERRABLE INITIALLY IMMEDIATE,
    {fk("workflow_stage_id", "workflow_stages", "CASCADE")}
"""))

table("projects", tenant_table("projects", f"""
    project_number varchar(50) NOT NULL,
    title text NOT NULL CHECK (length(btrim(title)) >= 3),
    description text,
    customer_id uuid,
    current_stage_id uuid,
    status project_status NOT NULL DEFAULT 'active',
    priority_score integer NOT NULL DEFAULT 50 CHECK (priority_score BETWEEN 0 AND 100),
    priority_level priority_level NOT NULL DEFAULT 'medium',
    estimated_value numeric(15, 2) CHECK (estimated_value >= 0),
    estimated_delivery_date date,
    actual_delivery_date date,
    source text NOT NULL DEFAULT 'manual' {_check("source", PROJECT_SOURCES)},
    tags text[] NOT NULL DEFAULT '{{}}',
    metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    stage_entered_at timestamptz NOT NULL DEFAULT now(),
    project_type text {_check("project_type", PROJECT_TYPES)},
    notes text,
    created_by uuid,
    assigned_to uuid,
    intake_type intake_type,
    intake_source text NOT NULL DEFAULT 'portal' {_check("intake_source", INTAKE_SOURCES)},
    archived_at timestamptz,
    search_text tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', coalesce(project_number, '') || ' ' || coalesce(title, '') || ' '
                    || coalesce(description, ''))) STORED,
    UNIQUE (organization_id, project_number),
    {fk("customer_id", "contacts", "SET NULL")},
    {fk("current_stage_id", "workflow_stages")},
    {person_fk("created_by", "SET NULL")},
    {person_fk("assigned_to", "SET NULL")}
"""))

# One row per organization and day; the row lock serializes project-number assignment.
table("project_number_counters", """
CREATE TABLE project_number_counters (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    day date NOT NULL,
    last_seq integer NOT NULL CHECK (last_seq > 0),
    PRIMARY KEY (organization_id, day)
);""", editable=False, change_log=False)

table("project_sub_stage_progress", tenant_table("project_sub_stage_progress", f"""
    project_id uuid NOT NULL,
    workflow_stage_id uuid NOT NULL,
    sub_stage_id uuid NOT NULL,
    status text NOT NULL DEFAULT 'pending' {_check("status", PROGRESS_STATUSES)},
    started_at timestamptz,
    completed_at timestamptz,
    completed_by uuid,
    assigned_to uuid,
    notes text,
    metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    UNIQUE (organization_id, project_id, sub_stage_id),
    {fk("project_id", "projects", "CASCADE")},
    {fk("workflow_stage_id", "workflow_stages")},
    {fk("sub_stage_id", "workflow_sub_stages")},
    {person_fk("assigned_to", "SET NULL")},
    {person_fk("completed_by", "SET NULL")}
"""))

table("project_assignments", tenant_table("project_assignments", f"""
    project_id uuid NOT NULL,
    person_id uuid NOT NULL,
    role text NOT NULL DEFAULT 'member',
    assigned_at timestamptz NOT NULL DEFAULT now(),
    assigned_by uuid,
    is_active boolean NOT NULL DEFAULT true,
    UNIQUE (organization_id, project_id, person_id, role),
    {fk("project_id", "projects", "CASCADE")},
    {person_fk("person_id")},
    {person_fk("assigned_by", "SET NULL")}
"""))

# The original had no stage history; ours is append-only and written only by the database.
table("project_stage_history", tenant_table("project_stage_history", f"""
    project_id uuid NOT NULL,
    from_stage_id uuid,
    to_stage_id uuid NOT NULL,
    transition text NOT NULL {_check("transition", TRANSITION_KINDS)},
    reason text,
    comment text,
    actor_id uuid,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    {fk("project_id", "projects", "CASCADE")},
    {fk("from_stage_id", "workflow_stages")},
    {fk("to_stage_id", "workflow_stages")},
    {person_fk("actor_id", "SET NULL")}
""", editable=False), editable=False, append_only=True)

table("reviews", tenant_table("reviews", f"""
    project_id uuid NOT NULL,
    reviewer_id uuid,
    reviewer_role user_role,
    review_type text NOT NULL {_check("review_type", REVIEW_TYPES)},
    status text NOT NULL DEFAULT 'pending' {_check("status", REVIEW_STATUSES)},
    priority priority_level NOT NULL DEFAULT 'medium',
    comments text,
    recommendations text,
    decision text,
    decision_reason text,
    metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    due_date date,
    completed_at timestamptz,
    created_by uuid,
    {fk("project_id", "projects", "CASCADE")},
    {person_fk("reviewer_id", "SET NULL")},
    {person_fk("created_by", "SET NULL")}
"""))

table("review_risks", tenant_table("review_risks", f"""
    review_id uuid NOT NULL,
    category text NOT NULL {_check("category", RISK_CATEGORIES)},
    severity text NOT NULL {_check("severity", RISK_SEVERITIES)},
    description text NOT NULL,
    mitigation text,
    {fk("review_id", "reviews", "CASCADE")}
"""))

table("storage_buckets", tenant_table("storage_buckets", """
    name text NOT NULL,
    max_file_size bigint NOT NULL DEFAULT 1073741824 CHECK (max_file_size > 0),
    allowed_mime_types text[],
    UNIQUE (organization_id, name)
"""))

# Content addressed per organization (never across: T-FILE-06). Visible only when complete.
table("storage_objects", tenant_table("storage_objects", f"""
    bucket_id uuid NOT NULL,
    sha256 text CHECK (sha256 ~ '^[0-9a-f]{{64}}$'),
    size bigint NOT NULL DEFAULT 0 CHECK (size >= 0),
    chunk_size integer NOT NULL DEFAULT 1048576 CHECK (chunk_size > 0),
    chunk_count integer NOT NULL DEFAULT 0 CHECK (chunk_count >= 0),
    mime_type text,
    status text NOT NULL DEFAULT 'uploading' {_check("status", UPLOAD_STATUSES)},
    expected_size bigint CHECK (expected_size >= 0),
    created_by uuid,
    completed_at timestamptz,
    verified_at timestamptz,
    CHECK (status <> 'complete' OR sha256 IS NOT NULL),
    {fk("bucket_id", "storage_buckets")},
    {person_fk("created_by", "SET NULL")}
""", editable=True), change_log=False)

table("blob_chunks", """
CREATE TABLE blob_chunks (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    object_id uuid NOT NULL,
    seq integer NOT NULL CHECK (seq >= 0),
    data bytea NOT NULL,
    PRIMARY KEY (organization_id, object_id, seq),
    FOREIGN KEY (organization_id, object_id) REFERENCES storage_objects (organization_id, id)
        ON DELETE CASCADE
);""", editable=False, change_log=False)

table("supplier_rfqs", tenant_table("supplier_rfqs", f"""
    project_id uuid NOT NULL,
    supplier_id uuid NOT NULL,
    rfq_number text NOT NULL,
    status text NOT NULL DEFAULT 'draft' {_check("status", RFQ_STATUSES)},
    sent_at timestamptz,
    viewed_at timestamptz,
    due_date date,
    expected_response_date date,
    priority priority_level NOT NULL DEFAULT 'medium',
    requirements text,
    special_instructions text,
    created_by uuid,
    UNIQUE (organization_id, rfq_number),
    {fk("project_id", "projects", "CASCADE")},
    {fk("supplier_id", "contacts")},
    {person_fk("created_by", "SET NULL")}
"""))

table("supplier_quotes", tenant_table("supplier_quotes", f"""
    project_id uuid NOT NULL,
    supplier_rfq_id uuid,
    supplier_id uuid NOT NULL,
    quote_number text,
    total_amount numeric(15, 2) CHECK (total_amount >= 0),
    currency char(3) NOT NULL DEFAULT 'USD',
    lead_time_days integer CHECK (lead_time_days >= 0),
    valid_until date,
    status text NOT NULL DEFAULT 'submitted' {_check("status", QUOTE_STATUSES)},
    terms_and_conditions text,
    notes text,
    metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    submitted_at timestamptz,
    created_by uuid,
    UNIQUE (organization_id, supplier_id, quote_number),
    {fk("project_id", "projects", "CASCADE")},
    {fk("supplier_rfq_id", "supplier_rfqs", "SET NULL")},
    {fk("supplier_id", "contacts")},
    {person_fk("created_by", "SET NULL")}
"""))

table("supplier_quote_lines", tenant_table("supplier_quote_lines", f"""
    supplier_quote_id uuid NOT NULL,
    line_no integer NOT NULL CHECK (line_no > 0),
    description text NOT NULL,
    quantity numeric(14, 3) NOT NULL CHECK (quantity > 0),
    unit text NOT NULL DEFAULT 'pcs',
    unit_price numeric(15, 4) NOT NULL CHECK (unit_price >= 0),
    amount numeric(15, 2) GENERATED ALWAYS AS (round(quantity * unit_price, 2)) STORED,
    UNIQUE (organization_id, supplier_quote_id, line_no),
    {fk("supplier_quote_id", "supplier_quotes", "CASCADE")}
"""))

table("inventory_locations", tenant_table("inventory_locations", """
    code text NOT NULL,
    name text NOT NULL,
    description text,
    is_active boolean NOT NULL DEFAULT true,
    UNIQUE (organization_id, code)
"""))

table("inventory_items", tenant_table("inventory_items", f"""
    item_code text NOT NULL,
    item_name text NOT NULL,
    description text,
    category text,
    unit text NOT NULL DEFAULT 'pcs',
    default_location_id uuid,
    min_stock_level numeric(14, 3) CHECK (min_stock_level >= 0),
    max_stock_level numeric(14, 3) CHECK (max_stock_level >= 0),
    unit_cost numeric(15, 4) CHECK (unit_cost >= 0),
    preferred_supplier_id uuid,
    status text NOT NULL DEFAULT 'active' {_check("status", ITEM_STATUSES)},
    allow_negative boolean NOT NULL DEFAULT false,
    barcode text,
    UNIQUE (organization_id, item_code),
    CHECK (max_stock_level IS NULL OR min_stock_level IS NULL OR max_stock_level >= min_stock_level),
    {fk("default_location_id", "inventory_locations", "SET NULL")},
    {fk("preferred_supplier_id", "contacts", "SET NULL")}
"""))

table("purchase_orders", tenant_table("purchase_orders", f"""
    po_number text NOT NULL,
    supplier_id uuid NOT NULL,
    project_id uuid,
    supplier_quote_id uuid,
    status text NOT NULL DEFAULT 'draft' {_check("status", PO_STATUSES)},
    priority priority_level NOT NULL DEFAULT 'medium',
    currency char(3) NOT NULL DEFAULT 'USD',
    total_amount numeric(15, 2) NOT NULL DEFAULT 0 CHECK (total_amount >= 0),
    order_date date,
    due_date date,
    sent_at timestamptz,
    acknowledged_at timestamptz,
    closed_at timestamptz,
    notes text,
    created_by uuid,
    UNIQUE (organization_id, po_number),
    {fk("supplier_id", "contacts")},
    {fk("project_id", "projects", "SET NULL")},
    {fk("supplier_quote_id", "supplier_quotes", "SET NULL")},
    {person_fk("created_by", "SET NULL")}
"""))

table("purchase_order_lines", tenant_table("purchase_order_lines", f"""
    purchase_order_id uuid NOT NULL,
    line_no integer NOT NULL CHECK (line_no > 0),
    inventory_item_id uuid,
    item_name text NOT NULL,
    description text,
    quantity numeric(14, 3) NOT NULL CHECK (quantity > 0),
    unit text NOT NULL DEFAULT 'pcs',
    unit_price numeric(15, 4) NOT NULL CHECK (unit_price >= 0),
    total_price numeric(15, 2) GENERATED ALWAYS AS (round(quantity * unit_price, 2)) STORED,
    quantity_received numeric(14, 3) NOT NULL DEFAULT 0 CHECK (quantity_received >= 0),
    UNIQUE (organization_id, purchase_order_id, line_no),
    {fk("purchase_order_id", "purchase_orders", "CASCADE")},
    {fk("inventory_item_id", "inventory_items")}
"""))

table("work_centers", tenant_table("work_centers", """
    code text NOT NULL,
    name text NOT NULL,
    description text,
    is_active boolean NOT NULL DEFAULT true,
    UNIQUE (organization_id, code)
"""))

table("production_orders", tenant_table("production_orders", f"""
    production_number text NOT NULL,
    project_id uuid,
    inventory_item_id uuid,
    description text,
    status text NOT NULL DEFAULT 'planned' {_check("status", PRODUCTION_STATUSES)},
    priority priority_level NOT NULL DEFAULT 'medium',
    quantity numeric(14, 3) NOT NULL CHECK (quantity > 0),
    completed_quantity numeric(14, 3) NOT NULL DEFAULT 0 CHECK (completed_quantity >= 0),
    scrapped_quantity numeric(14, 3) NOT NULL DEFAULT 0 CHECK (scrapped_quantity >= 0),
    planned_start date,
    planned_end date,
    actual_start timestamptz,
    actual_end timestamptz,
    assigned_to uuid,
    notes text,
    created_by uuid,
    UNIQUE (organization_id, production_number),
    CHECK (planned_end IS NULL OR planned_start IS NULL OR planned_end >= planned_start),
    {fk("project_id", "projects", "SET NULL")},
    {fk("inventory_item_id", "inventory_items", "SET NULL")},
    {person_fk("assigned_to", "SET NULL")},
    {person_fk("created_by", "SET NULL")}
"""))

table("production_operations", tenant_table("production_operations", f"""
    production_order_id uuid NOT NULL,
    sequence integer NOT NULL CHECK (sequence > 0),
    name text NOT NULL,
    work_center_id uuid,
    status text NOT NULL DEFAULT 'pending' {_check("status", OPERATION_STATUSES)},
    planned_minutes integer CHECK (planned_minutes >= 0),
    UNIQUE (organization_id, production_order_id, sequence),
    {fk("production_order_id", "production_orders", "CASCADE")},
    {fk("work_center_id", "work_centers")}
"""))

table("production_order_materials", tenant_table("production_order_materials", f"""
    production_order_id uuid NOT NULL,
    inventory_item_id uuid NOT NULL,
    quantity_required numeric(14, 3) NOT NULL CHECK (quantity_required > 0),
    quantity_reserved numeric(14, 3) NOT NULL DEFAULT 0 CHECK (quantity_reserved >= 0),
    quantity_issued numeric(14, 3) NOT NULL DEFAULT 0 CHECK (quantity_issued >= 0),
    UNIQUE (organization_id, production_order_id, inventory_item_id),
    {fk("production_order_id", "production_orders", "CASCADE")},
    {fk("inventory_item_id", "inventory_items")}
"""))

# Shop-floor scans: append-only; client_event_id makes a retried scan land once.
table("production_events", tenant_table("production_events", f"""
    production_order_id uuid NOT NULL,
    operation_id uuid,
    event_type text NOT NULL {_check("event_type", PRODUCTION_EVENTS)},
    quantity numeric(14, 3) CHECK (quantity >= 0),
    minutes numeric(10, 2) CHECK (minutes >= 0),
    operator_id uuid,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    client_event_id uuid,
    note text,
    UNIQUE (organization_id, client_event_id),
    {fk("production_order_id", "production_orders", "CASCADE")},
    {fk("operation_id", "production_operations", "CASCADE")},
    {person_fk("operator_id", "SET NULL")}
""", editable=False), editable=False, append_only=True)

# The stock ledger: on-hand is derived from it, never stored.
table("stock_movements", tenant_table("stock_movements", f"""
    inventory_item_id uuid NOT NULL,
    location_id uuid NOT NULL,
    movement_type text NOT NULL {_check("movement_type", MOVEMENT_TYPES)},
    quantity numeric(14, 3) NOT NULL CHECK (quantity <> 0),
    unit_cost numeric(15, 4),
    purchase_order_line_id uuid,
    production_order_id uuid,
    transfer_group_id uuid,
    reference text,
    note text,
    moved_by uuid,
    moved_at timestamptz NOT NULL DEFAULT now(),
    client_event_id uuid,
    UNIQUE (organization_id, client_event_id),
    CHECK (movement_type NOT IN ('receipt', 'return', 'transfer_in') OR quantity > 0),
    CHECK (movement_type NOT IN ('issue', 'transfer_out') OR quantity < 0),
    {fk("inventory_item_id", "inventory_items")},
    {fk("location_id", "inventory_locations")},
    {fk("purchase_order_line_id", "purchase_order_lines")},
    {fk("production_order_id", "production_orders")},
    {person_fk("moved_by", "SET NULL")}
""", editable=False), editable=False, append_only=True)

table("approval_chains", tenant_table("approval_chains", f"""
    chain_name text NOT NULL,
    approval_type approval_type NOT NULL,
    entity_type text NOT NULL,
    min_amount numeric(15, 2),
    currency char(3),
    conditions jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    is_active boolean NOT NULL DEFAULT true,
    created_by uuid,
    UNIQUE (organization_id, chain_name),
    {person_fk("created_by", "SET NULL")}
"""))

table("approval_chain_steps", tenant_table("approval_chain_steps", f"""
    chain_id uuid NOT NULL,
    step_number integer NOT NULL CHECK (step_number > 0),
    name text NOT NULL,
    mode text NOT NULL DEFAULT 'parallel' {_check("mode", STEP_MODES)},
    required_approvals integer NOT NULL DEFAULT 1 CHECK (required_approvals > 0),
    due_hours integer CHECK (due_hours > 0),
    escalate_to_role user_role,
    UNIQUE (organization_id, chain_id, step_number),
    {fk("chain_id", "approval_chains", "CASCADE")}
"""))

table("approval_chain_step_approvers", tenant_table("approval_chain_step_approvers", f"""
    chain_step_id uuid NOT NULL,
    person_id uuid,
    role user_role,
    position integer NOT NULL DEFAULT 1,
    CHECK ((person_id IS NULL) <> (role IS NULL)),
    {fk("chain_step_id", "approval_chain_steps", "CASCADE")},
    {person_fk("person_id")}
"""))

table("approvals", tenant_table("approvals", f"""
    approval_type approval_type NOT NULL,
    title text NOT NULL,
    description text,
    reference_id text,
    entity_type text NOT NULL,
    entity_id uuid NOT NULL,
    entity_version integer,
    project_id uuid,
    approval_chain_id uuid,
    step_number integer NOT NULL DEFAULT 1 CHECK (step_number > 0),
    total_steps integer NOT NULL DEFAULT 1 CHECK (total_steps > 0),
    amount numeric(15, 2),
    currency char(3),
    requested_by uuid,
    requested_at timestamptz NOT NULL DEFAULT now(),
    request_reason text,
    request_metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    status approval_status NOT NULL DEFAULT 'pending',
    priority approval_priority NOT NULL DEFAULT 'normal',
    due_date timestamptz,
    expires_at timestamptz,
    decision_comments text,
    decision_reason text,
    decided_by uuid,
    decided_at timestamptz,
    escalated_to uuid,
    escalated_at timestamptz,
    escalation_reason text,
    CHECK (decided_at IS NULL OR decided_at >= created_at),
    CHECK (step_number <= total_steps),
    {fk("project_id", "projects", "CASCADE")},
    {fk("approval_chain_id", "approval_chains", "SET NULL")},
    {person_fk("requested_by", "SET NULL")},
    {person_fk("decided_by", "SET NULL")},
    {person_fk("escalated_to", "SET NULL")}
"""))

table("approval_steps", tenant_table("approval_steps", f"""
    approval_id uuid NOT NULL,
    step_number integer NOT NULL CHECK (step_number > 0),
    name text NOT NULL,
    mode text NOT NULL DEFAULT 'parallel' {_check("mode", STEP_MODES)},
    required_approvals integer NOT NULL DEFAULT 1 CHECK (required_approvals > 0),
    status text NOT NULL DEFAULT 'waiting' {_check("status", STEP_STATUSES)},
    due_at timestamptz,
    completed_at timestamptz,
    UNIQUE (organization_id, approval_id, step_number),
    {fk("approval_id", "approvals", "CASCADE")}
"""))

table("approval_step_approvers", tenant_table("approval_step_approvers", f"""
    approval_step_id uuid NOT NULL,
    person_id uuid,
    role user_role,
    position integer NOT NULL DEFAULT 1,
    decision text NOT NULL DEFAULT 'pending' {_check("decision", APPROVER_DECISIONS)},
    decided_by uuid,
    decided_at timestamptz,
    comment text,
    delegated_from uuid,
    CHECK ((person_id IS NULL) <> (role IS NULL)),
    {fk("approval_step_id", "approval_steps", "CASCADE")},
    {person_fk("person_id")},
    {person_fk("decided_by", "SET NULL")},
    {person_fk("delegated_from", "SET NULL")}
"""))

table("approval_history", tenant_table("approval_history", f"""
    approval_id uuid NOT NULL,
    approval_step_id uuid,
    action_type text NOT NULL,
    action_by uuid,
    action_at timestamptz NOT NULL DEFAULT now(),
    old_status approval_status,
    new_status approval_status,
    comments text,
    metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    {fk("approval_id", "approvals", "CASCADE")},
    {fk("approval_step_id", "approval_steps", "CASCADE")},
    {person_fk("action_by", "SET NULL")}
""", editable=False), editable=False, append_only=True)

table("approval_delegations", tenant_table("approval_delegations", f"""
    delegator_id uuid NOT NULL,
    delegate_id uuid NOT NULL,
    start_date date NOT NULL,
    end_date date NOT NULL,
    reason text,
    include_new_approvals boolean NOT NULL DEFAULT true,
    status text NOT NULL DEFAULT 'active' {_check("status", DELEGATION_STATUSES)},
    CHECK (end_date >= start_date),
    CHECK (delegator_id <> delegate_id),
    {person_fk("delegator_id")},
    {person_fk("delegate_id")}
"""))

# The original pointed this at reviews(id) by mistake.
table("approval_delegation_mappings", tenant_table("approval_delegation_mappings", f"""
    delegation_id uuid NOT NULL,
    approval_id uuid NOT NULL,
    UNIQUE (organization_id, delegation_id, approval_id),
    {fk("delegation_id", "approval_delegations", "CASCADE")},
    {fk("approval_id", "approvals", "CASCADE")}
""", editable=False), editable=False)

table("documents", tenant_table("documents", f"""
    project_id uuid,
    supplier_rfq_id uuid,
    purchase_order_id uuid,
    production_order_id uuid,
    title text NOT NULL CHECK (length(btrim(title)) > 0),
    description text,
    file_name text,
    file_path text,
    file_size bigint CHECK (file_size >= 0),
    file_type text,
    mime_type text,
    current_version_number integer NOT NULL DEFAULT 1 CHECK (current_version_number > 0),
    category text NOT NULL DEFAULT 'other' {_check("category", DOC_CATEGORIES)},
    tags text[] NOT NULL DEFAULT '{{}}',
    metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    access_level text NOT NULL DEFAULT 'internal' {_check("access_level", ACCESS_LEVELS)},
    uploaded_by uuid,
    approved_by uuid,
    approved_at timestamptz,
    external_id text,
    external_url text CHECK (external_url IS NULL OR external_url ~ '^https://'),
    storage_provider text NOT NULL DEFAULT 'database' {_check("storage_provider", STORAGE_PROVIDERS)},
    sync_status text {_check("sync_status", SYNC_STATUSES)},
    last_synced_at timestamptz,
    ai_extracted_data jsonb,
    ai_processing_status text {_check("ai_processing_status", AI_STATUSES)},
    ai_confidence_score numeric(5, 4),
    ai_processed_at timestamptz,
    link_type text NOT NULL DEFAULT 'file' {_check("link_type", LINK_TYPES)},
    link_permissions jsonb,
    link_expires_at timestamptz,
    link_access_count integer NOT NULL DEFAULT 0,
    link_last_accessed timestamptz,
    archived_at timestamptz,
    {fk("project_id", "projects", "CASCADE")},
    {fk("supplier_rfq_id", "supplier_rfqs", "CASCADE")},
    {fk("purchase_order_id", "purchase_orders", "CASCADE")},
    {fk("production_order_id", "production_orders", "CASCADE")},
    {person_fk("uploaded_by", "SET NULL")},
    {person_fk("approved_by", "SET NULL")}
"""))

table("document_versions", tenant_table("document_versions", f"""
    document_id uuid NOT NULL,
    version_number integer NOT NULL CHECK (version_number > 0),
    storage_object_id uuid,
    file_name text,
    file_path text,
    file_size bigint CHECK (file_size >= 0),
    mime_type text,
    sha256 text CHECK (sha256 ~ '^[0-9a-f]{{64}}$'),
    title text,
    description text,
    change_summary text,
    uploaded_by uuid,
    uploaded_at timestamptz NOT NULL DEFAULT now(),
    is_current boolean NOT NULL DEFAULT false,
    metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    UNIQUE (organization_id, document_id, version_number),
    {fk("document_id", "documents", "CASCADE")},
    {fk("storage_object_id", "storage_objects")},
    {person_fk("uploaded_by", "SET NULL")}
"""))

table("document_access_log", tenant_table("document_access_log", f"""
    document_id uuid NOT NULL,
    person_id uuid,
    action text NOT NULL {_check("action", ACCESS_ACTIONS)},
    ip_address inet,
    user_agent text,
    accessed_at timestamptz NOT NULL DEFAULT now(),
    {fk("document_id", "documents", "CASCADE")},
    {person_fk("person_id", "SET NULL")}
""", editable=False), editable=False, append_only=True, change_log=False)

table("messages", tenant_table("messages", f"""
    project_id uuid,
    supplier_rfq_id uuid,
    purchase_order_id uuid,
    production_order_id uuid,
    thread_id uuid,
    parent_message_id uuid,
    sender_id uuid,
    recipient_id uuid,
    recipient_type text NOT NULL DEFAULT 'project' {_check("recipient_type", RECIPIENT_TYPES)},
    recipient_role user_role,
    subject text,
    content text NOT NULL CHECK (length(content) <= 100000),
    message_type text NOT NULL DEFAULT 'internal' {_check("message_type", MESSAGE_TYPES)},
    priority priority_level NOT NULL DEFAULT 'medium',
    status text NOT NULL DEFAULT 'sent',
    metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    edited_at timestamptz,
    deleted_at timestamptz,
    search_text tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', coalesce(subject, '') || ' ' || coalesce(content, ''))) STORED,
    {fk("project_id", "projects", "CASCADE")},
    {fk("supplier_rfq_id", "supplier_rfqs", "CASCADE")},
    {fk("purchase_order_id", "purchase_orders", "CASCADE")},
    {fk("production_order_id", "production_orders", "CASCADE")},
    {fk("thread_id", "messages", "CASCADE")},
    {fk("parent_message_id", "messages", "CASCADE")},
    {person_fk("sender_id", "SET NULL")},
    {person_fk("recipient_id", "SET NULL")}
"""))

table("message_reads", tenant_table("message_reads", f"""
    message_id uuid NOT NULL,
    person_id uuid NOT NULL,
    read_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, message_id, person_id),
    {fk("message_id", "messages", "CASCADE")},
    {person_fk("person_id")}
""", editable=False), editable=False)

table("message_mentions", tenant_table("message_mentions", f"""
    message_id uuid NOT NULL,
    person_id uuid NOT NULL,
    UNIQUE (organization_id, message_id, person_id),
    {fk("message_id", "messages", "CASCADE")},
    {person_fk("person_id")}
""", editable=False), editable=False)

table("message_attachments", tenant_table("message_attachments", f"""
    message_id uuid NOT NULL,
    document_id uuid NOT NULL,
    UNIQUE (organization_id, message_id, document_id),
    {fk("message_id", "messages", "CASCADE")},
    {fk("document_id", "documents", "CASCADE")}
""", editable=False), editable=False)

table("approval_attachments", tenant_table("approval_attachments", f"""
    approval_id uuid NOT NULL,
    document_id uuid NOT NULL,
    attachment_type text,
    description text,
    UNIQUE (organization_id, approval_id, document_id),
    {fk("approval_id", "approvals", "CASCADE")},
    {fk("document_id", "documents", "CASCADE")}
""", editable=False), editable=False)

table("notifications", tenant_table("notifications", f"""
    person_id uuid NOT NULL,
    title text NOT NULL,
    message text,
    type text NOT NULL DEFAULT 'info',
    priority priority_level NOT NULL DEFAULT 'medium',
    status text NOT NULL DEFAULT 'unread' {_check("status", NOTIFICATION_STATUSES)},
    action_url text,
    action_label text,
    related_entity_type text,
    related_entity_id uuid,
    metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    expires_at timestamptz,
    read_at timestamptz,
    {person_fk("person_id")}
"""))

# What happened, in words: only meaningful events, never whole rows (ORIGIN.md 7.9).
table("activity_log", tenant_table("activity_log", f"""
    actor_id uuid,
    entity_type text NOT NULL,
    entity_id uuid,
    action text NOT NULL,
    description text,
    changes jsonb,
    metadata jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    project_id uuid,
    occurred_at timestamptz NOT NULL DEFAULT now(),
    {fk("project_id", "projects", "SET NULL")},
    {person_fk("actor_id", "SET NULL")}
""", editable=False), editable=False, append_only=True, change_log=False)

table("change_log", """
CREATE TABLE change_log (
    id bigserial PRIMARY KEY,
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    entity_type text NOT NULL,
    entity_id uuid NOT NULL,
    operation char(1) NOT NULL CHECK (operation IN ('I', 'U', 'D')),
    row_version integer,
    actor_id uuid,
    changed_at timestamptz NOT NULL DEFAULT now()
);""", editable=False, append_only=True, change_log=False)

table("google_drive_config", tenant_table("google_drive_config", f"""
    client_id text NOT NULL,
    scopes text[] NOT NULL DEFAULT '{{https://www.googleapis.com/auth/drive.file}}',
    allow_readonly_scope boolean NOT NULL DEFAULT false,
    is_active boolean NOT NULL DEFAULT true,
    configured_by uuid,
    UNIQUE (organization_id),
    {person_fk("configured_by", "SET NULL")}
"""))

# Google does not treat an installed app's secret as confidential, but only admins read it.
table("google_drive_client_secrets", tenant_table("google_drive_client_secrets", """
    client_secret text NOT NULL,
    UNIQUE (organization_id)
"""), change_log=False)

# Non-secret connection facts only: tokens live in the OS keyring.
table("google_drive_connections", tenant_table("google_drive_connections", f"""
    person_id uuid NOT NULL,
    google_account_id text NOT NULL,
    google_email text,
    scopes text[] NOT NULL DEFAULT '{{}}',
    status text NOT NULL DEFAULT 'connected' {_check("status", CONNECTION_STATUSES)},
    connected_at timestamptz NOT NULL DEFAULT now(),
    last_refreshed_at timestamptz,
    UNIQUE (organization_id, person_id, google_account_id),
    {person_fk("person_id")}
"""))

table("saved_filters", tenant_table("saved_filters", f"""
    person_id uuid NOT NULL,
    page text NOT NULL,
    name text NOT NULL,
    filter jsonb NOT NULL DEFAULT '{{}}'::jsonb,
    is_default boolean NOT NULL DEFAULT false,
    UNIQUE (organization_id, person_id, page, name),
    {person_fk("person_id")}
"""))

# A contact that a portal person represents cannot be deleted while they are a member.
LATE_CONSTRAINTS = f"""
ALTER TABLE memberships ADD {fk("contact_id", "contacts")};
"""

# Indexes lead with organization_id so the RLS filter and the query's own filter use them.
INDEXES = """
CREATE INDEX memberships_person_idx ON memberships (person_id, organization_id);
CREATE INDEX contacts_company_idx ON contacts (organization_id, lower(company_name));
CREATE INDEX contacts_company_trgm_idx ON contacts USING gin (company_name gin_trgm_ops);
CREATE INDEX projects_list_idx ON projects (organization_id, updated_at DESC, id DESC);
CREATE INDEX projects_stage_idx ON projects (organization_id, current_stage_id, updated_at DESC);
CREATE INDEX projects_customer_idx ON projects (organization_id, customer_id);
CREATE INDEX projects_assignee_idx ON projects (organization_id, assigned_to);
CREATE INDEX projects_search_idx ON projects USING gin (search_text);
CREATE INDEX projects_title_trgm_idx ON projects USING gin (title gin_trgm_ops);
CREATE INDEX progress_project_idx ON project_sub_stage_progress (organization_id, project_id);
CREATE INDEX assignments_person_idx ON project_assignments (organization_id, person_id)
    WHERE is_active;
CREATE INDEX stage_history_project_idx ON project_stage_history
    (organization_id, project_id, occurred_at);
CREATE INDEX reviews_project_idx ON reviews (organization_id, project_id);
CREATE UNIQUE INDEX storage_objects_content_idx ON storage_objects (organization_id, sha256)
    WHERE status = 'complete';
CREATE INDEX supplier_rfqs_project_idx ON supplier_rfqs (organization_id, project_id);
CREATE INDEX supplier_rfqs_supplier_idx ON supplier_rfqs (organization_id, supplier_id);
CREATE INDEX supplier_quotes_project_idx ON supplier_quotes (organization_id, project_id);
CREATE INDEX purchase_orders_list_idx ON purchase_orders (organization_id, updated_at DESC);
CREATE INDEX purchase_orders_supplier_idx ON purchase_orders (organization_id, supplier_id);
CREATE INDEX stock_movements_item_idx ON stock_movements
    (organization_id, inventory_item_id, location_id);
CREATE INDEX production_orders_list_idx ON production_orders (organization_id, updated_at DESC);
CREATE INDEX production_events_order_idx ON production_events
    (organization_id, production_order_id, occurred_at);
CREATE INDEX approvals_status_idx ON approvals (organization_id, status, due_date);
CREATE INDEX approvals_entity_idx ON approvals (organization_id, entity_type, entity_id);
CREATE INDEX approval_approvers_person_idx ON approval_step_approvers
    (organization_id, person_id) WHERE decision = 'pending';
CREATE INDEX approval_history_idx ON approval_history (organization_id, approval_id, action_at);
CREATE INDEX documents_project_idx ON documents (organization_id, project_id, updated_at DESC);
CREATE INDEX documents_title_trgm_idx ON documents USING gin (title gin_trgm_ops);
CREATE INDEX document_versions_object_idx ON document_versions
    (organization_id, storage_object_id);
CREATE INDEX document_access_idx ON document_access_log
    (organization_id, document_id, accessed_at);
CREATE INDEX messages_project_idx ON messages (organization_id, project_id, created_at);
CREATE INDEX messages_thread_idx ON messages (organization_id, thread_id, created_at);
CREATE INDEX messages_search_idx ON messages USING gin (search_text);
CREATE INDEX notifications_person_idx ON notifications
    (organization_id, person_id, status, created_at DESC);
CREATE INDEX activity_log_project_idx ON activity_log (organization_id, project_id, occurred_at);
CREATE INDEX activity_log_time_idx ON activity_log (organization_id, occurred_at DESC);
CREATE INDEX change_log_org_idx ON change_log (organization_id, id);
CREATE INDEX inventory_items_name_trgm_idx ON inventory_items USING gin (item_name gin_trgm_ops);
"""

# --------------------------------------------------------------------------------------------
# Identity helpers. Owned by fp_security (BYPASSRLS) so they can read memberships from
# inside a policy without recursion. They identify the caller by session_user: inside a
# SECURITY DEFINER function current_user is the owner, and a person cannot change
# session_user (only a superuser can SET SESSION AUTHORIZATION).
# --------------------------------------------------------------------------------------------
DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"

HELPERS = f"""
-- plpgsql rather than sql: a SECURITY DEFINER sql function is planned again at every call
-- before PostgreSQL 18 (0.23 ms against 0.04 ms on 15, benchmarks/README.md).
CREATE FUNCTION fp_private.my_person_id() RETURNS uuid
LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    RETURN (
        SELECT p.id FROM public.persons p
        WHERE p.role_name = session_user AND p.status = 'active'
    );
END
$$;

CREATE FUNCTION fp_private.my_org_ids_with_role(roles public.user_role[]) RETURNS uuid[]
LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(m.organization_id), '{{}}')
        FROM public.memberships m
        JOIN public.persons p ON p.id = m.person_id
        JOIN public.organizations o ON o.id = m.organization_id
        WHERE p.role_name = session_user AND p.status = 'active' AND m.status = 'active'
          AND o.is_active AND m.role = ANY (roles)
    );
END
$$;

CREATE FUNCTION fp_private.my_org_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    RETURN fp_private.my_org_ids_with_role(enum_range(NULL::public.user_role));
END
$$;

CREATE FUNCTION fp_private.my_internal_org_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    RETURN (
        SELECT fp_private.my_org_ids_with_role(
            '{{admin,management,sales,engineering,qa,production,procurement}}'::public.user_role[])
    );
END
$$;

-- Contacts a portal person (customer or supplier) represents.
CREATE FUNCTION fp_private.my_portal_contact_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(m.contact_id), '{{}}')
        FROM public.memberships m
        JOIN public.persons p ON p.id = m.person_id
        JOIN public.organizations o ON o.id = m.organization_id
        WHERE p.role_name = session_user AND p.status = 'active' AND m.status = 'active'
          AND o.is_active AND m.role IN ('customer', 'supplier') AND m.contact_id IS NOT NULL
    );
END
$$;

-- Projects of the customer a portal person represents. Suppliers never see project rows
-- (they hold the customer's name and price); they see the RFQs and orders sent to them.
CREATE FUNCTION fp_private.my_portal_project_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(pr.id), '{{}}')
        FROM public.projects pr
        WHERE pr.customer_id = ANY (fp_private.my_portal_contact_ids())
    );
END
$$;

-- RFQs sent (not drafts) to the supplier a portal person represents.
CREATE FUNCTION fp_private.my_supplier_rfq_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(r.id), '{{}}')
        FROM public.supplier_rfqs r
        WHERE r.supplier_id = ANY (fp_private.my_portal_contact_ids()) AND r.status <> 'draft'
    );
END
$$;

-- Stages and sub-stages whose responsible roles include the caller's role in that organization.
CREATE FUNCTION fp_private.my_responsible_stage_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(s.id), '{{}}')
        FROM public.workflow_stages s
        JOIN public.memberships m ON m.organization_id = s.organization_id
        JOIN public.persons p ON p.id = m.person_id
        WHERE p.role_name = session_user AND p.status = 'active' AND m.status = 'active'
          AND m.role = ANY (s.responsible_roles)
    );
END
$$;

CREATE FUNCTION fp_private.my_responsible_sub_stage_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(s.id), '{{}}')
        FROM public.workflow_sub_stages s
        JOIN public.memberships m ON m.organization_id = s.organization_id
        JOIN public.persons p ON p.id = m.person_id
        WHERE p.role_name = session_user AND p.status = 'active' AND m.status = 'active'
          AND m.role = ANY (s.responsible_roles)
    );
END
$$;

CREATE FUNCTION fp_private.my_assigned_project_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    RETURN (
        WITH me AS (SELECT fp_private.my_person_id() AS id)
        SELECT coalesce(array_agg(DISTINCT x.project_id), '{{}}') FROM (
            SELECT a.project_id FROM public.project_assignments a, me
            WHERE a.person_id = me.id AND a.is_active
            UNION
            SELECT pr.id FROM public.projects pr, me WHERE pr.assigned_to = me.id
        ) x
    );
END
$$;

-- People the caller may see: everyone in the caller's organizations.
CREATE FUNCTION fp_private.my_colleague_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(DISTINCT m.person_id), '{{}}')
        FROM public.memberships m
        WHERE m.organization_id = ANY (fp_private.my_org_ids())
    );
END
$$;

-- True for a superuser or a member of fp_owner: the command line and migrations.
CREATE FUNCTION fp_private.caller_is_owner() RETURNS boolean
LANGUAGE sql STABLE {DEFINER} AS $$
    SELECT coalesce((SELECT rolsuper FROM pg_catalog.pg_roles WHERE rolname = session_user), false)
        OR pg_catalog.pg_has_role(session_user, 'fp_owner', 'MEMBER')
$$;

CREATE FUNCTION fp_private.caller_is_admin(org uuid) RETURNS boolean
LANGUAGE sql STABLE {DEFINER} AS $$
    SELECT fp_private.caller_is_owner()
        OR org = ANY (fp_private.my_org_ids_with_role('{{admin}}'::public.user_role[]))
$$;
"""

# --------------------------------------------------------------------------------------------
# Triggers
# --------------------------------------------------------------------------------------------
TRIGGER_FUNCTIONS = f"""
-- Editable rows: the database, not the client, keeps updated_at and the lock version.
CREATE FUNCTION fp_private.tg_touch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.updated_at := now();
    NEW.version := OLD.version + 1;
    RETURN NEW;
END
$$;

CREATE FUNCTION fp_private.tg_org_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.organization_id IS DISTINCT FROM OLD.organization_id THEN
        RAISE EXCEPTION 'a record cannot move to another organization'
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END
$$;

-- Audit columns name the signed-in person, whatever the client sent (T-RLS-14). The command
-- line (no person) may fill them itself, e.g. when importing.
CREATE FUNCTION fp_private.tg_stamp_actor() RETURNS trigger LANGUAGE plpgsql
{DEFINER} AS $$
DECLARE
    me uuid := fp_private.my_person_id();
    col text;
BEGIN
    IF me IS NULL THEN
        RETURN NEW;
    END IF;
    FOREACH col IN ARRAY TG_ARGV LOOP
        NEW := jsonb_populate_record(NEW, jsonb_build_object(col, me));
    END LOOP;
    RETURN NEW;
END
$$;

-- Live updates: one change_log row per change, in the same transaction, and a NOTIFY that
-- carries only ids (payloads are visible to every session).
CREATE FUNCTION fp_private.tg_change_log() RETURNS trigger LANGUAGE plpgsql
{DEFINER} AS $$
DECLARE
    r record;
    org uuid;
    change_id bigint;
    row_version integer;
BEGIN
    IF TG_OP = 'DELETE' THEN r := OLD; ELSE r := NEW; END IF;
    IF TG_TABLE_NAME = 'organizations' THEN
        org := r.id;
    ELSE
        org := r.organization_id;
    END IF;
    row_version := (to_jsonb(r) ->> 'version')::integer;
    INSERT INTO public.change_log (organization_id, entity_type, entity_id, operation,
                                   row_version, actor_id)
    VALUES (org, TG_TABLE_NAME, r.id, left(TG_OP, 1), row_version, fp_private.my_person_id())
    RETURNING id INTO change_id;
    PERFORM pg_notify('fp_changes',
                      json_build_object('org', org, 'change_id', change_id)::text);
    RETURN NULL;
END
$$;

-- Project numbers P-YYMMDDNN, assigned under a row lock per organization and day: no race,
-- and past 99 a day the sequence part simply widens (P-26112599, P-261125100).
CREATE FUNCTION fp_private.next_project_number(org uuid) RETURNS text
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    tz text;
    today date;
    seq integer;
BEGIN
    SELECT coalesce(o.settings ->> 'timezone', 'UTC') INTO tz
    FROM public.organizations o WHERE o.id = org;
    BEGIN
        today := (now() AT TIME ZONE tz)::date;
    EXCEPTION WHEN invalid_parameter_value THEN
        today := (now() AT TIME ZONE 'UTC')::date;
    END;
    INSERT INTO public.project_number_counters AS c (organization_id, day, last_seq)
    VALUES (org, today, 1)
    ON CONFLICT (organization_id, day) DO UPDATE SET last_seq = c.last_seq + 1
    RETURNING c.last_seq INTO seq;
    RETURN 'P-' || to_char(today, 'YYMMDD')
        || CASE WHEN seq < 100 THEN lpad(seq::text, 2, '0') ELSE seq::text END;
END
$$;

CREATE FUNCTION fp_private.tg_project_number() RETURNS trigger LANGUAGE plpgsql
{DEFINER} AS $$
BEGIN
    -- Persons never choose the number; an import run from the command line may keep its own.
    IF NEW.project_number IS NULL OR fp_private.my_person_id() IS NOT NULL THEN
        NEW.project_number := fp_private.next_project_number(NEW.organization_id);
    ELSIF NEW.project_number ~ '^P-[0-9]{{8,}}$' THEN
        -- An imported number: later numbers of that day must come after it.
        BEGIN
            INSERT INTO public.project_number_counters AS c (organization_id, day, last_seq)
            VALUES (NEW.organization_id, to_date(substr(NEW.project_number, 3, 6), 'YYMMDD'),
                    substr(NEW.project_number, 9)::integer)
            ON CONFLICT (organization_id, day)
            DO UPDATE SET last_seq = greatest(c.last_seq, excluded.last_seq);
        EXCEPTION WHEN invalid_datetime_format OR datetime_field_overflow
                       OR numeric_value_out_of_range THEN
            NULL;  -- not one of our numbers after all: nothing to keep ahead of
        END;
    END IF;
    IF NEW.current_stage_id IS NULL THEN
        SELECT s.id INTO NEW.current_stage_id FROM public.workflow_stages s
        WHERE s.organization_id = NEW.organization_id AND s.is_active
        ORDER BY s.stage_order LIMIT 1;
    END IF;
    NEW.stage_entered_at := now();
    RETURN NEW;
END
$$;

CREATE FUNCTION fp_private.tg_project_number_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.project_number IS DISTINCT FROM OLD.project_number
       AND NOT fp_private.caller_is_owner() THEN
        RAISE EXCEPTION 'a project number cannot be changed' USING ERRCODE = '42501';
    END IF;
    -- An import run by the owner may keep the historical time a stage was entered.
    IF NEW.current_stage_id IS DISTINCT FROM OLD.current_stage_id
       AND (NEW.stage_entered_at IS NOT DISTINCT FROM OLD.stage_entered_at
            OR NOT fp_private.caller_is_owner()) THEN
        NEW.stage_entered_at := now();
    END IF;
    RETURN NEW;
END
$$;

-- Sub-stage progress rows exist from the moment a project enters a stage, creation included
-- (the original created them only on a change, so new projects had none). Every stage change
-- is written to the append-only history by the database itself, so none goes unrecorded; the
-- workflow functions pass reason and comment in the transaction-local settings
-- fp.transition_reason / fp.transition_comment. Only an import run by the owner (setting
-- fp.import_mode = 'on') writes its own historical rows instead.
CREATE FUNCTION fp_private.tg_project_stage_entered() RETURNS trigger LANGUAGE plpgsql
{DEFINER} AS $$
DECLARE
    from_order integer;
    to_order integer;
    kind text;
BEGIN
    IF NEW.current_stage_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.current_stage_id IS NOT DISTINCT FROM OLD.current_stage_id THEN
        RETURN NULL;
    END IF;
    INSERT INTO public.project_sub_stage_progress
        (organization_id, project_id, workflow_stage_id, sub_stage_id, status, started_at)
    SELECT NEW.organization_id, NEW.id, s.workflow_stage_id, s.id,
           CASE WHEN row_number() OVER (ORDER BY s.sub_stage_order) = 1
                THEN 'in_progress' ELSE 'pending' END,
           CASE WHEN row_number() OVER (ORDER BY s.sub_stage_order) = 1 THEN now() END
    FROM public.workflow_sub_stages s
    WHERE s.organization_id = NEW.organization_id
      AND s.workflow_stage_id = NEW.current_stage_id AND s.is_active
    ON CONFLICT (organization_id, project_id, sub_stage_id) DO NOTHING;
    IF fp_private.caller_is_owner()
       AND coalesce(current_setting('fp.import_mode', true), '') = 'on' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        kind := 'created';
    ELSE
        SELECT stage_order INTO from_order FROM public.workflow_stages
        WHERE organization_id = NEW.organization_id AND id = OLD.current_stage_id;
        SELECT stage_order INTO to_order FROM public.workflow_stages
        WHERE organization_id = NEW.organization_id AND id = NEW.current_stage_id;
        kind := CASE WHEN to_order < from_order THEN 'back'
                     WHEN to_order = from_order + 1 OR from_order IS NULL THEN 'advance'
                     ELSE 'skip' END;
    END IF;
    INSERT INTO public.project_stage_history
        (organization_id, project_id, from_stage_id, to_stage_id, transition, reason, comment,
         actor_id)
    VALUES (NEW.organization_id, NEW.id,
            CASE WHEN TG_OP = 'UPDATE' THEN OLD.current_stage_id END, NEW.current_stage_id,
            kind, nullif(current_setting('fp.transition_reason', true), ''),
            nullif(current_setting('fp.transition_comment', true), ''),
            coalesce(fp_private.my_person_id(), NEW.created_by));
    RETURN NULL;
END
$$;

-- Every new organization gets the default workflow and a document bucket.
CREATE FUNCTION fp_private.tg_organization_created() RETURNS trigger LANGUAGE plpgsql
{DEFINER} AS $$
BEGIN
    PERFORM fp_private.create_default_workflow(NEW.id);
    INSERT INTO public.storage_buckets (organization_id, name, max_file_size)
    VALUES (NEW.id, 'documents', NEW.max_file_size);
    RETURN NULL;
END
$$;
"""

# The 8 stages and 30 sub-stages of the original (ORIGIN.md section 3).
STAGES = [
    # slug, name, roles, days, color, exit criteria
    ("inquiry_received", "Inquiry Received", "sales,procurement", 20, "#3b82f6",
     "RFQ reviewed, requirements understood, first feasibility check done"),
    ("technical_review", "Technical Review", "engineering,qa,production", 10, "#8b5cf6",
     "All technical reviews done, feasibility confirmed"),
    ("supplier_rfq_sent", "Supplier RFQ Sent", "procurement", 5, "#f59e0b",
     "Supplier RFQs sent, responses received and evaluated"),
    ("quoted", "Quoted", "sales,procurement", 5, "#06b6d4",
     "Customer quote generated, pricing approved, terms negotiated"),
    ("order_confirmed", "Order Confirmed", "sales,procurement,production", 5, "#10b981",
     "Customer PO received, contract signed, planning started"),
    ("procurement_planning", "Procurement Planning", "procurement,production", 5, "#f97316",
     "All POs issued, material delivery schedule confirmed"),
    ("production", "Production", "production,qa", 4, "#ef4444",
     "Production done, QC passed, ready to ship"),
    ("completed", "Completed", "sales,production", 3, "#22c55e",
     "Delivered, customer satisfied, project closed"),
]

SUB_STAGES = [
    # stage slug, order, name, roles, hours, required, can_skip, approval roles
    ("inquiry_received", 1, "RFQ Documentation Review", "sales,procurement", 2, True, False, ""),
    ("inquiry_received", 2, "Initial Feasibility Assessment", "sales,engineering", 4, True, False, ""),
    ("inquiry_received", 3, "Customer Requirements Clarification", "sales", 3, False, True, ""),
    ("technical_review", 1, "Engineering Technical Review", "engineering", 8, True, False,
     "engineering"),
    ("technical_review", 2, "QA Requirements Review", "qa", 6, True, False, "qa"),
    ("technical_review", 3, "Production Capability Assessment", "production", 4, True, False,
     "production"),
    ("technical_review", 4, "Cross-Team Review Meeting", "engineering,qa,production", 2, True, False,
     "engineering,qa,production"),
    ("supplier_rfq_sent", 1, "Supplier Identification", "procurement", 4, True, False, ""),
    ("supplier_rfq_sent", 2, "RFQ Preparation", "procurement", 6, True, False, ""),
    ("supplier_rfq_sent", 3, "RFQ Distribution", "procurement", 2, True, False, ""),
    ("supplier_rfq_sent", 4, "Supplier Response Collection", "procurement", 8, True, False, ""),
    ("quoted", 1, "Cost Analysis", "procurement,sales", 6, True, False, "procurement"),
    ("quoted", 2, "Quote Preparation", "sales", 4, True, False, "sales"),
    ("quoted", 3, "Quote Review and Approval", "sales,management", 2, True, False, "management"),
    ("quoted", 4, "Quote Submission", "sales", 1, True, False, ""),
    ("order_confirmed", 1, "Customer PO Review", "sales,procurement", 4, True, False, "sales"),
    ("order_confirmed", 2, "Contract Finalization", "sales,management", 8, True, False,
     "management"),
    ("order_confirmed", 3, "Production Planning Initiation", "production,sales", 6, True, False, ""),
    ("procurement_planning", 1, "BOM Finalization", "engineering,procurement", 8, True, False,
     "engineering"),
    ("procurement_planning", 2, "Purchase Order Issuance", "procurement", 6, True, False, ""),
    ("procurement_planning", 3, "Material Planning", "procurement,production", 4, True, False, ""),
    ("procurement_planning", 4, "Production Schedule Confirmation", "production", 4, True, False,
     "production"),
    ("production", 1, "Manufacturing Setup", "production", 8, True, False, ""),
    ("production", 2, "Assembly Process", "production", 16, True, False, ""),
    ("production", 3, "Quality Control Testing", "qa,production", 8, True, False, "qa"),
    ("production", 4, "Final Assembly and Packaging", "production", 4, True, False, ""),
    ("completed", 1, "Shipping Preparation", "sales,production", 4, True, False, ""),
    ("completed", 2, "Product Delivery", "sales", 2, True, False, ""),
    ("completed", 3, "Project Documentation", "sales,production", 4, True, False, ""),
    ("completed", 4, "Project Closure", "sales", 2, True, False, "sales"),
]


def _slugify(name: str) -> str:
    return "_".join(name.lower().replace("-", " ").split())


def _sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def default_workflow_function() -> str:
    stage_rows = ",\n        ".join(
        f"({order}, {_sql_str(slug)}, {_sql_str(name)}, '{{{roles}}}'::public.user_role[], "
        f"{days}, {_sql_str(color)}, {_sql_str(exit_criteria)})"
        for order, (slug, name, roles, days, color, exit_criteria) in enumerate(STAGES, start=1)
    )
    sub_rows = ",\n        ".join(
        f"({_sql_str(stage)}, {order}, {_sql_str(name)}, {_sql_str(_slugify(name))}, "
        f"'{{{roles}}}'::public.user_role[], {hours}, {str(required).lower()}, "
        f"{str(skip).lower()}, {str(bool(approval)).lower()}, "
        f"'{{{approval}}}'::public.user_role[])"
        for stage, order, name, roles, hours, required, skip, approval in SUB_STAGES
    )
    return f"""
CREATE FUNCTION fp_private.create_default_workflow(org uuid) RETURNS void
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    INSERT INTO public.workflow_stages (organization_id, stage_order, slug, name,
        responsible_roles, estimated_duration_days, color, exit_criteria)
    SELECT org, v.* FROM (VALUES
        {stage_rows}
    ) AS v (stage_order, slug, name, responsible_roles, days, color, exit_criteria);

    INSERT INTO public.workflow_sub_stages (organization_id, workflow_stage_id, sub_stage_order,
        name, slug, responsible_roles, estimated_duration_hours, is_required, can_skip,
        requires_approval, approval_roles, color)
    SELECT org, s.id, v.sub_order, v.name, v.slug, v.roles, v.hours, v.required, v.can_skip,
           v.requires_approval, v.approval_roles, s.color
    FROM (VALUES
        {sub_rows}
    ) AS v (stage_slug, sub_order, name, slug, roles, hours, required, can_skip,
            requires_approval, approval_roles)
    JOIN public.workflow_stages s ON s.organization_id = org AND s.slug = v.stage_slug;
END
$$;
"""


# --------------------------------------------------------------------------------------------
# Organization and person management: SECURITY DEFINER, caller checked inside.
# --------------------------------------------------------------------------------------------
MANAGEMENT = f"""
-- Only the command line (owner or superuser) creates organizations.
CREATE FUNCTION fp_private.create_organization(p_slug text, p_name text) RETURNS uuid
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    new_id uuid;
BEGIN
    IF NOT fp_private.caller_is_owner() THEN
        RAISE EXCEPTION 'only the database owner can create organizations'
            USING ERRCODE = '42501';
    END IF;
    INSERT INTO public.organizations (slug, name) VALUES (p_slug, p_name) RETURNING id INTO new_id;
    RETURN new_id;
END
$$;

CREATE FUNCTION fp_private.check_username(p_username text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
    IF p_username IS NULL OR p_username !~ '^[a-z][a-z0-9._-]{{2,62}}$' THEN
        RAISE EXCEPTION 'a user name is 3 to 63 characters: lower-case letters, digits, dot, dash or underscore, starting with a letter'
            USING ERRCODE = '22023';
    END IF;
    IF p_username ~ '^(pg_|fp_)' OR p_username IN ('postgres', 'public', 'none') THEN
        RAISE EXCEPTION 'the user name "%" is reserved', p_username USING ERRCODE = '22023';
    END IF;
END
$$;

CREATE FUNCTION fp_private.check_verifier(p_verifier text) RETURNS void
LANGUAGE plpgsql IMMUTABLE SET search_path = pg_catalog AS $$
BEGIN
    -- Only a SCRAM verifier computed by the client is accepted, never a plain password.
    IF p_verifier IS NULL OR p_verifier !~
       '^SCRAM-SHA-256\\$[0-9]+:[A-Za-z0-9+/=]+\\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$' THEN
        RAISE EXCEPTION 'the password must be sent as a SCRAM-SHA-256 verifier'
            USING ERRCODE = '22023';
    END IF;
END
$$;

CREATE FUNCTION fp_private.create_person(
    p_org uuid, p_username text, p_role public.user_role, p_verifier text,
    p_display_name text DEFAULT NULL, p_email text DEFAULT NULL, p_contact_id uuid DEFAULT NULL
) RETURNS uuid
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    new_id uuid;
BEGIN
    IF NOT fp_private.caller_is_admin(p_org) THEN
        RAISE EXCEPTION 'only an administrator of this organization can add people'
            USING ERRCODE = '42501';
    END IF;
    PERFORM fp_private.check_username(p_username);
    PERFORM fp_private.check_verifier(p_verifier);
    IF EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = p_username) THEN
        RAISE EXCEPTION 'the user name "%" is already taken', p_username USING ERRCODE = '42710';
    END IF;
    EXECUTE format('CREATE ROLE %I LOGIN INHERIT IN ROLE fp_member PASSWORD %L',
                   p_username, p_verifier);
    -- A dialog left open must never hold a transaction for long (RELIABILITY 3.2).
    EXECUTE format('ALTER ROLE %I SET idle_in_transaction_session_timeout = %L',
                   p_username, '15min');
    INSERT INTO public.persons (role_name, display_name, email)
    VALUES (p_username, coalesce(nullif(btrim(p_display_name), ''), p_username), p_email)
    RETURNING id INTO new_id;
    INSERT INTO public.memberships (organization_id, person_id, role, contact_id)
    VALUES (p_org, new_id, p_role, p_contact_id);
    INSERT INTO public.activity_log (organization_id, actor_id, entity_type, entity_id, action,
                                     description)
    VALUES (p_org, fp_private.my_person_id(), 'person', new_id, 'person_created',
            format('Added %s as %s', p_username, p_role));
    RETURN new_id;
END
$$;

-- Adds an existing person (member elsewhere) to one more organization.
CREATE FUNCTION fp_private.add_membership(
    p_org uuid, p_username text, p_role public.user_role, p_contact_id uuid DEFAULT NULL
) RETURNS uuid
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    pid uuid;
BEGIN
    IF NOT fp_private.caller_is_admin(p_org) THEN
        RAISE EXCEPTION 'only an administrator of this organization can add people'
            USING ERRCODE = '42501';
    END IF;
    SELECT id INTO pid FROM public.persons WHERE role_name = p_username;
    IF pid IS NULL THEN
        RAISE EXCEPTION 'there is no person "%"', p_username USING ERRCODE = '42704';
    END IF;
    INSERT INTO public.memberships (organization_id, person_id, role, contact_id)
    VALUES (p_org, pid, p_role, p_contact_id);
    INSERT INTO public.activity_log (organization_id, actor_id, entity_type, entity_id, action,
                                     description)
    VALUES (p_org, fp_private.my_person_id(), 'person', pid, 'membership_added',
            format('Added %s as %s', p_username, p_role));
    RETURN pid;
END
$$;

CREATE FUNCTION fp_private.set_membership(
    p_org uuid, p_person uuid, p_role public.user_role, p_status public.user_status
) RETURNS void
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    IF NOT fp_private.caller_is_admin(p_org) THEN
        RAISE EXCEPTION 'only an administrator of this organization can change people'
            USING ERRCODE = '42501';
    END IF;
    IF p_person = fp_private.my_person_id() AND (p_role <> 'admin' OR p_status <> 'active') THEN
        RAISE EXCEPTION 'administrators cannot remove their own administrator rights'
            USING ERRCODE = '42501';
    END IF;
    UPDATE public.memberships SET role = p_role, status = p_status
    WHERE organization_id = p_org AND person_id = p_person;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'that person is not a member of this organization'
            USING ERRCODE = '42704';
    END IF;
    INSERT INTO public.activity_log (organization_id, actor_id, entity_type, entity_id, action,
                                     description)
    VALUES (p_org, fp_private.my_person_id(), 'person', p_person, 'membership_changed',
            format('Role %s, status %s', p_role, p_status));
END
$$;

-- A person changes their own password; an administrator may reset it only when they
-- administer every organization the person belongs to.
CREATE FUNCTION fp_private.set_password(p_person uuid, p_verifier text) RETURNS void
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    rname text;
BEGIN
    PERFORM fp_private.check_verifier(p_verifier);
    SELECT role_name INTO rname FROM public.persons WHERE id = p_person;
    IF rname IS NULL THEN
        RAISE EXCEPTION 'there is no such person' USING ERRCODE = '42704';
    END IF;
    IF NOT (p_person = fp_private.my_person_id() OR fp_private.caller_is_owner() OR NOT EXISTS (
            SELECT 1 FROM public.memberships m WHERE m.person_id = p_person
            AND NOT fp_private.caller_is_admin(m.organization_id))) THEN
        RAISE EXCEPTION 'only the person or their administrator can change this password'
            USING ERRCODE = '42501';
    END IF;
    EXECUTE format('ALTER ROLE %I PASSWORD %L', rname, p_verifier);
END
$$;
"""

# --------------------------------------------------------------------------------------------
# Policies. One RESTRICTIVE tenant policy per table (a broad permissive policy can then never
# widen access across organizations) plus one permissive policy per command for the role
# rules. Helpers are wrapped in (SELECT ...) so PostgreSQL runs them once per statement.
# --------------------------------------------------------------------------------------------
MINE = "organization_id = ANY ((SELECT fp_private.my_org_ids())::uuid[])"
INTERNAL = "organization_id = ANY ((SELECT fp_private.my_internal_org_ids())::uuid[])"
ME = "(SELECT fp_private.my_person_id())"
PORTAL_PROJECTS = "((SELECT fp_private.my_portal_project_ids())::uuid[])"
PORTAL_CONTACTS = "((SELECT fp_private.my_portal_contact_ids())::uuid[])"


def roles(*names: str) -> str:
    return (
        "organization_id = ANY ((SELECT fp_private.my_org_ids_with_role("
        f"'{{{','.join(names)}}}'::public.user_role[]))::uuid[])"
    )


ADMIN = roles("admin")
MANAGERS = roles("admin", "management")
SALES_SIDE = roles("admin", "management", "sales", "procurement")

PROJECT_WRITERS = (
    f"{MANAGERS} OR ({INTERNAL} AND (current_stage_id = ANY ((SELECT "
    "fp_private.my_responsible_stage_ids())::uuid[]) OR id = ANY ((SELECT "
    "fp_private.my_assigned_project_ids())::uuid[])))"
)
DOCUMENT_READERS = (
    f"({INTERNAL} AND (access_level IN ('public', 'internal') OR {MANAGERS} "
    f"OR uploaded_by = {ME} OR project_id = ANY ((SELECT fp_private.my_assigned_project_ids())::uuid[])))"
    f" OR (access_level = 'public' AND (project_id = ANY {PORTAL_PROJECTS} OR supplier_rfq_id "
    "= ANY ((SELECT fp_private.my_supplier_rfq_ids())::uuid[])))"
)
MESSAGE_READERS = (
    f"sender_id = {ME} OR recipient_id = {ME} OR ({INTERNAL} AND recipient_id IS NULL "
    "AND (project_id IS NULL OR EXISTS (SELECT 1 FROM projects pv WHERE pv.organization_id = "
    "messages.organization_id AND pv.id = messages.project_id)))"
)

# table: (select, insert, update, delete); None means the command is refused to persons.
POLICIES: dict[str, tuple[str | None, str | None, str | None, str | None]] = {
    "memberships": (
        f"{INTERNAL} OR person_id = {ME}", None, None, None),
    "contacts": (
        f"{INTERNAL} OR id = ANY {PORTAL_CONTACTS}", SALES_SIDE, SALES_SIDE, MANAGERS),
    "workflow_stages": (MINE, MANAGERS, MANAGERS, MANAGERS),
    "workflow_sub_stages": (MINE, MANAGERS, MANAGERS, MANAGERS),
    "projects": (
        f"{INTERNAL} OR id = ANY {PORTAL_PROJECTS}", SALES_SIDE, PROJECT_WRITERS, ADMIN),
    "project_number_counters": (None, None, None, None),
    "project_sub_stage_progress": (
        f"{INTERNAL} OR project_id = ANY {PORTAL_PROJECTS}",
        None,
        f"{MANAGERS} OR ({INTERNAL} AND (sub_stage_id = ANY ((SELECT "
        "fp_private.my_responsible_sub_stage_ids())::uuid[]) OR assigned_to = "
        f"{ME} OR project_id = ANY ((SELECT fp_private.my_assigned_project_ids())::uuid[])))",
        None),
    "project_assignments": (INTERNAL, MANAGERS, MANAGERS, MANAGERS),
    "project_stage_history": (
        f"{INTERNAL} OR project_id = ANY {PORTAL_PROJECTS}", None, None, None),
    "reviews": (
        INTERNAL,
        roles("admin", "management", "engineering", "qa", "production"),
        f"{MANAGERS} OR reviewer_id = {ME} OR created_by = {ME}",
        MANAGERS),
    "review_risks": (
        INTERNAL,
        roles("admin", "management", "engineering", "qa", "production"),
        roles("admin", "management", "engineering", "qa", "production"),
        roles("admin", "management", "engineering", "qa", "production")),
    "storage_buckets": (INTERNAL, ADMIN, ADMIN, ADMIN),
    # File bytes are readable exactly when a document version that uses them is readable,
    # or while the uploader is still sending them.
    "storage_objects": (
        f"created_by = {ME} OR EXISTS (SELECT 1 FROM document_versions v WHERE "
        "v.organization_id = storage_objects.organization_id AND v.storage_object_id = "
        "storage_objects.id)",
        INTERNAL,
        f"created_by = {ME} AND status = 'uploading'",
        f"{MANAGERS} OR (created_by = {ME} AND status = 'uploading')"),
    "blob_chunks": (
        "EXISTS (SELECT 1 FROM storage_objects o WHERE o.organization_id = "
        "blob_chunks.organization_id AND o.id = blob_chunks.object_id)",
        "EXISTS (SELECT 1 FROM storage_objects o WHERE o.organization_id = "
        f"blob_chunks.organization_id AND o.id = blob_chunks.object_id AND o.created_by = {ME} "
        "AND o.status = 'uploading')",
        None,
        "EXISTS (SELECT 1 FROM storage_objects o WHERE o.organization_id = "
        f"blob_chunks.organization_id AND o.id = blob_chunks.object_id AND o.created_by = {ME} "
        "AND o.status = 'uploading')"),
    "supplier_rfqs": (
        f"{INTERNAL} OR (status <> 'draft' AND supplier_id = ANY {PORTAL_CONTACTS})",
        roles("admin", "management", "procurement"),
        roles("admin", "management", "procurement"),
        roles("admin", "management", "procurement")),
    "supplier_quotes": (
        f"{roles('admin', 'management', 'procurement', 'sales')} "
        f"OR supplier_id = ANY {PORTAL_CONTACTS}",
        f"{roles('admin', 'management', 'procurement')} OR supplier_id = ANY {PORTAL_CONTACTS}",
        f"{roles('admin', 'management', 'procurement')} OR (supplier_id = ANY {PORTAL_CONTACTS} "
        "AND status IN ('draft', 'submitted'))",
        roles("admin", "management", "procurement")),
    "supplier_quote_lines": (
        "EXISTS (SELECT 1 FROM supplier_quotes q WHERE q.organization_id = "
        "supplier_quote_lines.organization_id AND q.id = supplier_quote_lines.supplier_quote_id)",
        roles("admin", "management", "procurement"),
        roles("admin", "management", "procurement"),
        roles("admin", "management", "procurement")),
    "inventory_locations": (
        INTERNAL, roles("admin", "management", "procurement", "production"),
        roles("admin", "management", "procurement", "production"), MANAGERS),
    "inventory_items": (
        INTERNAL, roles("admin", "management", "procurement", "production"),
        roles("admin", "management", "procurement", "production"), MANAGERS),
    "purchase_orders": (
        f"{INTERNAL} OR (supplier_id = ANY {PORTAL_CONTACTS} AND status NOT IN "
        "('draft', 'pending_approval', 'approved', 'cancelled'))",
        roles("admin", "management", "procurement"),
        roles("admin", "management", "procurement"),
        roles("admin", "management", "procurement")),
    "purchase_order_lines": (
        "EXISTS (SELECT 1 FROM purchase_orders po WHERE po.organization_id = "
        "purchase_order_lines.organization_id AND po.id = purchase_order_lines.purchase_order_id)",
        roles("admin", "management", "procurement"),
        roles("admin", "management", "procurement", "production"),
        roles("admin", "management", "procurement")),
    "work_centers": (INTERNAL, roles("admin", "management", "production"),
                     roles("admin", "management", "production"), MANAGERS),
    "production_orders": (INTERNAL, roles("admin", "management", "production"),
                          roles("admin", "management", "production", "qa"), MANAGERS),
    "production_operations": (INTERNAL, roles("admin", "management", "production"),
                              roles("admin", "management", "production", "qa"),
                              roles("admin", "management", "production")),
    "production_order_materials": (INTERNAL, roles("admin", "management", "production"),
                                   roles("admin", "management", "production", "procurement"),
                                   roles("admin", "management", "production")),
    "production_events": (INTERNAL, roles("admin", "management", "production", "qa"), None, None),
    "stock_movements": (INTERNAL, roles("admin", "management", "procurement", "production"),
                        None, None),
    "approval_chains": (INTERNAL, MANAGERS, MANAGERS, MANAGERS),
    "approval_chain_steps": (INTERNAL, MANAGERS, MANAGERS, MANAGERS),
    "approval_chain_step_approvers": (INTERNAL, MANAGERS, MANAGERS, MANAGERS),
    # Decisions go through database functions (the approvals issue); requests are open to staff.
    "approvals": (INTERNAL, INTERNAL, f"{MANAGERS} OR requested_by = {ME}", MANAGERS),
    "approval_steps": (INTERNAL, INTERNAL, MANAGERS, MANAGERS),
    "approval_step_approvers": (INTERNAL, INTERNAL, MANAGERS, MANAGERS),
    "approval_history": (INTERNAL, None, None, None),
    "approval_delegations": (
        INTERNAL, f"{MANAGERS} OR ({INTERNAL} AND delegator_id = {ME})",
        f"{MANAGERS} OR delegator_id = {ME}", f"{MANAGERS} OR delegator_id = {ME}"),
    "approval_delegation_mappings": (INTERNAL, INTERNAL, None, MANAGERS),
    "documents": (
        DOCUMENT_READERS,
        INTERNAL,
        f"{MANAGERS} OR ({INTERNAL} AND (uploaded_by = {ME} OR access_level <> 'confidential'))",
        f"{MANAGERS} OR uploaded_by = {ME}"),
    "document_versions": (
        "EXISTS (SELECT 1 FROM documents d WHERE d.organization_id = "
        "document_versions.organization_id AND d.id = document_versions.document_id)",
        INTERNAL, INTERNAL, MANAGERS),
    "document_access_log": (
        f"{MANAGERS} OR person_id = {ME}",
        "EXISTS (SELECT 1 FROM documents d WHERE d.organization_id = "
        "document_access_log.organization_id AND d.id = document_access_log.document_id)",
        None, None),
    "messages": (
        MESSAGE_READERS,
        f"{INTERNAL} OR (recipient_id IS NOT NULL AND {MINE})",
        f"sender_id = {ME}",
        f"{MANAGERS} OR sender_id = {ME}"),
    "message_reads": (f"person_id = {ME} OR {INTERNAL}", f"person_id = {ME}", None,
                      f"person_id = {ME}"),
    "message_mentions": (
        "EXISTS (SELECT 1 FROM messages mm WHERE mm.organization_id = "
        "message_mentions.organization_id AND mm.id = message_mentions.message_id)",
        INTERNAL, None, INTERNAL),
    "message_attachments": (
        "EXISTS (SELECT 1 FROM messages mm WHERE mm.organization_id = "
        "message_attachments.organization_id AND mm.id = message_attachments.message_id)",
        MINE, None, INTERNAL),
    "approval_attachments": (INTERNAL, INTERNAL, None, INTERNAL),
    "notifications": (f"person_id = {ME}", INTERNAL, f"person_id = {ME}", f"person_id = {ME}"),
    "activity_log": (INTERNAL, INTERNAL, None, None),
    "change_log": (MINE, None, None, None),
    "google_drive_config": (INTERNAL, ADMIN, ADMIN, ADMIN),
    "google_drive_client_secrets": (ADMIN, ADMIN, ADMIN, ADMIN),
    "google_drive_connections": (
        f"person_id = {ME} OR {ADMIN}", f"person_id = {ME}", f"person_id = {ME}",
        f"person_id = {ME} OR {ADMIN}"),
    "saved_filters": (f"person_id = {ME}", f"person_id = {ME}", f"person_id = {ME}",
                      f"person_id = {ME}"),
}

# Tables without organization_id get their own rules.
ROOT_POLICIES = {
    "organizations": (
        "id = ANY ((SELECT fp_private.my_org_ids())::uuid[])",  # restrictive
        ("id = ANY ((SELECT fp_private.my_org_ids())::uuid[])", None,
         "id = ANY ((SELECT fp_private.my_org_ids_with_role('{admin}'::public.user_role[]))::uuid[])",
         None),
    ),
    "persons": (
        f"id = {ME} OR id = ANY ((SELECT fp_private.my_colleague_ids())::uuid[])",
        (f"id = {ME} OR id = ANY ((SELECT fp_private.my_colleague_ids())::uuid[])", None,
         f"id = {ME}", None),
    ),
}

# Columns that stay as sent only for the command line; for persons the trigger fills them.
ACTOR_COLUMNS = {
    "contacts": ["created_by"],
    "projects": ["created_by"],
    "project_assignments": ["assigned_by"],
    "reviews": ["created_by"],
    "storage_objects": ["created_by"],
    "supplier_rfqs": ["created_by"],
    "supplier_quotes": ["created_by"],
    "purchase_orders": ["created_by"],
    "production_orders": ["created_by"],
    "production_events": ["operator_id"],
    "stock_movements": ["moved_by"],
    "approval_chains": ["created_by"],
    "approvals": ["requested_by"],
    "approval_history": ["action_by"],
    "documents": ["uploaded_by"],
    "document_versions": ["uploaded_by"],
    "document_access_log": ["person_id"],
    "messages": ["sender_id"],
    "activity_log": ["actor_id"],
    "google_drive_config": ["configured_by"],
}

# Columns a person may update on their own person row.
PERSON_SELF_COLUMNS = "display_name, email, phone, avatar_url, preferences"


def policy_sql() -> str:
    out: list[str] = []
    commands = ("SELECT", "INSERT", "UPDATE", "DELETE")
    for name, (restrictive, rules) in ROOT_POLICIES.items():
        out.append(_enable_rls(name))
        out.append(
            f"CREATE POLICY {name}_tenant ON {name} AS RESTRICTIVE FOR ALL TO fp_member "
            f"USING ({restrictive}) WITH CHECK ({restrictive});"
        )
        out.extend(_command_policies(name, rules, commands))
    for name, rules in POLICIES.items():
        out.append(_enable_rls(name))
        out.append(
            f"CREATE POLICY {name}_tenant ON {name} AS RESTRICTIVE FOR ALL TO fp_member "
            f"USING ({MINE}) WITH CHECK ({MINE});"
        )
        out.extend(_command_policies(name, rules, commands))
    return "\n".join(out)


def _enable_rls(name: str) -> str:
    return f"ALTER TABLE {name} ENABLE ROW LEVEL SECURITY;\nALTER TABLE {name} FORCE ROW LEVEL SECURITY;"


def _command_policies(name: str, rules: tuple[str | None, ...], commands: Sequence[str]) -> list[str]:
    out = []
    for command, rule in zip(commands, rules, strict=True):
        expr = f"({rule})" if rule else "(false)"
        policy = f"CREATE POLICY {name}_{command.lower()} ON {name} FOR {command} TO fp_member"
        if command == "INSERT":
            out.append(f"{policy} WITH CHECK {expr};")
        elif command == "UPDATE":
            out.append(f"{policy} USING {expr} WITH CHECK {expr};")
        else:
            out.append(f"{policy} USING {expr};")
        if rule:
            if command == "UPDATE" and name == "persons":
                out.append(f"GRANT UPDATE ({PERSON_SELF_COLUMNS}) ON {name} TO fp_member;")
            else:
                out.append(f"GRANT {command} ON {name} TO fp_member;")
    return out


def trigger_sql() -> str:
    out: list[str] = []
    for name, _ddl, editable, _append_only, change_log in TABLES:
        if editable:
            out.append(
                f"CREATE TRIGGER {name}_touch BEFORE UPDATE ON {name} "
                "FOR EACH ROW EXECUTE FUNCTION fp_private.tg_touch();"
            )
        if name not in ("organizations", "persons"):
            out.append(
                f"CREATE TRIGGER {name}_org_immutable BEFORE UPDATE OF organization_id ON {name} "
                "FOR EACH ROW EXECUTE FUNCTION fp_private.tg_org_immutable();"
            )
        if change_log:
            out.append(
                f"CREATE TRIGGER {name}_change_log AFTER INSERT OR UPDATE OR DELETE ON {name} "
                "FOR EACH ROW EXECUTE FUNCTION fp_private.tg_change_log();"
            )
    for name, columns in ACTOR_COLUMNS.items():
        args = ", ".join(f"'{c}'" for c in columns)
        out.append(
            f"CREATE TRIGGER {name}_stamp_actor BEFORE INSERT ON {name} "
            f"FOR EACH ROW EXECUTE FUNCTION fp_private.tg_stamp_actor({args});"
        )
    out.append("""
CREATE TRIGGER projects_number BEFORE INSERT ON projects
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_project_number();
CREATE TRIGGER projects_number_immutable BEFORE UPDATE ON projects
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_project_number_immutable();
CREATE TRIGGER projects_stage_entered AFTER INSERT OR UPDATE OF current_stage_id ON projects
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_project_stage_entered();
CREATE TRIGGER organizations_created AFTER INSERT ON organizations
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_organization_created();
""")
    return "\n".join(out)


# Views run with the caller's rights (security_invoker), so RLS applies through them.
VIEWS = """
CREATE VIEW inventory_on_hand WITH (security_invoker = true) AS
SELECT m.organization_id, m.inventory_item_id, m.location_id, sum(m.quantity) AS quantity
FROM stock_movements m
GROUP BY m.organization_id, m.inventory_item_id, m.location_id;
GRANT SELECT ON inventory_on_hand TO fp_member;
"""

SECURITY_FUNCTIONS = (
    "my_person_id()", "my_org_ids()", "my_org_ids_with_role(public.user_role[])",
    "my_internal_org_ids()", "my_portal_contact_ids()", "my_portal_project_ids()",
    "my_supplier_rfq_ids()",
    "my_responsible_stage_ids()", "my_responsible_sub_stage_ids()",
    "my_assigned_project_ids()", "my_colleague_ids()", "caller_is_owner()",
    "caller_is_admin(uuid)", "tg_stamp_actor()", "tg_change_log()",
    "next_project_number(uuid)", "tg_project_number()", "tg_project_stage_entered()",
    "tg_organization_created()", "create_default_workflow(uuid)", "create_organization(text, text)",
    "create_person(uuid, text, public.user_role, text, text, text, uuid)",
    "add_membership(uuid, text, public.user_role, uuid)",
    "set_membership(uuid, uuid, public.user_role, public.user_status)",
    "set_password(uuid, text)", "check_username(text)", "check_verifier(text)",
)

# Functions persons may call directly; everything else in fp_private is internal.
MEMBER_CALLABLE = (
    "my_person_id()", "my_org_ids()", "my_org_ids_with_role(public.user_role[])",
    "my_internal_org_ids()", "my_portal_contact_ids()", "my_portal_project_ids()",
    "my_supplier_rfq_ids()",
    "my_responsible_stage_ids()", "my_responsible_sub_stage_ids()",
    "my_assigned_project_ids()", "my_colleague_ids()", "caller_is_owner()",
    "caller_is_admin(uuid)",
    "create_person(uuid, text, public.user_role, text, text, text, uuid)",
    "add_membership(uuid, text, public.user_role, uuid)",
    "set_membership(uuid, uuid, public.user_role, public.user_status)",
    "set_password(uuid, text)",
)


def grants_sql() -> str:
    out = [
        "REVOKE ALL ON SCHEMA fp_private FROM PUBLIC;",
        "GRANT USAGE ON SCHEMA fp_private TO fp_member;",
        "GRANT USAGE, CREATE ON SCHEMA fp_private TO fp_security;",
        "REVOKE EXECUTE ON ALL FUNCTIONS IN SCHEMA fp_private FROM PUBLIC;",
        # fp_security reads and writes through the helpers; it bypasses RLS, not grants.
        "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO fp_security;",
        "GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO fp_security;",
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO fp_backup;",
        "GRANT SELECT ON ALL SEQUENCES IN SCHEMA public TO fp_backup;",
        "GRANT USAGE ON SCHEMA fp_private TO fp_backup;",
        # The app reads the schema version as the signed-in person (older/newer checks).
        "GRANT SELECT ON alembic_version TO fp_member;",
    ]
    for fn in SECURITY_FUNCTIONS:
        out.append(f"ALTER FUNCTION fp_private.{fn} OWNER TO fp_security;")
    for fn in MEMBER_CALLABLE:
        out.append(f"GRANT EXECUTE ON FUNCTION fp_private.{fn} TO fp_member;")
    return "\n".join(out)


def upgrade() -> None:
    for enum, values in ENUMS.items():
        quoted = ", ".join(f"'{v}'" for v in values)
        op.execute(f"CREATE TYPE {enum} AS ENUM ({quoted})")
    op.execute("CREATE SCHEMA fp_private")
    for _name, ddl, *_ in TABLES:
        op.execute(ddl)
    op.execute(LATE_CONSTRAINTS)
    op.execute(INDEXES)
    op.execute(HELPERS)
    op.execute(TRIGGER_FUNCTIONS)
    op.execute(default_workflow_function())
    op.execute(MANAGEMENT)
    op.execute(trigger_sql())
    op.execute(policy_sql())
    op.execute(VIEWS)
    op.execute(grants_sql())


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS inventory_on_hand")
    for name, *_ in reversed(TABLES):
        op.execute(f"DROP TABLE IF EXISTS {name} CASCADE")
    op.execute("DROP SCHEMA IF EXISTS fp_private CASCADE")
    for enum in reversed(list(ENUMS)):
        op.execute(f"DROP TYPE IF EXISTS {enum}")
