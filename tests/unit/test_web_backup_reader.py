"""The web backup reader: statements split with pglast, COPY data read, secrets never kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from factorypulse_desktop.backup.web_import import reader
from factorypulse_desktop.backup.web_import.reader import FileSummary, read_file, read_lines

FIXTURES = Path(__file__).parents[1] / "fixtures" / "factory_pulse_web"
DATA = FIXTURES / "factory_pulse_data_backup_20250903_074929.sql"
COMPLETE = FIXTURES / "factory_pulse_complete_backup_20250903_074929.sql"


def test_data_file_tables_and_row_counts() -> None:
    summary = FileSummary()
    counts = {(r.schema, r.table): len(r.rows) for r in read_file(DATA, summary)}
    assert counts[("public", "users")] == 5
    assert counts[("public", "contacts")] == 2  # the COPY form
    assert counts[("public", "projects")] == 3
    assert not any(schema == "auth" for schema, _ in counts)
    assert ("public", "google_drive_tokens") not in counts, "Drive tokens are dropped unread"
    assert summary.secret_statements_skipped == 3
    assert not summary.schema_only


def test_quoted_values_and_copy_escapes() -> None:
    rows = {r.table: r for r in read_file(DATA, FileSummary())}
    users = rows["users"]
    names = [row[users.columns.index("name")] for row in users.rows]
    assert "Chi O'Le" in names
    contacts = rows["contacts"]
    notes = contacts.rows[0][contacts.columns.index("notes")]
    assert notes == "Key account\tsince 2023"
    assert contacts.rows[1][contacts.columns.index("fax_number")] is None
    projects = rows["projects"]
    assert projects.rows[0][projects.columns.index("estimated_value")] == "125000000.00"


def test_malformed_statement_reported_and_reading_goes_on() -> None:
    summary = FileSummary()
    tables = [r.table for r in read_file(DATA, summary)]
    assert any("malformed statement" in p.reason for p in summary.problems)
    assert "buckets" in tables  # the statement after the malformed one was read


def test_complete_file_is_schema_only_and_functions_are_not_split() -> None:
    summary = FileSummary()
    assert list(read_file(COMPLETE, summary)) == []
    assert summary.schema_only
    assert not any("malformed" in p.reason for p in summary.problems)


def test_auth_statement_values_never_reach_the_parser(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[str] = []
    real_parse, real_scan = reader.parser.parse_sql, reader.parser.scan

    def spy_parse(text: str) -> object:
        seen.append(text)
        return real_parse(text)

    def spy_scan(text: str) -> object:
        seen.append(text)
        return real_scan(text)

    monkeypatch.setattr(reader.parser, "parse_sql", spy_parse)
    monkeypatch.setattr(reader.parser, "scan", spy_scan)
    list(read_file(DATA, FileSummary()))
    assert seen
    assert not any("FAKEHASH" in text or "FAKE-REFRESH" in text for text in seen)
    assert not any("FAKE-DRIVE" in text for text in seen), "Drive tokens are not parsed either"


def test_auth_insert_with_semicolon_inside_a_string_is_skipped_whole() -> None:
    lines = [
        'INSERT INTO "auth"."users" ("id", "raw") VALUES\n',
        "\t('1', 'a;\n",
        "b'')');\n",
        'INSERT INTO "public"."t" ("a") VALUES (\'x\');\n',
    ]
    summary = FileSummary()
    rows = list(read_lines(lines, summary))
    assert [(r.table, r.rows) for r in rows] == [("t", [("x",)])]
    assert summary.problems == []
