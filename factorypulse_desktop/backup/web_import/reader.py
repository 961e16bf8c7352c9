"""Read a Factory Pulse web backup file statement by statement, without executing anything.

The files are plain pg_dump SQL (ORIGIN.md section 8). A plain SQL file can carry any SQL and psql
meta-commands, so it is parsed with pglast and only the data of INSERT … VALUES and COPY … FROM
stdin statements is kept. Statements aimed at the `auth` schema (password hashes, sessions, refresh
tokens) or at the Google Drive secret tables are recognised from their first line and skipped
line by line: their values are never collected into a statement, parsed or returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pglast import ast, parser
from pglast.parser import ParseError

# Schemas and tables whose statements are dropped unread (secrets): the web version's logins,
# and its Google Drive client secret and users' Drive tokens, kept there in plain text.
SECRET_SCHEMAS = frozenset({"auth"})
SECRET_TABLES = frozenset({"google_drive_config", "google_drive_tokens"})

_TARGET = re.compile(
    r'^\s*(?:INSERT\s+INTO|COPY)\s+(?:ONLY\s+)?"?([A-Za-z_][A-Za-z0-9_$]*)"?\s*\.'
    r'\s*"?([A-Za-z_][A-Za-z0-9_$]*)"?', re.IGNORECASE
)
_COPY_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


@dataclass(frozen=True)
class Rows:
    """The rows of one data statement: values are text as PostgreSQL would read them, or None."""

    schema: str
    table: str
    columns: tuple[str, ...]
    rows: list[tuple[str | None, ...]]
    line: int


@dataclass(frozen=True)
class Problem:
    """Something in the file that was not read: where, and why (never the statement's values)."""

    line: int
    reason: str


@dataclass
class FileSummary:
    """What one file held, counted while reading."""

    statements: int = 0
    data_statements: int = 0
    secret_statements_skipped: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def schema_only(self) -> bool:
        return self.data_statements == 0 and self.secret_statements_skipped == 0


def secret_target(line: str) -> bool:
    """True when a statement starting with `line` writes secrets (a secret schema or table)."""
    match = _TARGET.match(line)
    return match is not None and (match.group(1).lower() in SECRET_SCHEMAS
                                  or match.group(2).lower() in SECRET_TABLES)


def read_file(path: Path, summary: FileSummary) -> Iterator[Rows]:
    with path.open(encoding="utf-8", newline="") as handle:
        yield from read_lines(handle, summary)


def read_lines(lines: Iterable[str], summary: FileSummary) -> Iterator[Rows]:
    """Yield the data statements of a dump; everything else is counted or reported."""
    source = iter(enumerate(lines, start=1))
    buffer: list[str] = []
    start = 0
    for number, line in source:
        if not buffer:
            stripped = line.strip()
            if not stripped or stripped.startswith("--"):
                continue
            if stripped.startswith("\\"):
                # psql meta-commands (\connect, \restrict, …) are never run.
                summary.problems.append(Problem(number, "psql meta-command ignored"))
                continue
            if secret_target(line):
                summary.statements += 1
                summary.secret_statements_skipped += 1
                _skip_secret(line, source)
                continue
            start = number
        buffer.append(line)
        if not line.rstrip().endswith(";") or not _complete("".join(buffer)):
            continue
        statement = "".join(buffer)
        buffer = []
        summary.statements += 1
        try:
            parsed = parser.parse_sql(statement)
        except ParseError as error:
            summary.problems.append(Problem(start, f"malformed statement: {error.args[0]}"))
            continue
        for raw in parsed:
            node = raw.stmt
            if isinstance(node, ast.InsertStmt):
                rows = _insert_rows(node, start, summary)
                if rows is not None:
                    summary.data_statements += 1
                    yield rows
            elif isinstance(node, ast.CopyStmt) and node.is_from and node.filename is None:
                summary.data_statements += 1
                yield _copy_rows(node, start, source, summary)
    if buffer:
        summary.problems.append(Problem(start, "malformed statement: the file ends inside it"))


def _complete(text: str) -> bool:
    """False while the text ends inside a quoted string or a dollar-quoted body."""
    try:
        parser.scan(text)
    except ParseError as error:
        return "unterminated" not in str(error)
    return True


def _skip_secret(first: str, source: Iterator[tuple[int, str]]) -> None:
    """Read past a secret statement keeping nothing but the quote state of the current line."""
    if re.match(r"^\s*COPY\b", first, re.IGNORECASE):
        for _number, line in source:
            if line.rstrip("\r\n") == "\\.":
                return
        return
    in_quote = False
    line = first
    while True:
        in_quote ^= line.count("'") % 2 == 1
        if not in_quote and line.rstrip().endswith(";"):
            return
        step = next(source, None)
        if step is None:
            return
        line = step[1]


def _insert_rows(node: ast.InsertStmt, line: int, summary: FileSummary) -> Rows | None:
    relation = node.relation
    select = node.selectStmt
    if not isinstance(select, ast.SelectStmt) or not select.valuesLists or not node.cols:
        summary.problems.append(Problem(line, "INSERT without a column list and VALUES ignored"))
        return None
    columns = tuple(str(col.name) for col in node.cols)
    rows: list[tuple[str | None, ...]] = []
    for values in select.valuesLists:
        try:
            row = tuple(_literal(value) for value in values)
        except ValueError as error:
            summary.problems.append(Problem(line, f"row not read: {error}"))
            continue
        if len(row) != len(columns):
            summary.problems.append(Problem(line, "row not read: wrong number of values"))
            continue
        rows.append(row)
    return Rows(*_names(relation), columns, rows, line)


def _names(relation: ast.RangeVar | None) -> tuple[str, str]:
    if relation is None:  # pragma: no cover - INSERT and COPY FROM always name a table
        raise ValueError("a data statement without a table")
    return str(relation.schemaname or "public"), str(relation.relname)


def _literal(node: Any) -> str | None:
    """The text of a constant (a cast keeps its inner text: PostgreSQL casts it again)."""
    if isinstance(node, ast.TypeCast):
        return _literal(node.arg)
    if isinstance(node, ast.A_Const):
        if node.isnull:
            return None
        value = node.val
        if isinstance(value, ast.String):
            return str(value.sval)
        if isinstance(value, ast.Integer):
            return str(value.ival)
        if isinstance(value, ast.Float):
            return str(value.fval)
        if isinstance(value, ast.Boolean):
            return "true" if value.boolval else "false"
    raise ValueError("a value is not a plain constant")


def _copy_rows(
    node: ast.CopyStmt, line: int, source: Iterator[tuple[int, str]], summary: FileSummary
) -> Rows:
    relation = node.relation
    columns = tuple(str(att.sval) for att in node.attlist or ())
    rows: list[tuple[str | None, ...]] = []
    for number, data in source:
        data = data.rstrip("\r\n")
        if data == "\\.":
            break
        fields = tuple(_copy_field(f) for f in data.split("\t"))
        if columns and len(fields) != len(columns):
            summary.problems.append(Problem(number, "row not read: wrong number of values"))
            continue
        rows.append(fields)
    else:
        summary.problems.append(Problem(line, "malformed statement: COPY data without its end"))
    return Rows(*_names(relation), columns, rows, line)


def _copy_field(text: str) -> str | None:
    if text == "\\N":
        return None
    if "\\" not in text:
        return text
    out: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(_COPY_ESCAPES.get(text[index + 1], text[index + 1]))
            index += 2
            continue
        out.append(char)
        index += 1
    return "".join(out)
