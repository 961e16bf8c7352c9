"""Hostile input across the product (RELIABILITY.md T-IN-01, T-IN-02, T-IN-03, T-IN-10).

The same corpus goes through every search and filter entry point of the services and through
every form's save path, as a real person (their own login: RLS applies). Entry points are
listed once (`FILTERS`, `FORMS`, `SORTED_LISTS`) and each test sweeps the whole list, so a new
entry point is one line here.

Outcome rules:

- filters: a result or a `UserFacingError` in plain words; never another exception, never SQL
  in the message; literal matching (a corpus string that appears nowhere in acme's data finds
  nothing: `%` alone does not list everything, `_` is not "any character"); under 1 s each
  (the 1 MB paste: under 2 s); the `DROP TABLE` text drops nothing.
- forms: NUL and a lone surrogate are refused with a plain message before anything is sent;
  a 1 MB paste is refused with a message (every field is bounded); a 4-byte emoji, ZWJ
  sequence, RTLO and HTML-looking text are kept exactly as typed; NFD "é" is stored as NFC
  (the product's rule: ``domain/text.py``).

Inputs this file cannot reach are listed in docs/reliability.md (T-IN rows).
"""

from __future__ import annotations

import re
import time
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from support import DEMO_PASSWORD, profile_for

from factorypulse_desktop.domain import station_codes
from factorypulse_desktop.domain.enums import ContactType, IntakeType
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.intake import IntakeForm, IntakeInvalid
from factorypulse_desktop.domain.intake import validate as validate_intake
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import (
    activity,
    approvals,
    contacts,
    documents,
    inventory,
    messages,
    production,
    project_detail,
    projects,
    purchase_orders,
    reviews,
    search,
    supplier_rfqs,
)
from factorypulse_desktop.services.auth import Workspace, sign_in

CORPUS: dict[str, str] = {
    "sql_or": "' OR 1=1 --",
    "sql_drop": "'); DROP TABLE documents; --",
    "percent": "%",
    "underscore": "_",
    "backslash": "\\",
    "10kb": "ab" * 5_120,
    "nul": "ab\x00cd",
    "lone_surrogate": "ab\ud800cd",
    "rtlo": "invoice\u202efdp.exe",
    "zwj": "\U0001f468\u200d\U0001f527 fitter",
    "emoji": "\U0001f984 unicorn",
    "nfd_e": "caf" + "e\u0301",
    "1mb": "y" * 1_048_576,
    "html": "<img src=x onerror=alert(1)>",
}
REFUSED_IN_FORMS = {"nul", "lone_surrogate", "1mb"}
# What a message shown to a person must never look like.
# (The typed text itself is taken out first: echoing "(SELECT 1)" back is fine.)
_LEAK = re.compile(r"\bSELECT |\bINSERT INTO|\bUPDATE \w+ SET|psycopg|sqlalchemy|Traceback|"
                   r"ERROR: |LINE \d+:|syntax error|\[SQL:|sqlstate|DETAIL:|CONTEXT:|0x00|"
                   r"PostgreSQL text fields")




@dataclass
class Ctx:
    ws: Workspace
    org: uuid.UUID
    thread_id: uuid.UUID
    project_id: uuid.UUID




@pytest.fixture(scope="module")
def ctx(module_demo_db: Any) -> Iterator[Ctx]:
    with psycopg.connect(module_demo_db.owner_conninfo()) as owner:
        row = owner.execute(
            "SELECT m.organization_id, m.thread_id, m.project_id FROM messages m "
            "JOIN organizations o ON o.id = m.organization_id WHERE o.slug = 'acme' "
            "AND m.thread_id IS NOT NULL AND m.deleted_at IS NULL LIMIT 1").fetchone()
    assert row is not None
    with sign_in(profile_for(module_demo_db), "acme.admin", DEMO_PASSWORD) as ws:
        yield Ctx(ws, row[0], row[1], row[2])


_PRESENT: dict[tuple[str, uuid.UUID, str], bool] = {}


def _owner_text_present(db: Any, org: uuid.UUID, needle: str) -> bool:
    """Whether `needle` appears in any of acme's rows (as the owner): then a literal match may
    legitimately find something. (Asked once per needle: the filters only read.)"""
    key = (db.name, org, needle)
    if key not in _PRESENT:
        _PRESENT[key] = _scan(db, org, needle)
    return _PRESENT[key]


