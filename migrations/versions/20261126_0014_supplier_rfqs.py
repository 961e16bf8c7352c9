"""Supplier RFQs and quotes: status flow, numbers, portal rules, comparison and award.

* ``supplier_rfqs.rfq_group``: "send an RFQ to three suppliers" makes three rows (one per
  supplier) sharing one group, so their quotes can be compared and one awarded.
* RFQ numbers ``RFQ-YYMMDDNN`` (and purchase order numbers ``PO-YYMMDDNN`` for awarded quotes)
  come from ``procurement_number_counters`` under a row lock, like project numbers: a number
  given by the client is kept, none given means the database picks the next one.
* The status flow is the database's (BEFORE UPDATE trigger): draft → sent → viewed → quoted /
  declined / expired / cancelled; a quote or a refusal may come without the RFQ having been
  marked viewed (sent → quoted / declined; viewed_at is then stamped too); cancelled from
  draft, sent or viewed; expired from sent or viewed. ``sent_at`` and ``viewed_at`` are
  stamped by the database. Once sent, an RFQ's requirements, due dates, supplier, project and
  number no longer change. "quoted" needs a quote: recording one moves its RFQ there.
* Supplier portal logins see only RFQs sent to the supplier they represent (revision 0001),
  may mark them viewed or declined and nothing else, and may submit a quote with lines for
  such an RFQ while it is open. Documents attached to an RFQ (``supplier_rfq_documents``) and
  shared as public become readable to that supplier. Customers never see RFQs or quotes.
* ``fp_private.award_quote(org, quote, expected_version)`` accepts one quote, rejects the
  other open quotes of its group and creates a draft purchase order with the quote's lines,
  in one transaction; a second award of the group is refused (FP409).

The owner (demo seed, imports: ``fp_private.my_person_id() IS NULL``) is not held to the
person rules.

Revision ID: 20261126_0014
Revises: 20261126_0013
Create Date: 2026-11-26
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from alembic import op

revision: str = "20261126_0014"
down_revision: str | None = "20261126_0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"
INVOKER = "SET search_path = pg_catalog, public"
MINE = "organization_id = ANY ((SELECT fp_private.my_org_ids())::uuid[])"
INTERNAL = "organization_id = ANY ((SELECT fp_private.my_internal_org_ids())::uuid[])"
PORTAL_CONTACTS = "((SELECT fp_private.my_portal_contact_ids())::uuid[])"
BUYERS = ("organization_id = ANY ((SELECT fp_private.my_org_ids_with_role("
          "'{admin,management,procurement}'::public.user_role[]))::uuid[])")

# A portal supplier may mark an RFQ sent to it viewed or declined (the trigger says which).
RFQ_UPDATE = f"{BUYERS} OR (status <> 'draft' AND supplier_id = ANY {PORTAL_CONTACTS})"
# A supplier may write the lines of its own quote while the quote is still open.
OWN_OPEN_QUOTE = (
    "EXISTS (SELECT 1 FROM supplier_quotes q WHERE q.organization_id = "
    "supplier_quote_lines.organization_id AND q.id = supplier_quote_lines.supplier_quote_id "
    f"AND q.supplier_id = ANY {PORTAL_CONTACTS} AND q.status IN ('draft', 'submitted'))"
)
LINE_WRITE = f"{BUYERS} OR {OWN_OPEN_QUOTE}"
# A portal supplier's new quote must answer an RFQ sent to it (the trigger checks it is open).
QUOTE_INSERT = (
    f"{BUYERS} OR (supplier_id = ANY {PORTAL_CONTACTS} AND supplier_rfq_id = ANY "
    "((SELECT fp_private.my_supplier_rfq_ids())::uuid[]))"
)
LINKED_DOCUMENT = (
    " OR (access_level = 'public' AND id = ANY ((SELECT "
    "fp_private.my_supplier_rfq_document_ids())::uuid[]))"
)

TABLES = f"""
ALTER TABLE supplier_rfqs ADD COLUMN rfq_group uuid;
CREATE INDEX supplier_rfqs_group_idx ON supplier_rfqs (organization_id, rfq_group);
CREATE INDEX supplier_quotes_rfq_idx ON supplier_quotes (organization_id, supplier_rfq_id);

