"""The approvals engine, in the database: chains chosen by the server, decisions compare-and-set.

The original left its approvals engine empty and decided in the browser (ORIGIN.md §7). Here a
person cannot write approvals, their steps, approvers or history at all (no INSERT, UPDATE or
DELETE grants); everything goes through two definer functions that check who calls:

* ``fp_private.request_approval(org, id, type, title, entity_type, entity_id, entity_version,
  project, amount, currency, reason)`` — the client chooses the id (a retry never makes two).
  The **chain is chosen by the database**: the active chain of that approval type and entity
  type with the highest ``min_amount`` the amount reaches (for a purchase order the amount is
  the order's own total, not what the client says), so a threshold — "above 10,000 a manager
  approves" — cannot be skipped by any client. Without a chain: one step, one approval by
  management. Steps and approvers are copied from the chain; the first step is pending.
* ``fp_private.decide_approval(org, approval, expected_version, decision, comment)`` — locks the
  approval, refuses a decided one ("already decided", SQLSTATE FP409: of two approvers at the
  same moment exactly one succeeds, T-CONC-03), a changed one (the version the person saw) and
  a stale one (the approved record changed after the request: its version differs, T-CONC-04).
  The caller must be a pending approver of the current step — by person, by role, or as the
  delegate of one for today (``approval_delegations``); in a *sequential* step only the next
  approver in order may decide; one person decides once per step. A rejection rejects the
  approval; enough approvals (N of M) complete the step and open the next, the last one
  approves the whole. Every decision is written to ``approval_history``.

Revision ID: 20261125_0007
Revises: 20261125_0006
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0007"
down_revision: str | None = "20261125_0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"
# Records an approval may be about, and the table holding their lock version (T-CONC-04).
_TABLES = {"project": "projects", "document": "documents", "purchase_order": "purchase_orders",
           "supplier_rfq": "supplier_rfqs", "production_order": "production_orders",
           "contact": "contacts"}
_ENTITY_CASES = "\n".join(
    f"        WHEN '{kind}' THEN (SELECT t.version FROM public.{table} t "
    "WHERE t.organization_id = p_org AND t.id = p_id)"
    for kind, table in _TABLES.items())

FUNCTIONS = f"""
-- The lock version of the record an approval is about (NULL: unknown kind or gone).
CREATE FUNCTION fp_private.entity_version(p_org uuid, p_kind text, p_id uuid) RETURNS integer
LANGUAGE sql STABLE SET search_path = pg_catalog, public AS $$
    SELECT CASE p_kind
{_ENTITY_CASES}
    END
$$;

CREATE FUNCTION fp_private.request_approval(
    p_org uuid, p_id uuid, p_type public.approval_type, p_title text, p_entity_type text,
    p_entity_id uuid, p_entity_version integer, p_project uuid, p_amount numeric,
    p_currency text, p_reason text
) RETURNS uuid LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    me uuid := fp_private.my_person_id();
    chain record;
    step record;
    new_step uuid;
    amount numeric := p_amount;
    steps integer;
