"""Import a web backup set into one organization, in one transaction, as the database owner.

The run sets `fp.import_mode`: our triggers then write no notifications and leave the stage
history to the importer (it is history, not news). Rows go in parents first, so every foreign
key finds its target; ids are uuid5 of the organization and the old id (see state.py), so a
second run changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from sqlalchemy import Connection, text

from factorypulse_desktop.backup.web_import.approvals import import_approvals
from factorypulse_desktop.backup.web_import.history import import_activity
from factorypulse_desktop.backup.web_import.mapping import TABLES, Row
from factorypulse_desktop.backup.web_import.messages import import_messages
from factorypulse_desktop.backup.web_import.persons import import_organization, import_users
from factorypulse_desktop.backup.web_import.progress import import_progress
from factorypulse_desktop.backup.web_import.reader import FileSummary, Rows, read_file
from factorypulse_desktop.backup.web_import.reviews import import_reviews
from factorypulse_desktop.backup.web_import.state import ImportState, Report
from factorypulse_desktop.domain.errors import UserFacingError

__all__ = ["Report", "find_backup_files", "import_backup"]

# Plain tables, in an order where each row's parents come first.
_BEFORE_PROJECTS = ("workflow_stages", "workflow_sub_stages", "projects",
                    "project_assignments")
_AFTER_PROJECTS = ("documents", "document_versions", "document_access_log", "supplier_rfqs",
                   "supplier_quotes")


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


def import_backup(connection: Connection, folder: Path, org_slug: str | None = None) -> Report:
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
    tables: dict[str, list[Row]] = defaultdict(list)
    for rows in read_file(files["data"], summary):
        _collect(rows, tables, report)
    for problem in summary.problems:
        report.skip("(file)", f"line {problem.line}", problem.reason)
    _link_quotes_to_rfqs(tables)
    _import_all(ImportState(connection, report), tables, org_slug)
    return report


def _import_all(state: ImportState, tables: dict[str, list[Row]], org_slug: str | None) -> None:
    import_organization(state, tables["organizations"], org_slug)
    import_users(state, tables["users"])
    _plain(state, tables, ("contacts",))
    import_users(state, tables["users"], contacts=tables["contacts"])  # portal logins
    _plain(state, tables, _BEFORE_PROJECTS)
    import_progress(state, tables["project_sub_stage_progress"])
    _plain(state, tables, _AFTER_PROJECTS)
    import_reviews(state, tables["reviews"])
    import_messages(state, tables["messages"])
    import_approvals(state, tables["approvals"])
    _plain(state, tables, ("approval_history",))
    # Last: they point at rows of any table above.
    _plain(state, tables, ("notifications",))
    import_activity(state, tables["activity_log"])


def _plain(state: ImportState, tables: dict[str, list[Row]], names: tuple[str, ...]) -> None:
    for name in names:
        for row in tables[name]:
            state.insert(TABLES[name], row)


def _collect(rows: Rows, tables: dict[str, list[Row]], report: Report) -> None:
    key = rows.table if rows.schema == "public" else f"{rows.schema}.{rows.table}"
    if rows.schema != "public" or (key not in TABLES and key != "organizations"):
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


def _link_quotes_to_rfqs(tables: dict[str, list[Row]]) -> None:
    """The web version's quotes name no RFQ: link a quote to the only RFQ of its project and
    supplier (ours compares quotes per RFQ); with none or several, it stays unlinked."""
    rfqs: dict[tuple[str | None, str | None], list[str | None]] = defaultdict(list)
    for rfq in tables["supplier_rfqs"]:
        rfqs[(rfq.get("project_id"), rfq.get("supplier_id"))].append(rfq.get("id"))
    for quote in tables["supplier_quotes"]:
        match = rfqs.get((quote.get("project_id"), quote.get("supplier_id")), [])
        if quote.get("supplier_rfq_id") is None and len(match) == 1:
            quote["supplier_rfq_id"] = match[0]
