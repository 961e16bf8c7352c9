"""Administration service: people and organization settings, always as the signed-in person.

The database decides who may do what; these tests sign in as real persons (acme.admin,
acme.sales) through `auth.sign_in`, exactly as the app does.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from rls_support import org_id, owner_conn
from support import profile_for

from factorypulse_desktop.domain.enums import PersonStatus, Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import admin
from factorypulse_desktop.services.admin import Holiday, OrgSettings, SettingsConflictError
from factorypulse_desktop.services.auth import (
    ConnectionProfile,
    SignInError,
    SignInProblem,
    Workspace,
    sign_in,
)

PASSWORD = "factorypulse-demo"


def _unique(prefix: str) -> str:
    """Usernames are cluster-wide PostgreSQL roles: every test makes its own."""
    return f"{prefix}.{uuid.uuid4().hex[:8]}"


@pytest.fixture
def profile(demo_db: Any) -> ConnectionProfile:
    return profile_for(demo_db)


@pytest.fixture
def admin_ws(profile: ConnectionProfile) -> Iterator[Workspace]:
    with sign_in(profile, "acme.admin", PASSWORD) as ws:
        yield ws


@pytest.fixture
def sales_ws(profile: ConnectionProfile) -> Iterator[Workspace]:
    with sign_in(profile, "acme.sales", PASSWORD) as ws:
        yield ws


def _acme(ws: Workspace) -> uuid.UUID:
    [membership] = ws.identity.memberships
    assert membership.slug == "acme"
    return membership.organization_id


def _person(ws: Workspace, username: str) -> admin.PersonRow:
    rows = admin.list_people(ws, _acme(ws))
    return next(r for r in rows if r.username == username)


def _plain(error: BaseException) -> str:
    message = str(error)
    assert message and "\n" not in message
    assert "psycopg" not in message and "SQL" not in message and "Traceback" not in message
    return message


# -- people -----------------------------------------------------------------------------------


def test_people_list_shows_every_member_with_role_and_status(admin_ws: Workspace) -> None:
    rows = admin.list_people(admin_ws, _acme(admin_ws))
    by_user = {r.username: r for r in rows}
    assert {"acme.admin", "acme.sales", "acme.customer", "acme.supplier"} <= set(by_user)
    assert not any(r.username.startswith("globex.") for r in rows)
    sales = by_user["acme.sales"]
    assert sales.role is Role.SALES and sales.status is PersonStatus.ACTIVE
    assert sales.display_name.startswith("Alex Carter") and sales.department == "Sales"
    assert by_user["acme.customer"].contact_id is not None
    names = [r.display_name.lower() for r in rows]
    assert names == sorted(names)


def test_admin_adds_a_person_who_can_then_sign_in(
    admin_ws: Workspace, profile: ConnectionProfile
) -> None:
    username = _unique("acme.new")
    person_id = admin.add_person(admin_ws, _acme(admin_ws), f"  {username} ", Role.QA,
                                 "a-good-password", " Quinn Quality ", "quinn@example.com")
    row = _person(admin_ws, username)
    assert row.person_id == person_id
    assert (row.display_name, row.email, row.role) == ("Quinn Quality", "quinn@example.com",
                                                       Role.QA)
    with sign_in(profile, username, "a-good-password") as ws:
        assert ws.identity.person_id == person_id
        assert [m.role for m in ws.identity.memberships] == [Role.QA]


def test_adding_a_person_explains_what_is_wrong(admin_ws: Workspace) -> None:
    org = _acme(admin_ws)
    cases = [
        (("Bad Name", Role.QA, "a-good-password"), "not a valid user name"),
        ((_unique("acme.x"), Role.QA, "short"), "at least 8 characters"),
        (("acme.sales", Role.QA, "a-good-password"), 'The user name "acme.sales" is already taken'),
        ((_unique("acme.c"), Role.CUSTOMER, "a-good-password"), "must be linked to the customer"),
    ]
    for args, expected in cases:
        with pytest.raises(UserFacingError) as caught:
            admin.add_person(admin_ws, org, *args)
        assert expected in _plain(caught.value)
    with pytest.raises(UserFacingError, match="is not an e-mail address"):
        admin.add_person(admin_ws, org, _unique("acme.e"), Role.QA, "a-good-password",
                         "E", "not-an-address")
    assert len(admin.list_people(admin_ws, org)) == 9, "nothing was half-created"


def test_portal_login_is_linked_to_its_company(
    admin_ws: Workspace, profile: ConnectionProfile
) -> None:
    org = _acme(admin_ws)
    contacts = admin.list_portal_contacts(admin_ws, org)
    assert {c.kind for c in contacts} == {"customer", "supplier"}
    customer = next(c for c in contacts if c.kind == "customer")
    username = _unique("acme.buyer")
    admin.add_person(admin_ws, org, username, Role.CUSTOMER, "a-good-password", "Bea Buyer",
                     contact_id=customer.contact_id)
    assert _person(admin_ws, username).contact_id == customer.contact_id
    with sign_in(profile, username, "a-good-password") as ws:
        assert ws.identity.memberships[0].role is Role.CUSTOMER


def test_admin_adds_an_existing_person_from_another_organization(
    admin_ws: Workspace, profile: ConnectionProfile
) -> None:
    org = _acme(admin_ws)
    admin.add_existing_person(admin_ws, org, "globex.engineering", Role.ENGINEERING)
    assert _person(admin_ws, "globex.engineering").role is Role.ENGINEERING
    with sign_in(profile, "globex.engineering", PASSWORD) as ws:
        assert {m.slug for m in ws.identity.memberships} == {"acme", "globex"}
    with pytest.raises(UserFacingError, match="already a member"):
        admin.add_existing_person(admin_ws, org, "globex.engineering", Role.QA)
    with pytest.raises(UserFacingError, match=r'There is no person "nobody\.here"'):
        admin.add_existing_person(admin_ws, org, "nobody.here", Role.QA)


def test_role_change_takes_effect_at_next_sign_in(
    admin_ws: Workspace, profile: ConnectionProfile
) -> None:
    org = _acme(admin_ws)
    sales = _person(admin_ws, "acme.sales")
    admin.change_role(admin_ws, org, sales.person_id, Role.ENGINEERING)
    changed = _person(admin_ws, "acme.sales")
    assert (changed.role, changed.status) == (Role.ENGINEERING, PersonStatus.ACTIVE)
    with sign_in(profile, "acme.sales", PASSWORD) as ws:
        assert ws.identity.memberships[0].role is Role.ENGINEERING
    with pytest.raises(UserFacingError, match="linked to a customer company") as caught:
        admin.change_role(admin_ws, org, sales.person_id, Role.CUSTOMER)
    _plain(caught.value)


def test_deactivated_person_cannot_sign_in_until_reactivated(
    admin_ws: Workspace, profile: ConnectionProfile
) -> None:
    org = _acme(admin_ws)
    sales = _person(admin_ws, "acme.sales")
    admin.set_active(admin_ws, org, sales.person_id, False)
    row = _person(admin_ws, "acme.sales")
    assert (row.status, row.role) == (PersonStatus.INACTIVE, Role.SALES)
    with pytest.raises(SignInError) as caught:
        sign_in(profile, "acme.sales", PASSWORD)
    assert caught.value.problem is SignInProblem.INACTIVE
    admin.set_active(admin_ws, org, sales.person_id, True)
    assert _person(admin_ws, "acme.sales").status is PersonStatus.ACTIVE
    with sign_in(profile, "acme.sales", PASSWORD) as ws:
        assert ws.identity.memberships[0].role is Role.SALES


def test_admin_cannot_deactivate_or_demote_themselves(admin_ws: Workspace) -> None:
    org, me = _acme(admin_ws), admin_ws.identity.person_id
    for action in (lambda: admin.set_active(admin_ws, org, me, False),
                   lambda: admin.change_role(admin_ws, org, me, Role.SALES)):
        with pytest.raises(UserFacingError) as caught:
            action()
        assert _plain(caught.value) == (
            "Administrators cannot remove their own administrator rights.")
    row = _person(admin_ws, "acme.admin")
    assert (row.role, row.status) == (Role.ADMIN, PersonStatus.ACTIVE)


def test_reset_password(admin_ws: Workspace, profile: ConnectionProfile) -> None:
    # A login's password is cluster-wide: reset a person of this test only, never a demo one.
    username = _unique("acme.forgetful")
    person_id = admin.add_person(admin_ws, _acme(admin_ws), username, Role.QA, "the-old-password")
    with pytest.raises(UserFacingError, match="at least 8 characters"):
        admin.reset_password(admin_ws, person_id, username, "short")
    admin.reset_password(admin_ws, person_id, username, "a-brand-new-password")
    with pytest.raises(SignInError) as caught:
        sign_in(profile, username, "the-old-password")
    assert caught.value.problem is SignInProblem.WRONG_PASSWORD
    with sign_in(profile, username, "a-brand-new-password") as ws:
        assert ws.identity.person_id == person_id


def test_a_sales_person_is_refused_every_admin_action(
    sales_ws: Workspace, admin_ws: Workspace, profile: ConnectionProfile
) -> None:
    org = _acme(sales_ws)
    qa = _person(admin_ws, "acme.qa")
    before_people = admin.list_people(admin_ws, org)
    before_settings = admin.load_settings(admin_ws, org)
    changed = OrgSettings(name="Hijacked", timezone="UTC", currency="EUR", locale="de_DE",
                          working_days=frozenset({0}))
    actions = {
        "add": lambda: admin.add_person(sales_ws, org, _unique("acme.evil"), Role.ADMIN,
                                        "a-good-password"),
        "add existing": lambda: admin.add_existing_person(sales_ws, org, "globex.sales",
                                                          Role.ADMIN),
        "change role": lambda: admin.change_role(sales_ws, org, qa.person_id, Role.ADMIN),
        "deactivate": lambda: admin.set_active(sales_ws, org, qa.person_id, False),
        "reset password": lambda: admin.reset_password(sales_ws, qa.person_id, qa.username,
                                                       "a-stolen-password"),
        "settings": lambda: admin.save_settings(sales_ws, org, changed,
                                                before_settings.version),
    }
    for name, action in actions.items():
        with pytest.raises(UserFacingError) as caught:
            action()
        message = _plain(caught.value)
        assert message.startswith("Only "), (name, message)
        assert "administrator" in message, (name, message)
    assert admin.list_people(admin_ws, org) == before_people
    assert admin.load_settings(admin_ws, org).version == before_settings.version
    with sign_in(profile, "acme.qa", PASSWORD):
        pass  # the password is unchanged


def test_an_admin_of_one_organization_cannot_touch_another(
    admin_ws: Workspace, demo_db: Any
) -> None:
    with owner_conn(demo_db) as conn:
        globex = org_id(conn, "globex")
    for action in (lambda: admin.load_settings(admin_ws, globex),
                   lambda: admin.list_people(admin_ws, globex),
                   lambda: admin.save_settings(admin_ws, globex, OrgSettings(name="Mine"), 1),
                   lambda: admin.add_existing_person(admin_ws, globex, "acme.sales", Role.QA)):
        with pytest.raises(UserFacingError, match="not a member of this organization"):
            action()


# -- settings ---------------------------------------------------------------------------------


def test_settings_read_the_demo_data(admin_ws: Workspace) -> None:
    settings = admin.load_settings(admin_ws, _acme(admin_ws))
    assert settings.name == "Acme Precision Manufacturing"
    assert (settings.timezone, settings.currency, settings.locale) == (
        "America/Chicago", "USD", "en_US")
    assert settings.working_days == frozenset({0, 1, 2, 3, 4})
    assert Holiday(dt.date(2026, 12, 25), "") in settings.holidays
    assert settings.max_file_mib == 1024  # the documents bucket's default limit
    assert settings.version >= 1


def test_largest_file_setting_is_the_limit_the_database_enforces(
        admin_ws: Workspace, demo_db: Any) -> None:
    org = _acme(admin_ws)
    loaded = admin.load_settings(admin_ws, org)
    saved = admin.save_settings(admin_ws, org, dataclasses.replace(loaded, max_file_mib=5),
                                loaded.version)
    assert saved.max_file_mib == 5
    assert admin.load_settings(admin_ws, org).max_file_mib == 5
    with owner_conn(demo_db) as conn:
        row = conn.execute("SELECT max_file_size FROM storage_buckets WHERE organization_id = %s "
                           "AND name = 'documents'", (org,)).fetchone()
    assert row == (5 * 1024 * 1024,)
    with pytest.raises(UserFacingError, match="between 1 MB and"):
        admin.save_settings(admin_ws, org, dataclasses.replace(saved, max_file_mib=0),
                            saved.version)


def test_settings_round_trip_keeps_unknown_keys(admin_ws: Workspace, demo_db: Any) -> None:
    org = _acme(admin_ws)
    loaded = admin.load_settings(admin_ws, org)
    wanted = OrgSettings(
        name="  Acme Precision Vietnam ", timezone="Asia/Ho_Chi_Minh", currency="vnd",
        locale="vi-VN", working_days=frozenset({0, 1, 2, 3, 4, 5}),
        holidays=(Holiday(dt.date(2027, 2, 17), "Tết"), Holiday(dt.date(2027, 1, 1), "New Year")),
    )
    saved = admin.save_settings(admin_ws, org, wanted, loaded.version)
    assert saved.version == loaded.version + 1
    assert saved == OrgSettings(
        name="Acme Precision Vietnam", timezone="Asia/Ho_Chi_Minh", currency="VND",
        locale="vi_VN", working_days=frozenset({0, 1, 2, 3, 4, 5}),
        holidays=(Holiday(dt.date(2027, 1, 1), "New Year"), Holiday(dt.date(2027, 2, 17), "Tết")),
    )
    again = admin.load_settings(admin_ws, org)
    assert again == saved and again.version == saved.version
    with owner_conn(demo_db) as conn:
        row = conn.execute("SELECT settings FROM organizations WHERE id = %s", (org,)).fetchone()
    assert row is not None
    raw = row[0]
    assert raw["units"] == "imperial" and raw["shift_hours"]["start"] == "06:00"
    assert raw["working_days"] == ["mon", "tue", "wed", "thu", "fri", "sat"]
    assert raw["holidays"][0] == {"date": "2027-01-01", "label": "New Year"}
    assert (raw["locale"], raw["language"]) == ("vi_VN", "vi")


def test_stale_version_is_a_conflict_and_changes_nothing(admin_ws: Workspace) -> None:
    org = _acme(admin_ws)
    loaded = admin.load_settings(admin_ws, org)
    first = admin.save_settings(
        admin_ws, org, OrgSettings(name="Saved first", timezone="Europe/Berlin",
                                   currency="EUR", locale="de_DE"), loaded.version)
    with pytest.raises(SettingsConflictError) as caught:
        admin.save_settings(
            admin_ws, org, OrgSettings(name="Saved second", timezone="UTC", currency="USD",
                                       locale="en_US"), loaded.version)
    assert _plain(caught.value).startswith("Someone else changed these settings")
    now = admin.load_settings(admin_ws, org)
    assert now == first and now.version == first.version


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"timezone": "Mars/Olympus_Mons"}, '"Mars/Olympus_Mons" is not a time zone'),
        ({"timezone": " "}, "Choose the time zone"),
        ({"currency": "EURO"}, '"EURO" is not a currency code'),
        ({"currency": "XYZ"}, '"XYZ" is not a known ISO 4217 currency code'),
        ({"locale": "english"}, '"english" is not a locale'),
        ({"name": "   "}, "The organization needs a name."),
        ({"working_days": frozenset()}, "Choose at least one working day."),
        ({"holidays": (Holiday(dt.date(2027, 1, 1), "a"), Holiday(dt.date(2027, 1, 1), "b"))},
         "The holiday on 2027-01-01 is listed twice."),
    ],
)
def test_bad_settings_get_a_clear_message_and_change_nothing(
    admin_ws: Workspace, changes: dict[str, Any], expected: str
) -> None:
    org = _acme(admin_ws)
    loaded = admin.load_settings(admin_ws, org)
    values: dict[str, Any] = {
        "name": loaded.name, "timezone": loaded.timezone, "currency": loaded.currency,
        "locale": loaded.locale, "working_days": loaded.working_days,
        "holidays": loaded.holidays, **changes,
    }
    with pytest.raises(UserFacingError) as caught:
        admin.save_settings(admin_ws, org, OrgSettings(**values), loaded.version)
    assert expected in _plain(caught.value)
    assert admin.load_settings(admin_ws, org).version == loaded.version


def test_timezone_names_come_from_the_time_zone_database() -> None:
    names = admin.timezone_names()
    assert "Europe/Berlin" in names and "Asia/Ho_Chi_Minh" in names
    assert names == sorted(names)

