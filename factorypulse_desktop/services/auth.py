"""Signing in: connecting as the person's own PostgreSQL login and finding out who they are.

Signing in *is* connecting: every person is a PostgreSQL login, and row level security keys
everything on ``session_user`` (DESIGN.md 3). After the connection works, the schema version is
compared with this app's migrations and the person's identity and memberships are read as the
person, through RLS.

Every failure becomes a :class:`SignInError` whose ``str()`` is one sentence for the user and
whose ``problem`` tells the UI what to offer (retry, upgrade, nothing).

The UI imports only ``services`` and ``domain``, so the connection profile and "remember me"
helpers of the runtime layer are re-exported here.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any

import psycopg
from psycopg.conninfo import make_conninfo
from psycopg.rows import namedtuple_row

from factorypulse_desktop.data import migrate
from factorypulse_desktop.data.db_errors import driver_error, friendly_error
from factorypulse_desktop.data.io_guard import check_current_thread
from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.runtime import local_server
from factorypulse_desktop.runtime.embedded import EmbeddedCluster, EmbeddedError
from factorypulse_desktop.runtime.profiles import (
    DEMO_PROFILE,
    SSL_MODES,
    ConnectionProfile,
    ProfileStore,
)
from factorypulse_desktop.runtime.secrets import (
    forget_password,
    load_password,
    secure_keyring_available,
    store_password,
)
from factorypulse_desktop.services.workspace import (
    CONNECT_ARGS,
    CONNECTION_LOST_MESSAGE,
    LISTENER_APPLICATION_NAME,
    READ_RETRY_DELAYS,
    Workspace,
    connection_lost,
)

__all__ = [
    "CONNECTION_LOST_MESSAGE",
    "CONNECT_ARGS",
    "DEMO_PROFILE",
    "LISTENER_APPLICATION_NAME",
    "READ_RETRY_DELAYS",
    "SSL_MODES",
    "ConnectionProfile",
    "Identity",
    "Membership",
    "ProfileStore",
    "SignInError",
    "SignInProblem",
    "Workspace",
    "connection_lost",
    "forget_password",
    "load_password",
    "prepare_embedded",
    "secure_keyring_available",
    "sign_in",
    "stop_embedded_if_unused",
    "store_password",
    "upgrade_schema",
]

log = logging.getLogger(__name__)


class SignInProblem(Enum):
    WRONG_PASSWORD = "wrong_password"
    UNREACHABLE = "unreachable"
    NOT_A_PERSON = "not_a_person"
    SCHEMA_MISSING = "schema_missing"
    SCHEMA_OLDER = "schema_older"
    SCHEMA_NEWER = "schema_newer"
    INACTIVE = "inactive"


class SignInError(UserFacingError):
    """Signing in failed; ``str()`` is the plain sentence for the user.

    ``can_upgrade`` is True when this app may bring the schema up to date itself
    (:func:`upgrade_schema`, embedded profiles only); ``database_revision`` names the
    database's schema revision for the schema problems. ``temporary`` is True when the same
    attempt may work a little later without anyone changing anything (a server that is down,
    starting or full, a network that is away), so trying again by itself makes sense; a
    refusal by the server's rules, encryption or certificate needs a person.
    """

    def __init__(
        self,
        problem: SignInProblem,
        message: str,
        *,
        can_upgrade: bool = False,
        database_revision: str | None = None,
        temporary: bool = False,
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.can_upgrade = can_upgrade
        self.database_revision = database_revision
        self.temporary = temporary

    def __repr__(self) -> str:
        return f"SignInError({self.problem.name}, {str(self)!r})"


@dataclass(frozen=True)
class Membership:
    organization_id: uuid.UUID
    slug: str
    name: str
    role: Role
    # timezone, currency, language, date_format, ... (read-only; not part of equality)
    settings: Mapping[str, Any] = field(
        default_factory=lambda: MappingProxyType({}), compare=False, hash=False
    )


@dataclass(frozen=True)
class Identity:
    person_id: uuid.UUID
    username: str
    display_name: str
    memberships: tuple[Membership, ...]

    def membership(self, organization_id: uuid.UUID) -> Membership | None:
        return next((m for m in self.memberships if m.organization_id == organization_id), None)


# -- embedded clusters ----------------------------------------------------------------------

def _embedded_only(profile: ConnectionProfile) -> None:
    if profile.kind != "embedded":
        raise UserFacingError(
            f'"{profile.name}" is a server connection; its database is managed on the server.'
        )


def _embedded_database(profile: ConnectionProfile) -> str:
    """The app's database on this computer, or the restored one the profile was switched to."""
    return profile.database or local_server.DATABASE_NAME


