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
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Any, TypeVar

import psycopg
from psycopg.conninfo import make_conninfo
from sqlalchemy import Connection, Engine, event, exc, text
from sqlalchemy.engine import URL

from factorypulse_desktop.data import migrate
from factorypulse_desktop.data.db import friendly_error, make_engine
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

__all__ = [
    "CONNECTION_LOST_MESSAGE",
    "CONNECT_ARGS",
    "DEMO_PROFILE",
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

# libpq parameters of every connection the app makes as a person (the pool and the listener):
# give up connecting after 5 s, and notice a dead server or network within about a minute.
CONNECT_ARGS: Mapping[str, int] = MappingProxyType(
    {
        "connect_timeout": 5,
        "keepalives": 1,
        "keepalives_idle": 30,
        "keepalives_interval": 10,
        "keepalives_count": 3,
        "tcp_user_timeout": 30000,
    }
)
LISTENER_APPLICATION_NAME = "factorypulse-listener"

# Workspace.read: the pauses before the 2nd, 3rd, ... attempt after a lost connection (the last
# one repeats), and what the person is told when every attempt failed.
READ_RETRY_DELAYS: tuple[float, ...] = (0.2, 0.5, 1.0)
CONNECTION_LOST_MESSAGE = (
    "The connection to the database was lost. Check the network connection and that the "
    "database server is running, then try again."
)
# SQLSTATEs that mean the server ended the session (the connection is gone, not the query):
# admin/crash shutdown, cannot connect now, database dropped, idle-session timeout,
# idle-in-transaction and transaction timeouts. Class 08 (connection exception) counts too.
# Not 57014 (query_canceled, e.g. statement_timeout): the connection is fine, and running the
# same slow query again would only make the person wait longer.
_SESSION_ENDED_STATES = frozenset({"57P01", "57P02", "57P03", "57P04", "57P05", "25P03", "25P04"})

T = TypeVar("T")


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
    database's schema revision for the schema problems.
    """

    def __init__(
        self,
        problem: SignInProblem,
        message: str,
        *,
        can_upgrade: bool = False,
        database_revision: str | None = None,
    ) -> None:
        super().__init__(message)
        self.problem = problem
        self.can_upgrade = can_upgrade
        self.database_revision = database_revision

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


class Workspace:
    """A signed-in person's connection to one database; owns a pooled engine.

    The pool holds at most two connections (``make_engine(url, pooled=True)``); the listener
    opens a third with :meth:`conninfo`. Close it at sign-out; an embedded server keeps running
    (call :func:`stop_embedded_if_unused` when the app exits).
    """

    def __init__(
        self,
        *,
        identity: Identity,
        profile: ConnectionProfile,
        engine: Engine,
        conninfo: str,
    ) -> None:
        self.identity = identity
        self.profile = profile
        self._engine = engine
        self._conninfo = conninfo
        self._closed = False

    def __repr__(self) -> str:
        return f"Workspace({self.profile.name!r}, {self.identity.username!r})"

    @property
    def engine(self) -> Engine:
        """For the services of this workspace; everything runs as the signed-in person."""
        return self._engine

    @property
    def closed(self) -> bool:
        return self._closed

    def conninfo(self) -> str:
        """A libpq string for the listener connection (same credentials; keep it in memory)."""
        return self._conninfo

    def transaction(self) -> AbstractContextManager[Connection]:
        """A connection in a transaction, committed at the end of the ``with`` block."""
        if self._closed:
            raise UserFacingError("You have signed out; sign in again.")
        return self._engine.begin()

    def read(self, fn: Callable[[Connection], T], *, attempts: int = 3) -> T:
        """``fn(connection)`` in a read-only transaction; retried whole on a lost connection.

        For reads only (a read is idempotent, so running it again is safe): ``fn`` gets a
        connection inside a ``READ ONLY`` transaction (a write fails with
        ``ReadOnlySqlTransaction``) and should return plain data, not live result objects.
        When the connection turns out to be lost -- the server restarted, a network cut, a
        session ended by the server -- the broken connection is discarded from the pool and
        the whole unit runs again on a fresh one, after ``READ_RETRY_DELAYS``, up to
        ``attempts`` times in all. After the last attempt a :class:`UserFacingError` with
        :data:`CONNECTION_LOST_MESSAGE` is raised (the driver's error is its ``__cause__``).
        Any other error propagates unchanged, without a retry.

        Blocking: run it through the task runner, never on the GUI thread.
        """
        attempts = max(1, attempts)
        attempt = 1
        while True:
            if self._closed:
                raise UserFacingError("You have signed out; sign in again.")
            try:
                return self._read_once(fn)
            except (exc.DBAPIError, psycopg.Error) as error:
                if not connection_lost(error):
                    raise
                if attempt >= attempts:
                    log.warning(
                        "Read given up after %d attempt(s), the connection was lost: %s",
                        attempts,
                        _first_line(error),
                    )
                    raise UserFacingError(CONNECTION_LOST_MESSAGE) from error
                delay = READ_RETRY_DELAYS[min(attempt - 1, len(READ_RETRY_DELAYS) - 1)]
                log.info(
                    "Connection lost during a read (attempt %d of %d), retrying in %.1f s: %s",
                    attempt,
                    attempts,
                    delay,
                    _first_line(error),
                )
                time.sleep(delay)
                attempt += 1

    def _read_once(self, fn: Callable[[Connection], T]) -> T:
        # Checkout pre-pings the pooled connection (make_engine's pool_pre_ping): a connection
        # that died while idle is replaced here, before fn sees it.
        connection = self._engine.connect()
        try:
            # BEGIN READ ONLY; reset when the connection goes back to the pool.
            connection = connection.execution_options(postgresql_readonly=True)
            with connection.begin():
                return fn(connection)
        except (exc.DBAPIError, psycopg.Error) as error:
            # SQLAlchemy invalidates a connection psycopg marked broken; a session the server
            # ended may not be marked yet: never hand it out again.
            if connection_lost(error) and not connection.invalidated:
                connection.invalidate(error)
            raise
        finally:
            connection.close()

    def close(self) -> None:
        """Sign out: close the pooled connections (an embedded server keeps running)."""
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


def connection_lost(error: BaseException) -> bool:
    """Whether ``error`` means the connection is gone (as opposed to a failing statement).

    True for a connection SQLAlchemy invalidated, for libpq's own failures (no SQLSTATE:
    cannot connect, connection timeout, server closed the connection, consuming input
    failed), for class 08 and for the SQLSTATEs of a session the server ended.
    """
    original: BaseException | None = error
    if isinstance(error, exc.DBAPIError):
        if error.connection_invalidated:
            return True
        original = error.orig
    if not isinstance(original, psycopg.Error):
        return False
    state = original.sqlstate
    if state is None:
        return isinstance(original, psycopg.OperationalError | psycopg.InterfaceError)
    return state.startswith("08") or state in _SESSION_ENDED_STATES


def _first_line(error: BaseException) -> str:
    original = error.orig if isinstance(error, exc.DBAPIError) else error
    lines = str(original).strip().splitlines()
    return lines[0] if lines else type(original).__name__


# -- embedded clusters ----------------------------------------------------------------------

# One cluster object per embedded profile in this process: it holds the "in use" lease that
# keeps other processes from stopping the server under us.
_clusters: dict[str, EmbeddedCluster] = {}
_clusters_lock = threading.Lock()


def _embedded_only(profile: ConnectionProfile) -> None:
    if profile.kind != "embedded":
        raise UserFacingError(
            f'"{profile.name}" is a server connection; its database is managed on the server.'
        )


def _start_embedded(profile: ConnectionProfile) -> EmbeddedCluster:
    """Start (or adopt) the profile's embedded cluster and make sure its database exists."""
    _embedded_only(profile)
    with _clusters_lock:
        try:
            cluster = _clusters.get(profile.embedded_profile)
            if cluster is None:
                cluster = local_server.embedded_cluster(profile.embedded_profile)
                _clusters[profile.embedded_profile] = cluster
            cluster.ensure_initialized()
            cluster.start()
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
    return f"{local_server.DATABASE_NAME} in {cluster.root}"


def stop_embedded_if_unused() -> None:
    """At app exit, after every workspace is closed: stop embedded servers nobody else uses."""
    with _clusters_lock:
        clusters = list(_clusters.values())
        _clusters.clear()
    for cluster in clusters:
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
    url = cluster.url(local_server.DATABASE_NAME)
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
    except exc.DBAPIError as error:
        raise friendly_error(error) from error


# -- connecting -----------------------------------------------------------------------------


def _server_url(profile: ConnectionProfile, username: str, password: str) -> str:
    # host and port as query parameters: the host may be a unix socket folder.
    return URL.create(
        "postgresql+psycopg",
        username=username,
        password=password,
        database=profile.database,
        query={"host": profile.host, "port": str(profile.port), "sslmode": profile.sslmode},
    ).render_as_string(hide_password=False)


def _server_conninfo(profile: ConnectionProfile, username: str, password: str) -> str:
    return make_conninfo(
        "",
        host=profile.host,
        port=str(profile.port),
        dbname=profile.database,
        user=username,
        password=password,
        sslmode=profile.sslmode,
        application_name=LISTENER_APPLICATION_NAME,
        **{k: str(v) for k, v in CONNECT_ARGS.items()},
    )


def _add_connect_args(engine: Engine) -> None:
    def do_connect(_dialect: Any, _record: Any, _cargs: Any, cparams: dict[str, Any]) -> None:
        cparams.update(CONNECT_ARGS)

    event.listen(engine, "do_connect", do_connect)


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
    original = error.orig if isinstance(error, exc.DBAPIError) else error
    message = str(original)
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
        )
    if "starting up" in lowered or "shutting down" in lowered or "recovery mode" in lowered:
        return SignInError(
            SignInProblem.UNREACHABLE,
            f"{where_} is starting or stopping. Try again in a moment.",
        )
    if "resolve host" in lowered or "translate host name" in lowered:
        return SignInError(
            SignInProblem.UNREACHABLE,
            f'The server name "{profile.host}" cannot be found. {retry}',
        )
    detail = _server_detail(message)
    if detail:  # the server answered, with something we do not recognize
        return SignInError(
            SignInProblem.UNREACHABLE,
            f"{where_} refused the connection: {detail}",
        )
    return SignInError(SignInProblem.UNREACHABLE, f"{where_} cannot be reached. {retry}")


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
        url = cluster.url(local_server.DATABASE_NAME, user=username, password=password)
        conninfo = make_conninfo(
            cluster.conninfo(local_server.DATABASE_NAME, user=username, password=password),
            application_name=LISTENER_APPLICATION_NAME,
            **{k: str(v) for k, v in CONNECT_ARGS.items()},
        )
    else:
        url = _server_url(profile, username, password)
        conninfo = _server_conninfo(profile, username, password)
    engine = make_engine(url, pooled=True)
    _add_connect_args(engine)
    try:
        try:
            connection = engine.connect()
        except exc.DBAPIError as error:
            raise _connect_problem(error, profile, username) from error
        with connection, connection.begin():
            identity = _check_and_read_identity(connection, profile, username)
    except SignInError:
        engine.dispose()
        raise
    except exc.OperationalError as error:  # the connection broke while checking
        engine.dispose()
        raise _connect_problem(error, profile, username) from error
    except exc.DBAPIError as error:
        engine.dispose()
        raise friendly_error(error) from error
    except BaseException:
        engine.dispose()
        raise
    log.info(
        "Signed in as %s to %s (%d organizations)",
        identity.username,
        profile.describe(),
        len(identity.memberships),
    )
    return Workspace(identity=identity, profile=profile, engine=engine, conninfo=conninfo)


