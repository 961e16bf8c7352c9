"""The database's errors in a person's words (T-IN-03): what a person's input can provoke when
a check in the app missed it reaches them as a plain sentence, never in the server's or the
driver's wording. Each error is raised by the real server, as a person."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import pytest
from rls_support import person_conn

from factorypulse_desktop.data.db_errors import friendly_error

# The server's and the driver's words that must not reach a person.
_SERVER_WORDS = re.compile(r"invalid input|enum|character varying|numeric field|violates|"
                           r"syntax|out of range for type|canceling statement|relation|"
                           r"column|constraint|psycopg|SQL|\bLINE\b|DETAIL|CONTEXT", re.I)

CASES = {
    "a choice that does not exist": (
        "SELECT CAST('sideways' AS approval_type)", "“sideways” is not one of the allowed"),
    "a number typed as words": (
        "SELECT CAST('twelve' AS integer)", "“twelve” is not in the form this field expects"),
    "an id that is not one": (
        "SELECT CAST('P-0001' AS uuid)", "“P-0001” is not in the form this field expects"),
    "a text too long": (
        "CREATE TEMP TABLE t (v varchar(5)); INSERT INTO t VALUES ('too long')",
        "longer than this field allows"),
    "a required value left empty": (
        "CREATE TEMP TABLE t (v text NOT NULL); INSERT INTO t VALUES (NULL)",
        "A required value is missing"),
    "a reference to something removed": (
        "CREATE TEMP TABLE a (id int PRIMARY KEY); "
        "CREATE TEMP TABLE b (a int REFERENCES a (id)); INSERT INTO b VALUES (7)",
        "removed meanwhile"),
    "a value a rule forbids": (
        "CREATE TEMP TABLE t (quantity int CONSTRAINT t_quantity_check CHECK (quantity > 0)); "
        "INSERT INTO t VALUES (0)", "The value for “quantity” is not allowed"),
    "a number too large": (
        "SELECT CAST(1e20 AS numeric(15, 2))", "too large"),
    "a date that does not exist": (
        "SELECT CAST('2026-13-45' AS date)", "date or time"),
    "a division by zero": ("SELECT 1 / 0", "divided by zero"),
    "a slow search stopped": (
        "SET LOCAL statement_timeout = '50ms'; SELECT pg_sleep(2)", "took too long"),
    "a hidden character in a choice": (
        "SELECT CAST(E'draft\\u202e' AS approval_status)", "is not one of the allowed"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_T_IN_03_database_errors_reach_the_person_in_plain_words(
        demo_db: Any, case: str) -> None:
    statement, expected = CASES[case]
    with person_conn(demo_db, "acme.sales") as conn, pytest.raises(psycopg.Error) as raised:
        for part in statement.split("; "):
            conn.execute(part)
    words = str(friendly_error(raised.value))
    assert expected in words, words
    assert not _SERVER_WORDS.search(words), words
    assert words.isprintable() and words.endswith(".") and len(words) < 200, repr(words)
