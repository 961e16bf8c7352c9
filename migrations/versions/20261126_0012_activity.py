"""Activity: field changes old to new, for the timeline and the activity log.

The original logged a full row on every update of projects, contacts and reviews, and its
analytics had to filter out the noise (ORIGIN.md §7.9). Here the database records, after each
update of a project or a contact, one ``activity_log`` row (action ``updated``) whose ``changes``
hold only the fields that changed, as ``{"field": {"old": ..., "new": ...}}`` — and nothing at
all when no field a person cares about changed. Bookkeeping is left out: lock version and
timestamps, the search vector, and a project's stage (``current_stage_id``,
``stage_entered_at``), which ``project_stage_history`` already records. Only persons' edits
are recorded: an update without a person behind it (the owner login running migrations,
imports, the demo data) is machine work, and logging it would be the very noise §7.9
complains of.

The log is evidence for auditors, so persons cannot bend it: they never could update or delete
its rows (no policy, no grant), the actor is stamped from the login (revision 0001); now the
time is stamped too (``occurred_at``, ``created_at``: a person cannot back-date an entry), and
``updated`` rows come only from the database's own trigger (a person's INSERT of one is
refused), so a field change shown in the timeline really happened.

Indexes for reading the log newest first in keyset pages of (time, id): per project, per
organization, per person, per action and per record type; and for the timeline's other
sources: documents and approvals by project.

Revision ID: 20261126_0012
Revises: 20261126_0011
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261126_0012"
down_revision: str | None = "20261126_0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"
INTERNAL = "organization_id = ANY ((SELECT fp_private.my_internal_org_ids())::uuid[])"

# Columns never reported as a change (the trigger's arguments after the entity type).
_ALWAYS_IGNORED = ("id", "organization_id", "version", "created_at", "updated_at")
IGNORED = {
    "projects": (*_ALWAYS_IGNORED, "search_text", "current_stage_id", "stage_entered_at",
                 "project_number"),
    "contacts": (*_ALWAYS_IGNORED, "ai_category", "ai_capabilities", "ai_risk_score",
                 "ai_last_analyzed"),
}
ENTITY = {"projects": "project", "contacts": "contact"}

FUNCTIONS = f"""
-- One activity row per update holding only the fields that changed (old and new), none when
-- nothing a person cares about changed. TG_ARGV: the entity type, then the columns to ignore.
CREATE FUNCTION fp_private.tg_field_changes() RETURNS trigger LANGUAGE plpgsql
{DEFINER} AS $$
DECLARE
    me uuid := fp_private.my_person_id();
    ignored text[] := TG_ARGV[1:];
    before jsonb := to_jsonb(OLD);
    after jsonb := to_jsonb(NEW);
    diff jsonb;
    fields text;
BEGIN
    IF me IS NULL THEN
        RETURN NULL;  -- migrations, imports, demo data: the owner's work, not a person's edit
    END IF;
    SELECT jsonb_object_agg(k, jsonb_build_object('old', before -> k, 'new', after -> k)),
           string_agg(replace(k, '_', ' '), ', ' ORDER BY k)
    INTO diff, fields
    FROM jsonb_object_keys(after) AS k
    WHERE NOT k = ANY (ignored) AND (before -> k) IS DISTINCT FROM (after -> k);
    IF diff IS NULL THEN
        RETURN NULL;
    END IF;
    INSERT INTO public.activity_log (organization_id, actor_id, entity_type, entity_id,
                                     action, description, changes, project_id)
    VALUES (NEW.organization_id, me, TG_ARGV[0], NEW.id, 'updated',
            'Changed ' || fields, diff,
            CASE WHEN TG_TABLE_NAME = 'projects' THEN NEW.id END);
    RETURN NULL;
END
$$;

-- A person's entry is dated by the server: the log cannot be back-dated.
CREATE FUNCTION fp_private.tg_activity_stamp() RETURNS trigger LANGUAGE plpgsql
{DEFINER} AS $$
BEGIN
    IF fp_private.my_person_id() IS NOT NULL THEN
        NEW.occurred_at := now();
        NEW.created_at := now();
    END IF;
    RETURN NEW;
END
$$;
"""

NEW_INDEXES = {
    "activity_log_project_idx":
        "activity_log (organization_id, project_id, occurred_at DESC, id DESC)",
    "activity_log_time_idx": "activity_log (organization_id, occurred_at DESC, id DESC)",
    "activity_log_actor_idx":
        "activity_log (organization_id, actor_id, occurred_at DESC, id DESC)",
    "activity_log_action_idx":
        "activity_log (organization_id, action, occurred_at DESC, id DESC)",
    "activity_log_entity_idx":
        "activity_log (organization_id, entity_type, occurred_at DESC, id DESC)",
    "documents_project_time_idx": "documents (organization_id, project_id, created_at DESC)",
    "approvals_project_idx": "approvals (organization_id, project_id)",
}
OLD_INDEXES = {
    "activity_log_project_idx": "activity_log (organization_id, project_id, occurred_at)",
    "activity_log_time_idx": "activity_log (organization_id, occurred_at DESC)",
}

PERSON_INSERT = f"({INTERNAL}) AND action <> 'updated'"


def upgrade() -> None:
    op.execute(FUNCTIONS)
    for table, columns in IGNORED.items():
        args = ", ".join(f"'{a}'" for a in (ENTITY[table], *columns))
        op.execute(f"CREATE TRIGGER {table}_field_changes AFTER UPDATE ON {table} "
                   f"FOR EACH ROW EXECUTE FUNCTION fp_private.tg_field_changes({args})")
    op.execute("CREATE TRIGGER activity_log_stamp_time BEFORE INSERT ON activity_log "
               "FOR EACH ROW EXECUTE FUNCTION fp_private.tg_activity_stamp()")
    for fn in ("tg_field_changes()", "tg_activity_stamp()"):
        op.execute(f"REVOKE EXECUTE ON FUNCTION fp_private.{fn} FROM PUBLIC")
        op.execute(f"ALTER FUNCTION fp_private.{fn} OWNER TO fp_security")
    op.execute(f"ALTER POLICY activity_log_insert ON activity_log WITH CHECK ({PERSON_INSERT})")
    for name in OLD_INDEXES:
        op.execute(f"DROP INDEX {name}")
    for name, definition in NEW_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {definition}")


def downgrade() -> None:
    for name in NEW_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for name, definition in OLD_INDEXES.items():
        op.execute(f"CREATE INDEX {name} ON {definition}")
    op.execute(f"ALTER POLICY activity_log_insert ON activity_log WITH CHECK ({INTERNAL})")
    op.execute("DROP TRIGGER IF EXISTS activity_log_stamp_time ON activity_log")
    for table in IGNORED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_field_changes ON {table}")
    op.execute("DROP FUNCTION IF EXISTS fp_private.tg_activity_stamp()")
    op.execute("DROP FUNCTION IF EXISTS fp_private.tg_field_changes()")