-- One row per organization, kind and day; its row lock serializes the numbers.
CREATE TABLE procurement_number_counters (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('rfq', 'po')),
    day date NOT NULL,
    last_seq integer NOT NULL,
    PRIMARY KEY (organization_id, kind, day)
);
ALTER TABLE procurement_number_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE procurement_number_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY procurement_number_counters_tenant ON procurement_number_counters AS RESTRICTIVE
    FOR ALL TO fp_member USING ({MINE}) WITH CHECK ({MINE});
CREATE POLICY procurement_number_counters_select ON procurement_number_counters FOR SELECT
    TO fp_member USING (false);
CREATE POLICY procurement_number_counters_insert ON procurement_number_counters FOR INSERT
    TO fp_member WITH CHECK (false);
CREATE POLICY procurement_number_counters_update ON procurement_number_counters FOR UPDATE
    TO fp_member USING (false) WITH CHECK (false);
CREATE POLICY procurement_number_counters_delete ON procurement_number_counters FOR DELETE
    TO fp_member USING (false);
GRANT SELECT, INSERT, UPDATE, DELETE ON procurement_number_counters TO fp_security;
GRANT SELECT ON procurement_number_counters TO fp_backup;

-- Project documents attached to an RFQ (one document may go with several RFQs).
CREATE TABLE supplier_rfq_documents (
    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    supplier_rfq_id uuid NOT NULL,
    document_id uuid NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (organization_id, id),
    UNIQUE (organization_id, supplier_rfq_id, document_id),
    FOREIGN KEY (organization_id, supplier_rfq_id) REFERENCES supplier_rfqs (organization_id, id)
        ON DELETE CASCADE,
    FOREIGN KEY (organization_id, document_id) REFERENCES documents (organization_id, id)
        ON DELETE CASCADE
);
CREATE TRIGGER supplier_rfq_documents_org_immutable BEFORE UPDATE OF organization_id
    ON supplier_rfq_documents FOR EACH ROW EXECUTE FUNCTION fp_private.tg_org_immutable();
ALTER TABLE supplier_rfq_documents ENABLE ROW LEVEL SECURITY;
ALTER TABLE supplier_rfq_documents FORCE ROW LEVEL SECURITY;
CREATE POLICY supplier_rfq_documents_tenant ON supplier_rfq_documents AS RESTRICTIVE
    FOR ALL TO fp_member USING ({MINE}) WITH CHECK ({MINE});
CREATE POLICY supplier_rfq_documents_select ON supplier_rfq_documents FOR SELECT
    TO fp_member USING ({INTERNAL} OR EXISTS (SELECT 1 FROM supplier_rfqs r
        WHERE r.organization_id = supplier_rfq_documents.organization_id
          AND r.id = supplier_rfq_documents.supplier_rfq_id));
CREATE POLICY supplier_rfq_documents_insert ON supplier_rfq_documents FOR INSERT
    TO fp_member WITH CHECK ({BUYERS});
CREATE POLICY supplier_rfq_documents_update ON supplier_rfq_documents FOR UPDATE
    TO fp_member USING (false) WITH CHECK (false);
CREATE POLICY supplier_rfq_documents_delete ON supplier_rfq_documents FOR DELETE
    TO fp_member USING ({BUYERS} AND EXISTS (SELECT 1 FROM supplier_rfqs r
        WHERE r.organization_id = supplier_rfq_documents.organization_id
          AND r.id = supplier_rfq_documents.supplier_rfq_id AND r.status = 'draft'));
