"""The `factorypulse org export` / `org import` subcommands (wired into cli.py's `org` group)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def add_commands(org: argparse._SubParsersAction,  # type: ignore[type-arg,unused-ignore]
                 add_url: Callable[[argparse.ArgumentParser], None],
                 handler: Callable[[argparse.Namespace], int]) -> None:
    export = org.add_parser(
        "export", help="write one organization (data, people, file contents) to a file")
    export.add_argument("--org", required=True, help="organization short name, e.g. acme")
    export.add_argument("path", type=Path, help="the file to write, e.g. acme.fporg")
    add_url(export)
    export.set_defaults(org_action="export", handler=handler)
    load = org.add_parser(
        "import", help="add an exported organization to this database (empty or not)")
    load.add_argument("path", type=Path, help="a file written by `factorypulse org export`")
    add_url(load)
    load.set_defaults(org_action="import", handler=handler)


def run(url: str, args: argparse.Namespace) -> int:
    if args.org_action == "export":
        return run_export(url, args)
    return run_import(url, args)


def run_export(url: str, args: argparse.Namespace) -> int:
    from factorypulse_desktop.backup.org_transfer.export import export_organization

    made = export_organization(url, args.org, args.path)
    tables = made.manifest["tables"]
    rows = sum(entry["rows"] for entry in tables.values())
    print(f"Wrote {made.path}: organization {args.org}, {len(tables)} tables, {rows} rows "
          f"(schema {made.manifest['schema_revision']}).")
    print(f"Load it elsewhere with `factorypulse org import {made.path}`.")
    return 0


def run_import(url: str, args: argparse.Namespace) -> int:
    from factorypulse_desktop.backup.org_transfer.load import import_organization

    done = import_organization(url, args.path)
    if done.migrated:
        print(f"The database was empty: created the schema ({done.schema_revision}).")
    width = max(len(name) for name in done.rows)
    for name, count in done.rows.items():
        print(f"  {name.ljust(width)}  {count:>8}")
    print(f"Imported organization {done.slug} ({done.name}): "
          f"{sum(done.rows.values())} rows in {done.seconds:.1f} s; foreign keys and checksums "
          "verified.")
    if done.persons_shared:
        print(f"Already in this database (kept as they were): {', '.join(done.persons_shared)}")
    if done.logins_reused:
        print(f"Existing logins of this server used (they keep their passwords): "
              f"{', '.join(done.logins_reused)}")
    if done.logins_created:
        print(f"Created {len(done.logins_created)} login(s) WITHOUT passwords (set one for each "
              f"before they can sign in): {', '.join(done.logins_created)}")
    return 0
