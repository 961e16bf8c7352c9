"""Sub-stages that require approval complete only when approved.

17 of the 30 default sub-stages say ``requires_approval`` (with the roles that approve them in
``approval_roles``); the original never looked at the flag. Now:

* ``fp_private.request_step_approval(org, id, step, reason)`` — whoever may work on the step
  asks for its approval (the client chooses the id: a retry never makes two). The approval is
  about the step (entity type ``project_step``, its lock version remembered): an active chain
  of type ``stage_transition`` for ``project_step`` is used when there is one, otherwise one
  approval by any person of the sub-stage's ``approval_roles`` (management when it names
  none). A step has one open approval at a time; an open one for an older version of the step
  (the step changed since) is cancelled by the new request.
* A person cannot complete such a step (BEFORE UPDATE trigger ``progress_approval_gate``)
  unless an approval of it was approved while the step was as it is now. Skipping an optional
  step needs none.
* When the approval is approved, the step completes by itself (``approval_completes_step``),
  if it is still open and in the project's current stage; otherwise the approval stays valid
  and the step can be completed by hand.

The database owner (command line, imports, demo data) is not held to the gate.

Reviews: the sales engineer who takes the RFQ asks engineering, QA and production to review it,
so sales may now create reviews; deciding one stays with its reviewer, a person of its role, or
management (revision 0008 let the creator of a review change it, which would have let the
requester decide it).

Revision ID: 20261126_0009
Revises: 20261125_0008
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261126_0009"
down_revision: str | None = "20261125_0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"
OPEN = "('pending', 'in_review', 'escalated')"

# entity_version (revision 0007) learns the step, so a decision on a step changed since the
# request is refused as stale (T-CONC-04).
_TABLES = {"project": "projects", "document": "documents", "purchase_order": "purchase_orders",
           "supplier_rfq": "supplier_rfqs", "production_order": "production_orders",
           "contact": "contacts"}


def _entity_version(tables: dict[str, str]) -> str:
    cases = "\n".join(
        f"        WHEN '{kind}' THEN (SELECT t.version FROM public.{table} t "
        "WHERE t.organization_id = p_org AND t.id = p_id)"
        for kind, table in tables.items())
    return f"""
CREATE OR REPLACE FUNCTION fp_private.entity_version(p_org uuid, p_kind text, p_id uuid)
RETURNS integer LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT CASE p_kind
{cases}
    END
$$;
"""


FUNCTIONS = f"""
CREATE FUNCTION fp_private.request_step_approval(
    p_org uuid, p_id uuid, p_step uuid, p_reason text
) RETURNS uuid LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    me uuid := fp_private.my_person_id();
    st record;
    first_step uuid;
