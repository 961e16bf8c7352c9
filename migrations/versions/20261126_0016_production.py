"""Production orders, operations and the shop-floor station's events.

A production order moves planned → released → in_progress ⇄ on_hold → completed, or to
cancelled from any open status; the database holds the rule (``tg_production_order_rules``)
and stamps ``actual_start``/``actual_end``. Operations are started, paused and completed only
through the station path, ``fp_private.record_production_event``: it is idempotent on the
client's event id (a station replaying its offline outbox books nothing twice), moves the
operation and its order, adds good and scrapped quantities and records who worked: the
operator is the person whose badge was scanned (their membership's ``employee_id`` is the
badge), the signed-in station login stays the database actor (``change_log.actor_id``).
Persons no longer insert ``production_events`` directly, so an event always went through the
rules. ``fp_private.issue_material`` books a material issue into the stock ledger
(``stock_movements``, negative quantity) and adds it to the order's material line, also
exactly once per client event id.

The owner (demo seed, command line: ``my_person_id() IS NULL``) is not held to these rules.
The order and operation triggers run with the caller's rights (not SECURITY DEFINER) so that
``current_user = 'fp_security'`` tells the station functions' own updates from a person's.

Revision ID: 20261126_0016
Revises: 20261126_0015
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "20261126_0016"
down_revision: str | None = "20261126_0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATION_ROLES = "'{admin,management,production,qa}'::public.user_role[]"
STORES_ROLES = "'{admin,management,production}'::public.user_role[]"
OLD_EVENT_INSERT = ("organization_id = ANY ((SELECT fp_private.my_org_ids_with_role("
                    "'{admin,management,production,qa}'::public.user_role[]))::uuid[])")

RULES = r"""
-- Order status flow. Invoker rights: current_user is fp_security only inside our definer
-- functions, which are the one way completed and scrapped quantities change.
CREATE FUNCTION fp_private.tg_production_order_rules() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
DECLARE
    station boolean := current_user = 'fp_security';
    open_ops integer;
BEGIN
    IF fp_private.my_person_id() IS NULL THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status <> 'planned' OR NEW.completed_quantity <> 0 OR NEW.scrapped_quantity <> 0
           OR NEW.actual_start IS NOT NULL OR NEW.actual_end IS NOT NULL THEN
            RAISE EXCEPTION 'A new production order starts as planned, with nothing made yet'
                USING ERRCODE = '22023';
        END IF;
        RETURN NEW;
    END IF;
    IF NOT station AND (NEW.completed_quantity <> OLD.completed_quantity
                        OR NEW.scrapped_quantity <> OLD.scrapped_quantity
                        OR NEW.actual_start IS DISTINCT FROM OLD.actual_start
                        OR NEW.actual_end IS DISTINCT FROM OLD.actual_end) THEN
        RAISE EXCEPTION 'Made and scrapped quantities and actual times are booked from the shop floor'
            USING ERRCODE = '42501';
    END IF;
    IF OLD.status IN ('completed', 'cancelled') THEN
        RAISE EXCEPTION 'Production order % is % and can no longer be changed',
            OLD.production_number, replace(OLD.status, '_', ' ') USING ERRCODE = 'FP409';
    END IF;
    IF NEW.status IS DISTINCT FROM OLD.status THEN
        IF NOT (OLD.status, NEW.status) IN (
                ('planned', 'released'), ('planned', 'cancelled'),
                ('released', 'planned'), ('released', 'in_progress'), ('released', 'on_hold'),
                ('released', 'cancelled'),
                ('in_progress', 'on_hold'), ('in_progress', 'completed'),
                ('in_progress', 'cancelled'),
                ('on_hold', 'in_progress'), ('on_hold', 'released'), ('on_hold', 'cancelled')) THEN
            RAISE EXCEPTION 'A production order cannot go from % to %',
                replace(OLD.status, '_', ' '), replace(NEW.status, '_', ' ')
                USING ERRCODE = '22023';
        END IF;
        IF NEW.status = 'completed' THEN
            SELECT count(*) INTO open_ops FROM production_operations o
            WHERE o.organization_id = NEW.organization_id AND o.production_order_id = NEW.id
              AND o.status NOT IN ('completed', 'skipped');
            IF open_ops > 0 THEN
                RAISE EXCEPTION 'Production order % still has % open operation(s)',
                    NEW.production_number, open_ops USING ERRCODE = '22023',
                    HINT = 'It completes when its last operation is completed at the station.';
            END IF;
            NEW.actual_end := now();
        END IF;
        IF NEW.status = 'in_progress' THEN
            NEW.actual_start := coalesce(OLD.actual_start, now());
        END IF;
    END IF;
    RETURN NEW;
