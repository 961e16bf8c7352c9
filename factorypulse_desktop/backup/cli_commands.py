"""The `factorypulse backup …` subcommands (argparse wiring lives in cli.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

DEFAULT_DIR = Path("backups")


def add_commands(commands: argparse._SubParsersAction,  # type: ignore[type-arg,unused-ignore]
                 add_url: Callable[[argparse.ArgumentParser], None],
                 handler: Callable[[argparse.Namespace], int]) -> None:
    backup = commands.add_parser("backup", help="backups").add_subparsers(
        title="backup commands", metavar="ACTION", required=True)
    create = backup.add_parser("create", help="write a verified-ready backup archive")
    create.add_argument("--kind", choices=["complete", "schema", "data"], default="complete")
    create.add_argument("--dir", type=Path, default=DEFAULT_DIR, help="folder (default ./backups)")
    add_url(create)
    create.set_defaults(backup_action="create", handler=handler)
    verify = backup.add_parser("verify", help="checksum, then a trial restore and its report")
    verify.add_argument("path", type=Path)
    add_url(verify)
    verify.set_defaults(backup_action="verify", handler=handler)
    restore = backup.add_parser("restore", help="restore into a new database")
    restore.add_argument("path", type=Path)
    restore.add_argument("--into", help="name of the new database")
    add_url(restore)
    restore.set_defaults(backup_action="restore", handler=handler)
    listing = backup.add_parser("list", help="the backups in a folder and whether they verified")
    listing.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    listing.set_defaults(backup_action="list", handler=handler)
    prune = backup.add_parser("prune", help="delete backups the retention policy does not keep")
    prune.add_argument("--dir", type=Path, default=DEFAULT_DIR)
    prune.add_argument("--daily", type=int, default=7)
    prune.add_argument("--weekly", type=int, default=4)
    prune.add_argument("--monthly", type=int, default=12)
    prune.add_argument("--dry-run", action="store_true")
    prune.set_defaults(backup_action="prune", handler=handler)


def run_create(url: str, args: argparse.Namespace) -> int:
    from factorypulse_desktop.backup.create import create_backup

    made = create_backup(url, args.dir, kind=args.kind)
    print(f"Wrote {made.path} ({made.manifest['size']} bytes, sha256 {made.manifest['sha256']}).")
    print(f"Run `factorypulse backup verify {made.path}` to prove it restores.")
    return 0


def run_verify(url: str, args: argparse.Namespace) -> int:
    from factorypulse_desktop.backup.verify import verify_backup

    result = verify_backup(url, args.path)
    for check in result.checks:
        print(f"ok: {check}")
    for problem in result.problems:
        print(f"PROBLEM: {problem}")
    print(f"{args.path.name}: " + ("verified." if result.ok else "FAILED verification."))
    return 0 if result.ok else 1


def run_restore(url: str, args: argparse.Namespace) -> int:
    from factorypulse_desktop.backup.restore import restore_backup

    restored = restore_backup(url, args.path, into=args.into)
    if not restored.checksum_checked:
        print(f"Note: {args.path.name} has no manifest, so its checksum could not be checked.")
    print(f"Restored {args.path.name} into the new database {restored.database}.")
    if restored.logins_created:
        print(f"Created {len(restored.logins_created)} login(s) WITHOUT passwords (set one for "
              f"each before they can sign in): {', '.join(restored.logins_created)}")
    print("Point the connection profile at this database to use it.")
    return 0


def run_list(args: argparse.Namespace) -> int:
    from factorypulse_desktop.backup.listing import list_backups

    backups = list_backups(args.dir)
    if not backups:
        print(f"No backups in {args.dir}.")
    for b in backups:
        print(f"{b.path.name}  {b.status}  {b.size} bytes"
              + (f"  (checked {b.verified_at})" if b.verified_at else ""))
    return 0


def run_prune(args: argparse.Namespace) -> int:
    from factorypulse_desktop.backup.listing import prune
    from factorypulse_desktop.backup.retention import Policy
    from factorypulse_desktop.domain.errors import UserFacingError

    if min(args.daily, args.weekly, args.monthly) < 0:
        raise UserFacingError("--daily, --weekly and --monthly must be 0 or more.")
    gone = prune(args.dir, Policy(args.daily, args.weekly, args.monthly), dry_run=args.dry_run)
    verb = "Would delete" if args.dry_run else "Deleted"
    for path in gone:
        print(f"{verb} {path.name}")
    print(f"{verb} {len(gone)} backup(s).")
    return 0
