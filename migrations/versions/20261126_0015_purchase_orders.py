"""Purchase orders: status flow, approval above the threshold, receiving.

The original set a purchase order's status from the browser (any value, any time). Here the
database holds the flow, however a change arrives (the app, or psql with a person's login):

* Status (BEFORE UPDATE ``fp_private.tg_po_rules``)::

      draft -> pending_approval -> approved -> sent -> acknowledged
            -> partially_received -> received -> closed
      cancelled from draft, pending_approval, approved, sent or acknowledged

  A person moves an order by hand only to ``sent``, ``acknowledged``, ``closed`` (from
  received, or from partially_received: the rest will not come) and ``cancelled``. An order
  with goods received is closed, never cancelled, so its receipts stay explained. The
  other moves are made only by this revision's functions (they run as ``fp_security``, which
  is how the trigger tells them from a hand-made UPDATE):

  - ``fp_private.submit_purchase_order(org, po, expected_version)``: compare-and-set on the
    order's version; the approvals engine chooses the chain from the order's own total
    (revision 0007, the same rule as ``request_approval``). When a chain applies the order
    becomes ``pending_approval`` with an approval of type purchase_order; when **no** chain
    applies (below every threshold) it is approved at once and an approval row with status
    ``auto_approved`` plus its history entry record why — the inbox and timeline show it.
  - When that approval is approved (trigger ``approval_decides_purchase_order``) the order
    becomes ``approved``; rejected (or cancelled, expired) sends it back to ``draft`` to be
    changed and submitted again. Only an approval of the order as it was submitted counts
    (its lock version), so nobody can reach ``approved`` without the threshold's chain.
  - ``fp_private.receive_purchase_order(org, po, lines, client_id)`` books receipts.
  - ``fp_private.acknowledge_purchase_order(org, po, expected_version)``: the supplier (portal
    person of the order's supplier contact, who cannot UPDATE orders) or procurement.

* Lines and amounts are frozen once the order left draft (``tg_po_line_rules``; supplier,
  project, quote, currency, number, order date and total on the order). While an order waits
  for approval nothing of it changes but a cancellation (an edit would make the approval
  stale). ``total_amount`` is the sum of the lines, kept by the database. Only drafts may be
  deleted; persons create drafts only.

* Receiving: ``lines`` is ``[{"line": id, "quantity": n, "location": id}]``. Each quantity is
  added to the line's ``quantity_received`` — never above the ordered quantity (over-receipt
  is refused: the supplier's extra goods go back or onto a new order); lines with an inventory
  item book one ``stock_movements`` receipt (unit cost of the line, ``client_event_id`` =
  md5(client_id:line), location as given or the item's default); lines without an item are
  received without stock. The order becomes ``partially_received`` or ``received``. Each
  receipt is written to ``activity_log`` (action ``received``, its lines in ``metadata``,
  ``client_id`` included): a retried call with the same ``client_id`` finds it and books
  nothing again (the order row is locked first, so two retries at once queue up).

The database owner (command line, imports, the demo data) is not held to these rules.

Revision ID: 20261126_0015
Revises: 20261126_0014
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261126_0015"
down_revision: str | None = "20261126_0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"
INVOKER = "SET search_path = pg_catalog, public"
WRITERS = "'{admin,management,procurement}'::public.user_role[]"
RECEIVERS = "'{admin,management,procurement,production}'::public.user_role[]"
OPEN_APPROVAL = "('pending', 'in_review', 'escalated')"

FUNCTIONS = f"""
-- The status flow of an order. Runs as the caller: current_user is fp_security only inside
-- this revision's definer functions, so "by the engine" cannot be claimed by a person.
CREATE FUNCTION fp_private.tg_po_rules() RETURNS trigger LANGUAGE plpgsql {INVOKER} AS $$
DECLARE
    by_engine boolean := current_user = 'fp_security';
    by_hand text[];
    by_fn text[];