GRANT SELECT, INSERT, DELETE ON supplier_rfq_documents TO fp_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON supplier_rfq_documents TO fp_security;
GRANT SELECT ON supplier_rfq_documents TO fp_backup;
"""

FUNCTIONS = f"""
-- RFQ-YYMMDDNN / PO-YYMMDDNN in the organization's time zone; past 99 a day it widens.
CREATE FUNCTION fp_private.next_procurement_number(org uuid, p_kind text) RETURNS text
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
    INSERT INTO public.procurement_number_counters AS c (organization_id, kind, day, last_seq)
    VALUES (org, p_kind, today, 1)
    ON CONFLICT (organization_id, kind, day) DO UPDATE SET last_seq = c.last_seq + 1
    RETURNING c.last_seq INTO seq;
    RETURN upper(p_kind) || '-' || to_char(today, 'YYMMDD')
        || CASE WHEN seq < 100 THEN lpad(seq::text, 2, '0') ELSE seq::text END;
END
$$;

-- Whether a contact is still in use. Merging duplicate contacts archives the duplicates
-- first, then moves their RFQs and quotes to the kept one: only that may change a supplier.
CREATE FUNCTION fp_private.contact_is_active(org uuid, contact uuid) RETURNS boolean
LANGUAGE sql STABLE {DEFINER} AS $$
    SELECT coalesce((SELECT c.is_active FROM public.contacts c
                     WHERE c.organization_id = org AND c.id = contact
                       AND org = ANY (fp_private.my_org_ids())), false)
$$;

CREATE FUNCTION fp_private.tg_supplier_rfq_insert() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    IF NEW.rfq_number IS NULL OR btrim(NEW.rfq_number) = '' THEN
        NEW.rfq_number := fp_private.next_procurement_number(NEW.organization_id, 'rfq');
    ELSE
        NEW.rfq_number := btrim(NEW.rfq_number);
    END IF;
    IF fp_private.my_person_id() IS NULL THEN
        RETURN NEW;  -- the owner's import keeps its statuses and times
    END IF;
    IF NEW.status <> 'draft' THEN
        RAISE EXCEPTION 'A new RFQ starts as a draft; send it afterwards'
            USING ERRCODE = '22023';
    END IF;
    NEW.sent_at := NULL;
    NEW.viewed_at := NULL;
    RETURN NEW;
END
$$;

-- Runs with the caller's rights: inside our definer functions the caller is fp_security
-- (a quote recorded, moving its RFQ to quoted) and the portal limits do not apply.
CREATE FUNCTION fp_private.tg_supplier_rfq_rules() RETURNS trigger
LANGUAGE plpgsql {INVOKER} AS $$
DECLARE
    me uuid := fp_private.my_person_id();
    ours boolean := current_user = 'fp_security';
    allowed text[];