END
$$;

-- Operations change status only at the station (fp_private.record_production_event); a
-- planner may still add, rename or skip operations of an open order.
CREATE FUNCTION fp_private.tg_production_operation_rules() RETURNS trigger
LANGUAGE plpgsql SET search_path = pg_catalog, public AS $$
BEGIN
    IF fp_private.my_person_id() IS NULL OR current_user = 'fp_security' THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'INSERT' THEN
        IF NEW.status NOT IN ('pending', 'skipped') THEN
            RAISE EXCEPTION 'A new operation starts as pending' USING ERRCODE = '22023';
        END IF;
    ELSIF NEW.status IS DISTINCT FROM OLD.status
          AND NOT (OLD.status = 'pending' AND NEW.status = 'skipped') THEN
        RAISE EXCEPTION 'Operations are started, paused and completed at the shop-floor station'
            USING ERRCODE = '42501';
    ELSIF NEW.production_order_id <> OLD.production_order_id THEN
        RAISE EXCEPTION 'An operation stays with its production order' USING ERRCODE = '42501';
    END IF;
    RETURN NEW;
END
$$;

-- Production numbers MO-YYMMDD-N, per organization and day, under a transaction lock.
CREATE FUNCTION fp_private.tg_production_number() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    prefix text;
    n integer;
BEGIN
    IF coalesce(btrim(NEW.production_number), '') <> '' THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock(hashtextextended('production_number:' || NEW.organization_id, 0));
    prefix := 'MO-' || to_char(now(), 'YYMMDD') || '-';
    SELECT coalesce(max(substr(p.production_number, length(prefix) + 1)::integer), 0) + 1
      INTO n
      FROM production_orders p
     WHERE p.organization_id = NEW.organization_id
       AND p.production_number LIKE prefix || '%'
       AND substr(p.production_number, length(prefix) + 1) ~ '^[0-9]{1,9}$';
    NEW.production_number := prefix || n;
    RETURN NEW;
END
$$;

-- Releasing an order reserves what its materials still need; going back to planned, or
-- ending the order, frees it. Issuing lowers the reservation (issue_material).
CREATE FUNCTION fp_private.tg_production_reservations() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
BEGIN
    UPDATE public.production_order_materials m
    SET quantity_reserved = CASE WHEN NEW.status = 'released' AND OLD.status = 'planned'
                                 THEN greatest(m.quantity_required - m.quantity_issued, 0)
                                 ELSE 0 END
    WHERE m.organization_id = NEW.organization_id AND m.production_order_id = NEW.id;
    RETURN NULL;
END
$$;
CREATE TRIGGER production_orders_reservations AFTER UPDATE OF status ON production_orders
    FOR EACH ROW WHEN ((NEW.status = 'released' AND OLD.status = 'planned')
                       OR NEW.status IN ('planned', 'completed', 'cancelled'))
    EXECUTE FUNCTION fp_private.tg_production_reservations();
CREATE TRIGGER production_orders_number BEFORE INSERT ON production_orders
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_production_number();
CREATE TRIGGER production_orders_rules BEFORE INSERT OR UPDATE ON production_orders
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_production_order_rules();
CREATE TRIGGER production_operations_rules BEFORE INSERT OR UPDATE ON production_operations
    FOR EACH ROW EXECUTE FUNCTION fp_private.tg_production_operation_rules();
