"""Workflow engine: stage moves checked by the database, compare-and-set moves, sub-stage rules.

The original decided every move in the browser (ORIGIN.md §3, §7); here the rules live in
triggers, so they hold however a change arrives — through the app, or typed into psql by a
person with their own login:

* ``projects`` (BEFORE UPDATE, ``fp_private.tg_project_stage_rules``): a person may change
  ``current_stage_id`` only to an active stage of the project's organization and only
  - forward to the next active stage when the current stage's exit rules are met
    (``fp_private.stage_exit_blockers``: every required, active sub-stage completed or
    skipped; a customer set before leaving the first stage);
  - back to an earlier stage with a reason;
  - anything else forward (a jump, or the next stage with rules unmet) only as a bypass: by
    admin, management or sales (the roles the original gave "workflow bypass") and with a
    reason.
  The reason and comment travel in the transaction-local settings ``fp.transition_reason`` and
  ``fp.transition_comment`` (``fp_private.move_project`` sets and clears them). The history row
  is written by ``tg_project_stage_entered`` (revision 0001), now telling a bypass ("skip")
  from an advance by the same rules and the next *active* stage rather than ``order + 1``.
* ``fp_private.move_project(project, expected_stage, to_stage, reason, comment)``: a
  compare-and-set move. It runs as the caller (RLS and the update policy apply). When the
  project is no longer in ``expected_stage`` — someone else moved it meanwhile — it raises
  SQLSTATE ``FP409`` naming where it is now, by whom and when, and changes nothing.
* ``project_sub_stage_progress`` (BEFORE UPDATE, ``tg_progress_rules``): which project and
  sub-stage a row is about never changes; status changes only on rows of the project's current
  stage; "skipped" only where the sub-stage allows skipping or is optional; start, completion
  and who completed are stamped by the database.

The database owner (command line, imports) is not held to these rules.

Handing over: revision 0001 checked the *new* row of a project update against the same rule as
the old one (you may write a project while it is in a stage your role is responsible for), so
sales could never advance a project out of Inquiry Received into Technical Review — the moved
row was no longer theirs. Who may change a row is still decided on the row as it was
(``USING``); the new row must only stay with internal staff of the organization. The same holds
for steps, so a step can be assigned to someone of another role.

Revision ID: 20261125_0003
Revises: 20261125_0002
Create Date: 2026-11-25
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "20261125_0003"
down_revision: str | None = "20261125_0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"
BYPASS_ROLES = "'{admin,management,sales}'::public.user_role[]"

FUNCTIONS = f"""
-- The stage after p_stage among the organization's active stages (NULL after the last).
CREATE FUNCTION fp_private.next_stage_id(p_org uuid, p_stage uuid) RETURNS uuid
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT n.id FROM public.workflow_stages n
    WHERE n.organization_id = p_org AND n.is_active
      AND n.stage_order > (SELECT s.stage_order FROM public.workflow_stages s
                           WHERE s.organization_id = p_org AND s.id = p_stage)
    ORDER BY n.stage_order LIMIT 1
$$;

-- What keeps a project from leaving p_stage, in words for the person (empty: nothing).
-- SECURITY INVOKER: a person calling it sees only what their policies show; the triggers
-- call it as fp_security, which sees everything.
CREATE FUNCTION fp_private.stage_exit_blockers(
    p_org uuid, p_project uuid, p_stage uuid, p_customer uuid
) RETURNS text[]
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT coalesce(array_agg(b.what ORDER BY b.ord), '{{}}') FROM (
        SELECT 0 AS ord, 'the project has no customer yet' AS what
        WHERE p_customer IS NULL
          AND p_stage = (SELECT f.id FROM public.workflow_stages f
                         WHERE f.organization_id = p_org AND f.is_active
                         ORDER BY f.stage_order LIMIT 1)
        UNION ALL
        SELECT ss.sub_stage_order, format('"%s" is not done', ss.name)
        FROM public.workflow_sub_stages ss
        LEFT JOIN public.project_sub_stage_progress pr
               ON pr.organization_id = ss.organization_id AND pr.project_id = p_project
              AND pr.sub_stage_id = ss.id
        WHERE ss.organization_id = p_org AND ss.workflow_stage_id = p_stage
          AND ss.is_active AND ss.is_required
          AND coalesce(pr.status, 'pending') NOT IN ('completed', 'skipped')
    ) b