BEGIN
    IF me IS NULL AND NOT ours THEN
        RETURN NEW;  -- the owner (demo seed, imports)
    END IF;
    IF NEW.project_id <> OLD.project_id OR NEW.rfq_number <> OLD.rfq_number
       OR NEW.rfq_group IS DISTINCT FROM OLD.rfq_group
       OR (NEW.supplier_id <> OLD.supplier_id AND fp_private.contact_is_active(
               OLD.organization_id, OLD.supplier_id)) THEN
        RAISE EXCEPTION 'An RFQ keeps its number, project, supplier and group'
            USING ERRCODE = '42501';
    END IF;
    IF OLD.status <> 'draft' AND (
           NEW.requirements IS DISTINCT FROM OLD.requirements
        OR NEW.special_instructions IS DISTINCT FROM OLD.special_instructions
        OR NEW.due_date IS DISTINCT FROM OLD.due_date
        OR NEW.expected_response_date IS DISTINCT FROM OLD.expected_response_date
        OR NEW.priority IS DISTINCT FROM OLD.priority) THEN
        RAISE EXCEPTION 'This RFQ was sent: its requirements no longer change'
            USING ERRCODE = 'FP409',
                  HINT = 'Cancel it and send a new RFQ with the new requirements.';
    END IF;
    IF NOT ours AND NOT NEW.organization_id = ANY (fp_private.my_internal_org_ids()) THEN
        -- A portal supplier answers: viewed or declined, nothing else changes.
        IF (to_jsonb(NEW) - ARRAY['status', 'sent_at', 'viewed_at', 'updated_at', 'version'])
           IS DISTINCT FROM
           (to_jsonb(OLD) - ARRAY['status', 'sent_at', 'viewed_at', 'updated_at', 'version'])
           OR (NEW.status <> OLD.status AND NEW.status NOT IN ('viewed', 'declined')) THEN
            RAISE EXCEPTION 'A supplier may only mark an RFQ viewed or declined'
                USING ERRCODE = '42501';
        END IF;
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        allowed := CASE OLD.status
            WHEN 'draft' THEN ARRAY['sent', 'cancelled']
            WHEN 'sent' THEN ARRAY['viewed', 'quoted', 'declined', 'expired', 'cancelled']
            WHEN 'viewed' THEN ARRAY['quoted', 'declined', 'expired', 'cancelled']
            ELSE ARRAY[]::text[] END;
        IF NOT NEW.status = ANY (allowed) THEN
            RAISE EXCEPTION 'An RFQ that is % cannot become %', OLD.status, NEW.status
                USING ERRCODE = 'FP409', HINT = 'Reload to see its current status.';
        END IF;
        IF NEW.status = 'quoted' AND NOT EXISTS (
                SELECT 1 FROM public.supplier_quotes q
                WHERE q.organization_id = NEW.organization_id AND q.supplier_rfq_id = NEW.id) THEN
            RAISE EXCEPTION 'An RFQ becomes quoted when its quote is recorded'
                USING ERRCODE = '22023', HINT = 'Record the supplier''s quote instead.';
        END IF;
    END IF;
    -- The times are the database's.
    NEW.sent_at := CASE WHEN NEW.status = 'sent' AND OLD.status = 'draft' THEN now()
                        ELSE OLD.sent_at END;
    NEW.viewed_at := CASE WHEN OLD.viewed_at IS NULL AND NEW.status IN ('viewed', 'quoted',
                                                                        'declined')
                          THEN now() ELSE OLD.viewed_at END;
    RETURN NEW;
END
$$;

-- A quote answers an open RFQ: it takes the RFQ's project and supplier, and starts
-- submitted (or draft); only the award accepts a quote.
CREATE FUNCTION fp_private.tg_supplier_quote_insert() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    rfq record;
BEGIN
    IF fp_private.my_person_id() IS NULL THEN
        RETURN NEW;
    END IF;
    IF NEW.supplier_rfq_id IS NOT NULL THEN
        SELECT r.* INTO rfq FROM public.supplier_rfqs r
        WHERE r.organization_id = NEW.organization_id AND r.id = NEW.supplier_rfq_id;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'This RFQ does not exist' USING ERRCODE = '42501';
        END IF;
        IF rfq.status NOT IN ('sent', 'viewed', 'quoted') THEN
            RAISE EXCEPTION 'This RFQ is % and takes no quotes', rfq.status
                USING ERRCODE = 'FP409',
                      HINT = CASE WHEN rfq.status = 'draft' THEN 'Send it first.'
                                  ELSE 'Reload to see its current status.' END;
        END IF;
        NEW.project_id := rfq.project_id;
        NEW.supplier_id := rfq.supplier_id;
    END IF;
    IF NEW.status NOT IN ('draft', 'submitted') THEN
        RAISE EXCEPTION 'A new quote is a draft or submitted' USING ERRCODE = '22023';
    END IF;
    NEW.total_amount := 0;  -- the sum of its lines, kept by tg_supplier_quote_total
    NEW.submitted_at := CASE WHEN NEW.status = 'submitted' THEN now() END;
    RETURN NEW;
END
$$;

CREATE FUNCTION fp_private.tg_supplier_quote_recorded() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    IF fp_private.my_person_id() IS NULL OR NEW.supplier_rfq_id IS NULL THEN
        RETURN NULL;
    END IF;
    UPDATE public.supplier_rfqs SET status = 'quoted'
    WHERE organization_id = NEW.organization_id AND id = NEW.supplier_rfq_id
      AND status IN ('sent', 'viewed');
    RETURN NULL;
END
$$;