def _scan(db: Any, org: uuid.UUID, needle: str) -> bool:
    with psycopg.connect(db.owner_conninfo()) as owner:
        tables = [r[0] for r in owner.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'organization_id' "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'")]
        for table in [*tables, "persons"]:
            where = sql.SQL("") if table == "persons" else sql.SQL(
                " AND r.organization_id = %(org)s")
            query = sql.SQL("SELECT EXISTS (SELECT 1 FROM {} r WHERE strpos(r::text, %(n)s) > 0"
                            "{})").format(sql.Identifier(table), where)
            found = owner.execute(query, {"n": needle, "org": org}).fetchone()
            if found and found[0]:
                return True
    return False


def _searchable(value: str) -> str:
    """What a filter can meaningfully look for: NUL and lone surrogates are dropped."""
    cleaned = value.replace("\x00", "").encode("utf-8", "ignore").decode("utf-8")
    return unicodedata.normalize("NFC", cleaned)


def _count(result: Any) -> int:
    if isinstance(result, list) and result and isinstance(result[0], projects.BoardColumn):
        return sum(len(c.cards) for c in result)
    if hasattr(result, "rows"):
        return len(result.rows)
    return len(result)


# -- T-IN-01: every search and filter entry point ------------------------------------------

Filter = Callable[[Ctx, str], Any]
FILTERS: dict[str, Filter] = {
    "projects.list_projects(text)": lambda c, t: projects.list_projects(
        c.ws, c.org, projects.ProjectFilter(text=t, statuses=())),
    "projects.load_board(text)": lambda c, t: projects.load_board(
        c.ws, c.org, projects.ProjectFilter(text=t, statuses=())),
    "search.search_workspace (palette)": lambda c, t: search.search_workspace(
        c.ws, c.org, t, per_kind=50),
    "contacts.list_contacts(text)": lambda c, t: contacts.list_contacts(
        c.ws, c.org, contacts.ContactFilter(text=t, active="all")),
    "contacts.list_contacts(capability)": lambda c, t: contacts.list_contacts(
        c.ws, c.org, contacts.ContactFilter(capability=t, active="all")),
    "documents.list_documents(text)": lambda c, t: documents.list_documents(
        c.ws, c.org, documents.DocumentQuery(text=t)),
    "documents.list_documents(category)": lambda c, t: documents.list_documents(
        c.ws, c.org, documents.DocumentQuery(category=t)),
    "documents.list_documents(tag)": lambda c, t: documents.list_documents(
        c.ws, c.org, documents.DocumentQuery(tag=t)),
    "documents.list_documents(provider)": lambda c, t: documents.list_documents(
        c.ws, c.org, documents.DocumentQuery(provider=t)),
    "activity.page(text)": lambda c, t: activity.page(
        c.ws, c.org, activity.ActivityFilter(text=t)),
    "activity.page(entity_type)": lambda c, t: activity.page(
        c.ws, c.org, activity.ActivityFilter(entity_type=t)),
    "activity.page(action)": lambda c, t: activity.page(
        c.ws, c.org, activity.ActivityFilter(action=t)),
    "inventory.list_items(text)": lambda c, t: inventory.list_items(
        c.ws, c.org, inventory.ItemFilter(text=t, status="")),
    "inventory.list_items(category)": lambda c, t: inventory.list_items(
        c.ws, c.org, inventory.ItemFilter(category=t, status="")),
    "purchase_orders.find_items": lambda c, t: purchase_orders.find_items(c.ws, c.org, t),
    "production.items": lambda c, t: production.items(c.ws, c.org, t),
    "supplier_rfqs.list_suppliers(tags)": lambda c, t: supplier_rfqs.list_suppliers(
        c.ws, c.org, (t,)),
    "approvals.inbox(kind)": lambda c, t: approvals.inbox(c.ws, c.org, kind=t),
    "messages.search_thread": lambda c, t: messages.search_thread(
        c.ws, c.org, c.thread_id, t),
}


def _text(*values: object) -> str:
    return " ".join(str(v) for v in values if v is not None).casefold()


