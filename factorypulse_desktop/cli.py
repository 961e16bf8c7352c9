"""The `factorypulse` command: the desktop app by default, administration subcommands."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from factorypulse_desktop import __version__
from factorypulse_desktop.domain.errors import UserFacingError

DATABASE_URL_ENV = "FACTORYPULSE_DATABASE_URL"
EXIT_USAGE = 2

if TYPE_CHECKING:
    from sqlalchemy import Engine


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    # After parsing, so --help and --version leave no log folder behind.
    from factorypulse_desktop.runtime.logs import configure_logging, log_start

    configure_logging()
    # The command's name only: argument values may hold a URL with its password.
    log_start("the desktop app" if handler is None
              else "command " + handler.__name__.strip("_").replace("_", " "))
    try:
        if handler is None:
            return _launch_gui(args)
        return handler(args)
    except UserFacingError as error:
        print(f"factorypulse: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("factorypulse: interrupted", file=sys.stderr)
        return 130


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="factorypulse",
        description="Factory Pulse Desktop. With no command, opens the desktop app.",
    )
    parser.add_argument("--version", action="version", version=f"factorypulse {__version__}")
    parser.add_argument(
        "--demo", action="store_true",
        help="use the separate demo database (filled with sample data on first use)",
    )
    # Start, reach the main window, print "main window ready" and quit (packaging smoke test).
    parser.add_argument("--smoke-test", action="store_true", help=argparse.SUPPRESS)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    db = commands.add_parser("db", help="database schema").add_subparsers(
        title="db commands", metavar="ACTION", required=True
    )
    upgrade = db.add_parser("upgrade", help="apply the schema migrations (as the owner)")
    _add_url(upgrade)
    upgrade.set_defaults(handler=_db_upgrade)
    status = db.add_parser("status", help="show the schema version")
    _add_url(status)
    status.set_defaults(handler=_db_status)

    org = commands.add_parser("org", help="organizations").add_subparsers(
        title="org commands", metavar="ACTION", required=True
    )
    org_create = org.add_parser("create", help="create an organization")
    org_create.add_argument("--slug", required=True, help="short name, e.g. acme")
    org_create.add_argument("--name", required=True, help="full name")
    _add_url(org_create)
    org_create.set_defaults(handler=_org_create)
    from factorypulse_desktop.backup.org_commands import add_commands as add_org_commands

    add_org_commands(org, _add_url, _org_transfer)

    person = commands.add_parser("person", help="people").add_subparsers(
        title="person commands", metavar="ACTION", required=True
    )
    person_add = person.add_parser("add", help="add a person (a database login) to an organization")
    person_add.add_argument("--org", required=True, help="organization short name")
    person_add.add_argument("--username", required=True)
    person_add.add_argument("--role", required=True, help="admin, management, sales, …")
    person_add.add_argument("--display-name")
    person_add.add_argument("--email")
    person_add.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    _add_url(person_add)
    person_add.set_defaults(handler=_person_add)

    demo = commands.add_parser("demo", help="demo data").add_subparsers(
        title="demo commands", metavar="ACTION", required=True
    )
    seed = demo.add_parser("seed", help="fill the database with two sample organizations")
    seed.add_argument("--password", default="factorypulse-demo", help="password of demo persons")
    _add_url(seed)
    seed.set_defaults(handler=_demo_seed)

    storage = commands.add_parser("storage", help="stored files").add_subparsers(
        title="storage commands", metavar="ACTION", required=True
    )
    verify = storage.add_parser(
        "verify", help="recompute every stored file's checksum and report what is wrong")
    _add_url(verify)
    verify.set_defaults(handler=_storage_verify)
    cleanup = storage.add_parser(
        "cleanup", help="remove uploads left unfinished and content no document uses")
    cleanup.add_argument("--older-than-hours", type=float, default=24.0,
                         help="unfinished uploads older than this go (default 24)")
    _add_url(cleanup)
    cleanup.set_defaults(handler=_storage_cleanup)
    imports = commands.add_parser("import", help="import data from other systems").add_subparsers(
        title="import commands", metavar="SOURCE", required=True)
    web = imports.add_parser(
        "factory-pulse-web", help="import a Factory Pulse web backup set (read, never run)")
    web.add_argument("dir", type=Path, help="the folder holding the backup set's .sql files")
    web.add_argument("--org", help="import into this organization (default: the backup's own)")
    web.add_argument("--dry-run", action="store_true",
                     help="show what would be created and what is skipped; change nothing")
    _add_url(web)
    web.set_defaults(handler=_import_web)

    from factorypulse_desktop.backup.cli_commands import add_commands

    add_commands(commands, _add_url, _backup)
    return parser


def _add_url(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--database-url",
        default=os.environ.get(DATABASE_URL_ENV),
        help=f"owner or superuser URL (default: ${DATABASE_URL_ENV}, else the embedded database)",
    )


@contextmanager
def _owner_url(args: argparse.Namespace) -> Iterator[str]:
    """The URL given, or the embedded cluster's (started for the command if needed)."""
    if args.database_url:
        yield _normalize_url(args.database_url)
        return
    from factorypulse_desktop.runtime.embedded import EmbeddedError
    from factorypulse_desktop.runtime.local_server import running_embedded

    profile = "demo" if getattr(args, "demo", False) else "default"
    try:
        with running_embedded(profile) as url:
            yield url
    except EmbeddedError as error:
        raise UserFacingError(str(error)) from error


