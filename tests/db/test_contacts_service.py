"""The contacts service as real persons on a fresh copy of the demo database: the list against
plain SQL (every sort, both directions, small keyset pages; filters), saving with optimistic
locking, validation, archive and restore, duplicates, merging all or nothing, and refusals by
row level security that change nothing."""

from __future__ import annotations

import random
import unicodedata
import uuid
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from rls_support import org_id, owner_conn
from support import profile_for

from factorypulse_desktop.domain.enums import ContactType
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import contacts
from factorypulse_desktop.services.auth import ConnectionProfile, Workspace, sign_in
from factorypulse_desktop.services.contacts import (
    ContactConflictError,
    ContactEdit,
    ContactFieldError,
    ContactFilter,
    ContactRow,
    MergeRefusedError,
    Sort,
)
from factorypulse_desktop.services.contacts_csv import ContactsImportError

PASSWORD = "factorypulse-demo"
TYPES = ["customer", "supplier", "partner", "internal"]
CITIES = ["Austin", "austin", "Zürich", "Ålesund", "Berlin", None, "Écully", "berlin"]
COUNTRIES = ["US", "CH", "NO", "DE", None, "FR", "de"]
TAGS = [["CNC", "Welding"], ["cnc"], ["Anodizing"], [], ["welding", "Laser cutting"]]

# The test's own spelling of each sort, in plain SQL (what the page must give, page by page).
TRUTH_ORDER = {
    "company": "lower(public.unaccent(company_name))",
    "type": "type",
    "city": "lower(public.unaccent(coalesce(city, '')))",
    "country": "lower(public.unaccent(coalesce(country, '')))",
    "updated": "updated_at",
}


@pytest.fixture
def profile(demo_db: Any) -> ConnectionProfile:
    return profile_for(demo_db)


@pytest.fixture
def owner(demo_db: Any) -> Iterator[psycopg.Connection[Any]]:
    with owner_conn(demo_db, autocommit=True) as conn:
        yield conn


@pytest.fixture
def acme(owner: psycopg.Connection[Any]) -> uuid.UUID:
    return org_id(owner, "acme")


@pytest.fixture
def sales(profile: ConnectionProfile) -> Iterator[Workspace]:
    with sign_in(profile, "acme.sales", PASSWORD) as ws:
        yield ws


@pytest.fixture
def admin(profile: ConnectionProfile) -> Iterator[Workspace]:
    with sign_in(profile, "acme.admin", PASSWORD) as ws:
        yield ws


@pytest.fixture
def many(owner: psycopg.Connection[Any], acme: uuid.UUID) -> int:
    """70 more acme contacts of every shape (ties in every sort key), made by the owner."""
    rng = random.Random(11)
    for i in range(70):
        owner.execute(
            "INSERT INTO contacts (organization_id, type, company_name, contact_name, email, "
            "city, country, is_active, capability_tags, updated_at) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, now() - make_interval(mins => %s))",
            (acme, rng.choice(TYPES),
             f"{rng.choice(['Bolt', 'bolt', 'Éclat', 'Zeta', 'Alpha', 'ÅS Metall'])} {i % 9}",
             rng.choice([None, "Dana Lee", "Jörg Ås"]),
             rng.choice([None, f"buyer{i}@example.com"]),
             rng.choice(CITIES), rng.choice(COUNTRIES), rng.random() > 0.25,
             rng.choice(TAGS), rng.choice([0, 5, 5, 60])))
    return 70


def words(*typed: str) -> str:
    """Plain SQL for "every word somewhere in company, contact, e-mail or city"."""
    return " AND ".join(
        "(" + " OR ".join(f"public.unaccent({column}) ILIKE public.unaccent('%%{w}%%')"
                          for column in ("company_name", "contact_name", "email", "city")) + ")"
        for w in typed)


def truth(owner: psycopg.Connection[Any], org: uuid.UUID, where: str = "TRUE",
          order: str = "id", *args: Any) -> list[uuid.UUID]:
    rows = owner.execute(f"SELECT id FROM contacts WHERE organization_id = %s AND ({where}) "
                         f"ORDER BY {order}", (org, *args)).fetchall()
    return [r[0] for r in rows]