# What each row of a list shows of the fields its text filter searches: every row found for a
# typed word must hold that word literally there (a wildcard would let others through).
HOLDS: dict[str, Callable[[Any], str]] = {
    "projects.list_projects(text)": lambda r: _text(r.number, r.title, r.customer),
    "documents.list_documents(text)": lambda r: _text(r.title, r.file_name, r.project_number,
                                                      *r.tags),
    "activity.page(text)": lambda r: _text(r.description, r.action, r.entity_type),
    "inventory.list_items(text)": lambda r: _text(r.item_code, r.item_name,
                                                  getattr(r, "barcode", None)),
}


def _rows(result: Any) -> list[Any]:
    return list(result.rows) if hasattr(result, "rows") else list(result)


def _plain(error: BaseException, typed: str = "") -> None:
    text = str(error)
    assert text.strip(), f"an empty message: {error!r}"
    if typed:
        text = text.replace(typed, "")
    assert not _LEAK.search(text[:2000]), f"SQL or a traceback reaches the person: {text[:300]}"


@pytest.mark.parametrize("entry", sorted(FILTERS))
def test_T_IN_01_every_filter_takes_the_corpus_literally(
    ctx: Ctx, module_demo_db: Any, entry: str
) -> None:
    run = FILTERS[entry]
    baseline = _count(run(ctx, ""))
    for key, value in CORPUS.items():
        started = time.perf_counter()
        try:
            result = run(ctx, value)
        except UserFacingError as error:
            _plain(error, value)
            continue
        except Exception as error:  # anything else would reach the person as a crash
            pytest.fail(f"{entry} with {key}: {type(error).__name__}: {str(error)[:200]}")
        elapsed = time.perf_counter() - started
        assert elapsed < (2.0 if key == "1mb" else 1.0), (entry, key, elapsed)
        wanted = _searchable(value).strip()
        if wanted and not _owner_text_present(module_demo_db, ctx.org, wanted):
            assert _count(result) == 0, f"{entry} with {key} finds rows that do not hold it"
        if entry in HOLDS and wanted:
            for word in wanted.casefold().split()[:8]:
                for row in _rows(result):
                    assert word[:100] in HOLDS[entry](row), (entry, key, row)
        elif key in {"percent", "underscore"} and baseline > 1:
            # As LIKE wildcards they would match every row ("_": any one character).
            assert _count(result) < baseline, f"{entry}: {value} lists everything"
    with psycopg.connect(module_demo_db.owner_conninfo()) as owner:
        assert owner.execute("SELECT to_regclass('public.documents')").fetchone() == (
            "documents",)


# -- T-IN-02: sort and filter allowlists tampered ------------------------------------------

TAMPERED = ("updated; DROP TABLE documents", "p.id", "1", "(SELECT 1)", "title DESC", "",
            "\x00", "id\ud800")
SORTED_LISTS: dict[str, Callable[[Ctx, str], Any]] = {
    "projects sort": lambda c, k: projects.list_projects(c.ws, c.org, sort=projects.Sort(k)),
    "contacts sort": lambda c, k: contacts.list_contacts(c.ws, c.org, sort=contacts.Sort(k)),
    "contacts active": lambda c, k: contacts.list_contacts(
        c.ws, c.org, contacts.ContactFilter(active=k)),
    "contacts types": lambda c, k: contacts.list_contacts(
        c.ws, c.org, contacts.ContactFilter(types=(k,))),  # type: ignore[arg-type]
    "inventory status": lambda c, k: inventory.list_items(
        c.ws, c.org, inventory.ItemFilter(status=k or "x")),
    "purchase order statuses": lambda c, k: purchase_orders.list_orders(
        c.ws, c.org, statuses=[k]),
    "production statuses": lambda c, k: production.list_orders(c.ws, c.org, statuses=[k]),
}


@pytest.mark.parametrize("entry", sorted(SORTED_LISTS))
def test_T_IN_02_tampered_sort_and_filter_keys_are_refused(ctx: Ctx, entry: str) -> None:
    for key in TAMPERED:
        if key == "" and entry in {"projects sort", "contacts sort", "contacts active",
                                   "contacts types", "purchase order statuses",
                                   "production statuses"}:
            key = "nope"
        try:
            result = SORTED_LISTS[entry](ctx, key)
        except UserFacingError as error:  # refused (a plain message)
            _plain(error, key)
            continue
        except Exception as error:
            pytest.fail(f"{entry} with {key!r}: {type(error).__name__}: {str(error)[:200]}")
        assert _count(result) == 0, f"{entry} with {key!r} was not refused and found rows"


