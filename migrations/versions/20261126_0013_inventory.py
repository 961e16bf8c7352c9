"""Inventory: the stock ledger's rules and balances.

``stock_movements`` is the ledger: persons may only add rows (revision 0001 gave them no
UPDATE or DELETE). On-hand per item and location is derived from it, but summing ten million
rows per request is too slow, so ``inventory_balances`` keeps the running sum, written only by
the ledger's own triggers in the same transaction as the movement:

* BEFORE INSERT (``tg_stock_check``): a movement whose ``client_event_id`` already landed is
  skipped (a retried scan books once); the balance row is created if missing and locked
  (``FOR UPDATE``), so two workstations taking the last unit queue up on it; a movement that
  would make on-hand negative is refused in words ("Only 0 pcs of ... are in stock at ...")
  unless the item ``allow_negative``. The owner login (demo seed, imports, migrations:
  ``my_person_id()`` NULL) is not held to that rule; it writes history.
* AFTER INSERT (``tg_stock_apply``): adds the quantity to the balance, and when an outgoing
  movement takes the item's on-hand over all locations from at or above its
  ``min_stock_level`` to below it, tells the organization's active procurement people
  (notification ``low_stock``, honouring ``notification_preferences``). Staying below says
  nothing more; rising to the minimum again and falling below it once more tells them again.
  Transfers never change an item's total and never notify.

``fp_private.transfer_stock`` books a transfer as two rows with one ``transfer_group_id``,
locking both balances in a fixed order (two opposite transfers cannot deadlock).

The view ``inventory_on_hand`` now reads the balances (same columns, security_invoker).

Revision ID: 20261126_0013
Revises: 20261126_0012
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261126_0013"
down_revision: str | None = "20261126_0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFINER = "SECURITY DEFINER SET search_path = pg_catalog, public"
INTERNAL = "organization_id = ANY ((SELECT fp_private.my_internal_org_ids())::uuid[])"
MINE = "organization_id = ANY ((SELECT fp_private.my_org_ids())::uuid[])"
MOVERS = ("organization_id = ANY ((SELECT fp_private.my_org_ids_with_role("
          "'{admin,management,procurement,production}'::public.user_role[]))::uuid[])")
OLD_EVENTS = ("assignment", "mention", "approval_waiting", "approval_decided",
              "review_requested", "review_decided", "stage_overdue", "due_soon")
EVENTS = (*OLD_EVENTS, "low_stock")

TABLE = f"""
CREATE TABLE inventory_balances (
    organization_id uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    inventory_item_id uuid NOT NULL,
    location_id uuid NOT NULL,
    on_hand numeric(14, 3) NOT NULL DEFAULT 0,
    PRIMARY KEY (organization_id, inventory_item_id, location_id),
    FOREIGN KEY (organization_id, inventory_item_id) REFERENCES inventory_items
        (organization_id, id) ON DELETE CASCADE,
    FOREIGN KEY (organization_id, location_id) REFERENCES inventory_locations
        (organization_id, id) ON DELETE CASCADE
);
-- The low-stock filter and valuation read an item's total over its locations.
ALTER TABLE inventory_balances ENABLE ROW LEVEL SECURITY;
ALTER TABLE inventory_balances FORCE ROW LEVEL SECURITY;
CREATE POLICY inventory_balances_tenant ON inventory_balances AS RESTRICTIVE FOR ALL
    TO fp_member USING ({MINE}) WITH CHECK ({MINE});
CREATE POLICY inventory_balances_select ON inventory_balances FOR SELECT TO fp_member
    USING ({INTERNAL});
-- Written only by the ledger's triggers (fp_security): no person writes a balance.
CREATE POLICY inventory_balances_insert ON inventory_balances FOR INSERT TO fp_member
    WITH CHECK (false);
CREATE POLICY inventory_balances_update ON inventory_balances FOR UPDATE TO fp_member
    USING (false) WITH CHECK (false);
CREATE POLICY inventory_balances_delete ON inventory_balances FOR DELETE TO fp_member
    USING (false);
GRANT SELECT ON inventory_balances TO fp_member;
GRANT SELECT, INSERT, UPDATE, DELETE ON inventory_balances TO fp_security;
GRANT SELECT ON inventory_balances TO fp_backup;

-- The item list pages through an organization's items by code.
CREATE INDEX inventory_items_list_idx ON inventory_items (organization_id, item_code, id);
-- The item detail reads an item's newest movements.
CREATE INDEX stock_movements_recent_idx ON stock_movements
    (organization_id, inventory_item_id, moved_at DESC, id DESC);