def paged(ws: Workspace, org: uuid.UUID, flt: ContactFilter, sort: Sort,
          size: int) -> tuple[list[ContactRow], int | None]:
    rows: list[ContactRow] = []
    after = None
    total = None
    for n in range(1000):
        page = contacts.list_contacts(ws, org, flt, sort, after=after, limit=size)
        assert len(page.rows) <= size
        if n == 0:
            total = page.total
        else:
            assert page.total is None
        rows += page.rows
        if page.next_after is None:
            return rows, total
        after = page.next_after
    raise AssertionError("paging never ended")


# -- the list ---------------------------------------------------------------------------------


@pytest.mark.parametrize("key", list(TRUTH_ORDER))
@pytest.mark.parametrize("descending", [False, True])
def test_every_sort_pages_like_one_query(sales: Workspace, owner: psycopg.Connection[Any],
                                         acme: uuid.UUID, many: int, key: str,
                                         descending: bool) -> None:
    direction = "DESC" if descending else "ASC"
    expected = truth(owner, acme, "TRUE", f"{TRUTH_ORDER[key]} {direction}, id {direction}")
    assert len(expected) > many
    got, total = paged(sales, acme, ContactFilter(active="all"), Sort(key, descending), size=7)
    assert [r.id for r in got] == expected
    assert total == len(expected)


def test_filters_match_plain_sql(sales: Workspace, owner: psycopg.Connection[Any],
                                 acme: uuid.UUID, many: int) -> None:
    cases: list[tuple[ContactFilter, str, tuple[Any, ...]]] = [
        (ContactFilter(), "is_active", ()),
        (ContactFilter(active="inactive"), "NOT is_active", ()),
        (ContactFilter(active="all"), "TRUE", ()),
        (ContactFilter(types=(ContactType.SUPPLIER, ContactType.PARTNER), active="all"),
         "type IN ('supplier', 'partner')", ()),
        (ContactFilter(text="BOLT"), "is_active AND " + words("bolt"), ()),
        (ContactFilter(text="ÉCLAT example.com", active="all"),
         words("eclat", "example.com"), ()),
        (ContactFilter(text="  zürich "), "is_active AND " + words("zurich"), ()),
        (ContactFilter(text="example.com buyer1", active="all"),
         words("example.com", "buyer1"), ()),
        (ContactFilter(text="JÖRG", types=(ContactType.SUPPLIER,)),
         "is_active AND type = 'supplier' AND " + words("jorg"), ()),
        (ContactFilter(capability="CNC", active="all"),
         "EXISTS (SELECT 1 FROM unnest(capability_tags) t WHERE lower(t) = 'cnc')", ()),
        (ContactFilter(capability="welding", types=(ContactType.CUSTOMER,)),
         "is_active AND type = 'customer' AND EXISTS (SELECT 1 FROM unnest(capability_tags) t "
         "WHERE lower(t) = 'welding')", ()),
    ]
    for flt, where, args in cases:
        expected = truth(owner, acme, where, "id", *args)
        assert expected, f"the case finds something: {flt}"
        got, total = paged(sales, acme, flt, Sort("company"), size=9)
        assert sorted(r.id for r in got) == sorted(expected), flt
        assert total == len(expected), flt


@pytest.mark.parametrize("typed", ["%", "_", "\\", "' OR 1=1 --", "x" * 10_000, "a\x00b"])
def test_T_IN_01_text_filter_is_literal(sales: Workspace, acme: uuid.UUID, typed: str) -> None:
    page = contacts.list_contacts(sales, acme, ContactFilter(text=typed, active="all"))
    for row in page.rows:
        assert typed.replace("\x00", "").lower() in (
            f"{row.company_name} {row.contact_name} {row.email} {row.city}".lower())


def test_T_IN_02_sort_outside_the_allowlist_is_refused(sales: Workspace,
                                                       acme: uuid.UUID) -> None:
    with pytest.raises(UserFacingError, match="cannot be sorted"):
        contacts.list_contacts(sales, acme, sort=Sort("company_name; DROP TABLE contacts"))