BEGIN
    IF fp_private.my_person_id() IS NULL THEN
        RETURN NEW;  -- the owner: command line, imports, demo data
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'draft' THEN
            RAISE EXCEPTION 'A new purchase order starts as a draft' USING ERRCODE = '42501',
                HINT = 'Submit it for approval when its lines are complete.';
        END IF;
        NEW.total_amount := 0;  -- no lines yet; they keep it up to date
        NEW.sent_at := NULL; NEW.acknowledged_at := NULL; NEW.closed_at := NULL;
        NEW.order_date := coalesce(NEW.order_date, current_date);
        RETURN NEW;
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.status <> 'draft' THEN
            RAISE EXCEPTION 'Only a draft order can be deleted (% is %)', OLD.po_number,
                replace(OLD.status, '_', ' ') USING ERRCODE = '42501',
                HINT = 'Cancel it instead; the record stays.';
        END IF;
        RETURN OLD;
    END IF;
    IF OLD.status = 'pending_approval' AND NOT by_engine AND NEW.status = OLD.status THEN
        RAISE EXCEPTION '% waits for approval and cannot be changed now', OLD.po_number
            USING ERRCODE = 'FP409', HINT = 'Cancel it, or wait for the decision.';
    END IF;
    IF OLD.status <> 'draft' AND (NEW.po_number, NEW.supplier_id, NEW.project_id,
            NEW.supplier_quote_id, NEW.currency, NEW.total_amount, NEW.order_date)
            IS DISTINCT FROM (OLD.po_number, OLD.supplier_id, OLD.project_id,
            OLD.supplier_quote_id, OLD.currency, OLD.total_amount, OLD.order_date) THEN
        RAISE EXCEPTION '% is no longer a draft: its supplier, currency and amounts are fixed',
            OLD.po_number USING ERRCODE = '42501';
    END IF;
    IF NEW.status = 'draft' AND OLD.status = 'draft' THEN
        NEW.total_amount := (SELECT coalesce(sum(l.total_price), 0)
                             FROM public.purchase_order_lines l
                             WHERE l.organization_id = NEW.organization_id
                               AND l.purchase_order_id = NEW.id);
    END IF;
    IF NEW.status IS NOT DISTINCT FROM OLD.status THEN
        RETURN NEW;
    END IF;
    by_hand := CASE OLD.status
        WHEN 'draft' THEN '{{cancelled}}'
        WHEN 'pending_approval' THEN '{{cancelled}}'
        WHEN 'approved' THEN '{{sent,cancelled}}'
        WHEN 'sent' THEN '{{acknowledged,cancelled}}'
        WHEN 'acknowledged' THEN '{{cancelled}}'
        WHEN 'partially_received' THEN '{{closed}}'
        WHEN 'received' THEN '{{closed}}'
        ELSE '{{}}' END::text[];
    by_fn := CASE OLD.status
        WHEN 'draft' THEN '{{pending_approval,approved}}'
        WHEN 'pending_approval' THEN '{{approved,draft}}'
        WHEN 'sent' THEN '{{partially_received,received}}'
        WHEN 'acknowledged' THEN '{{partially_received,received}}'
        WHEN 'partially_received' THEN '{{received}}'
        ELSE '{{}}' END::text[];
    IF NOT (NEW.status = ANY (by_hand) OR (by_engine AND NEW.status = ANY (by_fn))) THEN
        IF NEW.status = 'approved' THEN
            RAISE EXCEPTION 'An order is approved only through its approval'
                USING ERRCODE = '42501',
                HINT = 'Submit it for approval; below the threshold it is approved at once.';
        ELSIF NEW.status = 'pending_approval' THEN
            RAISE EXCEPTION 'Submit the order for approval instead of setting its status'
                USING ERRCODE = '42501';
        ELSIF NEW.status IN ('partially_received', 'received') AND NEW.status = ANY (by_fn) THEN
            RAISE EXCEPTION 'Receive the goods to record what arrived' USING ERRCODE = '42501';
        ELSIF NEW.status = 'cancelled' THEN
            RAISE EXCEPTION '% cannot be cancelled: it is %', OLD.po_number,
                replace(OLD.status, '_', ' ') USING ERRCODE = '22023',
                HINT = 'An order with goods received is closed instead.';
        END IF;
        RAISE EXCEPTION 'A purchase order cannot go from % to %', replace(OLD.status, '_', ' '),
            replace(NEW.status, '_', ' ') USING ERRCODE = '22023';
    END IF;
    IF NEW.status = 'sent' THEN NEW.sent_at := now(); END IF;
    IF NEW.status = 'acknowledged' THEN NEW.acknowledged_at := now(); END IF;
    IF NEW.status = 'closed' THEN NEW.closed_at := now(); END IF;
    RETURN NEW;
END
$$;

