"""The Ctrl+K palette's search: every kind, only what the person may see, hostile text is harmless.

``services.search.search`` runs on the person's own login (RLS applies). It asks the definer
function ``fp_private.search_candidates`` (migration 20261125_0002) for candidate ids and loads
the rows through the normal tables. Besides the service, the function itself is called directly,
as a person with psql could: it must never return an id the person could not read anyway.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
import pytest
import sqlalchemy
from rls_support import org_id, owner_conn, person_conn

from factorypulse_desktop.services.search import KINDS, SearchHit, normalize_query, search

ACME_PERSONS = (
    "acme.admin", "acme.management", "acme.sales", "acme.engineering", "acme.qa",
    "acme.production", "acme.procurement", "acme.supplier", "acme.customer",
)
GLOBEX_PERSONS = tuple(name.replace("acme.", "globex.") for name in ACME_PERSONS)

# kind -> (table, identifier column, name columns): what the function matches, for checking it.
MATCHED = {
    "project": ("projects", "project_number", ("title",)),
    "contact": ("contacts", None, ("company_name", "contact_name")),
    "document": ("documents", None, ("title",)),
    "purchase_order": ("purchase_orders", "po_number", ()),
    "inventory_item": ("inventory_items", "item_code", ("item_name",)),
    "production_order": ("production_orders", "production_number", ("description",)),
}


@contextmanager
def person(db: Any, username: str) -> Iterator[sqlalchemy.Connection]:
    """The signed-in person's connection, as the app has it."""
    engine = sqlalchemy.create_engine(db.url_for(username), poolclass=sqlalchemy.NullPool)
    try:
        with engine.connect() as conn:
            yield conn
    finally:
        engine.dispose()


def _one(conn: psycopg.Connection[Any], sql: str, *params: Any) -> Any:
    row = conn.execute(sql, params).fetchone()
    assert row is not None, (sql, params)
    return row[0]


@pytest.fixture
def demo(demo_db: Any) -> dict[str, Any]:
    """The demo database and, read as the owner, one record of each kind in each organization."""
    with owner_conn(demo_db) as conn:
        acme, globex = org_id(conn, "acme"), org_id(conn, "globex")

        def records(org: uuid.UUID, slug: str) -> dict[str, tuple[uuid.UUID, str]]:
            code = "ACM" if slug == "acme" else "GLX"
            first = "Surgical tray bracket" if slug == "acme" else "Grain dryer access"
            contact = "Northwind Robotics" if slug == "acme" else "Lumiere Agritech"
            item = "AL6061-BAR-50" if slug == "acme" else "S355-SHT-3"
            name = "Dana Whitfield" if slug == "acme" else "Helena Schmidt"
            return {
                "project": (_one(conn, "SELECT id FROM projects WHERE organization_id = %s "
                                 "AND title LIKE %s", org, first + "%"), first),
                "contact": (_one(conn, "SELECT id FROM contacts WHERE organization_id = %s "
                                 "AND company_name LIKE %s", org, contact + "%"), contact),
                "document": (_one(conn, "SELECT id FROM documents WHERE organization_id = %s "
                                  "AND title LIKE 'CMM point cloud%%'", org), "CMM point cloud"),
                "purchase_order": (_one(conn, "SELECT id FROM purchase_orders WHERE "
                                        "organization_id = %s AND po_number = %s", org,
                                        f"PO-{code}-26-0328"), f"PO-{code}-26-0328"),
                "inventory_item": (_one(conn, "SELECT id FROM inventory_items WHERE "
                                        "organization_id = %s AND item_code = %s", org, item),
                                   item),
                "production_order": conn.execute(
                    "SELECT id, production_number FROM production_orders "
                    "WHERE organization_id = %s ORDER BY production_number LIMIT 1", (org,)
                ).fetchone(),
                "person": (_one(conn, "SELECT id FROM persons WHERE display_name LIKE %s",
                                name + "%"), name),
            }

        data = {"db": demo_db, "acme": acme, "globex": globex,
                "acme_records": records(acme, "acme"), "globex_records": records(globex, "globex")}
        data["globex_ids"] = {r[0] for r in data["globex_records"].values()}
        data["globex_project_number"] = _one(
            conn, "SELECT project_number FROM projects WHERE id = %s",
            data["globex_records"]["project"][0])
    return data