def test_another_organizations_contacts_are_never_listed(
    sales: Workspace, owner: psycopg.Connection[Any], acme: uuid.UUID
) -> None:
    globex = org_id(owner, "globex")
    theirs = truth(owner, globex)
    assert theirs
    everything, _total = paged(sales, acme, ContactFilter(active="all"), Sort(), size=50)
    assert {r.id for r in everything} == set(truth(owner, acme))
    assert contacts.list_contacts(sales, globex, ContactFilter(active="all")).rows == []
    assert contacts.get_contacts(sales, [theirs[0], everything[0].id]) == [
        r for r in everything if r.id == everything[0].id]
    with pytest.raises(UserFacingError, match="no longer exists"):
        contacts.get_contact(sales, theirs[0])
    assert contacts.find_duplicates(sales, acme) == []
    with pytest.raises(UserFacingError, match="not a member"):
        contacts.find_duplicates(sales, globex)


def test_capability_tags_once_each(sales: Workspace, acme: uuid.UUID, many: int) -> None:
    tags = contacts.list_capability_tags(sales, acme)
    folded = [t.casefold() for t in tags]
    assert len(folded) == len(set(folded))
    assert {"cnc", "welding", "anodizing", "laser cutting"} <= set(folded)
    assert folded == sorted(folded)


# -- saving -----------------------------------------------------------------------------------


def _stored(owner: psycopg.Connection[Any], contact_id: uuid.UUID) -> dict[str, Any]:
    cur = owner.execute("SELECT * FROM contacts WHERE id = %s", (contact_id,))
    row = cur.fetchone()
    assert row is not None and cur.description is not None
    return dict(zip([d.name for d in cur.description], row, strict=True))


def _count(owner: psycopg.Connection[Any], org: uuid.UUID) -> int:
    row = owner.execute("SELECT count(*) FROM contacts WHERE organization_id = %s",
                        (org,)).fetchone()
    assert row is not None
    return int(row[0])


NEW = ContactEdit(
    company_name="  Nordic\u00a0Gears  AB ", type=ContactType.SUPPLIER, contact_name="Ina Berg",
    email="ina@nordicgears.example", phone="+46 31 555 0101", address="Hamngatan 4\nHall B",
    city="Göteborg", country="SE", postal_code="411 06", website="https://nordicgears.example",
    tax_id="SE5566", payment_terms="Net 30", credit_limit=Decimal("25000.5"),
    notes="Gear hobbing.", capability_tags=(" Gear hobbing", "CNC", "cnc ", "", "Heat treatment"))


def test_create_update_and_a_conflict_between_two_workspaces(
    sales: Workspace, profile: ConnectionProfile, owner: psycopg.Connection[Any],
    acme: uuid.UUID
) -> None:
    made = contacts.save_contact(sales, acme, None, NEW)
    stored = _stored(owner, made.id)
    assert stored["company_name"] == "Nordic Gears AB", "trimmed, one space"
    assert stored["address"] == "Hamngatan 4\nHall B", "an address keeps its lines"
    assert stored["capability_tags"] == ["Gear hobbing", "CNC", "Heat treatment"]
    assert stored["credit_limit"] == Decimal("25000.50")
    assert stored["created_by"] == sales.identity.person_id, "stamped by the database"
    assert (made.version, made.type, made.created_by) == (1, ContactType.SUPPLIER,
                                                           sales.identity.display_name)
    assert made.project_count == made.rfq_count == made.purchase_order_count == 0

    with sign_in(profile, "acme.management", PASSWORD) as other:
        theirs_loaded = contacts.get_contact(other, made.id)
        mine = contacts.save_contact(sales, acme, made.id,
                                     replace(made.as_edit(), phone="+46 31 555 0199"),
                                     made.version)
        assert mine.version == 2 and mine.phone == "+46 31 555 0199"
        with pytest.raises(ContactConflictError, match="Someone else saved") as caught:
            contacts.save_contact(other, acme, made.id,
                                  replace(theirs_loaded.as_edit(), city="Malmö"),
                                  theirs_loaded.version)
    assert caught.value.current is not None
    assert (caught.value.current.version, caught.value.current.phone) == (2, "+46 31 555 0199")
    stored = _stored(owner, made.id)
    assert (stored["city"], stored["version"]) == ("Göteborg", 2), "nothing of theirs written"


