"""A station scan during an outage (RELIABILITY.md T-NET-03 on the shop floor): the network cut
by the test's TCP proxy, or the COMMIT's answer lost -- the scan is reported offline, queued in
the outbox, and booked exactly once when replayed (each event has its own client id)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from faults_support import (
    acme,
    answer_lost_after_commit,
    count,
    signed,
    tcp_profile,
    tcp_proxy,
)
from production_support import make_order
from tcp_proxy import TcpProxy

from factorypulse_desktop.runtime.embedded import EmbeddedCluster
from factorypulse_desktop.services import production, station
from factorypulse_desktop.services.outbox import Outbox
from factorypulse_desktop.services.station import StationEvent, StationOffline


@pytest.fixture
def proxy(pg_cluster: EmbeddedCluster) -> Iterator[TcpProxy]:
    with tcp_proxy(pg_cluster) as running:
        yield running


def production_events(db: Any, order: uuid.UUID, kind: str) -> int:
    return count(db, "SELECT count(*) FROM production_events WHERE production_order_id = %s "
                 "AND event_type = %s", order, kind)


def test_T_NET_03_station_scan_during_an_outage_is_queued_and_booked_once(
        demo_db: Any, proxy: TcpProxy, tmp_path: Path) -> None:
    org = acme(demo_db)
    outbox = Outbox(tmp_path / "station.jsonl")
    with signed(demo_db, "acme.production", tcp_profile(demo_db, proxy)) as ws:
        setup = make_order(ws, demo_db, org, quantity=4)
        production.release(ws, org, setup.order,
                           production.detail(ws, org, setup.order).order.version)
        start = StationEvent("start", setup.order, setup.operations[0])
        proxy.cut()  # the network goes while the operator scans
        with pytest.raises(StationOffline, match="connection to the database was lost"):
            station.send(ws, org, start)
        outbox.append(start)  # what the station window does with StationOffline
        assert production_events(demo_db, setup.order, "start") == 0
        proxy.resume()
        report = outbox.replay(ws, org)
        assert (report.applied, report.conflicts, report.remaining) == (1, (), 0)
        # The same scan sent once more (the operator pressed again): booked once.
        assert station.send(ws, org, start).replayed
    assert production_events(demo_db, setup.order, "start") == 1


def test_T_NET_03_station_scan_answer_lost_is_queued_and_booked_once(
        demo_db: Any, tmp_path: Path) -> None:
    org = acme(demo_db)
    outbox = Outbox(tmp_path / "station.jsonl")
    with signed(demo_db, "acme.production") as ws:
        setup = make_order(ws, demo_db, org, quantity=4)
        production.release(ws, org, setup.order,
                           production.detail(ws, org, setup.order).order.version)
        issue = StationEvent("issue", setup.order, item_id=setup.item, quantity=Decimal(3))
        with (answer_lost_after_commit(demo_db, ws, r"issue_material") as trap,
              pytest.raises(StationOffline)):
            station.send(ws, org, issue)
        assert trap.fired
        outbox.append(issue)
        report = outbox.replay(ws, org)
        assert (report.applied, report.remaining) == (1, 0)
        [material] = production.detail(ws, org, setup.order).materials
    assert material.quantity_issued == Decimal(3), "issued once, not twice"