def _normalize_url(url: str) -> str:
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def _engine(url: str) -> Engine:
    from factorypulse_desktop.data.db import make_engine

    return make_engine(url, application_name="factorypulse-cli")


@contextmanager
def _translated_errors() -> Iterator[None]:
    from sqlalchemy import exc

    from factorypulse_desktop.data.db import friendly_error

    try:
        yield
    except (exc.DBAPIError, exc.OperationalError) as error:
        raise friendly_error(error) from error


def _db_upgrade(args: argparse.Namespace) -> int:
    from factorypulse_desktop.data import migrate

    with _owner_url(args) as url, _translated_errors():
        before = migrate.current_revision(url)
        migrate.upgrade(url)
        after = migrate.current_revision(url)
    if before == after:
        print(f"The schema is up to date ({after}).")
    else:
        print(f"Schema upgraded from {before or 'empty'} to {after}.")
    return 0


def _db_status(args: argparse.Namespace) -> int:
    from factorypulse_desktop.data import migrate

    with _owner_url(args) as url, _translated_errors():
        status = migrate.schema_status(url)
    print(f"database schema: {status.current or 'empty'}")
    print(f"this app needs:  {status.head}")
    if status.newer_than_app:
        print("The database is newer than this app: install the newer Factory Pulse.")
        return 1
    if not status.up_to_date:
        print("Run `factorypulse db upgrade` to bring the database up to date.")
        return 1
    print("Up to date.")
    return 0


def _org_create(args: argparse.Namespace) -> int:
    from factorypulse_desktop.data import people

    with _owner_url(args) as url, _translated_errors():
        engine = _engine(url)
        with engine.begin() as connection:
            org = people.create_organization(connection, args.slug, args.name)
        engine.dispose()
    print(f"Created organization {org.slug} ({org.name}) with the default workflow.")
    return 0


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Repeat password: ") != password:
            raise UserFacingError("The two passwords differ; nothing was changed.")
    else:
        raise UserFacingError("Give the password with --password-stdin.")
    if not password:
        raise UserFacingError("The password is empty; nothing was changed.")
    return password


def _person_add(args: argparse.Namespace) -> int:
    from factorypulse_desktop.data import people
    from factorypulse_desktop.domain.validation import check_password, check_username, parse_role

    # Check everything the user typed before touching the database.
    role = parse_role(args.role)
    check_username(args.username)
    password = check_password(_read_password(args))
    with _owner_url(args) as url, _translated_errors():
        engine = _engine(url)
        with engine.begin() as connection:
            org = people.find_organization(connection, args.org)
            people.add_person(
                connection, org, args.username, role, password,
                display_name=args.display_name, email=args.email,
            )
        engine.dispose()
    print(f"Added {args.username} to {org.slug} as {role.value}.")
    return 0