def test_validation_stores_nothing(sales: Workspace, owner: psycopg.Connection[Any],
                                   acme: uuid.UUID) -> None:
    before = _count(owner, acme)
    bad = [
        (ContactEdit(company_name="   "), "company_name", "required"),
        (ContactEdit(company_name="A\x00B"), "company_name", "NUL"),
        (ContactEdit(company_name="x" * 201), "company_name", "too long"),
        (ContactEdit(company_name="Ok", email="not-an-address"), "email", "e-mail address"),
        (ContactEdit(company_name="Ok", credit_limit=Decimal("-1")), "credit_limit", "negative"),
        (ContactEdit(company_name="Ok", credit_limit=Decimal("1.234")), "credit_limit",
         "two decimals"),
        (ContactEdit(company_name="Ok", capability_tags=("a" * 101,)), "capability_tags",
         "too long"),
        (ContactEdit(company_name="Ok", capability_tags=("CNC; milling",)), "capability_tags",
         "separate"),
        (ContactEdit(company_name="Ok", postal_code="9" * 41), "postal_code", "too long"),
    ]
    for edit, field_name, words in bad:
        with pytest.raises(ContactFieldError, match=words) as caught:
            contacts.save_contact(sales, acme, None, edit)
        assert caught.value.field == field_name
    with pytest.raises(ContactFieldError, match="already exists as a customer"):
        contacts.save_contact(sales, acme, None, ContactEdit(
            company_name=_stored_customer_name(owner, acme).upper()))
    assert _count(owner, acme) == before
    assert contacts.parse_credit_limit("1 234,50") == Decimal("1234.50")
    with pytest.raises(ContactFieldError, match="ambiguous"):
        contacts.parse_credit_limit("1,234")
    assert contacts.parse_tags("CNC, welding;laser |  ") == ("CNC", " welding", "laser ")


def _stored_customer_name(owner: psycopg.Connection[Any], org: uuid.UUID) -> str:
    row = owner.execute("SELECT company_name FROM contacts WHERE organization_id = %s AND "
                        "type = 'customer' AND is_active ORDER BY created_at LIMIT 1",
                        (org,)).fetchone()
    assert row is not None
    return str(row[0])


def test_archive_and_restore(sales: Workspace, owner: psycopg.Connection[Any],
                             acme: uuid.UUID) -> None:
    made = contacts.save_contact(sales, acme, None, ContactEdit(company_name="Short-lived Ltd"))
    archived = contacts.set_active(sales, made.id, made.version, False)
    assert (archived.is_active, archived.version) == (False, 2)
    active_ids = {r.id for r in contacts.list_contacts(sales, acme, limit=1000).rows}
    archived_ids = {r.id for r in contacts.list_contacts(
        sales, acme, ContactFilter(active="inactive"), limit=1000).rows}
    assert made.id not in active_ids and made.id in archived_ids
    with pytest.raises(ContactConflictError):
        contacts.set_active(sales, made.id, made.version, True)  # stale
    assert _stored(owner, made.id)["is_active"] is False
    restored = contacts.set_active(sales, made.id, archived.version, True)
    assert (restored.is_active, restored.version) == (True, 3)


def test_a_person_without_rights_is_refused_and_nothing_changes(
    profile: ConnectionProfile, owner: psycopg.Connection[Any], acme: uuid.UUID
) -> None:
    before = _count(owner, acme)
    customer = owner.execute("SELECT id FROM contacts WHERE organization_id = %s AND "
                             "type = 'customer' LIMIT 1", (acme,)).fetchone()
    assert customer is not None
    stored = _stored(owner, customer[0])
    with sign_in(profile, "acme.engineering", PASSWORD) as engineering:
        detail = contacts.get_contact(engineering, customer[0])  # reading is allowed
        with pytest.raises(UserFacingError, match="may not add contacts"):
            contacts.save_contact(engineering, acme, None, ContactEdit(company_name="Nope Inc"))
        with pytest.raises(UserFacingError, match="may not change contacts"):
            contacts.save_contact(engineering, acme, detail.id,
                                  replace(detail.as_edit(), city="X"), detail.version)
        with pytest.raises(UserFacingError, match="may not change contacts"):
            contacts.set_active(engineering, detail.id, detail.version, False)
    assert _count(owner, acme) == before
    assert _stored(owner, customer[0]) == stored


