"""Parsing contact CSV files (no database): encodings, delimiters, headings, values, limits."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from decimal import Decimal

import pytest

from factorypulse_desktop.domain.csv_safety import CellProblem
from factorypulse_desktop.domain.enums import ContactType
from factorypulse_desktop.services import contacts_csv, csv_reading
from factorypulse_desktop.services.contacts_csv import (
    ContactsImportError,
    ParsedContacts,
    RowError,
    parse_amount,
    parse_contacts_csv,
)


def _ok(data: bytes) -> ParsedContacts:
    parsed = parse_contacts_csv(data)
    assert parsed.errors == (), [str(e) for e in parsed.errors]
    return parsed


def _errors(data: bytes) -> list[tuple[int | None, str | None]]:
    parsed = parse_contacts_csv(data)
    assert parsed.rows == ()
    return [(e.row, e.column) for e in parsed.errors]


@pytest.fixture
def restore_field_limit() -> Iterator[None]:
    before = csv.field_size_limit()
    yield
    csv.field_size_limit(before)


@pytest.mark.parametrize(("data", "encoding", "delimiter"), [
    ("Company,City\r\nMüller,Köln\r\n".encode(), "UTF-8", ","),
    ("\ufeffCompany;City\r\nMüller;Köln\r\n".encode(), "UTF-8", ";"),
    ("Company;City\r\nMüller;Köln\r\n".encode("cp1252"), "Windows-1252", ";"),
    ("Company\tCity\r\nMüller\tKöln\r\n".encode("utf-16"), "UTF-16", "\t"),
    ("Company\tCity\r\nMüller\tKöln\r\n".encode("utf-16-le"), "UTF-16", "\t"),
    ("Company,City\r\nMüller,Köln\r\n".encode("utf-16-be"), "UTF-16", ","),
    ("sep=;\r\nCompany;City\r\nMüller;Köln\r\n".encode(), "UTF-8", ";"),
    ('"Company";"City"\r\n"Müller";"Köln"\r\n'.encode(), "UTF-8", ";"),
])
def test_encodings_and_delimiters_are_recognised(
    data: bytes, encoding: str, delimiter: str
) -> None:
    parsed = _ok(data)
    assert (parsed.encoding, parsed.delimiter) == (encoding, delimiter)
    [row] = parsed.rows
    assert (row.row, row.company_name, row.city) == (2, "Müller", "Köln")


def test_bytes_that_are_no_known_encoding_are_refused() -> None:
    parsed = parse_contacts_csv(b"Company\r\nBad \x81 byte\r\n")  # 0x81: not in cp1252
    assert [e.row for e in parsed.errors] == [None]
    assert "CSV UTF-8" in parsed.errors[0].message


@pytest.mark.parametrize("heading", [
    "Company", "company name", "COMPANY_NAME", "Company-Name", " company ", "Organisation",
])
def test_company_heading_spellings(heading: str) -> None:
    assert _ok(f"{heading}\r\nA\r\n".encode()).columns == {"company_name": heading.strip()}


def test_every_export_heading_and_alias_is_understood() -> None:
    headings = [c.label for c in contacts_csv.COLUMNS]
    parsed = _ok((",".join(headings) + "\r\n" + "," * (len(headings) - 1) + "\r\n").encode()
                 + b"customer,A" + b"," * (len(headings) - 2) + b"\r\n")
    assert set(parsed.columns) == {c.field for c in contacts_csv.COLUMNS}
    aliases = "Type,Company,Contact,Email,Phone,E-mail address,Capability tags,Active"
    parsed = parse_contacts_csv(f"{aliases}\r\n".encode())
    assert [str(e) for e in parsed.errors] == ["Row 1, E-mail address: The heading row has the "
                                               "column \u201cE-mail\u201d twice (as "
                                               "\u201cEmail\u201d and \u201cE-mail "
                                               "address\u201d); keep one."]


def test_unknown_and_missing_columns_are_explained() -> None:
    parsed = parse_contacts_csv(b"Company,Fax,Hobby\r\nA,1,2\r\n")
    [error] = parsed.errors
    assert error.row == 1 and "\u201cFax\u201d, \u201cHobby\u201d" in error.message
    assert "Company name, Contact name" in error.message
    [error] = parse_contacts_csv(b"City,Country\r\nBerlin,DE\r\n").errors
    assert "no \u201cCompany name\u201d column" in error.message


def test_a_column_without_heading_may_only_be_empty() -> None:
    assert len(_ok(b"Company,\r\nA,\r\nB,\r\n").rows) == 2
    assert _errors(b"Company,\r\nA,\r\nB,oops\r\n") == [(3, "column 2")]


def test_row_numbers_count_like_a_spreadsheet() -> None:
    data = b'Company,Type\r\nA,\r\n\r\n"B\nstill B",\r\n,\r\nC,vendorx\r\n'
    assert _errors(data) == [(6, "Type")]
    parsed = _ok(data.replace(b"vendorx", b"Supplier"))
    assert [(r.row, r.company_name, r.type) for r in parsed.rows] == [
        (2, "A", ContactType.CUSTOMER), (4, "B\nstill B", ContactType.CUSTOMER),
        (6, "C", ContactType.SUPPLIER)]


def test_leading_empty_rows_move_the_heading_down() -> None:
    assert _errors(b"\r\n,,\r\nCompany,Type\r\nA,x\r\n") == [(4, "Type")]


@pytest.mark.parametrize(("text", "expected"), [
    ("1234.50", "1234.50"), ("1234,5", "1234.50"), ("1 234,50", "1234.50"),
    ("1\u00a0234,50", "1234.50"), ("1.234,50", "1234.50"), ("1,234.50", "1234.50"),
    ("1.234.567", "1234567.00"), ("1,234,567.5", "1234567.50"), ("-250.00", "-250.00"),
    ("+7", "7.00"), ("0", "0.00"), ("", None), ("1 234", "1234.00"),
])
def test_amounts(text: str, expected: str | None) -> None:
    assert parse_amount(text) == (Decimal(expected) if expected else None)


@pytest.mark.parametrize("text", ["1,234", "1.234", "0.500"])
def test_ambiguous_amounts_are_refused(text: str) -> None:
    with pytest.raises(CellProblem, match="ambiguous"):
        parse_amount(text)


@pytest.mark.parametrize("text", [
    "1,234,50", "1.234.56", "12.345,678", "$100", "1e5", "ten", "1 23", "١٢٣", "99999999999999",
])
def test_wrong_amounts_are_refused(text: str) -> None:
    with pytest.raises(CellProblem):
        parse_amount(text)


def test_values_are_cleaned_and_converted() -> None:
    data = (b"Company,Type,Active,Capabilities,Notes,E-mail\r\n"
            b"  A  ,SUPPLIER,No,\"cnc; 5-axis|welding, CNC\",'=1+1,\r\n"
            b"B,,,,'t Hoekje,\r\n")
    a, b = _ok(data).rows
    assert (a.company_name, a.type, a.is_active, a.capability_tags, a.notes, a.email) == (
        "A", ContactType.SUPPLIER, False, ("cnc", "5-axis", "welding"), "=1+1", None)
    assert (b.type, b.is_active, b.capability_tags, b.notes) == (
        ContactType.CUSTOMER, True, (), "'t Hoekje")


def test_wrong_values_name_row_and_column() -> None:
    data = b"Company,Type,Active,Credit limit\r\n,customer,yes,1\r\nB,vendorx,maybe,1,234\r\n"
    assert _errors(data) == [(2, "Company"), (3, None)]
    data = b"Company,Type,Active,Credit limit\r\nB,vendorx,maybe,\"1,234\"\r\n"
    assert _errors(data) == [(2, "Type"), (2, "Active"), (2, "Credit limit")]


def test_T_IN_03_length_limits() -> None:
    assert _errors(("Company\r\n" + "x" * 201 + "\r\n").encode()) == [(2, "Company")]
    assert len(_ok(("Company\r\n" + "x" * 200 + "\r\n").encode()).rows) == 1
    notes = "n" * (contacts_csv.MAX_LENGTHS["notes"] + 1)
    parsed = parse_contacts_csv(f"Company,Notes\r\nA,{notes}\r\n".encode())
    assert "at most 500,000" in str(parsed.errors[0])
    assert _errors(("Company,Capabilities\r\nA,cnc;" + "t" * 101 + "\r\n").encode()) == [
        (2, "Capabilities")]


def test_a_200_kb_field_is_read_and_a_huge_one_refused(restore_field_limit: None) -> None:
    csv.field_size_limit(131_072)  # Python's default
    big = "é" * 200_000
    [row] = _ok(f'Company,Notes\r\nA,"{big}"\r\n'.encode()).rows
    assert row.notes == big
    assert csv.field_size_limit() == csv_reading.CSV_FIELD_LIMIT
    huge = "h" * (csv_reading.CSV_FIELD_LIMIT + 1)
    parsed = parse_contacts_csv(f"Company,Notes\r\nA,ok\r\nB,{huge}\r\n".encode())
    assert [(e.row, e.column) for e in parsed.errors] == [(3, None)]
    assert "longer than 1,048,576 characters" in parsed.errors[0].message


def test_a_higher_field_limit_set_elsewhere_is_not_lowered(restore_field_limit: None) -> None:
    csv.field_size_limit(8 * 1024 * 1024)
    _ok(b"Company\r\nA\r\n")
    assert csv.field_size_limit() == 8 * 1024 * 1024


def test_empty_files_and_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    for data in (b"", b"\r\n\r\n", "\ufeff".encode()):
        [error] = parse_contacts_csv(data).errors
        assert "empty" in error.message
    monkeypatch.setattr(contacts_csv, "MAX_FILE_BYTES", 100)
    [error] = parse_contacts_csv(b"Company\r\n" + b"A\r\n" * 100).errors
    assert "too large" in error.message
    monkeypatch.setattr(contacts_csv, "MAX_FILE_BYTES", 1_000_000)
    monkeypatch.setattr(contacts_csv, "MAX_ROWS", 3)
    rows = "".join(f"C{i}\r\n" for i in range(5))
    assert _errors(f"Company\r\n{rows}".encode()) == [(5, None)]


def test_problems_stop_being_collected_after_a_readable_number() -> None:
    data = b"Company,Type\r\n" + b"A,x\r\n" * 1_000
    errors = parse_contacts_csv(data).errors
    assert len(errors) == contacts_csv.MAX_ERRORS + 1
    assert "stopped after 500 problems" in errors[-1].message


def test_import_error_is_one_plain_sentence_with_every_problem_attached() -> None:
    one = ContactsImportError([RowError(3, "Type", "\u201cx\u201d is not a contact type.")])
    assert str(one) == "Nothing was imported. Row 3, Type: \u201cx\u201d is not a contact type."
    many = ContactsImportError(parse_contacts_csv(b"Company,Type\r\nA,x\r\nB,y\r\n").errors)
    assert len(many.errors) == 2
    assert str(many).startswith("Nothing was imported: the file has 2 problems. The first: "
                                "Row 2, Type:")
    assert "\n" not in str(many)