-- Runs with the caller's rights: only award_quote (running as fp_security) accepts a quote,
-- and a decided quote (accepted, rejected) no longer changes.
CREATE FUNCTION fp_private.tg_supplier_quote_rules() RETURNS trigger
LANGUAGE plpgsql {INVOKER} AS $$
BEGIN
    IF current_user = 'fp_security' OR fp_private.my_person_id() IS NULL THEN
        RETURN NEW;
    END IF;
    IF NEW.supplier_rfq_id IS DISTINCT FROM OLD.supplier_rfq_id
       OR NEW.project_id <> OLD.project_id
       OR (NEW.supplier_id <> OLD.supplier_id AND fp_private.contact_is_active(
               OLD.organization_id, OLD.supplier_id)) THEN
        RAISE EXCEPTION 'A quote stays with its RFQ, supplier and project'
            USING ERRCODE = '42501';
    END IF;
    IF OLD.status IN ('accepted', 'rejected') THEN
        RAISE EXCEPTION 'This quote was already % and no longer changes', OLD.status
            USING ERRCODE = 'FP409';
    END IF;
    IF NEW.status = 'accepted' AND OLD.status <> 'accepted' THEN
        RAISE EXCEPTION 'A quote is accepted by awarding it' USING ERRCODE = '42501',
            HINT = 'Use Award on the quote.';
    END IF;
    IF NEW.status NOT IN ('draft', 'submitted', 'withdrawn')
       AND NOT NEW.organization_id = ANY (fp_private.my_internal_org_ids()) THEN
        RAISE EXCEPTION 'A supplier may submit or withdraw its quote, not decide it'
            USING ERRCODE = '42501';
    END IF;
    IF NEW.total_amount IS DISTINCT FROM OLD.total_amount THEN
        RAISE EXCEPTION 'A quote''s total is the sum of its lines' USING ERRCODE = '42501';
    END IF;
    IF NEW.status = 'submitted' AND OLD.status = 'draft' THEN
        NEW.submitted_at := now();
    ELSE
        NEW.submitted_at := OLD.submitted_at;
    END IF;
    RETURN NEW;
END
$$;

-- The lines of a decided quote stay; the quote's total is always the sum of its lines.
CREATE FUNCTION fp_private.tg_supplier_quote_total() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    org uuid := coalesce(NEW.organization_id, OLD.organization_id);
    quote uuid := coalesce(NEW.supplier_quote_id, OLD.supplier_quote_id);
BEGIN
    IF fp_private.my_person_id() IS NULL THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.supplier_quote_id <> OLD.supplier_quote_id THEN
        RAISE EXCEPTION 'a quote line stays with its quote' USING ERRCODE = '42501';
    END IF;
    IF EXISTS (SELECT 1 FROM public.supplier_quotes q WHERE q.organization_id = org
               AND q.id = quote AND q.status IN ('accepted', 'rejected')) THEN
        RAISE EXCEPTION 'This quote was already decided; its lines no longer change'
            USING ERRCODE = 'FP409';
    END IF;
    UPDATE public.supplier_quotes q SET total_amount = coalesce((
        SELECT sum(l.amount) FROM public.supplier_quote_lines l
        WHERE l.organization_id = org AND l.supplier_quote_id = quote), 0)
    WHERE q.organization_id = org AND q.id = quote;
    RETURN NULL;
END
$$;

-- Documents are attached while the RFQ is a draft, and only the RFQ's project's documents
-- (removing one from a sent RFQ is refused by the delete policy).
CREATE FUNCTION fp_private.tg_supplier_rfq_document_rules() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    org uuid := NEW.organization_id;
    rfq uuid := NEW.supplier_rfq_id;
BEGIN
    IF fp_private.my_person_id() IS NULL THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM public.supplier_rfqs r WHERE r.organization_id = org
               AND r.id = rfq AND r.status <> 'draft') THEN
        RAISE EXCEPTION 'This RFQ was sent: its documents no longer change'
            USING ERRCODE = 'FP409';
    END IF;
    IF NOT EXISTS (
            SELECT 1 FROM public.documents d JOIN public.supplier_rfqs r
              ON r.organization_id = d.organization_id AND r.project_id = d.project_id
            WHERE d.organization_id = org AND d.id = NEW.document_id AND r.id = rfq) THEN
        RAISE EXCEPTION 'Only documents of the RFQ''s project can be attached'
            USING ERRCODE = '22023';
    END IF;
    RETURN NEW;