BEGIN
    IF me IS NULL OR NOT p_org = ANY (fp_private.my_internal_org_ids()) THEN
        RAISE EXCEPTION 'Only the staff of this organization can ask for approvals'
            USING ERRCODE = '42501';
    END IF;
    IF EXISTS (SELECT 1 FROM public.approvals a WHERE a.id = p_id) THEN
        IF EXISTS (SELECT 1 FROM public.approvals a WHERE a.id = p_id
                   AND a.organization_id = p_org AND a.requested_by = me) THEN
            RETURN p_id;  -- the same request sent again (its answer was lost)
        END IF;
        RAISE EXCEPTION 'approval id already used' USING ERRCODE = '42501';
    END IF;
    IF p_title IS NULL OR btrim(p_title) = '' THEN
        RAISE EXCEPTION 'An approval needs a title' USING ERRCODE = '22023';
    END IF;
    IF p_entity_type = 'purchase_order' THEN  -- the order's own total, whatever was sent
        SELECT po.total_amount, po.currency INTO amount, p_currency FROM public.purchase_orders po
        WHERE po.organization_id = p_org AND po.id = p_entity_id;
    END IF;
    SELECT c.* INTO chain FROM public.approval_chains c
    WHERE c.organization_id = p_org AND c.is_active AND c.approval_type = p_type
      AND c.entity_type = p_entity_type
      AND (c.min_amount IS NULL OR (amount IS NOT NULL AND amount >= c.min_amount))
    ORDER BY c.min_amount DESC NULLS LAST, c.chain_name LIMIT 1;
    IF FOUND THEN
        SELECT count(*) INTO steps FROM public.approval_chain_steps s
        WHERE s.organization_id = p_org AND s.chain_id = chain.id;
    END IF;
    steps := greatest(coalesce(steps, 0), 1);
    INSERT INTO public.approvals (id, organization_id, approval_type, title, entity_type,
        entity_id, entity_version, project_id, approval_chain_id, step_number, total_steps,
        amount, currency, requested_by, request_reason, status)
    VALUES (p_id, p_org, p_type, btrim(p_title), p_entity_type, p_entity_id,
        coalesce(p_entity_version, fp_private.entity_version(p_org, p_entity_type, p_entity_id)),
        p_project, chain.id, 1, steps, amount, p_currency, me, p_reason, 'pending');
    IF chain.id IS NULL THEN
        INSERT INTO public.approval_steps (organization_id, approval_id, step_number, name,
            mode, required_approvals, status)
        VALUES (p_org, p_id, 1, 'Approval', 'parallel', 1, 'pending') RETURNING id INTO new_step;
        INSERT INTO public.approval_step_approvers (organization_id, approval_step_id, role)
        VALUES (p_org, new_step, 'management');
    ELSE
        FOR step IN SELECT * FROM public.approval_chain_steps s
                    WHERE s.organization_id = p_org AND s.chain_id = chain.id
                    ORDER BY s.step_number LOOP
            INSERT INTO public.approval_steps (organization_id, approval_id, step_number, name,
                mode, required_approvals, status, due_at)
            VALUES (p_org, p_id, step.step_number, step.name, step.mode,
                step.required_approvals,
                CASE WHEN step.step_number = 1 THEN 'pending' ELSE 'waiting' END,
                CASE WHEN step.step_number = 1 AND step.due_hours IS NOT NULL
                     THEN now() + make_interval(hours => step.due_hours) END)
            RETURNING id INTO new_step;
            INSERT INTO public.approval_step_approvers (organization_id, approval_step_id,
                person_id, role, position)
            SELECT p_org, new_step, a.person_id, a.role, a.position
            FROM public.approval_chain_step_approvers a
            WHERE a.organization_id = p_org AND a.chain_step_id = step.id;
        END LOOP;
    END IF;
    INSERT INTO public.approval_history (organization_id, approval_id, action_type, action_by,
        new_status, comments)
    VALUES (p_org, p_id, 'requested', me, 'pending', p_reason);
    RETURN p_id;
END
$$;

CREATE FUNCTION fp_private.decide_approval(
    p_org uuid, p_approval uuid, p_expected_version integer, p_decision text, p_comment text
) RETURNS public.approval_status LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    me uuid := fp_private.my_person_id();
    my_role public.user_role;
    a record;
    st record;
    mine record;
    approved integer;
    new_status public.approval_status;
