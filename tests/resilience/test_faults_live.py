"""The LISTEN connection killed while 50 changes of several kinds happen (RELIABILITY.md
T-NET-04 across record types): the app's live updates (`ui.live.LiveUpdates` on its own
thread, the `ChangeFeed` inside) deliver every change once, in change-id order, after the
catch-up read -- projects, messages, approvals and documents alike.
"""

from __future__ import annotations

import functools
import uuid
from typing import Any

import psycopg
from faults_support import owner_conn
from psycopg.conninfo import make_conninfo
from pytestqt.qtbot import QtBot
from rls_support import org_id, person_conn

from factorypulse_desktop.domain.live import Change, FeedState
from factorypulse_desktop.services.live import ChangeFeed
from factorypulse_desktop.ui.events import ChangeBus
from factorypulse_desktop.ui.live import LiveUpdates

LISTENER = "fp-faults-listener"
FEED = functools.partial(ChangeFeed, backoff=(1.0, 0.1), poll_interval=30.0)
KINDS = ("projects", "messages", "approvals", "documents")


def _qa_chain(owner: psycopg.Connection[Any], org: uuid.UUID) -> None:
    owner.execute("DELETE FROM approval_chains WHERE organization_id = %s", (org,))
    chain = owner.execute(
        "INSERT INTO approval_chains (organization_id, chain_name, approval_type, entity_type) "
        "VALUES (%s, 'QA release', 'quality_review', 'project') RETURNING id", (org,)).fetchone()
    assert chain is not None
    step = owner.execute(
        "INSERT INTO approval_chain_steps (organization_id, chain_id, step_number, name, mode, "
        "required_approvals) VALUES (%s, %s, 1, 'QA', 'parallel', 1) RETURNING id",
        (org, chain[0])).fetchone()
    assert step is not None
    owner.execute(
        "INSERT INTO approval_chain_step_approvers (organization_id, chain_step_id, role, "
        "position) VALUES (%s, %s, 'qa', 1)", (org, step[0]))


def _fifty_changes(writer: psycopg.Connection[Any], org: uuid.UUID) -> None:
    """50 committed changes from another client, of four kinds, interleaved."""
    projects = [r[0] for r in writer.execute(
        "SELECT id FROM projects WHERE organization_id = %s ORDER BY id LIMIT 5", (org,))]
    documents = [r[0] for r in writer.execute(
        "SELECT id FROM documents WHERE organization_id = %s ORDER BY id LIMIT 5", (org,))]
    assert projects and documents
    for i in range(50):
        kind = KINDS[i % len(KINDS)]
        project = projects[i % len(projects)]
        if kind == "projects":
            writer.execute("UPDATE projects SET title = title WHERE id = %s", (project,))
        elif kind == "messages":
            writer.execute(
                "INSERT INTO messages (organization_id, project_id, subject, content, "
                "recipient_type, message_type) VALUES (%s, %s, 'Fault test', %s, 'project', "
                "'internal')", (org, project, f"Change {i} while the listener is down"))
        elif kind == "approvals":
            writer.execute(
                "SELECT fp_private.request_approval(%s, %s, 'quality_review', %s, 'project', "
                "%s, NULL, NULL, NULL, NULL, 'Fault test')",
                (org, uuid.uuid4(), f"Release {i}", project))
        else:
            writer.execute("UPDATE documents SET title = title WHERE id = %s",
                           (documents[i % len(documents)],))


def test_T_NET_04_listener_killed_during_50_changes_of_four_kinds(
        qtbot: QtBot, demo_db: Any) -> None:
    live = LiveUpdates(FEED)
    bus = ChangeBus()
    live.sig_changes.connect(bus.publish)
    delivered: list[Change] = []
    live.sig_changes.connect(delivered.extend)
    per_page: dict[str, list[uuid.UUID]] = {kind: [] for kind in KINDS}
    for kind in KINDS:
        bus.subscribe(kind, per_page[kind].extend)
    states: list[FeedState] = []
    live.sig_state.connect(states.append)
    conninfo = make_conninfo(demo_db.conninfo_for("acme.management"), application_name=LISTENER)
    try:
        with qtbot.waitSignal(live.sig_state, timeout=5000,
                              check_params_cb=lambda s: s is FeedState.ONLINE):
            live.start(conninfo, last_seen=None)
        with (owner_conn(demo_db, autocommit=True) as owner,
              person_conn(demo_db, "acme.admin", autocommit=True) as writer):
            org = org_id(owner, "acme")
            _qa_chain(owner, org)
            head = owner.execute("SELECT coalesce(max(id), 0) FROM change_log").fetchone()
            assert head is not None
            killed = owner.execute(
                "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity "
                "WHERE application_name = %s", (LISTENER,)).fetchall()
            assert killed == [(True,)]
            qtbot.waitUntil(lambda: FeedState.RECONNECTING in states, timeout=5000)
            _fifty_changes(writer, org)
            expected = owner.execute(
                "SELECT id, entity_type FROM change_log WHERE id > %s AND organization_id = %s "
                "ORDER BY id", (head[0], org)).fetchall()
        kinds = {kind for _id, kind in expected}
        assert set(KINDS) <= kinds, kinds
        assert len(expected) >= 50
        def after_the_kill() -> list[int]:  # (the chain's rows arrived live before it)
            return [c.id for c in delivered if c.id > head[0]]

        qtbot.waitUntil(lambda: len(after_the_kill()) >= len(expected), timeout=10000)
        qtbot.wait(300)  # nothing more may come
        assert after_the_kill() == [i for i, _k in expected]  # 0 missed, in order
        ids = [c.id for c in delivered]
        assert len(ids) == len(set(ids)), "0 applied twice"
        assert states == [FeedState.CONNECTING, FeedState.ONLINE, FeedState.RECONNECTING,
                          FeedState.ONLINE]
        assert live.last_seen == expected[-1][0]
        for kind in KINDS:  # each page heard of its own records
            assert per_page[kind], kind
    finally:
        live.stop()
    assert states[-1] is FeedState.OFFLINE