END
$$;

-- Documents attached to RFQs sent to the supplier a portal person represents.
CREATE FUNCTION fp_private.my_supplier_rfq_document_ids() RETURNS uuid[]
LANGUAGE plpgsql STABLE {DEFINER} AS $$
BEGIN
    RETURN (
        SELECT coalesce(array_agg(DISTINCT l.document_id), '{{}}')
        FROM public.supplier_rfq_documents l
        WHERE l.supplier_rfq_id = ANY (fp_private.my_supplier_rfq_ids())
    );
END
$$;

CREATE FUNCTION fp_private.award_quote(p_org uuid, p_quote uuid, p_expected_version integer)
RETURNS uuid LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    me uuid := fp_private.my_person_id();
    q record;
    rfq_id uuid;
    grp uuid;
    winner record;
    po uuid := gen_random_uuid();
    po_no text;
    total numeric;
BEGIN
    IF me IS NULL OR NOT p_org = ANY (fp_private.my_org_ids_with_role(
            '{{admin,management,procurement}}'::public.user_role[])) THEN
        RAISE EXCEPTION 'Only procurement and management can award quotes'
            USING ERRCODE = '42501';
    END IF;
    SELECT x.supplier_rfq_id INTO rfq_id FROM public.supplier_quotes x
    WHERE x.organization_id = p_org AND x.id = p_quote;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'This quote does not exist' USING ERRCODE = '42501';
    END IF;
    -- Lock the RFQs of the group first: two awards in one group at once are serialized.
    SELECT r.rfq_group INTO grp FROM public.supplier_rfqs r
    WHERE r.organization_id = p_org AND r.id = rfq_id;
    PERFORM 1 FROM public.supplier_rfqs r
    WHERE r.organization_id = p_org
      AND (r.id = rfq_id OR (grp IS NOT NULL AND r.rfq_group = grp))
    ORDER BY r.id FOR UPDATE;
    SELECT x.* INTO q FROM public.supplier_quotes x
    WHERE x.organization_id = p_org AND x.id = p_quote FOR UPDATE;
    IF q.status = 'accepted' THEN
        RAISE EXCEPTION 'This quote was already awarded' USING ERRCODE = 'FP409',
            HINT = 'Its draft purchase order is ' || coalesce((SELECT po.po_number
                FROM public.purchase_orders po WHERE po.organization_id = p_org
                AND po.supplier_quote_id = p_quote ORDER BY po.created_at LIMIT 1), 'gone')
                || '.';
    END IF;
    SELECT x.id, s.company_name INTO winner FROM public.supplier_quotes x
    JOIN public.supplier_rfqs r ON r.organization_id = x.organization_id
     AND r.id = x.supplier_rfq_id
    JOIN public.contacts s ON s.organization_id = x.organization_id AND s.id = x.supplier_id
    WHERE x.organization_id = p_org AND x.status = 'accepted' AND x.id <> p_quote
      AND (r.id = q.supplier_rfq_id OR (grp IS NOT NULL AND r.rfq_group = grp))
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'This RFQ was already awarded to %', winner.company_name
            USING ERRCODE = 'FP409', HINT = 'Nothing was changed.';
    END IF;
    IF q.version <> p_expected_version THEN
        RAISE EXCEPTION 'This quote changed since you opened it' USING ERRCODE = 'FP409',
            HINT = 'Compare the quotes again.';
    END IF;
    IF q.status NOT IN ('draft', 'submitted', 'under_review') THEN
        RAISE EXCEPTION 'This quote is % and cannot be awarded', q.status
            USING ERRCODE = 'FP409';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM public.supplier_quote_lines l
                   WHERE l.organization_id = p_org AND l.supplier_quote_id = p_quote) THEN
        RAISE EXCEPTION 'This quote has no lines to order' USING ERRCODE = '22023',
            HINT = 'Record the quoted lines first.';
    END IF;
    UPDATE public.supplier_quotes SET status = 'accepted'
    WHERE organization_id = p_org AND id = p_quote;
    IF q.supplier_rfq_id IS NOT NULL THEN
        UPDATE public.supplier_quotes x SET status = 'rejected'
        FROM public.supplier_rfqs r
        WHERE x.organization_id = p_org AND x.id <> p_quote
          AND x.status IN ('draft', 'submitted', 'under_review')
          AND r.organization_id = x.organization_id AND r.id = x.supplier_rfq_id
          AND (r.id = q.supplier_rfq_id OR (grp IS NOT NULL AND r.rfq_group = grp));
    END IF;
    SELECT sum(l.amount) INTO total FROM public.supplier_quote_lines l
    WHERE l.organization_id = p_org AND l.supplier_quote_id = p_quote;
    po_no := fp_private.next_procurement_number(p_org, 'po');
    INSERT INTO public.purchase_orders (id, organization_id, po_number, supplier_id, project_id,
        supplier_quote_id, status, priority, currency, total_amount, due_date, notes,
        created_by)
    SELECT po, p_org, po_no, q.supplier_id, q.project_id, q.id, 'draft',
        coalesce(r.priority, 'medium'), q.currency, coalesce(total, 0),
        CASE WHEN q.lead_time_days IS NOT NULL THEN current_date + q.lead_time_days END,
        'Awarded from quote ' || coalesce(q.quote_number, '(no number)')
            || coalesce(' for ' || r.rfq_number, '') || '.',
        me
    FROM (SELECT 1) one
    LEFT JOIN public.supplier_rfqs r ON r.organization_id = p_org AND r.id = q.supplier_rfq_id;
    INSERT INTO public.purchase_order_lines (organization_id, purchase_order_id, line_no,
        item_name, description, quantity, unit, unit_price)
    SELECT p_org, po, l.line_no, left(l.description, 200), l.description, l.quantity, l.unit,
        l.unit_price
    FROM public.supplier_quote_lines l
    WHERE l.organization_id = p_org AND l.supplier_quote_id = p_quote
    ORDER BY l.line_no;
    RETURN po;