$$;

-- The kind of a move, by the same rules the BEFORE trigger applies.
CREATE FUNCTION fp_private.transition_kind(
    p_org uuid, p_project uuid, p_from uuid, p_to uuid, p_customer uuid
) RETURNS text
LANGUAGE plpgsql STABLE SET search_path = pg_catalog, public AS $$
DECLARE
    from_order integer;
    to_order integer;
BEGIN
    IF p_from IS NULL THEN
        RETURN 'advance';
    END IF;
    SELECT stage_order INTO from_order FROM public.workflow_stages
    WHERE organization_id = p_org AND id = p_from;
    SELECT stage_order INTO to_order FROM public.workflow_stages
    WHERE organization_id = p_org AND id = p_to;
    IF to_order < from_order THEN
        RETURN 'back';
    END IF;
    IF p_to = fp_private.next_stage_id(p_org, p_from)
       AND cardinality(fp_private.stage_exit_blockers(p_org, p_project, p_from, p_customer)) = 0
    THEN
        RETURN 'advance';
    END IF;
    RETURN 'skip';
END
$$;

CREATE FUNCTION fp_private.tg_project_stage_rules() RETURNS trigger LANGUAGE plpgsql
{DEFINER} AS $$
DECLARE
    kind text;
    reason text := nullif(btrim(current_setting('fp.transition_reason', true)), '');
    to_name text;
    to_active boolean;
    from_name text;
    blockers text[];
    may_bypass boolean;
BEGIN
    IF NEW.current_stage_id IS NOT DISTINCT FROM OLD.current_stage_id
       OR fp_private.caller_is_owner() THEN
        RETURN NEW;
    END IF;
    IF NEW.current_stage_id IS NULL THEN
        RAISE EXCEPTION 'A project must always be in a stage.';
    END IF;
    IF OLD.archived_at IS NOT NULL THEN
        RAISE EXCEPTION 'This project is archived; restore it before moving it.';
    END IF;
    SELECT name, is_active INTO to_name, to_active FROM public.workflow_stages
    WHERE organization_id = NEW.organization_id AND id = NEW.current_stage_id;
    SELECT name INTO from_name FROM public.workflow_stages
    WHERE organization_id = NEW.organization_id AND id = OLD.current_stage_id;
    IF to_active IS NULL THEN
        RAISE EXCEPTION 'That stage does not exist in this organization.' USING ERRCODE = '42501';
    END IF;
    IF NOT to_active THEN
        RAISE EXCEPTION 'The stage "%" is switched off in this organization.', to_name;
    END IF;
    kind := fp_private.transition_kind(NEW.organization_id, NEW.id, OLD.current_stage_id,
                                       NEW.current_stage_id, NEW.customer_id);
    IF kind = 'back' AND reason IS NULL THEN
        RAISE EXCEPTION 'Give a reason for moving the project back to "%".', to_name;
    END IF;
    IF kind = 'skip' THEN
        may_bypass := NEW.organization_id = ANY (
            fp_private.my_org_ids_with_role({BYPASS_ROLES}));
        IF NEW.current_stage_id = fp_private.next_stage_id(NEW.organization_id,
                                                           OLD.current_stage_id)
           AND (reason IS NULL OR NOT may_bypass) THEN
            blockers := fp_private.stage_exit_blockers(
                NEW.organization_id, NEW.id, OLD.current_stage_id, NEW.customer_id);
            RAISE EXCEPTION 'The project cannot leave "%" yet: %.', from_name,
                array_to_string(blockers, ', ')
                USING HINT = CASE WHEN may_bypass
                    THEN 'Finish these steps first, or give a reason to skip them.'
                    ELSE 'Finish these steps first, or ask sales, management or an '
                         'administrator to skip them with a reason.' END;
        END IF;
        IF NOT may_bypass THEN
            RAISE EXCEPTION 'Only sales, management or an administrator may skip stages.'
                USING ERRCODE = '42501';
        END IF;
        IF reason IS NULL THEN
            RAISE EXCEPTION 'Give a reason for skipping ahead to "%".', to_name;
        END IF;
    END IF;
    RETURN NEW;
END
$$;

