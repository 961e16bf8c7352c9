"""Connection profiles: where to find the database (never a password).

Profiles live in ``profiles.json`` in the per-user config folder
(``FACTORYPULSE_CONFIG_DIR`` overrides it)::

    {"schema_version": 1, "last_used": "Demo", "profiles": [{"name": "Demo", ...}, ...]}

The file is written atomically (temporary file in the same folder, then rename) under a file
lock, so two app windows saving at the same time never leave half a file or lose a profile.
Passwords are never written here: "remember me" keeps them in the OS keyring
(:mod:`factorypulse_desktop.runtime.secrets`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, Literal, get_args

import platformdirs

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.runtime.file_lock import FileLock
from factorypulse_desktop.runtime.paths import APP_NAME, embedded_root

log = logging.getLogger(__name__)

CONFIG_DIR_ENV_VAR = "FACTORYPULSE_CONFIG_DIR"
PROFILES_FILE = "profiles.json"
SCHEMA_VERSION = 1
_LOCK_TIMEOUT = 10.0

ProfileKind = Literal["embedded", "server"]
SslMode = Literal["disable", "prefer", "require", "verify-ca", "verify-full"]
KINDS: tuple[str, ...] = get_args(ProfileKind)
SSL_MODES: tuple[str, ...] = get_args(SslMode)
_MAX_NAME = 80
_MAX_HOST = 253
_MAX_DATABASE = 63


def config_dir() -> Path:
    """The per-user config folder (``FACTORYPULSE_CONFIG_DIR`` overrides it)."""
    override = os.environ.get(CONFIG_DIR_ENV_VAR, "").strip()
    if override:
        return Path(override).expanduser().absolute()
    return Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))


@dataclass(frozen=True)
class ConnectionProfile:
    """Where one database is; text fields are stripped and every field is checked on creation.

    Creating an invalid profile raises :class:`UserFacingError` with a sentence for the user.
    """

    name: str  # shown to the user, unique
    kind: ProfileKind
    embedded_profile: str = "default"  # for kind == "embedded": runtime.paths.embedded_root()
    host: str = ""
    port: int = 5432
    database: str = "factorypulse"
    sslmode: SslMode = "prefer"
    last_username: str = ""
    remember_password: bool = False  # the password itself lives only in the keyring

    def __post_init__(self) -> None:
        for field in ("name", "host", "database", "last_username", "embedded_profile"):
            value = getattr(self, field)
            if not isinstance(value, str):
                raise UserFacingError(f"The connection setting {field} must be text.")
            object.__setattr__(self, field, value.strip())
        _check_profile(self)

    @property
    def is_embedded(self) -> bool:
        return self.kind == "embedded"

    def describe(self) -> str:
        """Where the database is, for a status line (no user name, no secret)."""
        if self.is_embedded:
            return (
                "this computer"
                if self.embedded_profile == "default"
                else (f"this computer ({self.embedded_profile})")
            )
        return f"{self.database} on {self.host}:{self.port}"


def _check_profile(p: ConnectionProfile) -> None:
    if not p.name:
        raise UserFacingError("A connection needs a name.")
    if len(p.name) > _MAX_NAME:
        raise UserFacingError(f"A connection name can have at most {_MAX_NAME} characters.")
    if any(ord(c) < 32 for c in p.name):
        raise UserFacingError("A connection name cannot contain control characters.")
    if p.kind not in KINDS:
        raise UserFacingError(
            f'"{p.kind}" is not a kind of connection; choose "embedded" (this computer) or '
            '"server".'
        )
    if not isinstance(p.remember_password, bool):
        raise UserFacingError("The setting remember_password must be true or false.")
    if p.sslmode not in SSL_MODES:
        raise UserFacingError(
            f'"{p.sslmode}" is not an encryption (TLS) mode. Choose one of: {", ".join(SSL_MODES)}.'
        )
    if p.kind == "embedded":
        try:
            embedded_root(p.embedded_profile)
        except ValueError:
            raise UserFacingError(
                f'"{p.embedded_profile}" is not a valid name for a database on this computer: '
                "use letters, digits, '-', '_' or '.'."
            ) from None
        return
    if not p.host:
        raise UserFacingError("Enter the name or address of the database server.")
    if len(p.host) > _MAX_HOST or any(c.isspace() or ord(c) < 32 for c in p.host):
        raise UserFacingError(f'"{p.host}" is not a valid server name or address.')
    if isinstance(p.port, bool) or not isinstance(p.port, int) or not 1 <= p.port <= 65535:
        raise UserFacingError(f"The port must be a number from 1 to 65535, not {p.port!r}.")
    if not p.database:
        raise UserFacingError("Enter the name of the database on the server.")
    if len(p.database) > _MAX_DATABASE or any(ord(c) < 32 for c in p.database):
        raise UserFacingError(f'"{p.database}" is not a valid database name.')


DEMO_PROFILE = ConnectionProfile(
    name="Demo", kind="embedded", embedded_profile="demo", last_username="acme.admin"
)

_FIELD_NAMES = tuple(f.name for f in fields(ConnectionProfile))


def profile_to_dict(p: ConnectionProfile) -> dict[str, Any]:
    return asdict(p)


def profile_from_dict(data: Mapping[str, Any]) -> ConnectionProfile:
    """A profile from its JSON form; unknown keys are ignored, wrong types refused."""
    if not isinstance(data, Mapping):
        raise UserFacingError("A saved connection is not a JSON object.")
    values = {k: data[k] for k in _FIELD_NAMES if k in data}
    if "name" not in values or "kind" not in values:
        raise UserFacingError("A saved connection has no name or kind.")
    return ConnectionProfile(**values)


def _check_unique(profiles: Sequence[ConnectionProfile]) -> None:
    seen: set[str] = set()
    for p in profiles:
        key = p.name.casefold()
        if key in seen:
            raise UserFacingError(
                f'There is already a connection named "{p.name}"; choose another name.'
            )
        seen.add(key)


class ProfileStore:
    """The saved connection profiles of this user (a JSON file, see the module docstring)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = Path(directory) if directory is not None else config_dir()
        self.path = self.directory / PROFILES_FILE

    def __repr__(self) -> str:
        return f"ProfileStore({str(self.directory)!r})"

    # -- public API --------------------------------------------------------------------------

    def load(self) -> list[ConnectionProfile]:
        return self._read()[0]

    def save(self, profiles: Sequence[ConnectionProfile]) -> None:
        """Replace every saved profile (``last_used`` is kept if it still names one)."""
        profiles = list(profiles)
        _check_unique(profiles)
        with self._locked():
            _old, last_used = self._read()
            names = {p.name for p in profiles}
            self._write(profiles, last_used if last_used in names else None)

    def get(self, name: str) -> ConnectionProfile | None:
        key = name.strip().casefold()
        return next((p for p in self.load() if p.name.casefold() == key), None)

    def upsert(self, p: ConnectionProfile, *, replacing: str | None = None) -> None:
        """Add ``p``, or replace the profile of the same name (of name ``replacing`` to rename).

        A rename keeps the profile's place in the list and its "last used" mark.
        """
        if not isinstance(p, ConnectionProfile):
            raise TypeError("upsert() takes a ConnectionProfile")
        old_key = (replacing if replacing is not None else p.name).strip().casefold()
        with self._locked():
            profiles, last_used = self._read()
            index = next((i for i, q in enumerate(profiles) if q.name.casefold() == old_key), None)
            if index is None:
                profiles.append(p)
            else:
                if last_used is not None and last_used.casefold() == old_key:
                    last_used = p.name
                profiles[index] = p
            _check_unique(profiles)
            self._write(profiles, last_used)

    def remove(self, name: str) -> None:
        """Forget a profile (no error if there is none of that name)."""
        key = name.strip().casefold()
        with self._locked():
            profiles, last_used = self._read()
            kept = [p for p in profiles if p.name.casefold() != key]
            if len(kept) == len(profiles):
                return
            if last_used is not None and last_used.casefold() == key:
                last_used = None
            self._write(kept, last_used)

    @property
    def last_used(self) -> str | None:
        """The name of the profile signed in with last (it need not be a saved one: "Demo")."""
        return self._read()[1]

    @last_used.setter
    def last_used(self, name: str | None) -> None:
        value = name.strip() if name else None
        with self._locked():
            profiles, _old = self._read()
            self._write(profiles, value or None)

    # -- file --------------------------------------------------------------------------------

    def _read(self) -> tuple[list[ConnectionProfile], str | None]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return [], None
        except OSError as exc:
            raise UserFacingError(
                f"The saved connections in {self.path} cannot be read: {exc.strerror}."
            ) from exc
        try:
            data = json.loads(raw)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
        except ValueError:
            self._set_aside_damaged()
            return [], None
        version = data.get("schema_version")
        if isinstance(version, int) and version > SCHEMA_VERSION:
            log.warning(
                "%s was written by a newer Factory Pulse (format %s); reading what this "
                "version understands",
                self.path,
                version,
            )
        profiles: list[ConnectionProfile] = []
        seen: set[str] = set()
        entries = data.get("profiles")
        for entry in entries if isinstance(entries, list) else []:
            try:
                p = profile_from_dict(entry)
            except (UserFacingError, TypeError) as exc:
                log.warning("Skipping a saved connection in %s: %s", self.path, exc)
                continue
            if p.name.casefold() in seen:
                log.warning("Skipping a second connection named %r in %s", p.name, self.path)
                continue
            seen.add(p.name.casefold())
            profiles.append(p)
        last_used = data.get("last_used")
        return profiles, last_used if isinstance(last_used, str) and last_used else None

    def _newer_format(self) -> int | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        version = data.get("schema_version") if isinstance(data, dict) else None
        return version if isinstance(version, int) and version > SCHEMA_VERSION else None

    def _set_aside_damaged(self) -> None:
        """Keep a damaged file under another name (the user may want it) and start afresh."""
        backup = self.path.with_name(f"{PROFILES_FILE}.damaged-{time.strftime('%Y%m%d-%H%M%S')}")
        with contextlib.suppress(OSError):
            os.replace(self.path, backup)
            log.warning("%s was damaged; it was kept as %s", self.path, backup)

    def _write(self, profiles: Sequence[ConnectionProfile], last_used: str | None) -> None:
        newer = self._newer_format()
        if newer is not None:
            raise UserFacingError(
                f"The saved connections in {self.path} were written by a newer Factory Pulse; "
                "change them with that version, or update this one."
            )
        payload: dict[str, Any] = {
            "schema_version": SCHEMA_VERSION,
            "last_used": last_used,
            "profiles": [profile_to_dict(p) for p in profiles],
        }
        text = json.dumps(payload, indent=2, ensure_ascii=False) + "\n"
        self._ensure_dir()
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{PROFILES_FILE}.", suffix=".tmp", dir=self.directory
        )
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        self._fsync_dir()

    def _ensure_dir(self) -> None:
        try:
            self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError as exc:
            raise UserFacingError(
                f"The folder {self.directory} for saved connections cannot be created: "
                f"{exc.strerror}."
            ) from exc

    def _fsync_dir(self) -> None:
        if os.name != "posix":
            return
        with contextlib.suppress(OSError):
            dir_fd = os.open(self.directory, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._ensure_dir()
        lock = FileLock(self.directory / f"{PROFILES_FILE}.lock")
        if not lock.acquire(_LOCK_TIMEOUT):
            raise UserFacingError(
                "Another Factory Pulse window is saving the connections; try again."
            )
        try:
            yield
        finally:
            lock.release()