END
$$;
"""

TRIGGERS = """
-- A purchase order saved without a number gets the next one (the same series as awards).
CREATE FUNCTION fp_private.tg_purchase_order_number() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    NEW.po_number := fp_private.next_procurement_number(NEW.organization_id, 'po');
    RETURN NEW;
END
$$;
CREATE TRIGGER purchase_orders_number BEFORE INSERT ON purchase_orders
    FOR EACH ROW WHEN (NEW.po_number IS NULL OR btrim(NEW.po_number) = '')
    EXECUTE FUNCTION fp_private.tg_purchase_order_number();
CREATE TRIGGER supplier_rfqs_number BEFORE INSERT ON supplier_rfqs
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_supplier_rfq_insert();
CREATE TRIGGER supplier_rfqs_rules BEFORE UPDATE ON supplier_rfqs
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_supplier_rfq_rules();
CREATE TRIGGER supplier_quotes_answer BEFORE INSERT ON supplier_quotes
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_supplier_quote_insert();
CREATE TRIGGER supplier_quotes_recorded AFTER INSERT ON supplier_quotes
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_supplier_quote_recorded();
CREATE TRIGGER supplier_quotes_rules BEFORE UPDATE ON supplier_quotes
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_supplier_quote_rules();
CREATE TRIGGER supplier_quote_lines_total AFTER INSERT OR UPDATE OR DELETE
    ON supplier_quote_lines FOR EACH ROW EXECUTE FUNCTION fp_private.tg_supplier_quote_total();
