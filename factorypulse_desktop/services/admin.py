"""Administration use cases: the people of an organization, its settings (no Qt).

Every function takes the signed-in :class:`~factorypulse_desktop.services.auth.Workspace` and
runs in one transaction on the person's *own* connection, so PostgreSQL decides who may do
what (the ``fp_private`` SECURITY DEFINER functions check "administrator of this
organization", row level security lets only administrators update the organization row).
The checks made here only turn a refusal into a clearer sentence; they protect nothing.

Failures are :class:`UserFacingError` with one plain sentence; a settings save that lost the
race against another administrator is a :class:`SettingsConflictError`.

Blocking (network): call these from the task runner, never on the GUI thread.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, TypeVar

from sqlalchemy import Connection, text

from factorypulse_desktop.data import people
from factorypulse_desktop.domain.currency import CURRENCY_CODES
from factorypulse_desktop.domain.enums import PersonStatus, Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import clean_text, shown
from factorypulse_desktop.domain.validation import check_password, check_username
from factorypulse_desktop.services import units
from factorypulse_desktop.services.auth import (
    ConnectionProfile,
    ProfileStore,
    Workspace,
    forget_password,
)
from factorypulse_desktop.services.organizations import organization_locale

__all__ = [
    "COMMON_TIMEZONES",
    "CURRENCY_CODES",
    "WEEKDAY_KEYS",
    "ContactChoice",
    "Holiday",
    "OrgSettings",
    "PersonRow",
    "SettingsConflictError",
    "add_existing_person",
    "add_person",
    "change_role",
    "check_currency",
    "check_email",
    "check_locale",
    "check_settings",
    "check_timezone",
    "forget_connection",
    "list_people",
    "list_portal_contacts",
    "load_settings",
    "reset_password",
    "save_settings",
    "set_active",
    "timezone_names",
]

log = logging.getLogger(__name__)
T = TypeVar("T")

# How working days are stored in organizations.settings (the demo data's spelling); index is
# Python's weekday(): 0 = Monday ... 6 = Sunday.
WEEKDAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_WORKING_DAYS = frozenset(range(5))
MAX_NAME = 200
MAX_HOLIDAY_LABEL = 100
MAX_EMAIL = 254  # RFC 5321: the longest address that can be delivered
# The largest document file an administrator may allow, in MiB (the default is 1 GiB).
MAX_FILE_LIMIT_MIB = 16 * 1024
DEFAULT_FILE_LIMIT_MIB = 1024


# Offered when this computer has no time zone database (Windows without the tzdata package).
COMMON_TIMEZONES: tuple[str, ...] = (
    "UTC",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Toronto",
    "America/Mexico_City",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Dublin",
    "Europe/Lisbon",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Amsterdam",
    "Europe/Madrid",
    "Europe/Rome",
    "Europe/Vienna",
    "Europe/Zurich",
    "Europe/Prague",
    "Europe/Warsaw",
    "Europe/Stockholm",
    "Europe/Helsinki",
    "Europe/Istanbul",
    "Africa/Cairo",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Bangkok",
    "Asia/Ho_Chi_Minh",
    "Asia/Jakarta",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Hong_Kong",
    "Asia/Taipei",
    "Asia/Seoul",
    "Asia/Tokyo",
    "Australia/Perth",
    "Australia/Sydney",
    "Pacific/Auckland",
)

_LOCALE_RE = re.compile(r"^([A-Za-z]{2,3})[_-]([A-Za-z]{2})$")
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SettingsConflictError(UserFacingError):
    """Someone else saved the organization settings after they were loaded here."""


# -- values ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonRow:
    """One member of an organization, as the people table shows them."""

    person_id: uuid.UUID
    username: str
    display_name: str
    email: str | None
    role: Role
    status: PersonStatus
    department: str | None
    title: str | None
    contact_id: uuid.UUID | None = None  # the company a customer or supplier represents

    @property
    def is_active(self) -> bool:
        return self.status is PersonStatus.ACTIVE


@dataclass(frozen=True)
class ContactChoice:
    """A customer or supplier company a portal login can represent."""

    contact_id: uuid.UUID
    company_name: str
    kind: str  # "customer" or "supplier"


@dataclass(frozen=True, order=True)
class Holiday:
    date: dt.date
    label: str = ""


@dataclass(frozen=True)
class OrgSettings:
    """The organization's name and working settings; ``version`` is the row's lock version."""

    name: str
    timezone: str = "UTC"
    currency: str = "USD"
    locale: str = "en_US"
    working_days: frozenset[int] = DEFAULT_WORKING_DAYS
    holidays: tuple[Holiday, ...] = ()
    # The largest file people may upload (the documents bucket's max_file_size), in MiB.
    max_file_mib: int = DEFAULT_FILE_LIMIT_MIB
    version: int = field(default=0, compare=False)


MIB = 1024 * 1024
_FILE_LIMIT = ("(SELECT b.max_file_size FROM storage_buckets b WHERE b.organization_id = o.id "
               "AND b.name = 'documents')")

# -- helpers --------------------------------------------------------------------------------


def _organization(conn: Connection, org_id: uuid.UUID) -> people.Organization:
    row = conn.execute(
        text("SELECT id, slug, name FROM organizations WHERE id = :id"), {"id": org_id}
    ).one_or_none()
    if row is None:  # RLS: not a member (or no longer active there)
        raise UserFacingError("You are not a member of this organization.")
    return people.Organization(id=row.id, slug=row.slug, name=row.name)


def _is_admin(conn: Connection, org_id: uuid.UUID) -> bool:
    return bool(
        conn.execute(text("SELECT fp_private.caller_is_admin(:org)"), {"org": org_id}).scalar()
    )


def _membership(conn: Connection, org_id: uuid.UUID, person_id: uuid.UUID) -> Any:
    row = conn.execute(
        text(
            "SELECT role::text AS role, status::text AS status, contact_id FROM memberships "
            "WHERE organization_id = :org AND person_id = :person"
        ),
        {"org": org_id, "person": person_id},
    ).one_or_none()
    if row is None:
        raise UserFacingError("That person is not a member of this organization.")
    return row


def _set_membership(
    conn: Connection, org_id: uuid.UUID, person_id: uuid.UUID, role: Role, status: PersonStatus
) -> None:
    conn.execute(
        text(
            "SELECT fp_private.set_membership(:org, :person, CAST(:role AS user_role), "
            "CAST(:status AS user_status))"
        ),
        {"org": org_id, "person": person_id, "role": role.value, "status": status.value},
    )


def _portal_contact_needed(role: Role) -> UserFacingError:
    return UserFacingError(
        f"A {role.value} login must be linked to the {role.value} company it represents; "
        "choose the company."
    )


def check_email(email: str | None) -> str | None:
    """The e-mail address trimmed and NFC, or None when empty; a malformed one is refused."""
    value = clean_text(email, field="email", label="The e-mail address", max_length=MAX_EMAIL)
    if value is not None and not _EMAIL_RE.match(value):
        raise UserFacingError(f'"{shown(value)}" is not an e-mail address.')
    return value


def check_display_name(display_name: str | None) -> str | None:
    """The name shown for a person, trimmed and NFC; None when empty (the user name is shown)."""
    return clean_text(display_name, field="display_name", label="The display name",
                      max_length=MAX_NAME)


# -- people ---------------------------------------------------------------------------------

_PEOPLE = text(
    """
    SELECT p.id, p.role_name, p.display_name, p.email, p.status::text AS person_status,
           m.role::text AS role, m.status::text AS status, m.department, m.title, m.contact_id
    FROM memberships m JOIN persons p ON p.id = m.person_id
    WHERE m.organization_id = :org
    ORDER BY lower(p.display_name), p.role_name
    """
)


def list_people(ws: Workspace, org_id: uuid.UUID) -> list[PersonRow]:
    """Everyone with a membership in the organization, active or not, sorted by name."""

    def read(conn: Connection) -> list[Any]:
        _organization(conn, org_id)
        return list(conn.execute(_PEOPLE, {"org": org_id}).all())

    return [
        PersonRow(
            person_id=r.id,
            username=r.role_name,
            display_name=r.display_name,
            email=r.email,
            role=Role(r.role),
            # A person switched off everywhere counts as such here too.
            status=PersonStatus(r.status if r.person_status == "active" else r.person_status),
            department=r.department,
            title=r.title,
            contact_id=r.contact_id,
        )
        for r in units.read(ws, read)
    ]


def list_portal_contacts(ws: Workspace, org_id: uuid.UUID) -> list[ContactChoice]:
    """Active customer and supplier companies, for linking a portal login to one."""

    def read(conn: Connection) -> list[Any]:
        return list(conn.execute(
            text(
                "SELECT id, company_name, type::text AS kind FROM contacts "
                "WHERE organization_id = :org AND is_active "
                "AND type IN ('customer', 'supplier') ORDER BY lower(company_name)"
            ),
            {"org": org_id},
        ).all())

    return [ContactChoice(r.id, r.company_name, r.kind) for r in units.read(ws, read)]


def add_person(
    ws: Workspace,
    org_id: uuid.UUID,
    username: str,
    role: Role,
    password: str,
    display_name: str | None = None,
    email: str | None = None,
    *,
    contact_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Create a new person (their own database login) as a member of the organization.

    Customers and suppliers need ``contact_id``: the company they represent.
    """
    username = username.strip()
    check_username(username)
    check_password(password)
    email = check_email(email)
    display_name = check_display_name(display_name)
    if role.is_portal and contact_id is None:
        raise _portal_contact_needed(role)
    with units.transaction(ws) as conn:
        org = _organization(conn, org_id)
        return people.add_person(
            conn,
            org,
            username,
            role,
            password,
            display_name=display_name,
            email=email,
            contact_id=contact_id,
        )