BEGIN
    IF me IS NULL OR NOT p_org = ANY (fp_private.my_internal_org_ids()) THEN
        RAISE EXCEPTION 'You are not allowed to decide approvals here' USING ERRCODE = '42501';
    END IF;
    IF p_decision NOT IN ('approved', 'rejected') THEN
        RAISE EXCEPTION 'a decision is approved or rejected' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO a FROM public.approvals x
    WHERE x.organization_id = p_org AND x.id = p_approval FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'This approval does not exist' USING ERRCODE = '42501';
    END IF;
    IF a.status NOT IN ('pending', 'in_review', 'escalated') THEN
        RAISE EXCEPTION 'This approval was already decided (%)', a.status
            USING ERRCODE = 'FP409', HINT = 'Nothing was changed.';
    END IF;
    IF a.version <> p_expected_version THEN
        RAISE EXCEPTION 'This approval changed since you opened it'
            USING ERRCODE = 'FP409', HINT = 'Open it again to see who decided what.';
    END IF;
    IF a.entity_version IS NOT NULL AND fp_private.entity_version(p_org, a.entity_type,
            a.entity_id) IS DISTINCT FROM a.entity_version THEN
        RAISE EXCEPTION 'The % was changed or removed after this approval was requested',
            replace(a.entity_type, '_', ' ')
            USING ERRCODE = 'FP409', HINT = 'Ask for a new approval of the current version.';
    END IF;
    SELECT m.role INTO my_role FROM public.memberships m
    WHERE m.organization_id = p_org AND m.person_id = me AND m.status = 'active';
    SELECT * INTO st FROM public.approval_steps s
    WHERE s.organization_id = p_org AND s.approval_id = a.id AND s.step_number = a.step_number
    FOR UPDATE;
    IF EXISTS (SELECT 1 FROM public.approval_step_approvers x
               WHERE x.organization_id = p_org AND x.approval_step_id = st.id
                 AND x.decided_by = me) THEN
        RAISE EXCEPTION 'You already decided this step' USING ERRCODE = 'FP409';
    END IF;
    -- My pending place in this step: by person, by role, or standing in for a delegator.
    SELECT x.*, d.delegator_id AS standing_in_for INTO mine
    FROM public.approval_step_approvers x
    LEFT JOIN public.approval_delegations d
      ON d.organization_id = p_org AND d.delegate_id = me AND d.status = 'active'
     AND current_date BETWEEN d.start_date AND d.end_date
     AND (x.person_id = d.delegator_id OR x.role = (SELECT m.role FROM public.memberships m
          WHERE m.organization_id = p_org AND m.person_id = d.delegator_id))
    WHERE x.organization_id = p_org AND x.approval_step_id = st.id AND x.decision = 'pending'
      AND (x.person_id = me OR x.role = my_role OR d.id IS NOT NULL)
    ORDER BY (x.person_id = me OR x.role = my_role) DESC, x.position
    LIMIT 1;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'You are not an approver of this step' USING ERRCODE = '42501';
    END IF;
    -- Position 0 is an escalation: it may decide at any time and holds nobody up.
    IF st.mode = 'sequential' AND mine.position > 0 AND EXISTS (
        SELECT 1 FROM public.approval_step_approvers x
        WHERE x.organization_id = p_org AND x.approval_step_id = st.id
          AND x.decision = 'pending' AND x.position > 0 AND x.position < mine.position) THEN
        RAISE EXCEPTION 'It is not your turn yet: this step is approved in order'
            USING ERRCODE = 'FP409';
    END IF;
    UPDATE public.approval_step_approvers SET decision = p_decision, decided_by = me,
        decided_at = now(), comment = p_comment,
        delegated_from = CASE WHEN person_id = me OR role = my_role THEN NULL
                              ELSE mine.standing_in_for END
    WHERE organization_id = p_org AND id = mine.id;
    IF p_decision = 'rejected' THEN
        new_status := 'rejected';
        UPDATE public.approval_steps SET status = 'rejected', completed_at = now()
        WHERE organization_id = p_org AND id = st.id;
    ELSE
        SELECT count(*) INTO approved FROM public.approval_step_approvers x
        WHERE x.organization_id = p_org AND x.approval_step_id = st.id
          AND x.decision = 'approved';
        IF approved < st.required_approvals THEN
            new_status := 'in_review';
        ELSE
            UPDATE public.approval_steps SET status = 'approved', completed_at = now()
            WHERE organization_id = p_org AND id = st.id;
            IF a.step_number < a.total_steps THEN
                new_status := 'in_review';
                UPDATE public.approval_steps s SET status = 'pending',
                    due_at = CASE WHEN c.due_hours IS NOT NULL
                                  THEN now() + make_interval(hours => c.due_hours) END
                FROM public.approvals ap
                LEFT JOIN public.approval_chain_steps c
                  ON c.organization_id = ap.organization_id AND c.chain_id = ap.approval_chain_id
                 AND c.step_number = ap.step_number + 1
                WHERE s.organization_id = p_org AND s.approval_id = a.id
                  AND s.step_number = a.step_number + 1
                  AND ap.organization_id = p_org AND ap.id = a.id;
                UPDATE public.approvals SET step_number = step_number + 1
                WHERE organization_id = p_org AND id = a.id;
            ELSE
                new_status := 'approved';
            END IF;
        END IF;
    END IF;
    IF new_status IN ('approved', 'rejected') THEN
        UPDATE public.approval_step_approvers SET decision = 'skipped'
        WHERE organization_id = p_org AND decision = 'pending' AND approval_step_id IN (
            SELECT s.id FROM public.approval_steps s
            WHERE s.organization_id = p_org AND s.approval_id = a.id);
        UPDATE public.approval_steps SET status = 'skipped'
        WHERE organization_id = p_org AND approval_id = a.id AND status = 'waiting';
        UPDATE public.approvals SET status = new_status, decided_by = me, decided_at = now(),
            decision_comments = p_comment
        WHERE organization_id = p_org AND id = a.id;
    ELSE
        UPDATE public.approvals SET status = new_status
        WHERE organization_id = p_org AND id = a.id;
    END IF;
    INSERT INTO public.approval_history (organization_id, approval_id, approval_step_id,
        action_type, action_by, old_status, new_status, comments, metadata)
    VALUES (p_org, a.id, st.id, p_decision, me, a.status, new_status, p_comment,
        jsonb_build_object('step', st.step_number,
                           'on_behalf_of', CASE WHEN mine.person_id = me OR mine.role = my_role
                                                THEN NULL ELSE mine.standing_in_for END));
    RETURN new_status;
