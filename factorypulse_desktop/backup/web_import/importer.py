"""Import a web backup set into one organization, in one transaction, as the database owner.

Ids are uuid5 of the target organization and the old id, so a second run finds every row
already there and changes nothing. Persons get a fresh login with a one-time password that is
returned once (printed by the CLI) and never stored.
"""

from __future__ import annotations

import json
import re
import secrets
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, text

from factorypulse_desktop.backup.web_import.mapping import TABLES, TableMap
from factorypulse_desktop.backup.web_import.reader import FileSummary, Rows, read_file
from factorypulse_desktop.data import people
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError

_NS = uuid.UUID("6f1d2a7e-3c55-4c1e-9a0b-5d0f2f6c9e11")
_STAGE_MOVES = ("stage_transition", "stage_transition_bypass")


@dataclass
class Report:
    created: Counter[str] = field(default_factory=Counter)
    already: Counter[str] = field(default_factory=Counter)
    skipped: list[tuple[str, str, str]] = field(default_factory=list)  # table, old id, reason
    passwords: list[tuple[str, str]] = field(default_factory=list)  # username, one-time password
    complete_is_schema_only: bool = False
    organization: str = ""

    def skip(self, table: str, old_id: str | None, reason: str) -> None:
        self.skipped.append((table, old_id or "-", reason))


def find_backup_files(folder: Path) -> dict[str, Path]:
    """The newest file of each kind in the folder: schema, data, complete."""
    found: dict[str, Path] = {}
    for kind in ("schema", "data", "complete"):
        files = sorted(folder.glob(f"factory_pulse_{kind}_backup_*.sql"))
        if files:
            found[kind] = files[-1]
    if "data" not in found:
        raise UserFacingError(
            f"{folder} holds no factory_pulse_data_backup_*.sql file: that file has the data."
        )
    return found


def import_backup(
    connection: Connection, folder: Path, org_slug: str | None = None, *, dry_run: bool = False
) -> Report:
    """Import the set in `folder`; the caller commits (or rolls back for a dry run)."""
    files = find_backup_files(folder)
    report = Report()
    if "complete" in files:
        summary = FileSummary()
        for _ in read_file(files["complete"], summary):
            pass
        report.complete_is_schema_only = summary.schema_only
    connection.execute(text("SELECT set_config('fp.import_mode', 'on', true)"))
    summary = FileSummary()
    tables: dict[str, list[dict[str, str | None]]] = defaultdict(list)
    for rows in read_file(files["data"], summary):
        _collect(rows, tables, report)
    for problem in summary.problems:
        report.skip("(file)", f"line {problem.line}", problem.reason)
    state = _State(connection, report, dry_run)
    state.organization(tables.get("organizations", []), org_slug)
    state.users(tables.get("users", []))
    for name in ("contacts", "workflow_stages", "projects", "documents", "document_versions"):
        for row in tables.get(name, []):
            state.insert(TABLES[name], row)
    state.stage_moves(tables.get("activity_log", []))
    return report


def _collect(rows: Rows, tables: dict[str, list[dict[str, str | None]]], report: Report) -> None:
    key = rows.table if rows.schema == "public" else f"{rows.schema}.{rows.table}"
    if rows.schema != "public" or (key not in TABLES and key not in ("organizations", "users",
                                                                     "activity_log")):
        # Not kept: the values of tables we do not import (storage metadata, Drive tokens…).
        report.skip(key, None, f"{len(rows.rows)} rows: table not imported")
        return
    known = TABLES[key].columns if key in TABLES else None
    if known is not None:
        for column in rows.columns:
            if column not in known:
                report.skip(key, None, f'unknown column "{column}" ignored')
    for values in rows.rows:
        tables[key].append(dict(zip(rows.columns, values, strict=True)))


