"""Google Drive: staff get the organization's OAuth client for signing in, nothing more.

The client secret of an OAuth client of type "Desktop" is not confidential to Google (every
installed copy of an app carries it), but it is the organization's: the table
``google_drive_client_secrets`` stays readable and writable by administrators only (revision
0001). Signing in to Google needs it for the token exchange, so
``fp_private.drive_oauth_client(org)`` hands the active client's id, secret and scopes to a
staff member of that organization — to them only, one row, no other secret — and refuses
anyone else (customers and suppliers included).

Revision ID: 20261125_0006
Revises: 20261125_0005
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261125_0006"
down_revision: str | None = "20261125_0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FUNCTION = """
CREATE FUNCTION fp_private.drive_oauth_client(p_org uuid)
RETURNS TABLE (client_id text, client_secret text, scopes text[])
LANGUAGE plpgsql STABLE SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    IF NOT p_org = ANY (fp_private.my_internal_org_ids()) THEN
        RAISE EXCEPTION 'Only the staff of this organization can connect its Google Drive'
            USING ERRCODE = '42501';
    END IF;
    RETURN QUERY
        SELECT c.client_id, s.client_secret, c.scopes
        FROM public.google_drive_config c
        JOIN public.google_drive_client_secrets s ON s.organization_id = c.organization_id
        WHERE c.organization_id = p_org AND c.is_active;
END
$$;
"""
SIGNATURE = "drive_oauth_client(uuid)"


def upgrade() -> None:
    op.execute(FUNCTION)
    op.execute(f"REVOKE EXECUTE ON FUNCTION fp_private.{SIGNATURE} FROM PUBLIC")
    op.execute(f"ALTER FUNCTION fp_private.{SIGNATURE} OWNER TO fp_security")
    op.execute(f"GRANT EXECUTE ON FUNCTION fp_private.{SIGNATURE} TO fp_member")


def downgrade() -> None:
    op.execute(f"DROP FUNCTION IF EXISTS fp_private.{SIGNATURE}")