def _start_embedded(profile: ConnectionProfile) -> EmbeddedCluster:
    """Start (or adopt) the profile's embedded cluster and make sure its database exists."""
    _embedded_only(profile)
    cluster = local_server.shared_cluster(profile.embedded_profile)
    try:
        cluster.ensure_initialized()
        cluster.start()
        if _embedded_database(profile) == local_server.DATABASE_NAME:
            # The app's own database is made on first use; another one (a restored backup
            # the profile was switched to) must already exist.
            local_server.ensure_database(cluster, local_server.DATABASE_NAME)
    except EmbeddedError as error:
        raise SignInError(
            SignInProblem.UNREACHABLE,
            f"The database on this computer could not be started. {error}",
        ) from error
    except psycopg.Error as error:
        raise SignInError(
            SignInProblem.UNREACHABLE,
            "The database on this computer was started but does not answer; try again.",
        ) from error
    except OSError as error:
        raise SignInError(
            SignInProblem.UNREACHABLE,
            "The database on this computer could not be started: "
            f"{error.strerror or error} ({error.filename or 'no file'}).",
        ) from error
    return cluster


def prepare_embedded(profile: ConnectionProfile) -> str:
    """Start the embedded cluster if needed and create its database; returns where it is.

    The returned text (folder of the cluster) is for display and holds nothing secret.
    """
    cluster = _start_embedded(profile)
    return f"{_embedded_database(profile)} in {cluster.root}"


def stop_embedded_if_unused() -> None:
    """At app exit, after every workspace is closed: stop embedded servers nobody else uses."""
    for cluster in local_server.release_shared_clusters():
        try:
            cluster.stop_if_unused()
        except EmbeddedError:
            log.exception("Could not stop the embedded database in %s", cluster.root)


def upgrade_schema(profile: ConnectionProfile) -> None:
    """Bring an embedded database's schema up to date (the OS user owns its superuser).

    Shared servers are upgraded by their administrator with ``factorypulse db upgrade``.
    """
    if profile.kind != "embedded":
        raise UserFacingError(
            "Only an administrator of the server can upgrade its database, with "
            "`factorypulse db upgrade`."
        )
    cluster = _start_embedded(profile)
    url = cluster.url(_embedded_database(profile))
    try:
        status = migrate.schema_status(url)
        if status.newer_than_app:
            raise _schema_newer(status.current or "")
        if not status.up_to_date:
            log.info(
                "Upgrading the embedded database %s from %s to %s",
                cluster.root,
                status.current,
                status.head,
            )
            migrate.upgrade(url)
    except Exception as error:
        if not isinstance(driver_error(error), psycopg.Error):
            raise
        raise friendly_error(error) from error


# -- connecting -----------------------------------------------------------------------------


def _where(profile: ConnectionProfile) -> str:
    return (
        "the database on this computer"
        if profile.is_embedded
        else (f"the database server {profile.host}:{profile.port}")
    )


def _server_detail(text_: str) -> str:
    """The server's own sentence from a libpq error ("FATAL:  ..."), if there is one."""
    for marker in ("FATAL:", "ERROR:"):
        if marker in text_:
            return text_.split(marker, 1)[1].strip().splitlines()[0].strip()
    return ""