# -- duplicates and merging -------------------------------------------------------------------


def _contact(owner: psycopg.Connection[Any], org: uuid.UUID, name: str, kind: str = "customer",
             **values: Any) -> uuid.UUID:
    columns = ["organization_id", "type", "company_name", *values]
    row = owner.execute(
        f"INSERT INTO contacts ({', '.join(columns)}) VALUES "
        f"({', '.join(['%s'] * len(columns))}) RETURNING id",
        (org, kind, name, *values.values())).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def _project(owner: psycopg.Connection[Any], org: uuid.UUID, customer: uuid.UUID | None,
             title: str) -> uuid.UUID:
    row = owner.execute("INSERT INTO projects (organization_id, title, customer_id) "
                        "VALUES (%s, %s, %s) RETURNING id", (org, title, customer)).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def _rfq(owner: psycopg.Connection[Any], org: uuid.UUID, project: uuid.UUID,
         supplier: uuid.UUID) -> uuid.UUID:
    row = owner.execute("INSERT INTO supplier_rfqs (organization_id, project_id, supplier_id, "
                        "rfq_number) VALUES (%s, %s, %s, %s) RETURNING id",
                        (org, project, supplier, f"RFQ-T-{uuid.uuid4().hex[:8]}")).fetchone()
    assert row is not None
    return uuid.UUID(str(row[0]))


def test_duplicates_are_found_without_case_accents_or_spacing(
    sales: Workspace, owner: psycopg.Connection[Any], acme: uuid.UUID
) -> None:
    first = _contact(owner, acme, "Müller Präzision GmbH")
    second = _contact(owner, acme, "  MULLER   PRAZISION gmbh")
    nfd = _contact(owner, acme, unicodedata.normalize("NFD", "müller präzision GmbH"))
    _contact(owner, acme, "Muller Prazision GmbH", "supplier")  # another type: not the same
    _contact(owner, acme, "Müller Präzision GmbH", is_active=False)  # archived: left alone
    _contact(owner, acme, "Müller Präzisions GmbH")  # another name
    a = _contact(owner, acme, "Ørsted Tools", "supplier")
    b = _contact(owner, acme, "orsted tools", "supplier")
    groups = contacts.find_duplicates(sales, acme)
    found = {(g.type, frozenset(c.id for c in g.contacts)) for g in groups}
    assert found == {(ContactType.CUSTOMER, frozenset({first, second, nfd})),
                     (ContactType.SUPPLIER, frozenset({a, b}))}
    customers = next(g for g in groups if g.type is ContactType.CUSTOMER)
    assert customers.contacts[0].id == first, "oldest first"
    assert customers.name == "Müller Präzision GmbH"
    assert len(contacts.find_duplicates(sales, acme, limit=1)) == 1