class _State:
    def __init__(self, connection: Connection, report: Report, dry_run: bool) -> None:
        self.conn = connection
        self.report = report
        self.dry_run = dry_run
        self.org = uuid.UUID(int=0)
        self.ids: dict[str, dict[str, uuid.UUID]] = defaultdict(dict)  # old table → old id → new

    def new_id(self, table: str, old: str) -> uuid.UUID:
        return uuid.uuid5(_NS, f"{self.org}:{table}:{old}")

    def organization(self, rows: list[dict[str, str | None]], slug: str | None) -> None:
        if not rows:
            raise UserFacingError("The backup holds no organization.")
        old = rows[0]
        slug = slug or (old.get("slug") or "web-import")
        name = old.get("name") or slug
        try:
            org = people.find_organization(self.conn, slug)
            self.report.already["organizations"] += 1
        except UserFacingError:
            org = people.create_organization(self.conn, slug, name)
            self.report.created["organizations"] += 1
        self.org = org.id
        self.report.organization = org.slug
        for row in rows:
            self.ids["organizations"][row["id"] or ""] = org.id

    def users(self, rows: list[dict[str, str | None]]) -> None:
        org = people.Organization(self.org, self.report.organization, "")
        for row in rows:
            old_id, email = row.get("id") or "", (row.get("email") or "").lower()
            try:
                role = Role(row.get("role") or "")
            except ValueError:
                self.report.skip("users", old_id, f'role "{row.get("role")}" unknown')
                continue
            if role.is_portal:
                self.report.skip("users", old_id, f"a {role.value} login needs its company: "
                                 "add them again from the contact")
                continue
            username, found = self._login_for(_username(email or old_id), email)
            if found is not None:
                self.ids["users"][old_id] = found
                self.report.already["persons"] += 1
                continue
            password = secrets.token_urlsafe(12)
            self.ids["users"][old_id] = people.add_person(
                self.conn, org, username, role, password,
                display_name=row.get("name"), email=email or None,
            )
            self.report.created["persons"] += 1
            self.report.passwords.append((username, password))

    def _login_for(self, base: str, email: str) -> tuple[str, uuid.UUID | None]:
        """This person's login from an earlier run, or a name no role of the cluster has."""
        for n in range(1, 100):
            name = base if n == 1 else f"{base[:60]}-{n}"
            person = self.conn.execute(text(
                "SELECT id, lower(coalesce(email, '')) AS email FROM persons WHERE role_name = :u"
            ), {"u": name}).one_or_none()
            if person is not None and person.email == email:
                return name, person.id
            taken = self.conn.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :u"), {"u": name}).first()
            if person is None and taken is None:
                return name, None
        raise UserFacingError(f'No free user name for "{base}".')

    def ref(self, table: str, old: str | None) -> uuid.UUID | None:
        if old is None:
            return None
        return self.ids[table].get(old)

    def insert(self, table: TableMap, row: dict[str, str | None]) -> uuid.UUID | None:
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
            allowed = table.enums.get(old_col)
            if allowed is not None and value is not None and value not in allowed:
                self.report.skip(table.old, old_id, f'{old_col} value "{value}" unknown')
                return None
            values[target] = value
        values.update(table.fixed)
        if table.extra is not None:
            table.extra(row, values)
        if table.match_sql is not None:
            found = self.conn.execute(text(table.match_sql), values).scalar_one_or_none()
            if found is not None:
                self.ids[table.old][old_id] = found
                self.report.already[table.new] += 1
                return found
        values["id"] = self.new_id(table.old, old_id)
        columns = ", ".join(values)
        params = ", ".join(f":{c}" for c in values)
        created = self.conn.execute(
            text(f"INSERT INTO {table.new} ({columns}) VALUES ({params}) "
                 "ON CONFLICT (id) DO NOTHING RETURNING id"),
            {k: json.dumps(v) if isinstance(v, dict) else v for k, v in values.items()},
        ).scalar_one_or_none()
        self.ids[table.old][old_id] = values["id"]
        if created is None:
            self.report.already[table.new] += 1
        else:
            self.report.created[table.new] += 1
        return values["id"]

    def stage_moves(self, rows: list[dict[str, str | None]]) -> None:
        for row in rows:
            old_id = row.get("id") or ""
            if row.get("action") not in _STAGE_MOVES:
                self.report.skip("activity_log", old_id, "only stage moves are imported")
                continue
            meta = json.loads(row.get("metadata") or "{}")
            project = self.ref("projects", row.get("project_id") or row.get("entity_id"))
            to_stage = self.ref("workflow_stages", meta.get("to_stage_id"))
            if project is None or to_stage is None:
                self.report.skip("activity_log", old_id, "missing parent project or stage")
                continue
            bypass = row.get("action") == "stage_transition_bypass"
            new_id = self.new_id("activity_log", old_id)
            created = self.conn.execute(text(
                "INSERT INTO project_stage_history (id, organization_id, project_id, "
                "from_stage_id, to_stage_id, transition, reason, comment, actor_id, occurred_at,"
                " created_at) VALUES (:id, :org, :project, :from_stage, :to_stage, :kind, "
                ":reason, :comment, :actor, :at, :at) ON CONFLICT (id) DO NOTHING RETURNING id"
            ), {
                "id": new_id, "org": self.org, "project": project,
                "from_stage": self.ref("workflow_stages", meta.get("from_stage_id")),
                "to_stage": to_stage, "kind": "skip" if bypass else "advance",
                "reason": meta.get("bypass_reason") if bypass else meta.get("reason"),
                "comment": meta.get("reason") if bypass else None,
                "actor": self.ref("users", row.get("user_id")), "at": row.get("created_at"),
            }).scalar_one_or_none()
            key = "project_stage_history"
            (self.report.created if created else self.report.already)[key] += 1


def _username(email: str) -> str:
    local = re.sub(r"[^a-z0-9._-]", "-", email.split("@")[0].lower()).strip("-.")
    if not local or not local[0].isalpha():
        local = "user-" + local
    if local.startswith(("pg_", "fp_")):
        local = "web-" + local
    return (local + "-web")[:63] if len(local) < 3 else local[:63]