@pytest.mark.parametrize("entry", ["purchase order statuses", "production statuses"])
def test_T_IN_02_status_filters_are_allowlists(ctx: Ctx, entry: str) -> None:
    """A status that does not exist is refused in words (not "nothing found"), and the words
    quote only printable characters of it."""
    for key in TAMPERED:
        with pytest.raises(UserFacingError) as refused:
            SORTED_LISTS[entry](ctx, key or "nope")
        text = str(refused.value)
        assert text.startswith("Unknown status:"), text
        assert text.isprintable() and len(text) < 80, repr(text)


# -- T-IN-03: every form's save path -------------------------------------------------------

def _intake_tag(_c: Ctx, value: str) -> str | None:
    """One tag typed in the intake's tag box (commas and semicolons would split it)."""
    form = IntakeForm(IntakeType.RFQ, company="Hostile Ltd", contact_name="Eve",
                      title="A project", tags=value)
    try:
        tags = validate_intake(form).tags
    except IntakeInvalid as error:
        raise UserFacingError(error.errors["tags"]) from error
    return "; ".join(tags) or None  # the corpus separates its pieces with "; "


def _intake(field: str) -> Callable[[Ctx, str], str | None]:
    def run(c: Ctx, value: str) -> str | None:
        base = {"company": "Hostile Ltd", "contact_name": "Eve", "title": "A project"}
        form = IntakeForm(IntakeType.RFQ, **{**base, field: value})
        try:
            return getattr(validate_intake(form), field)  # type: ignore[no-any-return]
        except IntakeInvalid as error:
            raise UserFacingError(error.errors[field]) from error
    return run


def _project(field: str) -> Callable[[Ctx, str], str | None]:
    def run(c: Ctx, value: str) -> str | None:
        edit = project_detail.ProjectEdit(**{"title": "A project", field: value})
        try:
            return getattr(project_detail.check_edit(edit), field)  # type: ignore[no-any-return]
        except project_detail.ProjectInvalid as error:
            raise UserFacingError(error.errors[field]) from error
    return run


def _contact(field: str) -> Callable[[Ctx, str], str | None]:
    def run(c: Ctx, value: str) -> str | None:
        edit = contacts.ContactEdit(**{"company_name": "Hostile Ltd", field: value})
        return getattr(contacts.check_contact(edit), field)  # type: ignore[no-any-return]
    return run


def _document(field: str) -> Callable[[Ctx, str], str | None]:
    def run(c: Ctx, value: str) -> str | None:
        base = {"title": "Drawing", "category": next(iter(documents.CATEGORIES)),
                "access_level": next(iter(documents.ACCESS_LEVELS)), "description": ""}
        edit = documents.DocumentEdit(**{**base, field: value})  # type: ignore[arg-type]
        return getattr(documents.check_edit(edit), field)  # type: ignore[no-any-return]
    return run


def _item(field: str) -> Callable[[Ctx, str], str | None]:
    def run(c: Ctx, value: str) -> str | None:
        edit = inventory.ItemEdit(**{"item_code": "HX-1", "item_name": "Hex", field: value})
        return getattr(inventory.check_item(edit), field)  # type: ignore[no-any-return]
    return run


def _po(field: str) -> Callable[[Ctx, str], str | None]:
    def run(c: Ctx, value: str) -> str | None:
        line = purchase_orders.DraftLine(item_name="Bolt", quantity="1", unit_price="1")
        if field.startswith("line."):
            line = purchase_orders.DraftLine(**{"item_name": "Bolt", "quantity": "1",
                                                "unit_price": "1", field[5:]: value})
            _, lines = purchase_orders.check_draft(purchase_orders.OrderDraft(
                "PO-1", uuid.uuid4(), lines=(line,)))
            return lines[0][field[5:]]  # type: ignore[no-any-return]
        header, _ = purchase_orders.check_draft(purchase_orders.OrderDraft(
            **{"po_number": "PO-1", "supplier_id": uuid.uuid4(), "lines": (line,),
               field: value}))
        return header[field]  # type: ignore[no-any-return]
    return run


