"""The database server restarted (`pg_ctl restart` of the test cluster) while the app is idle,
then the lists of several pages load (RELIABILITY.md T-NET-01 across the product; the shell's
own read is in tests/db/test_connection_loss.py).

The session's cluster is restarted (as tests/db/test_connection_loss.py does): the fixture
starts it again if the test fails halfway. Nothing else runs in this process meanwhile.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from faults_support import owner_conn
from rls_support import org_id
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.runtime.embedded import EmbeddedCluster
from factorypulse_desktop.services import approvals, contacts, documents, messages, projects
from factorypulse_desktop.services.auth import sign_in


@pytest.fixture
def cluster(pg_cluster: EmbeddedCluster) -> Iterator[EmbeddedCluster]:
    """The session's cluster, running again after the test whatever happened."""
    try:
        yield pg_cluster
    finally:
        if not pg_cluster.is_running():
            pg_cluster.start()


def test_T_NET_01_lists_of_several_pages_load_after_a_server_restart(
        demo_db: Any, cluster: EmbeddedCluster) -> None:
    with owner_conn(demo_db) as conn:
        org = org_id(conn, "acme")
        row = conn.execute("SELECT project_id FROM messages WHERE organization_id = %s AND "
                           "project_id IS NOT NULL LIMIT 1", (org,)).fetchone()
    project: uuid.UUID | None = row[0] if row else None
    assert project is not None
    with sign_in(profile_for(demo_db), "acme.management", DEMO_PASSWORD) as ws:
        pages: dict[str, Callable[[], Any]] = {
            "projects": lambda: [r.id for r in projects.list_projects(ws, org).rows],
            "contacts": lambda: [r.id for r in contacts.list_contacts(ws, org).rows],
            "approvals": lambda: [i.id for i in approvals.inbox(ws, org)],
            "messages": lambda: [t.id for t in messages.threads(ws, org, project)],
            "documents": lambda: [d.id for d in documents.list_documents(
                ws, org, documents.DocumentQuery())],
        }
        before = {name: load() for name, load in pages.items()}
        assert before["projects"] and before["contacts"] and before["documents"]

        cluster.restart()  # while every page is idle

        for name, load in pages.items():
            started = time.monotonic()
            after = load()  # no error: pre-ping replaces the dead pooled connections
            seconds = time.monotonic() - started
            assert after == before[name], name
            assert seconds < 2.0, f"{name} took {seconds:.2f} s"