BEGIN
    IF EXISTS (SELECT 1 FROM public.approvals a WHERE a.id = p_id) THEN
        -- The same request sent again (its answer was lost): request_approval decides.
        RETURN fp_private.request_approval(p_org, p_id, 'stage_transition', 'again',
            'project_step', p_step, NULL, NULL, NULL, NULL, p_reason);
    END IF;
    SELECT pr.*, ss.name, ss.requires_approval, ss.approval_roles, p.project_number,
           p.current_stage_id,
           (p_org = ANY (fp_private.my_org_ids_with_role('{{admin,management}}'))
            OR ss.id = ANY (fp_private.my_responsible_sub_stage_ids())
            OR pr.assigned_to IS NOT DISTINCT FROM me
            OR pr.project_id = ANY (fp_private.my_assigned_project_ids())) AS may_work
    INTO st
    FROM public.project_sub_stage_progress pr
    JOIN public.workflow_sub_stages ss
      ON ss.organization_id = pr.organization_id AND ss.id = pr.sub_stage_id
    JOIN public.projects p ON p.organization_id = pr.organization_id AND p.id = pr.project_id
    WHERE pr.organization_id = p_org AND pr.id = p_step
    FOR UPDATE OF pr;
    IF NOT FOUND OR me IS NULL OR NOT p_org = ANY (fp_private.my_internal_org_ids()) THEN
        RAISE EXCEPTION 'This step does not exist' USING ERRCODE = '42704';
    END IF;
    IF NOT coalesce(st.may_work, false) THEN
        RAISE EXCEPTION 'You may not ask for approval of "%": it belongs to another role, '
                        'and you are not assigned to it', st.name USING ERRCODE = '42501';
    END IF;
    IF NOT st.requires_approval THEN
        RAISE EXCEPTION '"%" does not need an approval', st.name USING ERRCODE = '22023',
            HINT = 'Complete it directly.';
    END IF;
    IF st.status IN ('completed', 'skipped') THEN
        RAISE EXCEPTION '"%" is done already', st.name USING ERRCODE = '22023';
    END IF;
    IF st.workflow_stage_id IS DISTINCT FROM st.current_stage_id THEN
        RAISE EXCEPTION '"%" belongs to another stage than the one the project is in', st.name
            USING ERRCODE = '22023', HINT = 'Move the project back to that stage first.';
    END IF;
    IF EXISTS (SELECT 1 FROM public.approvals a
               WHERE a.organization_id = p_org AND a.entity_type = 'project_step'
                 AND a.entity_id = p_step AND a.status IN {OPEN}
                 AND a.entity_version = st.version) THEN
        RAISE EXCEPTION 'An approval of "%" is already waiting', st.name
            USING ERRCODE = '22023', HINT = 'It is in the approvers'' inbox.';
    END IF;
    -- An open request for an older version of the step can never be decided (stale): end it.
    WITH ended AS (
        UPDATE public.approvals a SET status = 'cancelled', decided_at = now()
        WHERE a.organization_id = p_org AND a.entity_type = 'project_step'
          AND a.entity_id = p_step AND a.status IN {OPEN}
        RETURNING a.id, a.status
    )
    INSERT INTO public.approval_history (organization_id, approval_id, action_type, action_by,
        new_status, comments)
    SELECT p_org, e.id, 'cancelled', me, 'cancelled',
           'The step changed; a new approval was asked for.'
    FROM ended e;
    PERFORM fp_private.request_approval(p_org, p_id, 'stage_transition',
        format('%s: %s', st.project_number, st.name), 'project_step', p_step, st.version,
        st.project_id, NULL, NULL, p_reason);
    -- Without a chain the approvers are the sub-stage's approval roles (management if none).
    IF (SELECT a.approval_chain_id FROM public.approvals a WHERE a.id = p_id) IS NULL
       AND cardinality(st.approval_roles) > 0 THEN
        SELECT s.id INTO first_step FROM public.approval_steps s
        WHERE s.organization_id = p_org AND s.approval_id = p_id AND s.step_number = 1;
        DELETE FROM public.approval_step_approvers x
        WHERE x.organization_id = p_org AND x.approval_step_id = first_step;
        INSERT INTO public.approval_step_approvers (organization_id, approval_step_id, role,
                                                    position)
        SELECT p_org, first_step, r, ord::integer
        FROM unnest(st.approval_roles) WITH ORDINALITY AS u (r, ord);
    END IF;
    RETURN p_id;
END
$$;

-- A step that requires approval completes only with an approval of it as it is now.
CREATE FUNCTION fp_private.tg_progress_approval_gate() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    sub record;
BEGIN
    IF fp_private.caller_is_owner() OR NEW.status <> 'completed'
       OR OLD.status = 'completed' THEN
        RETURN NEW;
    END IF;
    SELECT s.name, s.requires_approval INTO sub FROM public.workflow_sub_stages s
    WHERE s.organization_id = NEW.organization_id AND s.id = NEW.sub_stage_id;
    IF sub.requires_approval AND NOT EXISTS (
            SELECT 1 FROM public.approvals a
            WHERE a.organization_id = NEW.organization_id AND a.entity_type = 'project_step'
              AND a.entity_id = NEW.id AND a.status IN ('approved', 'auto_approved')
              AND a.entity_version = OLD.version) THEN
        RAISE EXCEPTION '"%" needs an approval before it can be completed', sub.name
            USING ERRCODE = '42501',
                  HINT = 'Ask for approval on the step; it completes when approved.';
    END IF;
    RETURN NEW;
END
$$;