def _connect_problem(
    error: BaseException, profile: ConnectionProfile, username: str
) -> SignInError:
    """Classify a failure to open the connection."""
    message = str(driver_error(error))
    # Match on libpq's and the server's words only, not on a host or folder name.
    scrubbed = message.replace(profile.host, "<host>") if profile.host else message
    for name in (profile.database, username):  # the server quotes them
        if name:
            scrubbed = scrubbed.replace(f'"{name}"', '"<name>"')
    lowered = scrubbed.lower()
    where = _where(profile)
    where_ = where[0].upper() + where[1:]
    retry = "Check that it is running and that the address and port are right, then try again."
    if (
        "password authentication failed" in lowered
        or "no password supplied" in lowered
        or "authentication failed for user" in lowered
        or ('role "' in lowered and "does not exist" in lowered)
    ):
        return SignInError(SignInProblem.WRONG_PASSWORD, "The user name or password is wrong.")
    if "is not permitted to log in" in lowered:
        return SignInError(
            SignInProblem.INACTIVE,
            f'The sign-in of "{username}" is switched off. Ask an administrator to reactivate it.',
        )
    if "permission denied for database" in lowered:
        return SignInError(
            SignInProblem.NOT_A_PERSON,
            f'"{username}" may not open this database. Ask an administrator to add you to '
            "Factory Pulse.",
        )
    if 'database "' in lowered and "does not exist" in lowered:
        return SignInError(
            SignInProblem.SCHEMA_MISSING,
            f'There is no database "{profile.database}" on {where}. Check the database name '
            "of this connection, or ask an administrator to create it and run "
            "`factorypulse db upgrade`.",
        )
    if "pg_hba.conf" in lowered:
        return SignInError(
            SignInProblem.UNREACHABLE,
            f"{where_} does not accept this user from this computer "
            "(or without encryption). Ask the server's administrator to allow it, or choose "
            "another encryption setting, then try again.",
        )
    if "does not support ssl" in lowered or ("ssl" in lowered and "required" in lowered):
        return SignInError(
            SignInProblem.UNREACHABLE,
            f"{where_} does not offer an encrypted connection, but this "
            "connection requires one. Choose another encryption setting, then try again.",
        )
    if "certificate" in lowered:
        return SignInError(
            SignInProblem.UNREACHABLE,
            f"The certificate of {where} cannot be verified. Check the encryption setting "
            "and the server's certificate, then try again.",
        )
    if ("too many" in lowered and "connection" in lowered) or "connection slots" in lowered:
        return SignInError(
            SignInProblem.UNREACHABLE,
            f"{where_} has no free connections right now. Try again in "
            "a moment, or ask the administrator to allow more connections.",
            temporary=True,
        )
    if "starting up" in lowered or "shutting down" in lowered or "recovery mode" in lowered:
        return SignInError(
            SignInProblem.UNREACHABLE,
            f"{where_} is starting or stopping. Try again in a moment.",
            temporary=True,
        )
    if "resolve host" in lowered or "translate host name" in lowered:
        return SignInError(
            SignInProblem.UNREACHABLE,
            f'The server name "{profile.host}" cannot be found. {retry}',
            temporary=True,  # also what an offline laptop gets
        )
    detail = _server_detail(message)
    if detail:  # the server answered, with something we do not recognize
        return SignInError(
            SignInProblem.UNREACHABLE,
            f"{where_} refused the connection: {detail}",
        )
    return SignInError(SignInProblem.UNREACHABLE, f"{where_} cannot be reached. {retry}",
                       temporary=True)


def sign_in(profile: ConnectionProfile, username: str, password: str) -> Workspace:
    """Connect as ``username`` and return the workspace; raises :class:`SignInError`.

    Blocking (starts an embedded server, connects over the network): never on the GUI thread.
    """
    username = username.strip()
    if not username:
        raise SignInError(SignInProblem.WRONG_PASSWORD, "Enter your user name.")
    if not password:
        # An empty password would make libpq fall back to ~/.pgpass or PGPASSWORD.
        raise SignInError(SignInProblem.WRONG_PASSWORD, "Enter your password.")
    if profile.kind == "embedded":
        cluster = _start_embedded(profile)
        conninfo = cluster.conninfo(_embedded_database(profile), user=username,
                                    password=password)
    else:
        conninfo = make_conninfo(
            "",
            host=profile.host,
            port=str(profile.port),
            dbname=profile.database,
            user=username,
            password=password,
            sslmode=profile.sslmode,
        )
    conninfo = make_conninfo(conninfo, **{k: str(v) for k, v in CONNECT_ARGS.items()})
    # psycopg alone, no SQLAlchemy: the main window must not wait for it (see workspace.py).
    check_current_thread()
    try:
        connection = psycopg.connect(conninfo, application_name="factorypulse",
                                     row_factory=namedtuple_row)
    except psycopg.Error as error:
        raise _connect_problem(error, profile, username) from error
    try:
        with connection:
            identity = _check_and_read_identity(connection, profile, username)
    except psycopg.OperationalError as error:  # the connection broke while checking
        raise _connect_problem(error, profile, username) from error
    except psycopg.Error as error:
        raise friendly_error(error) from error
    log.info(
        "Signed in as %s to %s (%d organizations)",
        identity.username,
        profile.describe(),
        len(identity.memberships),
    )
    return Workspace(identity=identity, profile=profile, conninfo=conninfo)