def _rfq(field: str) -> Callable[[Ctx, str], str | None]:
    def run(c: Ctx, value: str) -> str | None:
        draft = supplier_rfqs.RfqDraft(**{"supplier_ids": (uuid.uuid4(),),
                                          "requirements": "Parts", "due_date": None,
                                          field: value})
        return getattr(supplier_rfqs.check_draft(draft), field)  # type: ignore[no-any-return]
    return run


def _quote(field: str) -> Callable[[Ctx, str], str | None]:
    def run(c: Ctx, value: str) -> str | None:
        line = supplier_rfqs.QuoteLineInput("Part", Decimal(1), Decimal(1))
        if field == "line.description":
            line = supplier_rfqs.QuoteLineInput(value, Decimal(1), Decimal(1))
            return supplier_rfqs.check_quote(supplier_rfqs.QuoteInput((line,))).lines[0] \
                .description
        quote = supplier_rfqs.QuoteInput(**{"lines": (line,), field: value})
        return getattr(supplier_rfqs.check_quote(quote), field)  # type: ignore[no-any-return]
    return run


def _message(c: Ctx, value: str) -> str | None:
    return messages.clean_content(value)


def _station(c: Ctx, value: str) -> str | None:
    try:
        return station_codes.parse(value).value
    except station_codes.CodeError as error:
        raise UserFacingError(str(error)) from error


def _review(c: Ctx, value: str) -> str | None:
    # Validation runs before anything is sent; an accepted value then meets a review that
    # does not exist (a plain refusal), which is fine here.
    review = reviews.ReviewRow.__new__(reviews.ReviewRow)  # no attributes: never sent
    try:
        reviews.decide_review(c.ws, c.org, review, "rejected", comments=value)
    except AttributeError:
        return None  # validation passed and the (empty) review was about to be used
    return None


def _approval_comment(c: Ctx, value: str) -> str | None:
    try:
        approvals.decide(c.ws, c.org, uuid.uuid4(), 1, "rejected", value)
    except FieldError:
        raise
    except UserFacingError as error:
        if "too long" in str(error):
            raise
        return None  # accepted by validation; the made-up approval is not there
    return None


def _approval_request(field: str) -> Callable[[Ctx, str], str | None]:
    def run(c: Ctx, value: str) -> str | None:
        kwargs = {"title": "Please approve", "reason": None, field: value}
        try:
            approvals.request(c.ws, c.org, approval_type=next(iter(approvals.APPROVAL_TYPES)),
                              entity_type="project", entity_id=uuid.uuid4(),
                              project_id=None, **kwargs)
        except FieldError:
            raise
        except UserFacingError:
            return None  # validation passed; the database refused the made-up record
        return None
    return run


def _production(field: str) -> Callable[[Ctx, str], str | None]:
    def run(c: Ctx, value: str) -> str | None:
        op = production.NewOperation(value if field == "operation" else "Cut")
        new = production.NewOrder(quantity=1, operations=(op,),
                                  description=value if field == "description" else "")
        _, operations, _ = production.check(new)
        if field == "operation":
            return operations[0].name
        return production.clean_description(new.description)
    return run


def _stock_words(field: str) -> Callable[[Ctx, str], str | None]:
    def run(c: Ctx, value: str) -> str | None:
        reference, note = inventory._clean_words(
            value if field == "reference" else None, value if field == "note" else None)
        return reference if field == "reference" else note
    return run


# (form field, how its value is checked and what is stored, whether the returned value is the
# stored one). Checks that need the database return None for an accepted value.
FORMS: dict[str, tuple[Callable[[Ctx, str], str | None], bool]] = {
    **{f"intake.{f}": (_intake(f), True) for f in (
        "company", "contact_name", "title", "description", "notes")},
    "intake.tags": (_intake_tag, True),
    **{f"project.{f}": (_project(f), True) for f in ("title", "description", "notes")},
    **{f"contact.{f}": (_contact(f), True) for f in (
        "company_name", "contact_name", "address", "city", "state", "country", "postal_code",
        "tax_id", "payment_terms", "notes")},
    **{f"document.{f}": (_document(f), True) for f in ("title", "description")},
    **{f"item.{f}": (_item(f), True) for f in ("item_name", "description", "category")},
    **{f"stock.{f}": (_stock_words(f), True) for f in ("reference", "note")},
    **{f"po.{f}": (_po(f), True) for f in ("notes", "line.item_name", "line.description")},
    **{f"rfq.{f}": (_rfq(f), True) for f in ("requirements", "special_instructions")},
    **{f"quote.{f}": (_quote(f), True) for f in ("notes", "quote_number",
                                                 "line.description")},
    "message.content": (_message, True),
    "station.code": (_station, False),
    "review.comments": (_review, False),
    "approval.decision_comment": (_approval_comment, False),
    **{f"approval.{f}": (_approval_request(f), False) for f in ("title", "reason")},
    **{f"production.{f}": (_production(f), True) for f in ("description", "operation")},
}