-- Revision 0001's history trigger, with the kind decided by fp_private.transition_kind.
CREATE OR REPLACE FUNCTION fp_private.tg_project_stage_entered() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    kind text;
BEGIN
    IF NEW.current_stage_id IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.current_stage_id IS NOT DISTINCT FROM OLD.current_stage_id THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' THEN
        -- Before the new stage's rows exist: the rules look at the stage being left.
        kind := fp_private.transition_kind(NEW.organization_id, NEW.id, OLD.current_stage_id,
                                           NEW.current_stage_id, NEW.customer_id);
    ELSE
        kind := 'created';
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
    INSERT INTO public.project_stage_history
        (organization_id, project_id, from_stage_id, to_stage_id, transition, reason, comment,
         actor_id)
    VALUES (NEW.organization_id, NEW.id,
            CASE WHEN TG_OP = 'UPDATE' THEN OLD.current_stage_id END, NEW.current_stage_id,
            kind, nullif(btrim(current_setting('fp.transition_reason', true)), ''),
            nullif(btrim(current_setting('fp.transition_comment', true)), ''),
            coalesce(fp_private.my_person_id(), NEW.created_by));
    RETURN NULL;
END
$$;

-- A compare-and-set move, run as the caller. Returns the stage history row's kind.
CREATE FUNCTION fp_private.move_project(
    p_project uuid, p_expected_stage uuid, p_to_stage uuid,
    p_reason text DEFAULT NULL, p_comment text DEFAULT NULL
) RETURNS text
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    now_stage uuid;
    now_name text;
    who text;
    moved_at timestamptz;
    kind text;
BEGIN
    PERFORM set_config('fp.transition_reason', coalesce(p_reason, ''), true);
    PERFORM set_config('fp.transition_comment', coalesce(p_comment, ''), true);
    UPDATE public.projects SET current_stage_id = p_to_stage
    WHERE id = p_project AND current_stage_id = p_expected_stage;
    IF NOT FOUND THEN
        SELECT p.current_stage_id, s.name INTO now_stage, now_name
        FROM public.projects p
        JOIN public.workflow_stages s
          ON s.organization_id = p.organization_id AND s.id = p.current_stage_id
        WHERE p.id = p_project;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'This project does not exist, or you may not move it.'
                USING ERRCODE = '42501';
        END IF;
        IF now_stage IS DISTINCT FROM p_expected_stage THEN
            SELECT coalesce(pe.display_name, pe.role_name), h.occurred_at INTO who, moved_at
            FROM public.project_stage_history h
            LEFT JOIN public.persons pe ON pe.id = h.actor_id
            WHERE h.project_id = p_project
            ORDER BY h.occurred_at DESC, h.id DESC LIMIT 1;
            RAISE EXCEPTION 'Someone moved this project meanwhile: it is now in "%"%.', now_name,
                CASE WHEN who IS NULL THEN ''
                     ELSE format(' (%s, %s)', who, to_char(moved_at, 'YYYY-MM-DD HH24:MI')) END
                USING ERRCODE = 'FP409', DETAIL = now_stage::text;
        END IF;
        RAISE EXCEPTION 'You may not move this project in its current stage.'
            USING ERRCODE = '42501';
    END IF;
    SELECT h.transition INTO kind FROM public.project_stage_history h
    WHERE h.project_id = p_project ORDER BY h.occurred_at DESC, h.id DESC LIMIT 1;
    -- The next statement of this transaction must not inherit this move's words.
    PERFORM set_config('fp.transition_reason', '', true);
    PERFORM set_config('fp.transition_comment', '', true);
    RETURN kind;
END
$$;

CREATE FUNCTION fp_private.tg_progress_rules() RETURNS trigger LANGUAGE plpgsql
{DEFINER} AS $$
DECLARE
    current_stage uuid;
    sub record;
