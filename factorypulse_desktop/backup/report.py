"""The post-restore report: the seed's restore checklist, automated, against a restored db."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import psycopg

from factorypulse_desktop.backup import catalog
from factorypulse_desktop.storage.verify import sweep

# Sweep findings that mean file bytes are wrong; the others (unused content, an upload left
# unfinished) were already so in the source and are housekeeping, not damage.
_DAMAGE = {"missing_chunks", "size_mismatch", "chunk_hash_mismatch", "hash_mismatch",
           "orphan_chunks"}


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    checks: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def post_restore_report(conn: psycopg.Connection[Any], manifest: dict[str, Any]) -> Report:
    """Check a restored database against the manifest written when the backup was made."""
    report = Report()
    counts = _readable_counts(conn, report)
    if manifest.get("kind") == "complete":
        for table, expected in sorted(manifest.get("row_counts", {}).items()):
            got = counts.get(table)
            if got is None:
                report.problems.append(f"table {table} is missing")
            elif got != expected:
                report.problems.append(f"table {table}: {got} rows, the backup had {expected}")
        report.checks.append(f"{len(counts)} tables readable, row counts as in the manifest")
    invalid = catalog.not_valid_constraints(conn)
    report.problems += [f"constraint {name} is not validated" for name in invalid]
    report.checks.append("every foreign key and check constraint valid")
    _security(conn, manifest.get("expectations", {}), set(counts), report)
    if manifest.get("kind") == "complete":
        damage = [p for p in sweep(conn) if p.kind in _DAMAGE]
        report.problems += [f"stored file {p}" for p in damage]
        report.checks.append("stored files' sha256 verified")
    return report


def _readable_counts(conn: psycopg.Connection[Any], report: Report) -> dict[str, int]:
    try:
        return catalog.row_counts(conn)
    except psycopg.Error as error:
        conn.rollback()
        report.problems.append(f"a table cannot be read: {error}".strip())
        return {}


def _security(conn: psycopg.Connection[Any], expected: dict[str, Any], tables: set[str],
              report: Report) -> None:
    now = catalog.expectations(conn)
    for key in ("policies", "functions", "triggers"):
        if key in expected and now[key] != expected[key]:
            report.problems.append(f"{now[key]} {key}, the source had {expected[key]}")
    forced = set(now["rls_forced_tables"])
    wanted = set(expected.get("rls_forced_tables", tables))
    for table in sorted(wanted - forced):
        report.problems.append(f"row-level security is not enabled and forced on {table}")
    report.checks.append(f"row-level security forced on {len(forced)} tables; "
                         f"{now['policies']} policies, {now['functions']} functions, "
                         f"{now['triggers']} triggers")