-- A cancelled order's open approval ends with it (only the engine writes approvals).
CREATE FUNCTION fp_private.tg_po_cancelled() RETURNS trigger LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    WITH ended AS (
        UPDATE public.approvals a SET status = 'cancelled', decided_at = now()
        WHERE a.organization_id = NEW.organization_id AND a.entity_type = 'purchase_order'
          AND a.entity_id = NEW.id AND a.status IN {OPEN_APPROVAL}
        RETURNING a.id, a.status
    )
    INSERT INTO public.approval_history (organization_id, approval_id, action_type, action_by,
        new_status, comments)
    SELECT NEW.organization_id, e.id, 'cancelled', fp_private.my_person_id(), 'cancelled',
           'The purchase order was cancelled.'
    FROM ended e;
    RETURN NULL;
END
$$;

-- Lines change only while their order is a draft; what arrived only through receiving.
CREATE FUNCTION fp_private.tg_po_line_rules() RETURNS trigger LANGUAGE plpgsql {INVOKER} AS $$
DECLARE
    by_engine boolean := current_user = 'fp_security';
    line record;
    po record;
BEGIN
    IF fp_private.my_person_id() IS NULL THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
    END IF;
    IF TG_OP = 'DELETE' THEN line := OLD; ELSE line := NEW; END IF;
    IF TG_OP = 'UPDATE' AND NEW.purchase_order_id IS DISTINCT FROM OLD.purchase_order_id THEN
        RAISE EXCEPTION 'A line cannot move to another order' USING ERRCODE = '42501';
    END IF;
    SELECT o.status, o.po_number INTO po FROM public.purchase_orders o
    WHERE o.organization_id = line.organization_id AND o.id = line.purchase_order_id;
    IF po.status IS DISTINCT FROM 'draft' THEN
        -- (generated total_price is not computed yet in a BEFORE trigger: left out)
        IF by_engine AND TG_OP = 'UPDATE' AND (to_jsonb(NEW) - '{{quantity_received,
                total_price,updated_at,version}}'::text[]) = (to_jsonb(OLD)
                - '{{quantity_received,total_price,updated_at,version}}'::text[]) THEN
            RETURN NEW;  -- receiving
        END IF;
        IF TG_OP = 'DELETE' AND po.status IS NULL THEN
            RETURN OLD;  -- the draft order itself is being deleted
        END IF;
        RAISE EXCEPTION 'The lines of % are fixed: it is no longer a draft', po.po_number
            USING ERRCODE = '42501', HINT = 'Cancel the order and make a new one to change them.';
    END IF;
    IF NOT by_engine AND NOT line.organization_id = ANY (
            fp_private.my_org_ids_with_role({WRITERS})) THEN
        RAISE EXCEPTION 'Only procurement and management change purchase order lines'
            USING ERRCODE = '42501';
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.quantity_received := 0;
    ELSIF TG_OP = 'UPDATE' THEN
        NEW.quantity_received := OLD.quantity_received;
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END
$$;

-- The order's total is the sum of its lines (a no-op when it already is).
CREATE FUNCTION fp_private.tg_po_line_total() RETURNS trigger LANGUAGE plpgsql {INVOKER} AS $$
DECLARE
    line record;
BEGIN
    IF TG_OP = 'DELETE' THEN line := OLD; ELSE line := NEW; END IF;
    UPDATE public.purchase_orders o SET total_amount = s.total
    FROM (SELECT coalesce(sum(l.total_price), 0) AS total FROM public.purchase_order_lines l
          WHERE l.organization_id = line.organization_id
            AND l.purchase_order_id = line.purchase_order_id) s
    WHERE o.organization_id = line.organization_id AND o.id = line.purchase_order_id
      AND o.status = 'draft' AND o.total_amount IS DISTINCT FROM s.total;
    RETURN NULL;
END
$$;

CREATE FUNCTION fp_private.submit_purchase_order(
    p_org uuid, p_po uuid, p_expected_version integer
) RETURNS text LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    me uuid := fp_private.my_person_id();
    po record;
    chain_id uuid;
    approval uuid := gen_random_uuid();
