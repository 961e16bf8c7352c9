"""A project's detail form saved with the version it was loaded at, cut before COMMIT or with
its answer lost (RELIABILITY.md T-NET-03): nothing is stored twice, and Save pressed again
after a save that did land is not reported as a conflict with oneself."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from faults_support import (
    NOT_STORED,
    a_project,
    acme,
    answer_lost_after_commit,
    count,
    killed_before_commit,
    signed,
)

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import project_detail as pd


def test_T_NET_03_project_save_cut_before_commit_keeps_the_version(demo_db: Any) -> None:
    org = acme(demo_db)
    project = a_project(demo_db, org)
    with signed(demo_db, "acme.management") as ws:
        loaded = pd.load_project(ws, project)
        edit = dataclasses.replace(loaded.edit, title="Cut before the commit")
        with (killed_before_commit(demo_db, ws, r"UPDATE projects SET") as trap,
              pytest.raises(UserFacingError, match=NOT_STORED)):
            pd.save_project(ws, project, loaded.version, edit)
        assert trap.fired
        assert pd.load_project(ws, project).version == loaded.version, "nothing stored"
        saved = pd.save_project(ws, project, loaded.version, edit)  # the form, sent again
        after = pd.load_project(ws, project)
    assert saved == after.version > loaded.version and after.title == "Cut before the commit"


def test_T_NET_03_project_save_answer_lost_is_not_a_false_conflict(demo_db: Any) -> None:
    org = acme(demo_db)
    project = a_project(demo_db, org)
    with signed(demo_db, "acme.management") as ws:
        loaded = pd.load_project(ws, project)
        edit = dataclasses.replace(loaded.edit, title="Saved while the answer was lost",
                                   notes="kept")
        with answer_lost_after_commit(demo_db, ws, r"UPDATE projects SET") as trap:
            landed = pd.save_project(ws, project, loaded.version, edit)
        assert trap.fired
        # Save pressed again with the version the form was loaded at: it is my own save, not
        # someone else's -- no conflict dialog, and nothing saved a second time.
        again = pd.save_project(ws, project, loaded.version, edit)
        current = pd.load_project(ws, project)
    assert landed == again == current.version
    assert current.title == "Saved while the answer was lost" and current.notes == "kept"
    assert count(demo_db, "SELECT count(*) FROM change_log WHERE entity_type = 'projects' AND "
                 "entity_id = %s AND row_version > %s", project, loaded.version) == 1


def test_a_stale_save_after_someone_else_saved_is_still_a_conflict(demo_db: Any) -> None:
    """The landed check recognizes only my own save of exactly these values."""
    org = acme(demo_db)
    project = a_project(demo_db, org)
    with signed(demo_db, "acme.management") as ws, signed(demo_db, "acme.admin") as other:
        loaded = pd.load_project(ws, project)
        same = dataclasses.replace(loaded.edit, title="Both typed this")
        pd.save_project(other, project, loaded.version, same)
        with pytest.raises(pd.ProjectConflictError):
            pd.save_project(ws, project, loaded.version, same)



def test_T_NET_03_my_landed_save_is_found_after_someone_else_saved_on_top(
        demo_db: Any) -> None:
    """Found by the review of `landed`: my save landed with its answer lost, and before the
    app asked, a colleague saved too. The app said "nothing was stored" (the project no
    longer held my values); it must say my save landed, and the colleague's save then shows
    as a conflict, not as my lost work."""
    from faults_support import owner_conn
    from sqlalchemy import event

    org = acme(demo_db)
    project = a_project(demo_db, org)
    with signed(demo_db, "acme.management") as ws:
        loaded = pd.load_project(ws, project)
        edit = dataclasses.replace(loaded.edit, title="Mine, landed, answer lost")
        with answer_lost_after_commit(demo_db, ws, r"UPDATE projects SET") as trap:
            def colleague_saves_meanwhile(_conn: Any) -> None:
                if trap.fired:
                    with owner_conn(demo_db) as owner:
                        owner.execute("UPDATE projects SET notes = 'colleague' WHERE id = %s",
                                      (project,))

            event.listen(ws.engine, "handle_error", colleague_saves_meanwhile)
            try:
                landed = pd.save_project(ws, project, loaded.version, edit)
            finally:
                event.remove(ws.engine, "handle_error", colleague_saves_meanwhile)
        assert trap.fired
        assert landed == loaded.version + 1
        current = pd.load_project(ws, project)
        assert current.version == loaded.version + 2 and current.title == edit.title
        with pytest.raises(UserFacingError):  # the colleague's save is theirs: a conflict
            pd.save_project(ws, project, landed, dataclasses.replace(edit, title="Next"))