-- The approved step completes by itself when it can (still open, in the current stage).
CREATE FUNCTION fp_private.tg_approval_completes_step() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    UPDATE public.project_sub_stage_progress pr SET status = 'completed'
    FROM public.projects p
    WHERE pr.organization_id = NEW.organization_id AND pr.id = NEW.entity_id
      AND pr.version = NEW.entity_version
      AND pr.status NOT IN ('completed', 'skipped')
      AND p.organization_id = pr.organization_id AND p.id = pr.project_id
      AND p.current_stage_id = pr.workflow_stage_id;
    RETURN NULL;
END
$$;

CREATE TRIGGER progress_approval_gate BEFORE UPDATE OF status ON project_sub_stage_progress
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_progress_approval_gate();
CREATE TRIGGER approval_completes_step AFTER UPDATE OF status ON approvals
    FOR EACH ROW WHEN (NEW.entity_type = 'project_step' AND NEW.status = 'approved'
                       AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION fp_private.tg_approval_completes_step();
"""

REVIEW_CREATORS = ("organization_id = ANY ((SELECT fp_private.my_org_ids_with_role("
                   "'{admin,management,engineering,qa,production,sales}'::public.user_role[]))"
                   "::uuid[])")
OLD_REVIEW_CREATORS = REVIEW_CREATORS.replace(",sales}", "}")

# Only the reviewer, a person of the review's role (when none is named) or management decide.
REVIEW_DECIDERS = f"""
CREATE FUNCTION fp_private.tg_review_decider() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    me uuid := fp_private.my_person_id();
BEGIN
    IF me IS NULL OR NEW.status IS NOT DISTINCT FROM OLD.status
       OR NEW.status NOT IN ('approved', 'rejected', 'revision_requested')
       OR OLD.status IN ('approved', 'rejected', 'revision_requested') THEN
        RETURN NEW;  -- re-deciding is tg_review_rules' business (revision 0008)
    END IF;
    IF NOT (OLD.reviewer_id IS NOT DISTINCT FROM me
            OR (OLD.reviewer_id IS NULL AND OLD.organization_id = ANY (
                fp_private.my_org_ids_with_role(ARRAY[OLD.reviewer_role])))
            OR OLD.organization_id = ANY (fp_private.my_org_ids_with_role(
                '{{admin,management}}'::public.user_role[]))) THEN
        RAISE EXCEPTION 'Only the reviewer or a person of the review''s role can decide it'
            USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER reviews_decider BEFORE UPDATE OF status ON reviews
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_review_decider();
"""

OWNED = ("tg_progress_approval_gate()", "tg_approval_completes_step()", "tg_review_decider()")
MEMBER_CALLABLE = ("request_step_approval(uuid, uuid, uuid, text)",)


def upgrade() -> None:
    op.execute(_entity_version({**_TABLES, "project_step": "project_sub_stage_progress"}))
    op.execute(FUNCTIONS)
    op.execute(REVIEW_DECIDERS)
    op.execute(f"ALTER POLICY reviews_insert ON reviews WITH CHECK ({REVIEW_CREATORS})")
    for fn in OWNED + MEMBER_CALLABLE:
        op.execute(f"REVOKE EXECUTE ON FUNCTION fp_private.{fn} FROM PUBLIC")
        op.execute(f"ALTER FUNCTION fp_private.{fn} OWNER TO fp_security")
    for fn in MEMBER_CALLABLE:
        op.execute(f"GRANT EXECUTE ON FUNCTION fp_private.{fn} TO fp_member")


def downgrade() -> None:
    op.execute(f"ALTER POLICY reviews_insert ON reviews WITH CHECK ({OLD_REVIEW_CREATORS})")
    op.execute("DROP TRIGGER IF EXISTS reviews_decider ON reviews")
    op.execute("DROP TRIGGER IF EXISTS approval_completes_step ON approvals")
    op.execute("DROP TRIGGER IF EXISTS progress_approval_gate ON project_sub_stage_progress")
    for fn in MEMBER_CALLABLE + OWNED:
        op.execute(f"DROP FUNCTION IF EXISTS fp_private.{fn}")
    op.execute(_entity_version(_TABLES))