def _demo_seed(args: argparse.Namespace) -> int:
    from factorypulse_desktop.data import migrate
    from factorypulse_desktop.data.demo import seed_demo

    with _owner_url(args) as url, _translated_errors():
        migrate.upgrade(url)
        engine = _engine(url)
        summary = seed_demo(engine, password=args.password)
        engine.dispose()
    if summary.organizations_created == 0 and summary.rows_inserted == 0:
        print("The demo data is already there; nothing was added.")
    else:
        print(
            f"Demo data added: {summary.organizations_created} organizations, "
            f"{summary.persons_created} people, {summary.rows_inserted} records."
        )
    return 0


def _backup(args: argparse.Namespace) -> int:
    from factorypulse_desktop.backup import cli_commands as backup

    if args.backup_action == "list":
        return backup.run_list(args)
    if args.backup_action == "prune":
        return backup.run_prune(args)
    runners = {"create": backup.run_create, "verify": backup.run_verify,
               "restore": backup.run_restore}
    with _owner_url(args) as url:
        return runners[args.backup_action](url, args)


def _org_transfer(args: argparse.Namespace) -> int:
    from factorypulse_desktop.backup import org_commands

    with _owner_url(args) as url, _translated_errors():
        return org_commands.run(url, args)


def _launch_gui(args: argparse.Namespace) -> int:
    if args.demo:
        # PostgreSQL starts (in its own processes) while the window's modules load; the app
        # then finds it running. Cold start budget: benchmarks/startup.py.
        from factorypulse_desktop.runtime.local_server import start_in_background

        start_in_background("demo")
    from factorypulse_desktop.ui.app import run_gui

    return run_gui(demo=args.demo, smoke_test=args.smoke_test)



def _owner_psycopg(url: str) -> Any:
    import psycopg

    return psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://", 1))


def _storage_verify(args: argparse.Namespace) -> int:
    """Exit 0 when every stored file is intact, 1 when a problem was found."""
    import psycopg

    from factorypulse_desktop.data.db_errors import friendly_error
    from factorypulse_desktop.storage.verify import sweep

    with _owner_url(args) as url:
        try:
            with _owner_psycopg(url) as conn:
                problems = sweep(conn)
                files = conn.execute("SELECT count(*), coalesce(sum(size), 0) FROM "
                                     "storage_objects WHERE status = 'complete'").fetchone()
        except psycopg.Error as error:
            raise friendly_error(error) from error
    for problem in problems:
        print(problem)
    count, size = files
    print(f"Checked {count} stored file(s), {size} bytes: "
          + (f"{len(problems)} problem(s)." if problems else "all intact."))
    return 1 if problems else 0


def _storage_cleanup(args: argparse.Namespace) -> int:
    import psycopg

    from factorypulse_desktop.data.db_errors import friendly_error
    from factorypulse_desktop.storage import blobs

    removed = 0
    with _owner_url(args) as url:
        try:
            with _owner_psycopg(url) as conn:
                orgs = [r[0] for r in conn.execute("SELECT id FROM organizations")]
                for org in orgs:
                    removed += blobs.cleanup(conn, org, args.older_than_hours)
        except psycopg.Error as error:
            raise friendly_error(error) from error
    print(f"Removed {removed} unfinished upload(s) or unused file(s).")
    return 0


def _import_web(args: argparse.Namespace) -> int:
    from factorypulse_desktop.backup.web_import.cli import print_report, run

    if not args.dir.is_dir():
        raise UserFacingError(f"{args.dir} is not a folder.")
    with _owner_url(args) as url, _translated_errors():
        engine = _engine(url)
        try:
            report = run(engine, args.dir, args.org, args.dry_run)
        finally:
            engine.dispose()
    print_report(report, args.dry_run)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())