@pytest.mark.parametrize("entry", sorted(FORMS))
def test_T_IN_03_every_form_field_refuses_nul_surrogates_and_1mb(ctx: Ctx, entry: str) -> None:
    run, returns_value = FORMS[entry]
    for key, value in CORPUS.items():
        try:
            stored = run(ctx, value)
        except UserFacingError as error:
            _plain(error, value)
            if key in REFUSED_IN_FORMS:
                continue
            if key == "10kb" and "too long" in str(error):
                continue  # a bounded field: 10 KB is more than it holds
            if len(value.strip()) < 3 and "at least 3" in str(error):
                continue  # titles need three characters
            pytest.fail(f"{entry} refuses {key}: {error}")
        except Exception as error:
            pytest.fail(f"{entry} with {key}: {type(error).__name__}: {str(error)[:200]}")
        else:
            if entry == "station.code" and key in {"lone_surrogate", "nul"}:
                # A scanner types: unprintable characters of a scan are dropped, not refused.
                assert stored is not None and stored.isprintable()
                continue
            assert key not in REFUSED_IN_FORMS, f"{entry} accepted {key}"
            if returns_value:
                expected = unicodedata.normalize("NFC", value.strip())
                assert stored == expected, (entry, key, stored)
                if key in {"emoji", "zwj"}:
                    assert stored is not None
                    assert stored.encode("utf-8") == value.strip().encode("utf-8")


def test_T_IN_03_stored_values_round_trip_byte_exact(ctx: Ctx, module_demo_db: Any) -> None:
    """Through the real save paths: emoji, ZWJ, RTLO and HTML stored exactly, NFD as NFC."""
    typed = {k: CORPUS[k] for k in ("emoji", "zwj", "rtlo", "html", "nfd_e", "sql_drop")}
    for key, value in typed.items():
        want = unicodedata.normalize("NFC", value)
        saved = contacts.save_contact(ctx.ws, ctx.org, None, contacts.ContactEdit(
            company_name=f"{value} {key}", type=ContactType.SUPPLIER, notes=value))
        item = inventory.save_item(ctx.ws, ctx.org, None, inventory.ItemEdit(
            item_code=f"HX-{key}"[:30], item_name=value))
        msg = messages.post(ctx.ws, ctx.org, project_id=ctx.project_id, content=value,
                            subject=value)
        with psycopg.connect(module_demo_db.owner_conninfo()) as owner:
            assert owner.execute("SELECT notes, convert_to(notes, 'UTF8') FROM contacts "
                                 "WHERE id = %s", (saved.id,)).fetchone() == (
                want, want.encode())
            assert owner.execute("SELECT item_name FROM inventory_items WHERE id = %s",
                                 (item.id,)).fetchone() == (want,)
            assert owner.execute("SELECT content, subject FROM messages WHERE id = %s",
                                 (msg,)).fetchone() == (want, want)


def test_T_IN_03_nfd_and_nfc_are_the_same_name(ctx: Ctx) -> None:
    """Uniqueness (item codes): the NFD spelling of an existing NFC code is the same code."""
    inventory.save_item(ctx.ws, ctx.org, None, inventory.ItemEdit(
        item_code="CAF\u00c9-1", item_name="Caf\u00e9"))
    with pytest.raises(UserFacingError) as refused:
        inventory.save_item(ctx.ws, ctx.org, None, inventory.ItemEdit(
            item_code="CAFE\u0301-1", item_name="Cafe\u0301"))
    _plain(refused.value)


def test_T_IN_01_unreachable_inputs_are_listed() -> None:
    """Keeps the list of inputs this sweep does not reach in step with docs/reliability.md."""
    doc = Path(__file__).resolve().parents[2] / "docs" / "reliability.md"
    assert "not reached by the hostile-input sweep" in doc.read_text(encoding="utf-8")