# -- checks after connecting ----------------------------------------------------------------

_ROLE_FACTS = text(
    """
    SELECT r.rolsuper OR r.rolbypassrls AS privileged,
           to_regclass('public.alembic_version') IS NOT NULL AS has_schema,
           CASE WHEN to_regrole('fp_member') IS NULL THEN false
                ELSE pg_has_role(session_user, 'fp_member', 'MEMBER') END AS is_member
    FROM pg_roles r WHERE r.rolname = session_user
    """
)
_PERSON = text(
    "SELECT p.id, p.role_name, p.display_name FROM persons p WHERE p.id = fp_private.my_person_id()"
)
_MEMBERSHIPS = text(
    """
    SELECT m.organization_id, o.slug, o.name, m.role::text AS role, o.settings
    FROM memberships m JOIN organizations o ON o.id = m.organization_id
    WHERE m.person_id = :person AND m.status = 'active' AND o.is_active
    ORDER BY o.name, o.slug
    """
)


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


def _check_schema(connection: Connection, profile: ConnectionProfile) -> None:
    revisions = [r for (r,) in connection.execute(text("SELECT version_num FROM alembic_version"))]
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
    connection: Connection, profile: ConnectionProfile, username: str
) -> Identity:
    facts = connection.execute(_ROLE_FACTS).one_or_none()
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
    person = connection.execute(_PERSON).one_or_none()
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
