"""What one import run knows: the report, the old → new id maps, and the generic row writer.

Ids are uuid5 of the target organization and the old id, so a second run finds every row
already there and changes nothing.
"""

from __future__ import annotations

import json
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy.exc import DBAPIError

from factorypulse_desktop.backup.web_import.extras import ENTITY_NAMES
from factorypulse_desktop.backup.web_import.mapping import Row, TableMap

_NS = uuid.UUID("6f1d2a7e-3c55-4c1e-9a0b-5d0f2f6c9e11")


@dataclass
class Report:
    created: Counter[str] = field(default_factory=Counter)
    already: Counter[str] = field(default_factory=Counter)
    updated: Counter[str] = field(default_factory=Counter)  # rows our triggers made, filled in
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # table, old id, reason
    notes: list[str] = field(default_factory=list)  # what the importer decided for the user
    passwords: list[tuple[str, str]] = field(default_factory=list)  # username, one-time password
    complete_is_schema_only: bool = False
    organization: str = ""

    def skip(self, table: str, old_id: str | None, reason: str) -> None:
        self.skipped.append((table, old_id or "-", reason))

    def count(self, table: str, created: bool) -> None:
        (self.created if created else self.already)[table] += 1


class ImportState:
    """The connection, the report and the ids of the rows imported so far."""

    def __init__(self, connection: Connection, report: Report) -> None:
        self.conn = connection
        self.report = report
        self.org = uuid.UUID(int=0)
        self.ids: dict[str, dict[str, uuid.UUID]] = defaultdict(dict)  # old table → old id → new
        self.created_ids: dict[str, set[uuid.UUID]] = defaultdict(set)

    def new_id(self, table: str, old: str) -> uuid.UUID:
        return uuid.uuid5(_NS, f"{self.org}:{table}:{old}")

    def ref(self, table: str, old: str | None) -> uuid.UUID | None:
        if old is None:
            return None
        return self.ids[table].get(old)

    def entity(self, old: str | None) -> tuple[str, uuid.UUID] | None:
        """Our entity name and new id of any imported row with this old id (ids are uuids)."""
        if old is None:
            return None
        for table, name in ENTITY_NAMES.items():
            new = self.ids[table].get(old)
            if new is not None:
                return name, new
        return None

    def build(self, table: TableMap, row: Row) -> dict[str, Any] | None:
        """Our column values for an old row, or None (and a reported reason) to skip it."""
        old_id = row.get("id") or ""
        values: dict[str, Any] = {"organization_id": self.org}
        for old_col, target in table.columns.items():
            if target is None or old_col not in row:
                continue
            value = row[old_col]
            if old_col in table.refs:
                parent = table.refs[old_col]
                mapped = self.ref(parent, value)
                if value is not None and mapped is None and old_col in table.required_refs:
                    self.report.skip(table.old, old_id, f"missing parent {parent} {value}")
                    return None
                values[target] = mapped
                continue
            value = table.synonyms.get(old_col, {}).get(value or "", value)
            allowed = table.enums.get(old_col)
            if allowed is not None and value is not None and value not in allowed:
                self.report.skip(table.old, old_id, f'{old_col} value "{value}" unknown')
                return None
            values[target] = value
        values.update(table.fixed)
        if table.extra is not None:
            reason = table.extra(row, values, self)
            if reason is not None:
                self.report.skip(table.old, old_id, reason)
                return None
        for stamp in ("created_at", "occurred_at"):  # no time in the backup: ours is now()
            if stamp in values and values[stamp] is None:
                del values[stamp]
        return values

    def insert(self, table: TableMap, row: Row) -> uuid.UUID | None:
        values = self.build(table, row)
        if values is None:
            return None
        return self.write(table, row.get("id") or "", values)

    def write(self, table: TableMap, old_id: str, values: dict[str, Any]) -> uuid.UUID | None:
        """Insert once; a row found by `match_sql` or by its uuid5 id counts as already there."""
        if table.match_sql is not None:
            found = self.conn.execute(text(table.match_sql), values).scalar_one_or_none()
            if found is not None:
                self.ids[table.old][old_id] = found
                self.report.already[table.new] += 1
                return found
        values["id"] = self.new_id(table.old, old_id)
        if table.order is not None and not self._exists(table.new, values["id"]):
            self._place(table, old_id, values)
        columns = ", ".join(values)
        params = ", ".join(f":{c}" for c in values)
        # Tables with deferrable UNIQUEs (stage orders) take only the id as arbiter; the others
        # skip a row that clashes with any unique key (an RFQ number already used, say).
        arbiter = "(id)" if table.order is not None else ""
        accepted, created = self.execute(
            table.old, old_id,
            f"INSERT INTO {table.new} ({columns}) VALUES ({params}) "
            f"ON CONFLICT {arbiter} DO NOTHING RETURNING id",
            {k: json.dumps(v) if isinstance(v, dict | list) else v for k, v in values.items()},
        )
        if not accepted:
            return None
        if created is None and not self._exists(table.new, values["id"]):
            self.report.skip(table.old, old_id, f"{table.new} already has a row with the same "
                             "unique key (number or name)")
            return None
        self.ids[table.old][old_id] = values["id"]
        if created is not None:
            self.created_ids[table.old].add(values["id"])
        self.report.count(table.new, created is not None)
        return values["id"]

    def execute(self, table: str, old_id: str, sql: str, params: dict[str, Any]
                ) -> tuple[bool, Any]:
        """Run one row's statement in a savepoint: a row our constraints or triggers refuse
        (blank message, bad colour…) is skipped with the database's reason, not the import."""
        try:
            with self.conn.begin_nested():
                return True, self.conn.execute(text(sql), params).scalar_one_or_none()
        except DBAPIError as error:
            diag = getattr(error.orig, "diag", None)
            reason = getattr(diag, "message_primary", None) or type(error.orig).__name__
            self.report.skip(table, old_id, f"not accepted by our database: {reason}")
            return False, None

    def _exists(self, table: str, row_id: uuid.UUID) -> bool:
        found = self.conn.execute(text(f"SELECT 1 FROM {table} WHERE id = :id"), {"id": row_id})
        return found.first() is not None

    def _place(self, table: TableMap, old_id: str, values: dict[str, Any]) -> None:
        """An order already taken by one of ours: put the imported row after the last one."""
        assert table.order is not None
        column, scope = table.order
        where = " AND ".join(f"{c} = :{c}" for c in ("organization_id", *scope))
        taken = self.conn.execute(
            text(f"SELECT name FROM {table.new} WHERE {where} AND {column} = :{column}"),
            values).scalar_one_or_none()
        if taken is None:
            return
        last = self.conn.execute(
            text(f"SELECT coalesce(max({column}), 0) FROM {table.new} WHERE {where}"),
            values).scalar_one()
        self.report.notes.append(
            f'{table.old} {old_id} "{values.get("name")}": {column} {values[column]} is '
            f'"{taken}" here, so it was placed at {last + 1}, after the last one')
        values[column] = last + 1