def _ids(hits: list[SearchHit]) -> set[uuid.UUID]:
    return {h.id for h in hits}


# --------------------------------------------------------------------------------------------
# Finding things
# --------------------------------------------------------------------------------------------
def test_finds_a_record_of_every_kind_in_own_organization(demo: dict[str, Any]) -> None:
    acme = demo["acme"]
    with person(demo["db"], "acme.sales") as conn:
        for kind, (record_id, text) in demo["acme_records"].items():
            hits = search(conn, acme, text)
            found = [h for h in hits if h.id == record_id]
            assert found, f"{kind}: {text!r} not found in {hits}"
            hit = found[0]
            assert hit.kind == kind
            assert hit.organization_id == acme
            assert hit.title
            # Grouped by kind, in KINDS order.
            order = [KINDS.index(h.kind) for h in hits]
            assert order == sorted(order), hits
        # A project number's prefix, typed as the user would (lower case).
        number = _one_sa(conn, "SELECT project_number FROM projects WHERE id = :id",
                         id=demo["acme_records"]["project"][0])
        hits = search(conn, acme, number[:7].lower())
        assert demo["acme_records"]["project"][0] in _ids(hits)
        assert any(number in h.subtitle for h in hits if h.kind == "project")


def _one_sa(conn: sqlalchemy.Connection, sql: str, **params: Any) -> Any:
    return conn.execute(sqlalchemy.text(sql), params).scalar_one()


def test_exact_identifier_ranks_first_and_per_kind_limits(demo: dict[str, Any]) -> None:
    with person(demo["db"], "acme.procurement") as conn:
        hits = search(conn, demo["acme"], "PO-ACM-26-0328")
        orders = [h for h in hits if h.kind == "purchase_order"]
        assert orders[0].title == "PO-ACM-26-0328"
        many = search(conn, demo["acme"], "PO-ACM", per_kind=50)
        assert len([h for h in many if h.kind == "purchase_order"]) == 9
        one = search(conn, demo["acme"], "PO-ACM", per_kind=1)
        assert len([h for h in one if h.kind == "purchase_order"]) == 1
        assert all(sum(h.kind == k for h in one) <= 1 for k in KINDS)


def test_short_text_matches_the_start_of_words_only(demo: dict[str, Any]) -> None:
    acme = demo["acme"]
    with person(demo["db"], "acme.sales") as conn:
        assert search(conn, acme, "") == []
        assert search(conn, acme, "w") == []
        assert search(conn, acme, "   r   ") == []
        titles = {h.title for h in search(conn, acme, "ri", per_kind=50) if h.kind == "project"}
        assert "Wing rib machining, batch 2" in titles
        titles = {h.title for h in search(conn, acme, "ib", per_kind=50) if h.kind == "project"}
        assert "Wing rib machining, batch 2" not in titles  # "ib" is inside a word
        titles = {h.title for h in search(conn, acme, "rib machining") if h.kind == "project"}
        assert "Wing rib machining, batch 2" in titles  # longer text: anywhere


# --------------------------------------------------------------------------------------------
# Isolation
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("username", ["acme.sales", "acme.admin"])
def test_finds_nothing_of_another_organization(demo: dict[str, Any], username: str) -> None:
    texts = [text for _id, text in demo["globex_records"].values()]
    texts += [demo["globex_project_number"], "PO-GLX", "GLX-Q-", "Lumiere", "globex.sales",
              "Customer quote GLX"]
    with person(demo["db"], username) as conn:
        for text in texts:
            hits = search(conn, demo["acme"], text, per_kind=50)
            assert not _ids(hits) & demo["globex_ids"], text
            assert all(h.organization_id == demo["acme"] for h in hits), text
            assert not [h for h in hits if "GLX" in h.title or "Globex" in h.subtitle], text
            # Asking for globex itself: not one of the person's organizations.
            assert search(conn, demo["globex"], text, per_kind=50) == [], text