"""

STATION = rf"""
-- The station path. One call = one scan; p_client_event_id makes a replay land once: the
-- second call returns the first result (replayed = true) and books nothing.
CREATE FUNCTION fp_private.record_production_event(
    p_org uuid, p_client_event_id uuid, p_order uuid, p_operation uuid, p_event_type text,
    p_quantity numeric, p_scrap numeric, p_minutes numeric, p_operator_badge text,
    p_note text, p_occurred_at timestamptz)
RETURNS TABLE (event_id uuid, operation_status text, order_status text, replayed boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    me uuid := fp_private.my_person_id();
    operator uuid;
    o production_orders%ROWTYPE;
    op production_operations%ROWTYPE;
    prior production_events%ROWTYPE;
    at timestamptz := least(coalesce(p_occurred_at, now()), now());
    kind text;
    worked numeric;
    last_seq integer;
    new_id uuid;
BEGIN
    IF me IS NULL OR NOT p_org = ANY (fp_private.my_org_ids_with_role({STATION_ROLES})) THEN
        RAISE EXCEPTION 'Only production, QA and managers record shop-floor events'
            USING ERRCODE = '42501';
    END IF;
    IF p_client_event_id IS NULL THEN
        RAISE EXCEPTION 'The station sent no event id' USING ERRCODE = '22023';
    END IF;
    -- Serialize the station's calls per order: two scans of one operation cannot both win.
    SELECT * INTO o FROM production_orders
     WHERE organization_id = p_org AND id = p_order FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'This production order does not exist' USING ERRCODE = '42704';
    END IF;
    SELECT * INTO prior FROM production_events
     WHERE organization_id = p_org AND client_event_id = p_client_event_id;
    IF FOUND THEN
        SELECT status INTO kind FROM production_operations
         WHERE organization_id = p_org AND id = prior.operation_id;
        RETURN QUERY SELECT prior.id, kind, o.status, true;
        RETURN;
    END IF;
    IF p_event_type NOT IN ('start', 'pause', 'complete', 'good_quantity', 'scrap', 'note') THEN
        RAISE EXCEPTION 'Unknown station action "%"', p_event_type USING ERRCODE = '22023';
    END IF;
    IF coalesce(p_quantity, 0) < 0 OR coalesce(p_scrap, 0) < 0 OR coalesce(p_minutes, 0) < 0 THEN
        RAISE EXCEPTION 'Quantities and minutes cannot be negative' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO op FROM production_operations
     WHERE organization_id = p_org AND id = p_operation AND production_order_id = p_order
       FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'This operation is not part of production order %', o.production_number
            USING ERRCODE = '42704';
    END IF;
    IF nullif(btrim(p_operator_badge), '') IS NULL THEN
        operator := me;
    ELSE
        SELECT m.person_id INTO operator FROM memberships m
          JOIN persons pe ON pe.id = m.person_id
         WHERE m.organization_id = p_org AND m.employee_id = btrim(p_operator_badge)
           AND m.status = 'active' AND pe.status = 'active'
           AND m.role NOT IN ('customer', 'supplier');
        IF operator IS NULL THEN
            RAISE EXCEPTION 'No one in this organization has badge %', btrim(p_operator_badge)
                USING ERRCODE = '22023', HINT = 'Scan your badge again or ask a supervisor.';
        END IF;
    END IF;
    IF o.status IN ('completed', 'cancelled') THEN
        RAISE EXCEPTION 'Production order % is already %', o.production_number,
            o.status USING ERRCODE = 'FP409';
    ELSIF o.status = 'on_hold' AND p_event_type <> 'note' THEN
        RAISE EXCEPTION 'Production order % is on hold', o.production_number
            USING ERRCODE = 'FP409', HINT = 'A supervisor resumes it first.';
    ELSIF o.status = 'planned' AND p_event_type <> 'note' THEN
        RAISE EXCEPTION 'Production order % is not released yet', o.production_number
            USING ERRCODE = '22023', HINT = 'A planner releases it first.';
    END IF;
    IF op.status = 'completed' AND p_event_type <> 'note' THEN
        RAISE EXCEPTION 'Operation % of % was already completed by someone else', op.sequence,
            o.production_number USING ERRCODE = 'FP409';
    ELSIF op.status = 'skipped' AND p_event_type <> 'note' THEN
        RAISE EXCEPTION 'Operation % of % was skipped', op.sequence, o.production_number
            USING ERRCODE = 'FP409';
    END IF;

    -- Minutes worked since this operation was last started or resumed, unless the station
    -- says how long.
    IF p_event_type IN ('pause', 'complete') AND op.status = 'in_progress' THEN
        SELECT round(extract(epoch FROM at - max(e.occurred_at)) / 60.0, 2) INTO worked
          FROM production_events e
         WHERE e.organization_id = p_org AND e.operation_id = op.id
           AND e.event_type IN ('start', 'resume');
    END IF;
    worked := greatest(coalesce(p_minutes, worked), 0);

    kind := p_event_type;
    IF p_event_type = 'start' THEN
        IF op.status = 'in_progress' THEN
            RAISE EXCEPTION 'Operation % of % is already running', op.sequence,
                o.production_number USING ERRCODE = 'FP409';
        END IF;
        kind := CASE WHEN op.status = 'paused' THEN 'resume' ELSE 'start' END;
        UPDATE production_operations SET status = 'in_progress'
         WHERE organization_id = p_org AND id = op.id;
        IF o.status = 'released' THEN
            UPDATE production_orders SET status = 'in_progress'
             WHERE organization_id = p_org AND id = o.id;
        END IF;
    ELSIF p_event_type = 'pause' THEN
        IF op.status <> 'in_progress' THEN
            RAISE EXCEPTION 'Operation % of % is not running', op.sequence, o.production_number
                USING ERRCODE = 'FP409';
        END IF;
        UPDATE production_operations SET status = 'paused'
         WHERE organization_id = p_org AND id = op.id;
    ELSIF p_event_type = 'complete' THEN
        IF op.status = 'pending' THEN
            RAISE EXCEPTION 'Operation % of % has not been started', op.sequence,
                o.production_number USING ERRCODE = '22023', HINT = 'Start it first.';
        END IF;
        UPDATE production_operations SET status = 'completed'
         WHERE organization_id = p_org AND id = op.id;
    ELSIF p_event_type IN ('good_quantity', 'scrap') AND op.status = 'pending' THEN
        RAISE EXCEPTION 'Operation % of % has not been started', op.sequence,
            o.production_number USING ERRCODE = '22023', HINT = 'Start it first.';
    END IF;

    INSERT INTO production_events (organization_id, production_order_id, operation_id,
                                   event_type, quantity, minutes, operator_id, occurred_at,
                                   client_event_id, note)
    VALUES (p_org, o.id, op.id, kind,
            CASE WHEN kind = 'scrap' THEN coalesce(p_scrap, p_quantity)
                 WHEN kind IN ('complete', 'good_quantity') THEN coalesce(p_quantity, 0) END,
            CASE WHEN kind IN ('pause', 'complete') THEN worked ELSE p_minutes END,
            operator, at, p_client_event_id, nullif(btrim(p_note), ''))
    RETURNING id INTO new_id;
    -- Scrap reported with a completion is its own event; its id derives from the scan's.
    IF kind = 'complete' AND coalesce(p_scrap, 0) > 0 THEN
        INSERT INTO production_events (organization_id, production_order_id, operation_id,
                                       event_type, quantity, operator_id, occurred_at,
                                       client_event_id)
        VALUES (p_org, o.id, op.id, 'scrap', p_scrap, operator, at,
                md5(p_client_event_id::text || '/scrap')::uuid);
    END IF;

    -- Good parts count for the order at its last operation; scrap counts wherever it falls.
    SELECT max(x.sequence) INTO last_seq FROM production_operations x
     WHERE x.organization_id = p_org AND x.production_order_id = o.id AND x.status <> 'skipped';
    UPDATE production_orders
       SET completed_quantity = completed_quantity + CASE
               WHEN kind IN ('complete', 'good_quantity') AND op.sequence = last_seq
               THEN coalesce(p_quantity, 0) ELSE 0 END,
           scrapped_quantity = scrapped_quantity + CASE
               WHEN kind = 'scrap' THEN coalesce(p_scrap, p_quantity, 0)
               WHEN kind = 'complete' THEN coalesce(p_scrap, 0) ELSE 0 END
     WHERE organization_id = p_org AND id = o.id;
    IF kind = 'complete' AND NOT EXISTS (
            SELECT 1 FROM production_operations x
             WHERE x.organization_id = p_org AND x.production_order_id = o.id
               AND x.status NOT IN ('completed', 'skipped')) THEN
        UPDATE production_orders SET status = 'completed'
         WHERE organization_id = p_org AND id = o.id;
    END IF;
    RETURN QUERY
        SELECT new_id, x.status, y.status, false
          FROM production_operations x, production_orders y
         WHERE x.organization_id = p_org AND x.id = op.id
           AND y.organization_id = p_org AND y.id = o.id;
END
$$;

-- Issue material to an order: one 'issue' row in the stock ledger (negative quantity, the
-- ledger's sign convention) and the order's material line, once per client event id.
CREATE FUNCTION fp_private.issue_material(
    p_org uuid, p_client_event_id uuid, p_order uuid, p_item uuid, p_quantity numeric,
    p_location uuid)
RETURNS TABLE (movement_id uuid, quantity_issued numeric, replayed boolean)
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    me uuid := fp_private.my_person_id();
    o production_orders%ROWTYPE;
    it inventory_items%ROWTYPE;
    mat production_order_materials%ROWTYPE;
    prior stock_movements%ROWTYPE;
    place uuid;
    new_id uuid;
BEGIN
    IF me IS NULL OR NOT p_org = ANY (fp_private.my_org_ids_with_role({STORES_ROLES})) THEN
        RAISE EXCEPTION 'Only production and managers issue material to production'
            USING ERRCODE = '42501';
    END IF;
    IF p_client_event_id IS NULL THEN
        RAISE EXCEPTION 'The station sent no event id' USING ERRCODE = '22023';
    END IF;
    SELECT * INTO o FROM production_orders
     WHERE organization_id = p_org AND id = p_order FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'This production order does not exist' USING ERRCODE = '42704';
    END IF;
    SELECT * INTO prior FROM stock_movements
     WHERE organization_id = p_org AND client_event_id = p_client_event_id;
    IF FOUND THEN
        SELECT m.quantity_issued INTO mat.quantity_issued FROM production_order_materials m
         WHERE m.organization_id = p_org AND m.production_order_id = o.id
           AND m.inventory_item_id = prior.inventory_item_id;
        RETURN QUERY SELECT prior.id, mat.quantity_issued, true;
        RETURN;
    END IF;
    IF p_quantity IS NULL OR p_quantity <= 0 THEN
        RAISE EXCEPTION 'Enter a quantity above zero to issue' USING ERRCODE = '22023';
    END IF;
    IF o.status NOT IN ('released', 'in_progress') THEN
        RAISE EXCEPTION 'Material is issued to released or running orders; % is %',
            o.production_number, replace(o.status, '_', ' ') USING ERRCODE = 'FP409';
    END IF;
    SELECT * INTO it FROM inventory_items WHERE organization_id = p_org AND id = p_item;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'This item does not exist' USING ERRCODE = '42704';
    END IF;
    SELECT * INTO mat FROM production_order_materials m
     WHERE m.organization_id = p_org AND m.production_order_id = o.id
       AND m.inventory_item_id = p_item FOR UPDATE;
    IF NOT FOUND THEN
        RAISE EXCEPTION '% is not on the material list of %', it.item_code, o.production_number
            USING ERRCODE = '22023';
    END IF;
    place := coalesce(p_location, it.default_location_id);
    IF place IS NULL THEN
        RAISE EXCEPTION 'Say which store location % is taken from', it.item_code
            USING ERRCODE = '22023';
    END IF;
    INSERT INTO stock_movements (organization_id, inventory_item_id, location_id, movement_type,
                                 quantity, unit_cost, production_order_id, reference, note,
                                 moved_by, client_event_id)
    VALUES (p_org, p_item, place, 'issue', -p_quantity, it.unit_cost, o.id,
            o.production_number, 'Issued at the shop-floor station', me, p_client_event_id)
    RETURNING id INTO new_id;
    UPDATE production_order_materials m
       SET quantity_issued = m.quantity_issued + p_quantity,
           quantity_reserved = greatest(m.quantity_reserved - p_quantity, 0)
     WHERE m.organization_id = p_org AND m.id = mat.id;
    RETURN QUERY SELECT new_id, mat.quantity_issued + p_quantity, false;
END
$$;
"""

RECORD_SIG = ("record_production_event(uuid, uuid, uuid, uuid, text, numeric, numeric, "
              "numeric, text, text, timestamptz)")
ISSUE_SIG = "issue_material(uuid, uuid, uuid, uuid, numeric, uuid)"
INTERNAL_FNS = ("tg_production_order_rules()", "tg_production_operation_rules()",
                "tg_production_number()", "tg_production_reservations()")


def upgrade() -> None:
    op.execute(RULES)
    op.execute(STATION)
    for fn in (*INTERNAL_FNS, RECORD_SIG, ISSUE_SIG):
        op.execute(f"REVOKE EXECUTE ON FUNCTION fp_private.{fn} FROM PUBLIC")
        op.execute(f"ALTER FUNCTION fp_private.{fn} OWNER TO fp_security")
    for fn in (RECORD_SIG, ISSUE_SIG):
        op.execute(f"GRANT EXECUTE ON FUNCTION fp_private.{fn} TO fp_member")
    # Events go through the station path only; it sets the operator from the badge.
    op.execute("ALTER POLICY production_events_insert ON production_events WITH CHECK (false)")
    op.execute("REVOKE INSERT ON production_events FROM fp_member")
    op.execute("DROP TRIGGER IF EXISTS production_events_stamp_actor ON production_events")
    # The station finds an operator by badge (employee_id) in one index probe.
    op.execute("CREATE INDEX memberships_badge_idx ON memberships (organization_id, employee_id) "
               "WHERE employee_id IS NOT NULL")


def downgrade() -> None:
    op.execute("DROP INDEX IF EXISTS memberships_badge_idx")
    op.execute("CREATE TRIGGER production_events_stamp_actor BEFORE INSERT ON production_events "
               "FOR EACH ROW EXECUTE FUNCTION fp_private.tg_stamp_actor('operator_id')")
    op.execute("GRANT INSERT ON production_events TO fp_member")
    op.execute(f"ALTER POLICY production_events_insert ON production_events "
               f"WITH CHECK ({OLD_EVENT_INSERT})")
    op.execute("DROP TRIGGER IF EXISTS production_operations_rules ON production_operations")
    op.execute("DROP TRIGGER IF EXISTS production_orders_rules ON production_orders")
    op.execute("DROP TRIGGER IF EXISTS production_orders_number ON production_orders")
    op.execute("DROP TRIGGER IF EXISTS production_orders_reservations ON production_orders")
    op.execute(f"DROP FUNCTION IF EXISTS fp_private.{ISSUE_SIG}")
    op.execute(f"DROP FUNCTION IF EXISTS fp_private.{RECORD_SIG}")
    for fn in INTERNAL_FNS:
        op.execute(f"DROP FUNCTION IF EXISTS fp_private.{fn}")