BEGIN
    IF me IS NULL OR NOT p_org = ANY (fp_private.my_org_ids_with_role({WRITERS})) THEN
        RAISE EXCEPTION 'Only procurement and management submit purchase orders'
            USING ERRCODE = '42501';
    END IF;
    SELECT * INTO po FROM public.purchase_orders o
    WHERE o.organization_id = p_org AND o.id = p_po FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'This purchase order does not exist' USING ERRCODE = '42704';
    END IF;
    IF po.status <> 'draft' THEN
        RAISE EXCEPTION '% is % already', po.po_number, replace(po.status, '_', ' ')
            USING ERRCODE = 'FP409', HINT = 'Nothing was changed.';
    END IF;
    IF po.version <> p_expected_version THEN
        RAISE EXCEPTION '% changed since you opened it', po.po_number
            USING ERRCODE = 'FP409', HINT = 'Open it again to see the changes.';
    END IF;
    IF NOT EXISTS (SELECT 1 FROM public.purchase_order_lines l
                   WHERE l.organization_id = p_org AND l.purchase_order_id = p_po) THEN
        RAISE EXCEPTION '% has no lines' , po.po_number USING ERRCODE = '22023',
            HINT = 'Add what you order before submitting it.';
    END IF;
    -- The engine's own choice of chain (revision 0007): does any threshold apply?
    SELECT c.id INTO chain_id FROM public.approval_chains c
    WHERE c.organization_id = p_org AND c.is_active AND c.approval_type = 'purchase_order'
      AND c.entity_type = 'purchase_order'
      AND (c.min_amount IS NULL OR po.total_amount >= c.min_amount)
    ORDER BY c.min_amount DESC NULLS LAST, c.chain_name LIMIT 1;
    IF chain_id IS NULL THEN
        UPDATE public.purchase_orders SET status = 'approved'
        WHERE organization_id = p_org AND id = p_po;
        INSERT INTO public.approvals (id, organization_id, approval_type, title, entity_type,
            entity_id, entity_version, project_id, amount, currency, requested_by,
            request_reason, status, decided_at, decision_comments, reference_id)
        VALUES (approval, p_org, 'purchase_order', format('Approve %s', po.po_number),
            'purchase_order', p_po, fp_private.entity_version(p_org, 'purchase_order', p_po),
            po.project_id, po.total_amount, po.currency, me, 'Submitted', 'auto_approved',
            now(), 'Below every approval threshold: approved at once.', po.po_number);
        INSERT INTO public.approval_history (organization_id, approval_id, action_type,
            action_by, new_status, comments)
        VALUES (p_org, approval, 'auto_approved', me, 'auto_approved',
            'Below every approval threshold: approved at once.');
        RETURN 'approved';
    END IF;
    UPDATE public.purchase_orders SET status = 'pending_approval'
    WHERE organization_id = p_org AND id = p_po;
    PERFORM fp_private.request_approval(p_org, approval, 'purchase_order',
        format('Approve %s', po.po_number), 'purchase_order', p_po, NULL, po.project_id,
        po.total_amount, po.currency, 'Above the approval threshold');
    RETURN 'pending_approval';
END
$$;

-- The decision on an order's approval moves the order (only as it was submitted).
CREATE FUNCTION fp_private.tg_approval_decides_purchase_order() RETURNS trigger
LANGUAGE plpgsql {DEFINER} AS $$
BEGIN
    UPDATE public.purchase_orders o
    SET status = CASE WHEN NEW.status = 'approved' THEN 'approved' ELSE 'draft' END
    WHERE o.organization_id = NEW.organization_id AND o.id = NEW.entity_id
      AND o.status = 'pending_approval' AND o.version = NEW.entity_version;
    RETURN NULL;
END
$$;

CREATE FUNCTION fp_private.acknowledge_purchase_order(
    p_org uuid, p_po uuid, p_expected_version integer
) RETURNS text LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    me uuid := fp_private.my_person_id();
    po record;
BEGIN
    SELECT * INTO po FROM public.purchase_orders o
    WHERE o.organization_id = p_org AND o.id = p_po FOR UPDATE;
    IF NOT FOUND OR me IS NULL OR NOT (
            p_org = ANY (fp_private.my_org_ids_with_role({WRITERS}))
            OR (po.supplier_id = ANY (fp_private.my_portal_contact_ids())
                AND po.status NOT IN ('draft', 'pending_approval', 'approved', 'cancelled'))) THEN
        RAISE EXCEPTION 'This purchase order does not exist' USING ERRCODE = '42704';
    END IF;
    IF po.status <> 'sent' THEN
        RAISE EXCEPTION '% is %: only a sent order can be acknowledged', po.po_number,
            replace(po.status, '_', ' ') USING ERRCODE = 'FP409';
    END IF;
    IF po.version <> p_expected_version THEN
        RAISE EXCEPTION '% changed since you opened it', po.po_number
            USING ERRCODE = 'FP409', HINT = 'Open it again to see the changes.';
    END IF;
    UPDATE public.purchase_orders SET status = 'acknowledged'
    WHERE organization_id = p_org AND id = p_po;
    RETURN 'acknowledged';
