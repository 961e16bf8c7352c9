"""Stale approvals: shown as such in the inbox, and superseded when someone asks again.

An approval remembers the lock version of the record it is about; once the record changes,
the approval can no longer be decided (T-CONC-04, revision 0007). The soak of the resilience
issue showed what that means under concurrent work: 95 % of the decisions were refused,
because the inboxes still listed approvals nobody could decide.

* ``fp_private.stale_approval_ids(org, ids)``: which of these approvals of the caller's own
  organization are about a record that changed since they were asked for (or is gone). The
  inbox and the project's approvals list mark them; deciding them stays refused. A definer
  function because the record may be one the approver cannot read; it says nothing but
  "stale" about approvals of the caller's organization, and nothing at all about another.
* ``fp_private.decide_approvals`` lets a deadlock or serialization failure end the bulk
  decision (the app runs it again) instead of reporting it as one item's problem.
* Trigger ``approvals_supersede_stale``: asking again for the same kind of approval of the
  same record cancels the open requests made for an older version of it (with a history
  row), so that they leave every inbox. Step approvals did this already (revision 0009).

Revision ID: 20261126_0019
Revises: 20261126_0018
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261126_0019"
down_revision: str | None = "20261126_0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public, pg_temp"
OPEN = "('pending', 'in_review', 'escalated')"

FUNCTIONS = f"""
CREATE FUNCTION fp_private.stale_approval_ids(p_org uuid, p_ids uuid[])
RETURNS SETOF uuid LANGUAGE sql STABLE {DEFINER} AS $$
    SELECT a.id FROM public.approvals a
    WHERE a.organization_id = p_org
      AND p_org = ANY (fp_private.my_internal_org_ids())
      AND a.id = ANY (p_ids)
      AND a.status IN {OPEN}
      AND a.entity_version IS NOT NULL
      AND fp_private.entity_version(p_org, a.entity_type, a.entity_id)
          IS DISTINCT FROM a.entity_version
$$;

CREATE FUNCTION fp_private.tg_approval_supersedes_stale() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    WITH ended AS (
        UPDATE public.approvals a SET status = 'cancelled', decided_at = now()
        WHERE a.organization_id = NEW.organization_id
          AND a.entity_type = NEW.entity_type AND a.entity_id = NEW.entity_id
          AND a.approval_type = NEW.approval_type AND a.id <> NEW.id
          AND a.status IN {OPEN}
          AND a.entity_version IS DISTINCT FROM NEW.entity_version
        RETURNING a.id
    )
    INSERT INTO public.approval_history (organization_id, approval_id, action_type, action_by,
        new_status, comments)
    SELECT NEW.organization_id, e.id, 'cancelled', NEW.requested_by, 'cancelled',
           'The record changed after this was asked for; a new approval was asked for.'
    FROM ended e;
    RETURN NULL;
END
$$;

CREATE TRIGGER approvals_supersede_stale AFTER INSERT ON approvals
    FOR EACH ROW WHEN (NEW.entity_version IS NOT NULL AND NEW.entity_id IS NOT NULL)
    EXECUTE FUNCTION fp_private.tg_approval_supersedes_stale();
"""

# A bulk decision reported a deadlock or serialization failure of one item as that item's
# problem ("stale"), so the app never ran the transaction again (found by the review of the
# units of work). Those two now end the whole transaction, which `units.write` runs again.
BULK_DECISIONS = """
CREATE OR REPLACE FUNCTION fp_private.decide_approvals(
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
        EXCEPTION
            -- The whole transaction must run again (the app does that): not this item's
            -- problem, and reporting it as one would call a busy moment a stale approval.
            WHEN serialization_failure OR deadlock_detected THEN RAISE;
            WHEN OTHERS THEN
                approval_id := p_ids[i];
                problem := SQLERRM;
                RETURN NEXT;
        END;
    END LOOP;
END
$$;
"""

BULK_DECISIONS_BEFORE = BULK_DECISIONS.replace(
    """        EXCEPTION
            -- The whole transaction must run again (the app does that): not this item's
            -- problem, and reporting it as one would call a busy moment a stale approval.
            WHEN serialization_failure OR deadlock_detected THEN RAISE;
            WHEN OTHERS THEN""", """        EXCEPTION WHEN OTHERS THEN""")


def upgrade() -> None:
    op.execute(BULK_DECISIONS)
    op.execute(FUNCTIONS)
    for fn in ("stale_approval_ids(uuid, uuid[])", "tg_approval_supersedes_stale()"):
        op.execute(f"REVOKE EXECUTE ON FUNCTION fp_private.{fn} FROM PUBLIC")
        op.execute(f"ALTER FUNCTION fp_private.{fn} OWNER TO fp_security")
    op.execute("GRANT EXECUTE ON FUNCTION fp_private.stale_approval_ids(uuid, uuid[]) "
               "TO fp_member")


def downgrade() -> None:
    op.execute(BULK_DECISIONS_BEFORE)
    op.execute("DROP TRIGGER IF EXISTS approvals_supersede_stale ON approvals")
    op.execute("DROP FUNCTION IF EXISTS fp_private.tg_approval_supersedes_stale()")
    op.execute("DROP FUNCTION IF EXISTS fp_private.stale_approval_ids(uuid, uuid[])")