DROP VIEW inventory_on_hand;
CREATE VIEW inventory_on_hand WITH (security_invoker = true) AS
SELECT b.organization_id, b.inventory_item_id, b.location_id, b.on_hand AS quantity
FROM inventory_balances b;
GRANT SELECT ON inventory_on_hand TO fp_member;
GRANT SELECT ON inventory_on_hand TO fp_security;
GRANT SELECT ON inventory_on_hand TO fp_backup;
"""

FUNCTIONS = """
-- A quantity as people write it: 12, 2.5 (no trailing zeros).
CREATE FUNCTION fp_private.qty_text(p numeric) RETURNS text
LANGUAGE sql IMMUTABLE SET search_path = pg_catalog AS $$
    SELECT CASE WHEN p = trunc(p) THEN trunc(p)::text
                ELSE rtrim(rtrim(p::text, '0'), '.') END
$$;

CREATE FUNCTION fp_private.tg_stock_check() RETURNS trigger
LANGUAGE plpgsql DEFINER_ AS $$
DECLARE
    current numeric;
    item record;
    loc record;
BEGIN
    IF NEW.client_event_id IS NOT NULL AND EXISTS (
            SELECT 1 FROM public.stock_movements m
            WHERE m.organization_id = NEW.organization_id
              AND m.client_event_id = NEW.client_event_id) THEN
        RETURN NULL;  -- this movement was booked already (a retry): it lands once
    END IF;
    INSERT INTO public.inventory_balances (organization_id, inventory_item_id, location_id)
    VALUES (NEW.organization_id, NEW.inventory_item_id, NEW.location_id)
    ON CONFLICT DO NOTHING;
    -- Serializes movements of one item at one location until the transaction ends.
    SELECT b.on_hand INTO current FROM public.inventory_balances b
    WHERE b.organization_id = NEW.organization_id
      AND b.inventory_item_id = NEW.inventory_item_id AND b.location_id = NEW.location_id
    FOR UPDATE;
    IF NEW.quantity < 0 AND current + NEW.quantity < 0
       AND fp_private.my_person_id() IS NOT NULL THEN
        SELECT i.item_code, i.item_name, i.unit, i.allow_negative INTO item
        FROM public.inventory_items i
        WHERE i.organization_id = NEW.organization_id AND i.id = NEW.inventory_item_id;
        IF NOT coalesce(item.allow_negative, false) THEN
            SELECT l.code, l.name INTO loc FROM public.inventory_locations l
            WHERE l.organization_id = NEW.organization_id AND l.id = NEW.location_id;
            RAISE EXCEPTION 'Only % % of % (%) % in stock at % (%), so % % cannot be taken out',
                fp_private.qty_text(greatest(current, 0)), item.unit, item.item_name,
                item.item_code, CASE WHEN greatest(current, 0) = 1 THEN 'is' ELSE 'are' END,
                loc.name, loc.code, fp_private.qty_text(-NEW.quantity), item.unit
                USING ERRCODE = 'FP409',
                      HINT = 'Receive or count the stock first, or take it from another location.';
        END IF;
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION fp_private.tg_stock_apply() RETURNS trigger
LANGUAGE plpgsql DEFINER_ AS $$
DECLARE
    item record;
    total numeric;