# -- checks after connecting ----------------------------------------------------------------

_ROLE_FACTS = """
    SELECT r.rolsuper OR r.rolbypassrls AS privileged,
           to_regclass('public.alembic_version') IS NOT NULL AS has_schema,
           CASE WHEN to_regrole('fp_member') IS NULL THEN false
                ELSE pg_has_role(session_user, 'fp_member', 'MEMBER') END AS is_member
    FROM pg_roles r WHERE r.rolname = session_user
"""
_PERSON = (
    "SELECT p.id, p.role_name, p.display_name FROM persons p WHERE p.id = fp_private.my_person_id()"
)
_MEMBERSHIPS = """
    SELECT m.organization_id, o.slug, o.name, m.role::text AS role, o.settings
    FROM memberships m JOIN organizations o ON o.id = m.organization_id
    WHERE m.person_id = %(person)s AND m.status = 'active' AND o.is_active
    ORDER BY o.name, o.slug
"""


def _not_a_person(username: str) -> SignInError:
    return SignInError(
        SignInProblem.NOT_A_PERSON,
        f'"{username}" can sign in to the database server but is not a person in this '
        "Factory Pulse database. Ask an administrator to add you.",
    )


def _schema_newer(revision: str) -> SignInError:
    return SignInError(
        SignInProblem.SCHEMA_NEWER,
        f'This database needs a newer Factory Pulse: its schema revision "{revision}" is '
        "unknown to this version. Install the newer Factory Pulse to use it.",
        database_revision=revision,
    )


def _check_schema(connection: psycopg.Connection[Any], profile: ConnectionProfile) -> None:
    revisions = [r for (r,) in connection.execute("SELECT version_num FROM alembic_version")]
    embedded = profile.kind == "embedded"
    if not revisions:
        raise _schema_missing(profile)
    known = migrate.known_revisions()
    unknown = [r for r in revisions if r not in known]
    if unknown:
        raise _schema_newer(unknown[0])
    head = migrate.head_revision()
    if revisions != [head]:
        current = ", ".join(revisions)
        fix = (
            "This app can upgrade it now."
            if embedded
            else "An administrator must run `factorypulse db upgrade` before anyone can sign in."
        )
        raise SignInError(
            SignInProblem.SCHEMA_OLDER,
            f'This database has an older Factory Pulse schema (revision "{current}"). {fix}',
            can_upgrade=embedded,
            database_revision=current,
        )


def _schema_missing(profile: ConnectionProfile) -> SignInError:
    embedded = profile.kind == "embedded"
    fix = (
        "This app can set it up now."
        if embedded
        else "An administrator must run `factorypulse db upgrade` to set it up."
    )
    return SignInError(
        SignInProblem.SCHEMA_MISSING,
        f"This database holds no Factory Pulse data yet. {fix}",
        can_upgrade=embedded,
    )


def _check_and_read_identity(
    connection: psycopg.Connection[Any], profile: ConnectionProfile, username: str
) -> Identity:
    facts = connection.execute(_ROLE_FACTS).fetchone()
    if facts is None:  # pragma: no cover - session_user always has a pg_roles row
        raise _not_a_person(username)
    if facts.privileged:
        # A superuser or BYPASSRLS login would see every organization's rows.
        raise SignInError(
            SignInProblem.NOT_A_PERSON,
            f'"{username}" is a database administrator login, not a person. Sign in with '
            "your own user name.",
        )
    if not facts.has_schema:
        raise _schema_missing(profile)
    if not facts.is_member:
        raise _not_a_person(username)
    _check_schema(connection, profile)
    person = connection.execute(_PERSON).fetchone()
    if person is None:
        # No persons row for this login here, or the person is not active.
        raise _not_a_person(username)
    memberships = tuple(
        Membership(
            organization_id=row.organization_id,
            slug=row.slug,
            name=row.name,
            role=Role(row.role),
            settings=MappingProxyType(dict(row.settings or {})),
        )
        for row in connection.execute(_MEMBERSHIPS, {"person": person.id})
    )
    if not memberships:
        raise SignInError(
            SignInProblem.INACTIVE,
            f'The account "{username}" is not active in any organization. Ask an '
            "administrator to reactivate it.",
        )
    return Identity(
        person_id=person.id,
        username=person.role_name,
        display_name=person.display_name,
        memberships=memberships,
    )