def add_existing_person(
    ws: Workspace,
    org_id: uuid.UUID,
    username: str,
    role: Role,
    *,
    contact_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """Make a person who already has a login (in another organization) a member here too."""
    username = username.strip()
    check_username(username)
    if role.is_portal and contact_id is None:
        raise _portal_contact_needed(role)
    with units.transaction(ws) as conn:
        org = _organization(conn, org_id)
        already = conn.execute(
            text(
                "SELECT 1 FROM memberships m JOIN persons p ON p.id = m.person_id "
                "WHERE m.organization_id = :org AND p.role_name = :username"
            ),
            {"org": org_id, "username": username},
        ).first()
        if already is not None:
            raise UserFacingError(f'"{username}" is already a member of {org.name}.')
        return people.add_membership(conn, org, username, role, contact_id=contact_id)


def change_role(ws: Workspace, org_id: uuid.UUID, person_id: uuid.UUID, role: Role) -> None:
    """Give a member another role; their status stays as it is."""
    with units.transaction(ws) as conn:
        current = _membership(conn, org_id, person_id)
        if role.is_portal and current.contact_id is None:
            raise UserFacingError(
                f"Only a login linked to a {role.value} company can have the role "
                f"{role.value}. Add a new {role.value} login for that company instead."
            )
        _set_membership(conn, org_id, person_id, role, PersonStatus(current.status))


def set_active(ws: Workspace, org_id: uuid.UUID, person_id: uuid.UUID, active: bool) -> None:
    """Switch a member on or off in this organization (they keep their role).

    Administrators cannot switch themselves off; the database refuses and says so.
    """
    status = PersonStatus.ACTIVE if active else PersonStatus.INACTIVE
    with units.transaction(ws) as conn:
        current = _membership(conn, org_id, person_id)
        _set_membership(conn, org_id, person_id, Role(current.role), status)


def reset_password(ws: Workspace, person_id: uuid.UUID, username: str, new_password: str) -> None:
    """Set a new password; allowed for the person themself and for administrators of every
    organization the person belongs to."""
    check_password(new_password)
    with units.transaction(ws) as conn:
        people.set_password(conn, person_id, username.strip(), new_password)


# -- organization settings ------------------------------------------------------------------


@lru_cache(maxsize=1)
def _available_timezones() -> frozenset[str]:
    # Reads the time zone database from disk: services only (off the GUI thread).
    return frozenset(zoneinfo.available_timezones())


def timezone_names() -> list[str]:
    """IANA time zone names known to this computer, sorted (reads files: not on the GUI thread).

    Falls back to :data:`COMMON_TIMEZONES` when there is no time zone database.
    """
    names = _available_timezones()
    return sorted(names) if names else list(COMMON_TIMEZONES)


def check_timezone(value: str) -> str:
    """An IANA time zone name such as "Europe/Berlin"."""
    name = value.strip()
    if not name:
        raise UserFacingError("Choose the time zone of the organization, e.g. Europe/Berlin.")
    known = _available_timezones()
    if known:
        if name not in known:
            raise UserFacingError(
                f'"{shown(name)}" is not a time zone. Choose one from the list, e.g. '
                "America/Chicago or Europe/Berlin."
            )
        return name
    try:  # no list on this computer: ask zoneinfo itself
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UserFacingError(
            f'"{shown(name)}" is not a time zone. Choose one from the list, e.g. '
            "Europe/Berlin."
        ) from None
    return name


def check_currency(value: str) -> str:
    """An ISO 4217 currency code, upper-cased."""
    code = value.strip().upper()
    if not re.fullmatch(r"[A-Z]{3}", code):
        raise UserFacingError(
            f'"{shown(value)}" is not a currency code: use the three-letter ISO 4217 code, '
            "such as USD, EUR or VND."
        )
    if code not in CURRENCY_CODES:
        raise UserFacingError(
            f'"{code}" is not a known ISO 4217 currency code (such as USD, EUR or VND).'
        )
    return code


def check_locale(value: str) -> str:
    """A locale name such as en_US, vi_VN or de_DE (vi-VN is accepted and normalized)."""
    match = _LOCALE_RE.match(value.strip())
    if match is None:
        raise UserFacingError(
            f'"{shown(value)}" is not a locale: write a language and a country, such as '
            "en_US, vi_VN or de_DE."
        )
    return f"{match.group(1).lower()}_{match.group(2).upper()}"


def check_settings(settings: OrgSettings) -> OrgSettings:
    """The settings cleaned up (stripped, sorted, normalized), or a plain sentence."""
    if not settings.name.strip():
        raise UserFacingError("The organization needs a name.")
    name = clean_text(settings.name, field="name", label="The organization's name",
                      max_length=MAX_NAME, required=True) or ""
    days = frozenset(settings.working_days)
    if not days:
        raise UserFacingError("Choose at least one working day.")
    if not days <= set(range(7)):
        raise UserFacingError("Working days are numbered 0 (Monday) to 6 (Sunday).")
    seen: dict[dt.date, str] = {}
    for holiday in settings.holidays:
        label = clean_text(holiday.label, field="holidays", label="A holiday's name",
                           max_length=MAX_HOLIDAY_LABEL) or ""
        if holiday.date in seen:
            raise UserFacingError(f"The holiday on {holiday.date.isoformat()} is listed twice.")
        seen[holiday.date] = label
    if not 1 <= settings.max_file_mib <= MAX_FILE_LIMIT_MIB:
        raise UserFacingError(
            f"The largest file must be between 1 MB and {MAX_FILE_LIMIT_MIB:,} MB.")
    return OrgSettings(
        name=name,
        timezone=check_timezone(settings.timezone),
        currency=check_currency(settings.currency),
        locale=check_locale(settings.locale),
        working_days=days,
        holidays=tuple(sorted(Holiday(d, label) for d, label in seen.items())),
        max_file_mib=settings.max_file_mib,
        version=settings.version,
    )


@dataclass(frozen=True)
class _RawSettings:
    settings: Mapping[str, Any]


def _working_days(raw: object) -> frozenset[int]:
    if not isinstance(raw, list):
        return DEFAULT_WORKING_DAYS
    days: set[int] = set()
    for item in raw:
        if isinstance(item, bool):
            continue
        if isinstance(item, int) and 0 <= item <= 6:
            days.add(item)
        elif isinstance(item, str) and item.strip().lower()[:3] in WEEKDAY_KEYS:
            days.add(WEEKDAY_KEYS.index(item.strip().lower()[:3]))
    return frozenset(days)


def _holidays(raw: object) -> tuple[Holiday, ...]:
    if not isinstance(raw, list):
        return ()
    found: dict[dt.date, str] = {}
    for item in raw:
        # Either "2026-12-25" or {"date": "2026-12-25", "label": "Christmas Day"}.
        value, label = (
            (item.get("date"), item.get("label")) if isinstance(item, dict) else (item, "")
        )
        try:
            day = dt.date.fromisoformat(str(value))
        except ValueError:
            log.warning("Ignoring a holiday that is not a date: %r", item)
            continue
        found.setdefault(day, label if isinstance(label, str) else "")
    return tuple(sorted(Holiday(d, label) for d, label in found.items()))


def _from_row(name: str, settings: Mapping[str, Any] | None, version: int,
              max_file_size: int | None) -> OrgSettings:
    raw = dict(settings or {})
    locale, currency = organization_locale(_RawSettings(raw))
    timezone = raw.get("timezone")
    return OrgSettings(
        name=name,
        timezone=timezone.strip() if isinstance(timezone, str) and timezone.strip() else "UTC",
        currency=currency,
        locale=locale,
        working_days=_working_days(raw.get("working_days")),
        holidays=_holidays(raw.get("holidays")),
        max_file_mib=max(1, (max_file_size or DEFAULT_FILE_LIMIT_MIB * MIB) // MIB),
        version=version,
    )


def _settings_patch(settings: OrgSettings) -> dict[str, Any]:
    """The keys this form owns; every other key of organizations.settings is kept."""
    return {
        "timezone": settings.timezone,
        "currency": settings.currency,
        "locale": settings.locale,
        # Older readers look at "language" when there is no "locale": keep them in step.
        "language": settings.locale.split("_", 1)[0],
        "working_days": [WEEKDAY_KEYS[d] for d in sorted(settings.working_days)],
        "holidays": [{"date": h.date.isoformat(), "label": h.label} for h in settings.holidays],
    }


def load_settings(ws: Workspace, org_id: uuid.UUID) -> OrgSettings:
    """The organization's name and settings with the row's current lock version."""
    row = units.read(ws, lambda conn: conn.execute(
        text("SELECT name, settings, version, " + _FILE_LIMIT + " AS max_file_size "
             "FROM organizations o WHERE id = :id"),
        {"id": org_id},
    ).one_or_none())
    if row is None:
        raise UserFacingError("You are not a member of this organization.")
    return _from_row(row.name, row.settings, row.version, row.max_file_size)


def save_settings(
    ws: Workspace, org_id: uuid.UUID, settings: OrgSettings, expected_version: int
) -> OrgSettings:
    """Save name and settings if nobody saved since ``expected_version`` was loaded.

    Raises :class:`SettingsConflictError` when someone else saved first (nothing is changed);
    returns the saved settings with the new version.
    """
    clean = check_settings(settings)
    with units.transaction(ws) as conn:
        _organization(conn, org_id)
        if not _is_admin(conn, org_id):
            raise UserFacingError(
                "Only an administrator of this organization can change its settings."
            )
        _check_server_timezone(conn, clean.timezone)
        row = conn.execute(
            text(
                "UPDATE organizations SET name = :name, "
                "settings = settings || CAST(:patch AS jsonb) "
                "WHERE id = :id AND version = :version "
                "RETURNING name, settings, version"
            ),
            {
                "id": org_id,
                "version": expected_version,
                "name": clean.name,
                "patch": json.dumps(_settings_patch(clean)),
            },
        ).one_or_none()
        if row is None:
            raise SettingsConflictError(
                "Someone else changed these settings while you were editing them. Your changes "
                "are still in the form: reload to see theirs, then make your changes again."
            )
        # The database refuses larger uploads from then on (revision 0005's trigger).
        conn.execute(text("UPDATE storage_buckets SET max_file_size = :size "
                          "WHERE organization_id = :id AND name = 'documents'"),
                     {"size": clean.max_file_mib * MIB, "id": org_id})
    return _from_row(row.name, row.settings, row.version, clean.max_file_mib * MIB)


def _check_server_timezone(conn: Connection, name: str) -> None:
    """The database computes dates (project numbers) in this zone: it must know it too."""
    known = conn.execute(
        text("SELECT EXISTS (SELECT 1 FROM pg_timezone_names WHERE name = :tz)"), {"tz": name}
    ).scalar()
    if not known:
        raise UserFacingError(
            f'The database server does not know the time zone "{name}"; choose a nearby city '
            "in the same zone."
        )


# -- connections on this computer -----------------------------------------------------------


def forget_connection(store: ProfileStore, profile: ConnectionProfile) -> None:
    """Remove a saved connection and the password remembered for it (file and keyring I/O)."""
    store.remove(profile.name)
    if profile.remember_password and profile.last_username:
        forget_password(profile, profile.last_username)