BEGIN
    UPDATE public.inventory_balances b SET on_hand = b.on_hand + NEW.quantity
    WHERE b.organization_id = NEW.organization_id
      AND b.inventory_item_id = NEW.inventory_item_id AND b.location_id = NEW.location_id;
    IF NEW.quantity >= 0 OR NEW.movement_type IN ('transfer_out', 'transfer_in') THEN
        RETURN NULL;
    END IF;
    SELECT i.item_code, i.item_name, i.unit, i.min_stock_level INTO item
    FROM public.inventory_items i
    WHERE i.organization_id = NEW.organization_id AND i.id = NEW.inventory_item_id;
    IF item.min_stock_level IS NULL THEN
        RETURN NULL;
    END IF;
    -- Movements at other locations are not serialized by the balance lock: one at a time
    -- decides whether this one crossed the minimum (each sees the others' committed total).
    PERFORM pg_advisory_xact_lock(hashtextextended('fp.low_stock.' || NEW.inventory_item_id, 0));
    SELECT coalesce(sum(b.on_hand), 0) INTO total FROM public.inventory_balances b
    WHERE b.organization_id = NEW.organization_id
      AND b.inventory_item_id = NEW.inventory_item_id;
    IF total < item.min_stock_level AND total - NEW.quantity >= item.min_stock_level THEN
        PERFORM fp_private.notify(NEW.organization_id,
            fp_private.role_members(NEW.organization_id, 'procurement'), 'low_stock',
            'Low stock: ' || item.item_code || ' ' || item.item_name,
            'On hand ' || fp_private.qty_text(total) || ' ' || item.unit
                || ' over all locations, below the minimum of '
                || fp_private.qty_text(item.min_stock_level) || ' ' || item.unit || '.',
            'inventory_item', NEW.inventory_item_id,
            jsonb_build_object('item_id', NEW.inventory_item_id, 'movement_id', NEW.id));
    END IF;
    RETURN NULL;
END
$$;

-- A transfer: two ledger rows (out of one location, into another) with one group id. Runs
-- as the caller (row level security and the ledger rules apply as to any movement).
CREATE FUNCTION fp_private.transfer_stock(
    p_org uuid, p_item uuid, p_from uuid, p_to uuid, p_quantity numeric,
    p_reference text DEFAULT NULL, p_note text DEFAULT NULL,
    p_client_event_id uuid DEFAULT NULL
) RETURNS uuid LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    grp uuid;
    first_loc uuid;
BEGIN
    IF p_quantity IS NULL OR p_quantity <= 0 THEN
        RAISE EXCEPTION 'A transfer moves more than nothing' USING ERRCODE = '22023';
    END IF;
    IF p_from = p_to THEN
        RAISE EXCEPTION 'A transfer goes to another location' USING ERRCODE = '22023',
            HINT = 'Choose a different target location.';
    END IF;
    IF p_client_event_id IS NOT NULL THEN
        SELECT m.transfer_group_id INTO grp FROM public.stock_movements m
        WHERE m.organization_id = p_org AND m.client_event_id = p_client_event_id;
        IF FOUND THEN
            RETURN grp;  -- booked already: a retry lands once
        END IF;
    END IF;
    grp := gen_random_uuid();
    -- Lock both balances lowest id first, so opposite transfers queue instead of deadlocking.
    first_loc := least(p_from, p_to);
    INSERT INTO public.stock_movements (organization_id, inventory_item_id, location_id,
        movement_type, quantity, transfer_group_id, reference, note, client_event_id)
    SELECT p_org, p_item, x.loc, x.kind, x.qty, grp, p_reference, p_note, x.event
    FROM (VALUES (p_from, 'transfer_out', -p_quantity, p_client_event_id),
                 (p_to, 'transfer_in', p_quantity, NULL::uuid)) AS x (loc, kind, qty, event)
    ORDER BY x.loc = first_loc DESC;
    RETURN grp;
END
$$;
""".replace("DEFINER_", DEFINER)

TRIGGERS = """
CREATE TRIGGER stock_movements_balance_check BEFORE INSERT ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_stock_check();
CREATE TRIGGER stock_movements_balance_apply AFTER INSERT ON stock_movements
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_stock_apply();
"""

OWNED = ("tg_stock_check()", "tg_stock_apply()")
CALLABLE = (
    "transfer_stock(uuid, uuid, uuid, uuid, numeric, text, text, uuid)",
    "qty_text(numeric)",
)


def _events_check(events: Sequence[str]) -> str:
    quoted = ", ".join(f"'{e}'" for e in events)
    return f"""
ALTER TABLE notification_preferences DROP CONSTRAINT notification_preferences_event_check;
ALTER TABLE notification_preferences ADD CONSTRAINT notification_preferences_event_check
    CHECK (event IN ({quoted}));
"""


def upgrade() -> None:
    op.execute(TABLE)
    op.execute(FUNCTIONS)
    op.execute(TRIGGERS)
    # Balances of what the ledger holds already (an upgraded database with movements).
    op.execute("""
        INSERT INTO inventory_balances (organization_id, inventory_item_id, location_id, on_hand)
        SELECT organization_id, inventory_item_id, location_id, sum(quantity)
        FROM stock_movements GROUP BY 1, 2, 3""")
    for fn in OWNED + CALLABLE:
        op.execute(f"REVOKE EXECUTE ON FUNCTION fp_private.{fn} FROM PUBLIC")
    for fn in OWNED:
        op.execute(f"ALTER FUNCTION fp_private.{fn} OWNER TO fp_security")
    for fn in CALLABLE:
        op.execute(f"GRANT EXECUTE ON FUNCTION fp_private.{fn} TO fp_member")
    # The definer triggers (fp_security) write the refusal's words with it.
    op.execute("GRANT EXECUTE ON FUNCTION fp_private.qty_text(numeric) TO fp_security")
    op.execute(_events_check(EVENTS))


def downgrade() -> None:
    op.execute("DELETE FROM notification_preferences WHERE event = 'low_stock'")
    op.execute(_events_check(OLD_EVENTS))
    op.execute("DROP TRIGGER IF EXISTS stock_movements_balance_apply ON stock_movements")
    op.execute("DROP TRIGGER IF EXISTS stock_movements_balance_check ON stock_movements")
    for fn in reversed(OWNED + CALLABLE):
        op.execute(f"DROP FUNCTION IF EXISTS fp_private.{fn}")
    op.execute("DROP INDEX IF EXISTS stock_movements_recent_idx")
    op.execute("DROP INDEX IF EXISTS inventory_items_list_idx")
    op.execute("""
        DROP VIEW inventory_on_hand;
        CREATE VIEW inventory_on_hand WITH (security_invoker = true) AS
        SELECT m.organization_id, m.inventory_item_id, m.location_id, sum(m.quantity) AS quantity
        FROM stock_movements m
        GROUP BY m.organization_id, m.inventory_item_id, m.location_id;
        GRANT SELECT ON inventory_on_hand TO fp_member;
        GRANT SELECT ON inventory_on_hand TO fp_backup;
    """)
    op.execute("DROP TABLE IF EXISTS inventory_balances")