BEGIN
    IF fp_private.caller_is_owner() THEN
        RETURN NEW;
    END IF;
    IF NEW.project_id IS DISTINCT FROM OLD.project_id
       OR NEW.sub_stage_id IS DISTINCT FROM OLD.sub_stage_id
       OR NEW.workflow_stage_id IS DISTINCT FROM OLD.workflow_stage_id THEN
        RAISE EXCEPTION 'A step cannot be moved to another project or stage.'
            USING ERRCODE = '42501';
    END IF;
    IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NEW;
    END IF;
    SELECT p.current_stage_id INTO current_stage FROM public.projects p
    WHERE p.organization_id = NEW.organization_id AND p.id = NEW.project_id;
    SELECT s.name, s.is_required, s.can_skip INTO sub FROM public.workflow_sub_stages s
    WHERE s.organization_id = NEW.organization_id AND s.id = NEW.sub_stage_id;
    IF NEW.workflow_stage_id IS DISTINCT FROM current_stage THEN
        RAISE EXCEPTION '"%" belongs to another stage than the one the project is in.', sub.name
            USING HINT = 'Move the project back to that stage first.';
    END IF;
    IF NEW.status = 'skipped' AND sub.is_required AND NOT sub.can_skip THEN
        RAISE EXCEPTION '"%" is required and cannot be skipped.', sub.name;
    END IF;
    IF NEW.status = 'in_progress' AND OLD.started_at IS NULL THEN
        NEW.started_at := now();
    END IF;
    IF NEW.status IN ('completed', 'skipped') THEN
        NEW.completed_at := now();
        NEW.completed_by := fp_private.my_person_id();
    ELSE
        NEW.completed_at := NULL;
        NEW.completed_by := NULL;
    END IF;
    RETURN NEW;
END
$$;
"""

INTERNAL = "organization_id = ANY ((SELECT fp_private.my_internal_org_ids())::uuid[])"
POLICIES = f"""
ALTER POLICY projects_update ON projects WITH CHECK ({INTERNAL});
ALTER POLICY project_sub_stage_progress_update ON project_sub_stage_progress
    WITH CHECK ({INTERNAL});
"""

TRIGGERS = """
CREATE TRIGGER projects_stage_rules BEFORE UPDATE OF current_stage_id ON projects
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_project_stage_rules();
CREATE TRIGGER progress_rules BEFORE UPDATE ON project_sub_stage_progress
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_progress_rules();
"""

# Owned by fp_security like revision 0001's definer functions; persons may call the API.
OWNED = (
    "tg_project_stage_rules()",
    "tg_project_stage_entered()",
    "tg_progress_rules()",
)
MEMBER_CALLABLE = (
    "next_stage_id(uuid, uuid)",
    "stage_exit_blockers(uuid, uuid, uuid, uuid)",
    "transition_kind(uuid, uuid, uuid, uuid, uuid)",
    "move_project(uuid, uuid, uuid, text, text)",
)


def upgrade() -> None:
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)
    op.execute(POLICIES)
    for fn in OWNED + MEMBER_CALLABLE:
        op.execute(f"REVOKE EXECUTE ON FUNCTION fp_private.{fn} FROM PUBLIC")
    for fn in OWNED:
        op.execute(f"ALTER FUNCTION fp_private.{fn} OWNER TO fp_security")
    for fn in MEMBER_CALLABLE:
        op.execute(f"GRANT EXECUTE ON FUNCTION fp_private.{fn} TO fp_member")


def downgrade() -> None:
    foundation = _foundation()
    for table in ("projects", "project_sub_stage_progress"):
        rule = foundation.POLICIES[table][2]
        op.execute(f"ALTER POLICY {table}_update ON {table} WITH CHECK ({rule})")
    op.execute("DROP TRIGGER IF EXISTS progress_rules ON project_sub_stage_progress")
    op.execute("DROP TRIGGER IF EXISTS projects_stage_rules ON projects")
    for fn in ("move_project(uuid, uuid, uuid, text, text)", "tg_progress_rules()",
               "tg_project_stage_rules()"):
        op.execute(f"DROP FUNCTION IF EXISTS fp_private.{fn}")
    # Revision 0001's history trigger function comes back with revision 0001's text.
    start = foundation.TRIGGER_FUNCTIONS.index(
        "CREATE FUNCTION fp_private.tg_project_stage_entered()")
    end = foundation.TRIGGER_FUNCTIONS.index("-- Every new organization", start)
    op.execute(foundation.TRIGGER_FUNCTIONS[start:end].replace(
        "CREATE FUNCTION", "CREATE OR REPLACE FUNCTION", 1))
    for fn in ("transition_kind(uuid, uuid, uuid, uuid, uuid)",
               "stage_exit_blockers(uuid, uuid, uuid, uuid)", "next_stage_id(uuid, uuid)"):
        op.execute(f"DROP FUNCTION IF EXISTS fp_private.{fn}")


def _foundation() -> Any:
    """Revision 0001's module, for the texts a downgrade puts back."""
    spec = importlib.util.spec_from_file_location(
        "foundation_0001", Path(__file__).with_name("20261125_0001_foundation.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