CREATE TRIGGER supplier_rfq_documents_rules BEFORE INSERT ON supplier_rfq_documents
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_supplier_rfq_document_rules();
"""

DROP_TRIGGERS = (
    ("purchase_orders_number", "purchase_orders"),
    ("supplier_rfqs_number", "supplier_rfqs"),
    ("supplier_rfqs_rules", "supplier_rfqs"),
    ("supplier_quotes_answer", "supplier_quotes"),
    ("supplier_quotes_recorded", "supplier_quotes"),
    ("supplier_quotes_rules", "supplier_quotes"),
    ("supplier_quote_lines_total", "supplier_quote_lines"),
    ("supplier_rfq_documents_rules", "supplier_rfq_documents"),
)

OWNED = (
    "next_procurement_number(uuid, text)",
    "tg_purchase_order_number()",
    "tg_supplier_rfq_insert()",
    "tg_supplier_quote_insert()",
    "tg_supplier_quote_recorded()",
    "tg_supplier_quote_total()",
    "tg_supplier_rfq_document_rules()",
)
# Invoker functions (they look at current_user); trigger functions need no grant.
INVOKER_FUNCTIONS = ("tg_supplier_rfq_rules()", "tg_supplier_quote_rules()")
MEMBER_CALLABLE = ("award_quote(uuid, uuid, integer)", "my_supplier_rfq_document_ids()",
                   "contact_is_active(uuid, uuid)")


def _foundation() -> Any:
    spec = importlib.util.spec_from_file_location(
        "foundation_0001", Path(__file__).with_name("20261125_0001_foundation.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _alter(table: str, command: str, rule: str) -> str:
    if command == "insert":
        return f"ALTER POLICY {table}_insert ON {table} WITH CHECK ({rule})"
    if command == "update":
        return f"ALTER POLICY {table}_update ON {table} USING ({rule}) WITH CHECK ({rule})"
    return f"ALTER POLICY {table}_{command} ON {table} USING ({rule})"


def upgrade() -> None:
    op.execute(TABLES)
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)
    for fn in OWNED + MEMBER_CALLABLE:
        op.execute(f"REVOKE EXECUTE ON FUNCTION fp_private.{fn} FROM PUBLIC")
        op.execute(f"ALTER FUNCTION fp_private.{fn} OWNER TO fp_security")
    for fn in INVOKER_FUNCTIONS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION fp_private.{fn} FROM PUBLIC")
    for fn in MEMBER_CALLABLE:
        op.execute(f"GRANT EXECUTE ON FUNCTION fp_private.{fn} TO fp_member")
    documents = _foundation().DOCUMENT_READERS + LINKED_DOCUMENT
    op.execute(_alter("documents", "select", documents))
    op.execute(_alter("supplier_rfqs", "update", RFQ_UPDATE))
    op.execute(_alter("supplier_quotes", "insert", QUOTE_INSERT))
    for command in ("insert", "update", "delete"):
        op.execute(_alter("supplier_quote_lines", command, LINE_WRITE))


def downgrade() -> None:
    foundation = _foundation()
    op.execute(_alter("documents", "select", foundation.DOCUMENT_READERS))
    op.execute(_alter("supplier_rfqs", "update", foundation.POLICIES["supplier_rfqs"][2]))
    op.execute(_alter("supplier_quotes", "insert", foundation.POLICIES["supplier_quotes"][1]))
    _select, insert, update, delete = foundation.POLICIES["supplier_quote_lines"]
    for command, rule in (("insert", insert), ("update", update), ("delete", delete)):
        op.execute(_alter("supplier_quote_lines", command, rule))
    for trigger, table in DROP_TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger} ON {table}")
    op.execute("DROP TABLE IF EXISTS supplier_rfq_documents")
    op.execute("DROP TABLE IF EXISTS procurement_number_counters")
    for fn in MEMBER_CALLABLE + INVOKER_FUNCTIONS + OWNED:
        op.execute(f"DROP FUNCTION IF EXISTS fp_private.{fn}")
    op.execute("DROP INDEX IF EXISTS supplier_quotes_rfq_idx")
    op.execute("DROP INDEX IF EXISTS supplier_rfqs_group_idx")
    op.execute("ALTER TABLE supplier_rfqs DROP COLUMN IF EXISTS rfq_group")
