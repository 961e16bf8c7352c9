"""Reviews: a review assigned to a role is taken by whoever of that role decides it.

Engineering, QA and production review a project in Technical Review. A review may name its
reviewer, or only the role (``reviewer_role``): revision 0001 let only managers, the named
reviewer or the creator change a review, so nobody of the role could answer one assigned to
the role. Now a person of that role may too. When a person decides a review (approved,
rejected, revision requested) the database stamps who (the reviewer, if none was named) and
when; a decided review is not re-decided by someone else, and its project and type stay.

Revision ID: 20261125_0008
Revises: 20261125_0007
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0008"
down_revision: str | None = "20261125_0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ME = "(SELECT fp_private.my_person_id())"
MANAGERS = ("organization_id = ANY ((SELECT fp_private.my_org_ids_with_role("
            "'{admin,management}'::public.user_role[]))::uuid[])")
MY_ROLE = ("organization_id = ANY ((SELECT fp_private.my_org_ids_with_role("
           "ARRAY[reviewer_role]))::uuid[])")
OLD_UPDATE = f"{MANAGERS} OR reviewer_id = {ME} OR created_by = {ME}"
NEW_UPDATE = f"{OLD_UPDATE} OR (reviewer_id IS NULL AND reviewer_role IS NOT NULL AND {MY_ROLE})"

TRIGGER = """
CREATE FUNCTION fp_private.tg_review_rules() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    me uuid := fp_private.my_person_id();
BEGIN
    IF me IS NULL THEN
        RETURN NEW;
    END IF;
    IF NEW.project_id <> OLD.project_id OR NEW.review_type <> OLD.review_type THEN
        RAISE EXCEPTION 'a review stays with its project and type' USING ERRCODE = '42501';
    END IF;
    IF OLD.status IN ('approved', 'rejected', 'revision_requested')
       AND NEW.status IS DISTINCT FROM OLD.status
       AND OLD.reviewer_id IS DISTINCT FROM me
       AND NOT OLD.organization_id = ANY (fp_private.my_org_ids_with_role(
               '{admin,management}'::public.user_role[])) THEN
        RAISE EXCEPTION 'This review was already decided by someone else'
            USING ERRCODE = 'FP409', HINT = 'Reload it to see the decision.';
    END IF;
    IF NEW.status IN ('approved', 'rejected', 'revision_requested')
       AND NEW.status IS DISTINCT FROM OLD.status THEN
        NEW.completed_at := now();
        NEW.reviewer_id := coalesce(OLD.reviewer_id, me);
        NEW.decision := NEW.status;
    ELSIF NEW.status IN ('pending', 'in_progress') THEN
        NEW.completed_at := NULL;
    END IF;
    RETURN NEW;
END
$$;
CREATE TRIGGER reviews_rules BEFORE UPDATE ON reviews
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_review_rules();
"""


def upgrade() -> None:
    op.execute(f"ALTER POLICY reviews_update ON reviews USING ({NEW_UPDATE}) "
               f"WITH CHECK ({NEW_UPDATE})")
    op.execute(TRIGGER)
    op.execute("REVOKE EXECUTE ON FUNCTION fp_private.tg_review_rules() FROM PUBLIC")
    op.execute("ALTER FUNCTION fp_private.tg_review_rules() OWNER TO fp_security")


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS reviews_rules ON reviews")
    op.execute("DROP FUNCTION IF EXISTS fp_private.tg_review_rules()")
    op.execute(f"ALTER POLICY reviews_update ON reviews USING ({OLD_UPDATE}) "
               f"WITH CHECK ({OLD_UPDATE})")