@pytest.mark.parametrize("username", ["acme.sales", "acme.admin", "acme.customer"])
def test_definer_function_called_directly_returns_nothing_of_another_org(
    demo: dict[str, Any], username: str,
) -> None:
    with person_conn(demo["db"], username) as conn:
        for _id, text in demo["globex_records"].values():
            rows = conn.execute(
                "SELECT * FROM fp_private.search_candidates(%s, %s, 50)", (text, demo["globex"])
            ).fetchall()
            assert rows == [], text
            rows = conn.execute(
                "SELECT * FROM fp_private.search_candidates(%s, %s, 50)", (text, demo["acme"])
            ).fetchall()
            assert not {r[1] for r in rows} & demo["globex_ids"], text
        assert conn.execute("SELECT count(*) FROM fp_private.search_candidates(%s, NULL)",
                            ("PO-",)).fetchone() == (0,)
        assert conn.execute("SELECT count(*) FROM fp_private.search_candidates(%s, %s)",
                            ("PO-", uuid.uuid4())).fetchone() == (0,)


def test_confidential_document_only_for_its_readers(demo: dict[str, Any]) -> None:
    """Documents policy: managers, the uploader and the project's assignees read confidential
    documents; other staff do not, through the service or the function."""
    acme = demo["acme"]
    with owner_conn(demo["db"]) as conn:
        doc_id, title, project = conn.execute(
            "SELECT id, title, project_id FROM documents WHERE organization_id = %s "
            "AND access_level = 'confidential'", (acme,)).fetchone() or (None, None, None)
        assert doc_id is not None
        readers = {r[0] for r in conn.execute(
            "SELECT p.role_name FROM persons p JOIN memberships m ON m.person_id = p.id "
            "WHERE m.organization_id = %s AND (m.role IN ('admin', 'management') "
            "OR p.id = (SELECT uploaded_by FROM documents WHERE id = %s) OR EXISTS ("
            "SELECT 1 FROM project_assignments a WHERE a.person_id = p.id AND a.is_active "
            "AND a.project_id = %s) OR EXISTS (SELECT 1 FROM projects pr WHERE pr.id = %s "
            "AND pr.assigned_to = p.id))", (acme, doc_id, project, project))}
    assert "acme.qa" not in readers and "acme.sales" in readers, readers
    for username in ACME_PERSONS:
        with person(demo["db"], username) as conn:
            found = doc_id in _ids(search(conn, acme, title))
            direct = conn.execute(sqlalchemy.text(
                "SELECT count(*) FROM fp_private.search_candidates(:q, :org, 50) "
                "WHERE id = :id"), {"q": title, "org": acme, "id": doc_id}).scalar_one()
        assert found == (username in readers), username
        assert bool(direct) == (username in readers), username


def test_customer_portal_person_sees_only_their_own_projects(demo: dict[str, Any]) -> None:
    acme = demo["acme"]
    with owner_conn(demo["db"]) as conn:
        projects = conn.execute(
            "SELECT p.id, p.title, c.company_name FROM projects p "
            "JOIN contacts c ON c.id = p.customer_id WHERE p.organization_id = %s", (acme,)
        ).fetchall()
    own = {pid for pid, _title, company in projects if company == "Northwind Robotics"}
    assert own and len(own) < len(projects)
    with person(demo["db"], "acme.customer") as conn:
        for pid, title, _company in projects:
            hits = search(conn, acme, title, per_kind=50)
            assert (pid in _ids(hits)) == (pid in own), title
            assert {h.kind for h in hits} <= {"project", "document"}, hits
        # Staff, their colleagues and other customers stay out of sight.
        assert search(conn, acme, "Dana Whitfield") == []
        assert search(conn, acme, "Summit Medical") == []
        assert [h.kind for h in search(conn, acme, "Nina Patel")] == ["contact", "person"]
        assert search(conn, acme, "AL6061") == []
        assert search(conn, acme, "PO-ACM") == []