def test_merge_repoints_references_fills_and_archives(
    admin: Workspace, owner: psycopg.Connection[Any], acme: uuid.UUID
) -> None:
    keep = _contact(owner, acme, "Delta Castings", "supplier", email=None,
                    capability_tags=["Casting"], notes=None)
    twin = _contact(owner, acme, "DELTA castings", "supplier", email="sales@delta.example",
                    phone="+1 555 0100", city="Tulsa", country="US", address="1 Foundry Rd",
                    capability_tags=["casting", "Machining"], notes="Old record.",
                    credit_limit=Decimal("5000.00"))
    third = _contact(owner, acme, "Delta  Castings", "supplier", phone="+1 555 0999",
                     city="Dallas", capability_tags=["Heat treatment"])
    projects = [_project(owner, acme, twin, "Housing for Delta"),
                _project(owner, acme, third, "Cover for Delta")]
    rfqs = [_rfq(owner, acme, projects[0], twin), _rfq(owner, acme, projects[1], third),
            _rfq(owner, acme, projects[1], keep)]
    owner.execute("INSERT INTO purchase_orders (organization_id, po_number, supplier_id) "
                  "VALUES (%s, 'PO-T-1', %s)", (acme, third))
    versions = {i: _stored(owner, i)["version"] for i in (keep, twin, third)}

    report = contacts.merge_contacts(admin, keep, [twin, third], versions)

    assert report.moved == {"projects": 2, "supplier_rfqs": 2, "supplier_quotes": 0,
                            "purchase_orders": 1, "inventory_items": 0, "memberships": 0}
    assert report.total_moved == 5
    for project in projects:
        assert owner.execute("SELECT customer_id FROM projects WHERE id = %s",
                             (project,)).fetchone() == (keep,)
    assert {r[0] for r in owner.execute("SELECT supplier_id FROM supplier_rfqs WHERE id = "
                                        "ANY(%s)", (rfqs,))} == {keep}
    kept = _stored(owner, keep)
    assert kept["is_active"] and kept["version"] == report.version == versions[keep] + 1
    assert (kept["email"], kept["phone"], kept["notes"]) == (
        "sales@delta.example", "+1 555 0100", "Old record.")
    assert (kept["address"], kept["city"], kept["country"]) == ("1 Foundry Rd", "Tulsa", "US"), \
        "the address comes whole from one contact"
    assert kept["credit_limit"] == Decimal("5000.00")
    assert kept["capability_tags"] == ["Casting", "Machining", "Heat treatment"]
    assert set(report.added_tags) == {"Machining", "Heat treatment"}
    assert {"email", "phone", "address", "city", "country"} <= set(report.filled_fields)
    assert kept["metadata"]["merged_from"] == [str(twin), str(third)]
    for merged in (twin, third):
        row = _stored(owner, merged)
        assert row["is_active"] is False, "archived, not deleted"
        assert "Merged into “Delta Castings”" in row["notes"]
        assert row["metadata"]["merged_into"] == str(keep)
    assert _stored(owner, twin)["notes"].startswith("Old record.\n\n")
    detail = contacts.get_contact(admin, twin)
    assert (detail.merged_into, detail.merged_into_name) == (keep, "Delta Castings")
    assert contacts.get_contact(admin, keep).project_count == 2
    # The merge in words; the kept contact's filled fields are its field changes (0012).
    logged = owner.execute("SELECT actor_id, action FROM activity_log WHERE entity_id = %s "
                           "ORDER BY action", (keep,)).fetchall()
    assert logged == [(admin.identity.person_id, "contacts_merged"),
                      (admin.identity.person_id, "updated")]
    assert contacts.find_duplicates(admin, acme) == []


def _snapshot(owner: psycopg.Connection[Any], org: uuid.UUID) -> tuple[Any, ...]:
    def rows(sql: str) -> list[tuple[Any, ...]]:
        return sorted(owner.execute(sql, (org,)).fetchall(), key=str)
    return (
        rows("SELECT id, version, is_active, notes, metadata, capability_tags FROM contacts "
             "WHERE organization_id = %s"),
        rows("SELECT id, customer_id, version FROM projects WHERE organization_id = %s"),
        rows("SELECT id, supplier_id FROM supplier_rfqs WHERE organization_id = %s"),
        rows("SELECT id FROM activity_log WHERE organization_id = %s"),
    )


def test_a_stale_merge_is_refused_and_nothing_changes(
    admin: Workspace, owner: psycopg.Connection[Any], acme: uuid.UUID
) -> None:
    keep = _contact(owner, acme, "Epsilon Plastics")
    twin = _contact(owner, acme, "epsilon plastics", email="hi@epsilon.example")
    _project(owner, acme, twin, "Epsilon tray")
    versions = {i: _stored(owner, i)["version"] for i in (keep, twin)}
    owner.execute("UPDATE contacts SET phone = '+1 555 0123' WHERE id = %s", (twin,))
    before = _snapshot(owner, acme)
    with pytest.raises(ContactConflictError, match="Someone changed “epsilon plastics”"):
        contacts.merge_contacts(admin, keep, [twin], versions)
    assert _snapshot(owner, acme) == before


