"""CSV import and export of inventory items (RELIABILITY.md T-IN-04, T-IN-05), as persons."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
from rls_support import owner_conn
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.services import inventory_csv
from factorypulse_desktop.services.auth import Workspace, sign_in
from factorypulse_desktop.services.inventory_csv import ItemsImportError

HEAD = "Item code,Name,Category,Unit,Min stock,Unit cost\r\n"


@pytest.fixture
def procurement(demo_db: Any) -> Iterator[Workspace]:
    with sign_in(profile_for(demo_db), "acme.procurement", DEMO_PASSWORD) as ws:
        yield ws


def item_count(db: Any, org: uuid.UUID) -> int:
    with owner_conn(db) as conn:
        row = conn.execute("SELECT count(*) FROM inventory_items WHERE organization_id = %s",
                           (org,)).fetchone()
    assert row is not None
    return int(row[0])


def stored(db: Any, org: uuid.UUID, code: str) -> tuple[Any, ...] | None:
    with owner_conn(db) as conn:
        return conn.execute(
            "SELECT item_name, category, unit, min_stock_level, unit_cost FROM inventory_items "
            "WHERE organization_id = %s AND item_code = %s", (org, code)).fetchone()


# (name, file bytes, expected: None = imports, else (row, column or None, words in message))
CORPUS: list[tuple[str, bytes, tuple[int | None, str | None, str] | None]] = [
    ("utf8 bom", ("\ufeff" + HEAD + "CSV-1,Bolt M8 ø,Fasteners,pcs,10,0.12\r\n").encode(),
     None),
    ("cp1252 semicolon", (HEAD.replace(",", ";") + "CSV-2;Scheibe groß;Fasteners;pcs;5;"
                          "1,5\r\n").encode("cp1252"), None),
    ("utf16", (HEAD + "CSV-3,Washer,Fasteners,pcs,1,2\r\n").encode("utf-16"), None),
    ("embedded newline", (HEAD + 'CSV-4,"Plate\nwith two lines",Raw,kg,,3.5\r\n').encode(),
     None),
    ("formula cell", (HEAD + "CSV-5,=HYPERLINK(\"x\"),Raw,pcs,,\r\n").encode(), None),
    ("ragged row", (HEAD + "CSV-6,Nut,Fasteners,pcs,1\r\n").encode(),
     (2, None, "has 5 cells but the heading row has 6")),
    ("duplicate header", (b"Item code,Name,Name\r\nCSV-7,A,B\r\n"),
     (1, "Name", "twice")),
    ("200 KB field", (HEAD + "CSV-8," + "x" * 200_000 + ",Raw,pcs,,\r\n").encode(),
     (2, "Name", "holds at most 200")),
    ("NUL", (HEAD + "CSV-9,Nu\x00t,Raw,pcs,,\r\n").encode(), (2, "Name", "NUL")),
    ("bad number", (HEAD + "CSV-10,Nut,Raw,pcs,ten,\r\n").encode(),
     (2, "Min stock", "not a number")),
    ("duplicate code", (HEAD + "CSV-11,A,Raw,pcs,,\r\ncsv-11,B,Raw,pcs,,\r\n").encode(),
     (3, "Item code", "already on row 2")),
    ("existing code", (HEAD + "CSV-12,A,Raw,pcs,,\r\nTST-EXIST,B,Raw,pcs,,\r\n").encode(),
     (3, "Item code", "already exists")),
]


@pytest.mark.parametrize(("name", "data", "expected"), CORPUS, ids=[c[0] for c in CORPUS])
def test_T_IN_04_each_file_imports_correctly_or_not_at_all(
        demo_db: Any, acme: uuid.UUID, procurement: Workspace, name: str, data: bytes,
        expected: tuple[int | None, str | None, str] | None) -> None:
    with owner_conn(demo_db) as conn:
        conn.execute("INSERT INTO inventory_items (organization_id, item_code, item_name) "
                     "VALUES (%s, 'TST-EXIST', 'Existing')", (acme,))
    before = item_count(demo_db, acme)
    if expected is None:
        report = inventory_csv.import_items(procurement, acme, data)
        assert item_count(demo_db, acme) == before + report.imported == before + 1
        return
    with pytest.raises(ItemsImportError) as refused:
        inventory_csv.import_items(procurement, acme, data)
    row, column, words = expected
    first = refused.value.errors[0]
    assert (first.row, first.column) == (row, column), refused.value.errors
    assert words in first.message
    assert item_count(demo_db, acme) == before  # 0 partial imports


def test_T_IN_04_values_are_stored_exactly(demo_db: Any, acme: uuid.UUID,
                                           procurement: Workspace) -> None:
    for _name, data, expected in CORPUS[:5]:
        assert expected is None
        inventory_csv.import_items(procurement, acme, data)
    assert stored(demo_db, acme, "CSV-1") == ("Bolt M8 ø", "Fasteners", "pcs", Decimal(10),
                                             Decimal("0.12"))
    assert stored(demo_db, acme, "CSV-2") == ("Scheibe groß", "Fasteners", "pcs", Decimal(5),
                                             Decimal("1.5"))
    # A line break inside the quoted cell is read as one cell (a name is kept on one line).
    assert stored(demo_db, acme, "CSV-4") == ("Plate with two lines", "Raw", "kg", None,
                                             Decimal("3.5"))
    assert stored(demo_db, acme, "CSV-5") == ('=HYPERLINK("x")', "Raw", "pcs", None, None)


def test_a_person_without_the_right_imports_nothing(demo_db: Any, acme: uuid.UUID) -> None:
    before = item_count(demo_db, acme)
    with sign_in(profile_for(demo_db), "acme.sales", DEMO_PASSWORD) as sales, \
            pytest.raises(ItemsImportError, match="not allowed to add items"):
        inventory_csv.import_items(sales, acme, (HEAD + "S-1,A,Raw,pcs,,\r\n").encode())
    assert item_count(demo_db, acme) == before


def test_T_IN_05_export_escapes_formula_starts_and_round_trips(
        demo_db: Any, acme: uuid.UUID, procurement: Workspace) -> None:
    dangerous = ["=1+1", "+33 1 23", "-5", "@SUM(A1)", "\tTAB", "\rCR"]
    with owner_conn(demo_db) as conn:
        for n, name in enumerate(dangerous):
            conn.execute("INSERT INTO inventory_items (organization_id, item_code, item_name, "
                         "category) VALUES (%s, %s, %s, 'Formula')", (acme, f"F-{n}", name))
    data = inventory_csv.export_items(procurement, acme)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    names = {r[0]: r[1] for r in rows[1:]}
    for n, name in enumerate(dangerous):
        assert names[f"F-{n}"] == "'" + name  # a spreadsheet shows it as text
    # Every exported cell that starts like a formula is escaped.
    assert all(not cell or cell[0] not in "=+-@\t\r" for row in rows for cell in row)
    # Export, delete, import: the same items come back.
    with owner_conn(demo_db) as conn:
        conn.execute("DELETE FROM inventory_items WHERE category = 'Formula'")
    only = [rows[0]] + [r for r in rows[1:] if r[0].startswith("F-")]
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(only)
    report = inventory_csv.import_items(procurement, acme, out.getvalue().encode())
    assert report.imported == len(dangerous)
    with owner_conn(demo_db) as conn:
        back = dict(conn.execute("SELECT item_code, item_name FROM inventory_items WHERE "
                                 "category = 'Formula'").fetchall())
    assert back == {f"F-{n}": name.strip() if name[0] in "\t\r" else name
                    for n, name in enumerate(dangerous)}