def test_supplier_portal_person_finds_only_orders_sent_to_them(demo: dict[str, Any]) -> None:
    acme = demo["acme"]
    with owner_conn(demo["db"], autocommit=True) as conn:
        supplier = _one(conn, "SELECT contact_id FROM memberships m JOIN persons p "
                        "ON p.id = m.person_id WHERE p.role_name = 'acme.supplier'")
        orders = {status: _one(conn, "INSERT INTO purchase_orders (organization_id, po_number, "
                               "supplier_id, status) VALUES (%s, %s, %s, %s) RETURNING id",
                               acme, f"PO-ACM-TC-{status}", supplier, status)
                  for status in ("draft", "approved", "sent", "received")}
    with person(demo["db"], "acme.supplier") as conn:
        visible = set(conn.execute(sqlalchemy.text(
            "SELECT id FROM purchase_orders WHERE organization_id = :org"), {"org": acme}
        ).scalars())
        hits = search(conn, acme, "PO-ACM", per_kind=50)
    assert visible == {orders["sent"], orders["received"]}
    assert {h.id for h in hits if h.kind == "purchase_order"} == visible


def _patterns(text: str) -> tuple[bool, str, str, str]:
    q = normalize_query(text)
    esc = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    short = re.search(r"[A-Za-z0-9]{3}", q) is None
    return short, f"%{esc}%", f"{esc}%", f"% {esc}%"


@pytest.mark.parametrize("text", ["bracket", "PO-ACM", "ac", "P-2", "quote", "st", "Robotics"])
def test_definer_candidates_are_exactly_what_rls_lets_each_person_read(
    demo: dict[str, Any], text: str,
) -> None:
    """Called directly, the function returns no id the person cannot SELECT (nothing leaks)
    and, for the tables, every matching id they can (nothing lost)."""
    short, like, prefix, word = _patterns(text)
    for username in ACME_PERSONS + GLOBEX_PERSONS:
        org = demo["acme"] if username.startswith("acme.") else demo["globex"]
        with person_conn(demo["db"], username) as conn:
            got: dict[str, set[uuid.UUID]] = {kind: set() for kind in KINDS}
            for kind, id_, _rank in conn.execute(
                    "SELECT * FROM fp_private.search_candidates(%s, %s, 50)", (text, org)):
                got[kind].add(id_)
            for kind, (table, code, names) in MATCHED.items():
                columns = [c for c in (code, *names) if c]
                if short:
                    terms = [f"{code} ILIKE %(prefix)s"] if code else []
                    terms += [f"{n} ILIKE {p}" for n in names for p in ("%(prefix)s", "%(word)s")]
                else:
                    terms = [f"{c} ILIKE %(like)s" for c in columns]
                expected = {r[0] for r in conn.execute(
                    f"SELECT id FROM {table} WHERE organization_id = %(org)s "
                    f"AND ({' OR '.join(terms)})",
                    {"org": org, "like": like, "prefix": prefix, "word": word})}
                assert got[kind] == expected, (username, kind)
            visible_persons = {r[0] for r in conn.execute("SELECT id FROM persons")}
            assert got["person"] <= visible_persons, username


# --------------------------------------------------------------------------------------------
# What the user types
# --------------------------------------------------------------------------------------------
def test_like_wildcards_in_the_text_are_literal(demo: dict[str, Any]) -> None:
    acme = demo["acme"]
    names = ["Percent 100% Tooling", "Under_score Fixtures", "Back\\slash Coatings"]
    with owner_conn(demo["db"], autocommit=True) as conn:
        ids = {name: conn.execute(
            "INSERT INTO contacts (organization_id, company_name) VALUES (%s, %s) RETURNING id",
            (acme, name)).fetchone()[0] for name in names}  # type: ignore[index]
    with person(demo["db"], "acme.sales") as conn:
        def contacts(text: str) -> set[uuid.UUID]:
            return {h.id for h in search(conn, acme, text, per_kind=50) if h.kind == "contact"}

        assert contacts("100%") == {ids["Percent 100% Tooling"]}
        assert contacts("Under_sc") == {ids["Under_score Fixtures"]}
        assert contacts("Back\\sl") == {ids["Back\\slash Coatings"]}
        assert contacts("back\\") == {ids["Back\\slash Coatings"]}
        # As wildcards these would match "Northwind Robotics" and everything.
        assert contacts("Nor_hwind") == set()
        assert contacts("%wind") == set()
        assert contacts("%%") == set()
        assert contacts("__") == set()
        assert contacts("No%") == set()
        assert contacts("Northwind\\") == set()