END
$$;

-- Overdue steps go further up: the chain step's escalate_to_role joins the approvers (once),
-- the approval is marked escalated. Any staff member's app runs it (like the storage
-- janitor); it only ever adds approvers the chain names.
CREATE FUNCTION fp_private.escalate_overdue(p_org uuid) RETURNS integer
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    late record;
    done integer := 0;
BEGIN
    IF NOT (fp_private.caller_is_owner() OR p_org = ANY (fp_private.my_internal_org_ids())) THEN
        RAISE EXCEPTION 'You are not allowed to escalate approvals here' USING ERRCODE = '42501';
    END IF;
    FOR late IN
        SELECT s.id AS step_id, a.id AS approval_id, a.status, c.escalate_to_role
        FROM public.approval_steps s
        JOIN public.approvals a ON a.organization_id = s.organization_id AND a.id = s.approval_id
        JOIN public.approval_chain_steps c ON c.organization_id = a.organization_id
             AND c.chain_id = a.approval_chain_id AND c.step_number = s.step_number
        WHERE s.organization_id = p_org AND s.status = 'pending' AND s.due_at < now()
          AND a.status IN ('pending', 'in_review') AND c.escalate_to_role IS NOT NULL
        FOR UPDATE OF a
    LOOP
        INSERT INTO public.approval_step_approvers (organization_id, approval_step_id, role,
            position)
        SELECT p_org, late.step_id, late.escalate_to_role, 0
        WHERE NOT EXISTS (SELECT 1 FROM public.approval_step_approvers x
                          WHERE x.organization_id = p_org AND x.approval_step_id = late.step_id
                            AND x.role = late.escalate_to_role);
        UPDATE public.approvals SET status = 'escalated', escalated_at = now(),
            escalation_reason = 'Overdue: the step was not decided in time'
        WHERE organization_id = p_org AND id = late.approval_id;
        INSERT INTO public.approval_history (organization_id, approval_id, approval_step_id,
            action_type, old_status, new_status, comments)
        VALUES (p_org, late.approval_id, late.step_id, 'escalated', late.status, 'escalated',
            'Overdue: ' || late.escalate_to_role || ' may now decide');
        done := done + 1;
    END LOOP;
    RETURN done;
END
$$;

