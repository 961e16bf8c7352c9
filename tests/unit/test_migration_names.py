"""The fast schema check (file names) agrees with Alembic's own view of the history."""

from __future__ import annotations

from alembic.script import ScriptDirectory

from factorypulse_desktop.data import migrate


def test_revision_file_names_match_alembic_and_history_is_linear() -> None:
    script = ScriptDirectory.from_config(migrate.alembic_config(""))
    assert script.get_heads() == [migrate.head_revision()]
    assert migrate.known_revisions() == {rev.revision for rev in script.walk_revisions()}
    for rev in script.walk_revisions():
        down = rev.down_revision
        assert down is None or isinstance(down, str), "no merges: history stays linear"
        assert rev.revision > (down or ""), "date-prefixed ids grow along the history"