HOSTILE = [
    "'", "''", "'; DROP TABLE projects; --", "\\", "\\\\", "\\'", "%", "_", "%_\\", "$$", "$1",
    "\x00", "brac\x00ket", "\x00\x00\x00", "\t\n\r\x0b\x0c", "\x1b[31m", "\ud800bracket",
    "bracket\udfff", "'" * 500, "x" * 10_000, "bracket " * 2_000, "é" * 300, "🔩 bracket",
    "Robotics" + "\u0301" * 50, ") OR 1=1 --", "*/ SELECT 1; /*", "\\x00", "E'\\\\'",
    "ᵇʳᵃᶜᵏᵉᵗ", "\u202ebracket", "\ufeff", "(?i).*", "[[:alnum:]]{3}", ":org", "%(q)s", "{}",
]


def test_hostile_text_never_errors(demo: dict[str, Any]) -> None:
    acme = demo["acme"]
    with person(demo["db"], "acme.sales") as conn:
        for text in HOSTILE:
            hits = search(conn, acme, text)
            assert isinstance(hits, list), repr(text)
            assert all(h.organization_id == acme for h in hits)
        # The connection is still fine: nothing was left half-done.
        assert conn.execute(sqlalchemy.text("SELECT 1")).scalar_one() == 1
        assert search(conn, acme, "Northwind") != []


def test_definer_function_takes_any_argument_without_error(demo: dict[str, Any]) -> None:
    acme = demo["acme"]
    with person_conn(demo["db"], "acme.sales", autocommit=True) as conn:
        for text in [*(t for t in HOSTILE if "\x00" not in t and "\ud800" not in t
                       and "\udfff" not in t), "y" * 100_000, None]:
            conn.execute("SELECT * FROM fp_private.search_candidates(%s, %s, 5)",
                         (text, acme)).fetchall()
        for limit in (None, -5, 0, 1, 10**9):
            rows = conn.execute("SELECT * FROM fp_private.search_candidates('PO-ACM', %s, %s)",
                                (acme, limit)).fetchall()
            assert 1 <= len([r for r in rows if r[0] == "purchase_order"]) <= 50
        for kinds in (None, [], ["project"], ["nonsense"], ["project", "person"]):
            conn.execute("SELECT * FROM fp_private.search_candidates('bracket', %s, 5, %s)",
                         (acme, kinds)).fetchall()
        rows = conn.execute(
            "SELECT DISTINCT kind FROM fp_private.search_candidates('bracket', %s, 5, %s)",
            (acme, ["project"])).fetchall()
        assert rows == [("project",)]
        # psycopg refuses NUL before anything reaches the server; the service strips it.
        with pytest.raises(psycopg.DataError):
            conn.execute("SELECT * FROM fp_private.search_candidates(%s, %s)", ("a\x00b", acme))
        assert conn.execute("SELECT 1").fetchone() == (1,)


def test_normalize_query() -> None:
    assert normalize_query("  brac\x00ket\t\n ") == "brac ket"
    assert normalize_query("\ud800ab") == "ab"
    assert len(normalize_query("x" * 10_000)) == 200
    assert normalize_query("a" + " " * 5000 + "b") == "a b"


# --------------------------------------------------------------------------------------------
# The function itself
# --------------------------------------------------------------------------------------------
def test_search_function_is_a_guarded_definer(demo: dict[str, Any]) -> None:
    with owner_conn(demo["db"]) as conn:
        row = conn.execute(
            """SELECT p.prosecdef, pg_get_userbyid(p.proowner), p.proconfig, p.provolatile,
                      has_function_privilege('public', p.oid, 'EXECUTE'),
                      has_function_privilege('fp_member', p.oid, 'EXECUTE'),
                      has_function_privilege('fp_backup', p.oid, 'EXECUTE')
               FROM pg_proc p WHERE p.oid =
                   'fp_private.search_candidates(text, uuid, integer, text[])'::regprocedure"""
        ).fetchone()
    assert row is not None
    definer, owner, config, volatility, public_exec, member_exec, backup_exec = row
    assert definer and owner == "fp_security" and volatility == "s"
    assert "search_path=pg_catalog, public, pg_temp" in config  # pg_temp last (0018)
    assert not public_exec and member_exec and not backup_exec