END
$$;

CREATE FUNCTION fp_private.receive_purchase_order(
    p_org uuid, p_po uuid, p_lines jsonb, p_client_id uuid
) RETURNS text LANGUAGE plpgsql {DEFINER} AS $$
DECLARE
    me uuid := fp_private.my_person_id();
    po record;
    entry jsonb;
    ln record;
    qty numeric;
    loc uuid;
    booked jsonb := '[]'::jsonb;
    new_status text;
BEGIN
    IF me IS NULL OR NOT p_org = ANY (fp_private.my_org_ids_with_role({RECEIVERS})) THEN
        RAISE EXCEPTION 'Only procurement, production and management receive goods'
            USING ERRCODE = '42501';
    END IF;
    IF p_client_id IS NULL THEN
        RAISE EXCEPTION 'a receipt needs its client id' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO po FROM public.purchase_orders o
    WHERE o.organization_id = p_org AND o.id = p_po FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'This purchase order does not exist' USING ERRCODE = '42704';
    END IF;
    IF EXISTS (SELECT 1 FROM public.activity_log a
               WHERE a.organization_id = p_org AND a.entity_type = 'purchase_order'
                 AND a.entity_id = p_po AND a.action = 'received'
                 AND a.metadata ->> 'client_id' = p_client_id::text) THEN
        RETURN po.status;  -- the same receipt sent again (its answer was lost): booked once
    END IF;
    IF po.status NOT IN ('sent', 'acknowledged', 'partially_received') THEN
        RAISE EXCEPTION 'Goods can be received only on a sent order; % is %', po.po_number,
            replace(po.status, '_', ' ') USING ERRCODE = 'FP409';
    END IF;
    IF jsonb_typeof(p_lines) IS DISTINCT FROM 'array' OR jsonb_array_length(p_lines) = 0 THEN
        RAISE EXCEPTION 'Say how much arrived of at least one line' USING ERRCODE = '22023';
    END IF;
    IF (SELECT count(*) <> count(DISTINCT e ->> 'line') FROM jsonb_array_elements(p_lines) e)
    THEN
        RAISE EXCEPTION 'Each line may appear once in a receipt' USING ERRCODE = '22023';
    END IF;
    FOR entry IN SELECT e FROM jsonb_array_elements(p_lines) e LOOP
        qty := (entry ->> 'quantity')::numeric;
        SELECT * INTO ln FROM public.purchase_order_lines l
        WHERE l.organization_id = p_org AND l.purchase_order_id = p_po
          AND l.id = (entry ->> 'line')::uuid FOR UPDATE;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'A line of this receipt is not on %', po.po_number
                USING ERRCODE = '42704';
        END IF;
        IF qty IS NULL OR qty <= 0 THEN
            RAISE EXCEPTION 'Line % (%): the quantity received must be more than zero',
                ln.line_no, ln.item_name USING ERRCODE = '22023';
        END IF;
        IF ln.quantity_received + qty > ln.quantity THEN
            RAISE EXCEPTION 'Line % (%): % % would be more than ordered', ln.line_no,
                ln.item_name, trim_scale(qty), ln.unit USING ERRCODE = '22023',
                HINT = format('Ordered %s, received so far %s.', trim_scale(ln.quantity),
                              trim_scale(ln.quantity_received));
        END IF;
        loc := NULL;
        IF ln.inventory_item_id IS NOT NULL THEN
            loc := coalesce(nullif(entry ->> 'location', '')::uuid,
                            (SELECT i.default_location_id FROM public.inventory_items i
                             WHERE i.organization_id = p_org AND i.id = ln.inventory_item_id));
            IF loc IS NULL THEN
                RAISE EXCEPTION 'Line % (%): choose the stock location it goes to',
                    ln.line_no, ln.item_name USING ERRCODE = '22023';
            END IF;
            INSERT INTO public.stock_movements (organization_id, inventory_item_id,
                location_id, movement_type, quantity, unit_cost, purchase_order_line_id,
                reference, moved_by, client_event_id)
            VALUES (p_org, ln.inventory_item_id, loc, 'receipt', qty, ln.unit_price, ln.id,
                po.po_number, me, md5(p_client_id::text || ':' || ln.id::text)::uuid);
        END IF;
        UPDATE public.purchase_order_lines SET quantity_received = quantity_received + qty
        WHERE organization_id = p_org AND id = ln.id;
        booked := booked || jsonb_build_object('line', ln.id, 'line_no', ln.line_no,
            'item_name', ln.item_name, 'quantity', qty, 'unit', ln.unit, 'location', loc);
    END LOOP;
    new_status := CASE WHEN EXISTS (
            SELECT 1 FROM public.purchase_order_lines l
            WHERE l.organization_id = p_org AND l.purchase_order_id = p_po
              AND l.quantity_received < l.quantity)
        THEN 'partially_received' ELSE 'received' END;
    UPDATE public.purchase_orders SET status = new_status
    WHERE organization_id = p_org AND id = p_po AND status IS DISTINCT FROM new_status;
    INSERT INTO public.activity_log (organization_id, actor_id, entity_type, entity_id, action,
        description, metadata, project_id)
    VALUES (p_org, me, 'purchase_order', p_po, 'received',
        format('Goods received on %s', po.po_number),
        jsonb_build_object('client_id', p_client_id, 'lines', booked), po.project_id);
    RETURN new_status;