def test_merge_refusals_change_nothing(
    profile: ConnectionProfile, admin: Workspace, sales: Workspace,
    owner: psycopg.Connection[Any], acme: uuid.UUID
) -> None:
    keep = _contact(owner, acme, "Zeta Springs", "supplier")
    twin = _contact(owner, acme, "ZETA Springs", "supplier", email="z@zeta.example")
    project = _project(owner, acme, None, "Spring pack")
    _rfq(owner, acme, project, twin)
    versions = {i: _stored(owner, i)["version"] for i in (keep, twin)}
    before = _snapshot(owner, acme)

    with (sign_in(profile, "acme.engineering", PASSWORD) as engineering,
          pytest.raises(MergeRefusedError, match="may not change contacts")):
        contacts.merge_contacts(engineering, keep, [twin], versions)
    assert _snapshot(owner, acme) == before

    # Sales may change contacts but not supplier RFQs: the whole merge is refused.
    with pytest.raises(MergeRefusedError, match="may not change the supplier RFQs"):
        contacts.merge_contacts(sales, keep, [twin], versions)
    assert _snapshot(owner, acme) == before

    other = _contact(owner, acme, "Zeta Springs", "customer")
    with pytest.raises(MergeRefusedError, match="same type"):
        contacts.merge_contacts(admin, keep, [other],
                                {keep: versions[keep], other: 1})
    with pytest.raises(MergeRefusedError, match="into itself"):
        contacts.merge_contacts(admin, keep, [keep], versions)

    # The company a portal login represents cannot be merged away (it can be kept).
    portal = owner.execute("SELECT contact_id FROM memberships WHERE organization_id = %s "
                           "AND contact_id IS NOT NULL AND role = 'supplier'",
                           (acme,)).fetchone()
    assert portal is not None
    name = _stored(owner, portal[0])["company_name"]
    copy = _contact(owner, acme, name.upper(), "supplier")
    portal_versions = {portal[0]: _stored(owner, portal[0])["version"], copy: 1}
    before = _snapshot(owner, acme)
    with pytest.raises(MergeRefusedError, match="portal login"):
        contacts.merge_contacts(admin, copy, [portal[0]], portal_versions)
    assert _snapshot(owner, acme) == before
    report = contacts.merge_contacts(admin, portal[0], [copy], portal_versions)
    assert report.merged_ids == (copy,)


def test_references_cover_every_foreign_key_to_contacts(owner: psycopg.Connection[Any]) -> None:
    rows = owner.execute(
        """SELECT c.conrelid::regclass::text, a.attname
           FROM pg_constraint c
           JOIN LATERAL unnest(c.conkey) AS k (attnum) ON true
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
           WHERE c.contype = 'f' AND c.confrelid = 'public.contacts'::regclass
             AND a.attname <> 'organization_id'""").fetchall()
    assert {(t, c) for t, c in rows} == {(r.table, r.column) for r in contacts.REFERENCES}


# -- files ------------------------------------------------------------------------------------


def test_import_and_export_files(sales: Workspace, owner: psycopg.Connection[Any],
                                 acme: uuid.UUID, tmp_path: Path) -> None:
    source = tmp_path / "in.csv"
    source.write_bytes(b"Company name;City\nFjord Fasteners AS;Bergen\n")
    report = contacts.import_contacts_file(sales, acme, source)
    assert report.imported == 1
    with pytest.raises(ContactsImportError, match="already exists"):
        contacts.import_contacts_file(sales, acme, source)
    with pytest.raises(UserFacingError, match="does not exist"):
        contacts.import_contacts_file(sales, acme, tmp_path / "missing.csv")
    target = tmp_path / "out.csv"
    target.write_bytes(b"old")
    assert contacts.export_contacts_file(sales, acme, target) == target
    data = target.read_bytes()
    assert data.startswith("\ufeffType,Company name,".encode())
    assert "Fjord Fasteners AS" in data.decode("utf-8-sig")
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    with pytest.raises(UserFacingError, match="folder"):
        contacts.export_contacts_file(sales, acme, tmp_path / "nowhere" / "out.csv")
