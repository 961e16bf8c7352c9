"""The `factorypulse` command against a real database: happy paths and clear refusals."""

from __future__ import annotations

import io
import sys
import uuid
from typing import Any

import psycopg
import pytest
from rls_support import owner_conn

from factorypulse_desktop import __version__
from factorypulse_desktop.cli import main


def run(args: list[str], capsys: pytest.CaptureFixture[str], stdin: str = "",
        monkeypatch: pytest.MonkeyPatch | None = None) -> tuple[int, str, str]:
    if monkeypatch is not None:
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    code = main(args)
    out, err = capsys.readouterr()
    return code, out, err


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert __version__ in capsys.readouterr().out


def test_org_and_person_commands(
    migrated_db: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = ["--database-url", migrated_db.owner_url]
    code, out, err = run(["db", "status", *url], capsys)
    assert code == 0 and "Up to date" in out, err
    code, out, err = run(["org", "create", "--slug", "northwind", "--name", "Northwind", *url],
                         capsys)
    assert code == 0, err
    username = f"nw.admin{uuid.uuid4().hex[:6]}"
    code, out, err = run(
        ["person", "add", "--org", "northwind", "--username", username, "--role", "admin",
         "--password-stdin", *url], capsys, stdin="s3cret-password\n", monkeypatch=monkeypatch)
    assert code == 0, err
    assert username in out
    with psycopg.connect(migrated_db.conninfo_for(username, "s3cret-password")) as conn:
        assert conn.execute("SELECT slug FROM organizations").fetchall() == [("northwind",)]


def _refused(code: int, err: str) -> None:
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err


def test_bad_input_gets_one_clear_line_and_creates_nothing(
    demo_db: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = ["--database-url", demo_db.owner_url]
    fresh = f"fresh.user{uuid.uuid4().hex[:6]}"

    def person_add(*extra: str, stdin: str = "long-enough-pw\n") -> tuple[int, str, str]:
        return run(["person", "add", "--password-stdin", *extra, *url], capsys,
                   stdin=stdin, monkeypatch=monkeypatch)

    code, _, err = person_add("--org", "nosuch", "--username", fresh, "--role", "sales")
    _refused(code, err)
    assert 'no organization "nosuch"' in err
    code, _, err = person_add("--org", "acme", "--username", "acme.sales", "--role", "sales")
    _refused(code, err)
    assert "already taken" in err
    code, _, err = person_add("--org", "acme", "--username", fresh, "--role", "wizard")
    _refused(code, err)
    assert "not a role" in err
    code, _, err = person_add("--org", "acme", "--username", fresh, "--role", "customer")
    _refused(code, err)
    code, _, err = person_add("--org", "acme", "--username", fresh, "--role", "sales",
                              stdin="short\n")
    _refused(code, err)
    code, _, err = run(["org", "create", "--slug", "acme", "--name", "Again", *url], capsys)
    _refused(code, err)
    assert "already exists" in err
    with owner_conn(demo_db) as conn:
        assert conn.execute("SELECT count(*) FROM pg_roles WHERE rolname = %s",
                            (fresh,)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM persons WHERE role_name = %s",
                            (fresh,)).fetchone() == (0,)


def test_unreachable_server_and_wrong_password(
    demo_db: Any, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    nowhere = f"postgresql+psycopg://postgres@/factorypulse?host={tmp_path}&port=1"
    code, _, err = run(["db", "status", "--database-url", nowhere], capsys)
    _refused(code, err)
    assert "cannot be reached" in err
    wrong = demo_db.url_for("acme.admin", "not-the-password")
    code, _, err = run(["db", "status", "--database-url", wrong], capsys)
    _refused(code, err)
    assert "password is wrong" in err


def test_import_factory_pulse_web_dry_run_then_for_real(
        migrated_db: Any, capsys: pytest.CaptureFixture[str], tmp_path: Any) -> None:
    from pathlib import Path

    fixtures = Path(__file__).parents[1] / "fixtures" / "factory_pulse_web"
    url = ["--database-url", migrated_db.owner_url]
    code, out, err = run(["import", "factory-pulse-web", str(fixtures), "--dry-run", *url],
                         capsys)
    assert code == 0, err
    assert "skipped" in out.lower() and "schema" in out.lower()
    assert "placed at 10" in out, "a stage order clash is reported"
    assert "project_sub_stage_progress: 1 would be created, 2 filled in" in out
    with owner_conn(migrated_db) as conn:
        assert conn.execute("SELECT count(*) FROM projects").fetchone() == (0,), "dry run"
    code, out, err = run(["import", "factory-pulse-web", str(fixtures), *url], capsys)
    assert code == 0, err
    with owner_conn(migrated_db) as conn:
        projects = conn.execute("SELECT count(*) FROM projects").fetchone()
    assert projects is not None and projects[0] > 0
    code, _out, err = run(["import", "factory-pulse-web", str(tmp_path / "none"), *url],
                          capsys)
    _refused(code, err)