-- Many decisions in one call (the bulk inbox action): each tried on its own, every refusal
-- returned; the caller commits only when nothing came back (all or nothing). Runs as the
-- caller: each decision goes through decide_approval and its checks.
CREATE FUNCTION fp_private.decide_approvals(
    p_org uuid, p_ids uuid[], p_versions integer[], p_decision text, p_comment text
) RETURNS TABLE (approval_id uuid, problem text)
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF coalesce(array_length(p_ids, 1), 0) <> coalesce(array_length(p_versions, 1), 0) THEN
        RAISE EXCEPTION 'one version per approval' USING ERRCODE = '22023';
    END IF;
    FOR i IN 1 .. coalesce(array_length(p_ids, 1), 0) LOOP
        BEGIN
            PERFORM fp_private.decide_approval(p_org, p_ids[i], p_versions[i], p_decision,
                                               p_comment);
        EXCEPTION WHEN OTHERS THEN
            approval_id := p_ids[i];
            problem := SQLERRM;
            RETURN NEXT;
        END;
    END LOOP;
END
$$;
"""

LOCKED = ("approvals", "approval_steps", "approval_step_approvers")

OWNED = ("entity_version(uuid, text, uuid)",)
MEMBER_CALLABLE = (
    "request_approval(uuid, uuid, public.approval_type, text, text, uuid, integer, uuid, "
    "numeric, text, text)",
    "decide_approval(uuid, uuid, integer, text, text)",
    "decide_approvals(uuid, uuid[], integer[], text, text)",
    "escalate_overdue(uuid)",
)


# A decision reads the approvers of one step; without this every decision scanned them all
# (bulk approval of 1,000 out of 10,000 pending: 4.3 s, benchmarks/approvals.py).
INDEX = ("CREATE INDEX approval_approvers_step_idx ON approval_step_approvers "
         "(organization_id, approval_step_id)")


def upgrade() -> None:
    op.execute(INDEX)
    op.execute(FUNCTIONS)
    for table in LOCKED:
        # Only the functions above write these; the policies say so too.
        op.execute(f"REVOKE INSERT, UPDATE, DELETE ON {table} FROM fp_member")
        op.execute(f"ALTER POLICY {table}_insert ON {table} WITH CHECK (false)")
        op.execute(f"ALTER POLICY {table}_update ON {table} USING (false) WITH CHECK (false)")
        op.execute(f"ALTER POLICY {table}_delete ON {table} USING (false)")
    for fn in OWNED + MEMBER_CALLABLE:
        op.execute(f"REVOKE EXECUTE ON FUNCTION fp_private.{fn} FROM PUBLIC")
        op.execute(f"ALTER FUNCTION fp_private.{fn} OWNER TO fp_security")
    for fn in MEMBER_CALLABLE:
        op.execute(f"GRANT EXECUTE ON FUNCTION fp_private.{fn} TO fp_member")


def downgrade() -> None:
    from importlib.util import module_from_spec, spec_from_file_location
    from pathlib import Path

    spec = spec_from_file_location(
        "foundation_0001", Path(__file__).with_name("20261125_0001_foundation.py"))
    assert spec is not None and spec.loader is not None
    foundation = module_from_spec(spec)
    spec.loader.exec_module(foundation)
    for fn in MEMBER_CALLABLE + OWNED:
        op.execute(f"DROP FUNCTION IF EXISTS fp_private.{fn}")
    op.execute("DROP INDEX IF EXISTS approval_approvers_step_idx")
    for table in LOCKED:
        _select, insert, update, delete = foundation.POLICIES[table]
        op.execute(f"ALTER POLICY {table}_insert ON {table} WITH CHECK ({insert or 'false'})")
        op.execute(f"ALTER POLICY {table}_update ON {table} USING ({update or 'false'}) "
                   f"WITH CHECK ({update or 'false'})")
        op.execute(f"ALTER POLICY {table}_delete ON {table} USING ({delete or 'false'})")
        for command, rule in (("INSERT", insert), ("UPDATE", update), ("DELETE", delete)):
            if rule:
                op.execute(f"GRANT {command} ON {table} TO fp_member")