END
$$;

CREATE TRIGGER purchase_orders_rules BEFORE INSERT OR UPDATE OR DELETE ON purchase_orders
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_po_rules();
CREATE TRIGGER purchase_orders_cancelled AFTER UPDATE OF status ON purchase_orders
    FOR EACH ROW WHEN (NEW.status = 'cancelled' AND OLD.status = 'pending_approval')
    EXECUTE FUNCTION fp_private.tg_po_cancelled();
CREATE TRIGGER purchase_order_lines_rules BEFORE INSERT OR UPDATE OR DELETE
    ON purchase_order_lines FOR EACH ROW EXECUTE FUNCTION fp_private.tg_po_line_rules();
CREATE TRIGGER purchase_order_lines_total
    AFTER INSERT OR DELETE OR UPDATE OF quantity, unit_price ON purchase_order_lines
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_po_line_total();
CREATE TRIGGER approval_decides_purchase_order AFTER UPDATE OF status ON approvals
    FOR EACH ROW WHEN (NEW.entity_type = 'purchase_order'
                       AND NEW.status IN ('approved', 'rejected', 'cancelled', 'expired')
                       AND OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION fp_private.tg_approval_decides_purchase_order();
"""

INVOKERS = ("tg_po_rules()", "tg_po_line_rules()", "tg_po_line_total()")
OWNED = ("tg_po_cancelled()", "tg_approval_decides_purchase_order()")
MEMBER_CALLABLE = (
    "submit_purchase_order(uuid, uuid, integer)",
    "acknowledge_purchase_order(uuid, uuid, integer)",
    "receive_purchase_order(uuid, uuid, jsonb, uuid)",
)
TRIGGERS = (
    ("purchase_orders_rules", "purchase_orders"),
    ("purchase_orders_cancelled", "purchase_orders"),
    ("purchase_order_lines_rules", "purchase_order_lines"),
    ("purchase_order_lines_total", "purchase_order_lines"),
    ("approval_decides_purchase_order", "approvals"),
)


def upgrade() -> None:
    op.execute(FUNCTIONS)
    for fn in INVOKERS:
        op.execute(f"REVOKE EXECUTE ON FUNCTION fp_private.{fn} FROM PUBLIC")
    for fn in OWNED + MEMBER_CALLABLE:
        op.execute(f"REVOKE EXECUTE ON FUNCTION fp_private.{fn} FROM PUBLIC")
        op.execute(f"ALTER FUNCTION fp_private.{fn} OWNER TO fp_security")
    for fn in MEMBER_CALLABLE:
        op.execute(f"GRANT EXECUTE ON FUNCTION fp_private.{fn} TO fp_member")


def downgrade() -> None:
    for name, table in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for fn in MEMBER_CALLABLE + OWNED + INVOKERS:
        op.execute(f"DROP FUNCTION IF EXISTS fp_private.{fn}")
