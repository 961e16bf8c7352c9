"""Hostile input in the forms `test_hostile_inputs.py` did not reach (RELIABILITY.md T-IN-03).

Administration (organization settings, a new person's display name and e-mail), the Google
Drive client, workflow configuration, tags, PO and quote numbers and currencies, message
subjects and edits, notification preferences. The same corpus, driven as acme's administrator
(their own login: RLS applies), through the real save path wherever the value reaches the
database, then read back as the owner.

Outcome rules (as in `test_hostile_inputs.py`, plus):

- free text: stored trimmed and NFC ("é" typed in NFD is stored as one character), byte-exact
  otherwise (emoji, ZWJ, RTLO, HTML, SQL-looking text) -- or refused with a plain sentence;
  NUL, a lone surrogate and a 1 MB paste are always refused before anything is sent.
- a secret (the Drive client secret) is stored exactly as pasted or refused, and never echoed
  in a message.
- a value from a fixed set (time zone, currency, locale, Drive client id, notification event)
  refuses every corpus value, and a few near-misses, in words.
- every refusal is a short sentence a person can read: no driver wording, no traceback type,
  no NUL or broken character, at most a few hundred characters (a 1 MB paste is not quoted).
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from support import DEMO_PASSWORD, profile_for
from test_hostile_inputs import CORPUS, REFUSED_IN_FORMS, _plain

from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.services import (
    admin,
    approvals,
    contacts,
    documents,
    drive_settings,
    messages,
    notifications,
    project_detail,
    purchase_orders,
    supplier_rfqs,
    workflow_config,
)
from factorypulse_desktop.services.auth import Workspace, sign_in

# Driver wording that `_plain`'s pattern does not name (JSON, lengths, constraints).
_DRIVER = re.compile(r"invalid input syntax|unsupported Unicode|character varying|violates|"
                     r"\\u0000|UnicodeEncodeError|surrogates not allowed|ValueError")
MAX_MESSAGE = 400
CLIENT_ID = "123456789012-abc123.apps.googleusercontent.com"
# Near-misses for the fixed sets: non-ASCII and full-width letters, a code that is not ISO
# 4217, hidden characters.
NEAR_MISSES = ("\u00c4\u00d6\u00dc", "\uff35\uff33\uff24", "US\x00", "EU\u200bR",
               "XYZ", "../../etc/passwd", "Europe/Berlin\x00", "en_US\u202e", "USD\ud800")
HAS_SPACE = frozenset(k for k, v in CORPUS.items() if any(c.isspace() for c in v))


@dataclass
class Actx:
    ws: Workspace
    org: uuid.UUID
    project_id: uuid.UUID
    db: Any

    def owner_value(self, query: str, *params: object) -> object:
        with psycopg.connect(self.db.owner_conninfo()) as owner:
            row = owner.execute(query, params).fetchone()
        assert row is not None
        return row[0]


@pytest.fixture(scope="module")
def actx(module_demo_db: Any) -> Iterator[Actx]:
    with psycopg.connect(module_demo_db.owner_conninfo()) as owner:
        row = owner.execute(
            "SELECT p.organization_id, p.id FROM projects p JOIN organizations o "
            "ON o.id = p.organization_id WHERE o.slug = 'acme' LIMIT 1").fetchone()
    assert row is not None
    with sign_in(profile_for(module_demo_db), "acme.admin", DEMO_PASSWORD) as ws:
        yield Actx(ws, row[0], row[1], module_demo_db)


def _words(error: BaseException, typed: str) -> None:
    """A refusal a person can read (whatever was typed, the message is short and clean)."""
    _plain(error, typed)
    text = str(error)
    assert len(text) <= MAX_MESSAGE, f"a {len(text):,}-character message: {text[:120]!r}"
    assert "\x00" not in text, f"a NUL in the message: {text!r}"
    text.encode("utf-8")  # a broken character in a message breaks the log and the screen
    rest = text.replace(typed, "") if typed else text
    assert not _DRIVER.search(rest), f"driver wording reaches the person: {text!r}"


# -- free-text fields -----------------------------------------------------------------------

@dataclass(frozen=True)
class Field:
    run: Callable[[Actx, str], str | None]  # returns what was stored
    may_refuse: frozenset[str] = frozenset()  # corpus keys this field may refuse in words
    exact: bool = False  # stored as pasted (trimmed), not NFC: a secret


def _settings(field: str) -> Callable[[Actx, str], str | None]:
    def run(c: Actx, value: str) -> str | None:
        loaded = admin.load_settings(c.ws, c.org)
        changed = replace(loaded, name=value) if field == "name" else replace(
            loaded, holidays=(admin.Holiday(dt.date(2031, 12, 24), value),))
        admin.save_settings(c.ws, c.org, changed, loaded.version)
        if field == "name":
            return str(c.owner_value("SELECT name FROM organizations WHERE id = %s", c.org))
        stored = admin.load_settings(c.ws, c.org).holidays
        assert len(stored) == 1
        return stored[0].label
    return run


def _person(field: str) -> Callable[[Actx, str], str | None]:
    def run(c: Actx, value: str) -> str | None:
        username = f"hx{uuid.uuid4().hex[:12]}"
        typed = {"display_name": value, "email": None}
        if field == "email":
            typed = {"display_name": "Hostile", "email": f"{value}@example.com"}
        person = admin.add_person(c.ws, c.org, username, Role.ENGINEERING, "Hostile-pass-1",
                                  **typed)
        stored = c.owner_value(f"SELECT {field} FROM persons WHERE id = %s", person)
        assert isinstance(stored, str)
        return stored.removesuffix("@example.com") if field == "email" else stored
    return run


def _drive_secret(c: Actx, value: str) -> str | None:
    current = drive_settings.load_drive_settings(c.ws, c.org)
    secret = value.strip()
    try:
        saved = drive_settings.save_drive_settings(
            c.ws, c.org, client_id=CLIENT_ID, client_secret=value, allow_readonly=False,
            is_active=True, expected_version=None if current is None else current.version)
    except UserFacingError as error:
        assert len(secret) < 3 or secret not in str(error), "the secret is echoed"
        raise
    assert len(secret) < 3 or secret not in repr(saved), "the secret is echoed"
    stored = c.owner_value("SELECT client_secret FROM google_drive_client_secrets "
                           "WHERE organization_id = %s", c.org)
    assert isinstance(stored, str)
    return stored


_STAGE: dict[str, uuid.UUID] = {}


def _stage(field: str) -> Callable[[Actx, str], str | None]:
    def run(c: Actx, value: str) -> str | None:
        name = value if field == "name" else f"Hostile {uuid.uuid4().hex[:8]}"
        description = value if field == "description" else None
        stage_id = workflow_config.save_stage(c.ws, c.org, workflow_config.StageConfig(
            id=None, name=name, description=description))
        stored = c.owner_value(f"SELECT {field} FROM workflow_stages WHERE id = %s", stage_id)
        return None if stored is None else str(stored)
    return run


def _sub_stage(field: str) -> Callable[[Actx, str], str | None]:
    def run(c: Actx, value: str) -> str | None:
        if "stage" not in _STAGE:
            _STAGE["stage"] = workflow_config.save_stage(c.ws, c.org, workflow_config.StageConfig(
                id=None, name="Hostile sub-stages"))
        name = value if field == "name" else f"Hostile {uuid.uuid4().hex[:8]}"
        description = value if field == "description" else None
        sub_id = workflow_config.save_sub_stage(
            c.ws, c.org, _STAGE["stage"],
            workflow_config.SubStageConfig(id=None, name=name, description=description))
        stored = c.owner_value(f"SELECT {field} FROM workflow_sub_stages WHERE id = %s", sub_id)
        return None if stored is None else str(stored)
    return run


def _project_tag(c: Actx, value: str) -> str | None:
    try:
        edit = project_detail.check_edit(project_detail.ProjectEdit(title="A project",
                                                                    tags=(value,)))
    except project_detail.ProjectInvalid as error:
        raise UserFacingError(error.errors["tags"]) from error
    return edit.tags[0] if edit.tags else None


def _document_tag(c: Actx, value: str) -> str | None:
    edit = documents.check_edit(documents.DocumentEdit(
        "Drawing", next(iter(documents.CATEGORIES)), next(iter(documents.ACCESS_LEVELS)),
        tags=(value,)))
    return edit.tags[0] if edit.tags else None


def _capability(c: Actx, value: str) -> str | None:
    edit = contacts.check_contact(contacts.ContactEdit(company_name="Hostile Ltd",
                                                       capability_tags=(value,)))
    return edit.capability_tags[0] if edit.capability_tags else None


def _po_number(c: Actx, value: str) -> str | None:
    line = purchase_orders.DraftLine(item_name="Bolt", quantity="1", unit_price="1")
    header, _ = purchase_orders.check_draft(purchase_orders.OrderDraft(
        po_number=value, supplier_id=uuid.uuid4(), lines=(line,)))
    return header["po_number"]  # type: ignore[no-any-return]


def _subject(c: Actx, value: str) -> str | None:
    sent = messages.post(c.ws, c.org, project_id=c.project_id, content="Hello", subject=value)
    stored = c.owner_value("SELECT subject FROM messages WHERE id = %s", sent)
    return None if stored is None else str(stored)


def _message_edit(c: Actx, value: str) -> str | None:
    sent = messages.post(c.ws, c.org, project_id=c.project_id, content="Typo")
    messages.edit(c.ws, c.org, sent, value)
    return str(c.owner_value("SELECT content FROM messages WHERE id = %s", sent))


FIELDS: dict[str, Field] = {
    "settings.name": Field(_settings("name")),
    "settings.holiday_label": Field(_settings("holiday")),
    "person.display_name": Field(_person("display_name")),
    # An address has no spaces: what holds one is refused as "not an e-mail address".
    "person.email": Field(_person("email"), may_refuse=HAS_SPACE),
    "drive.client_secret": Field(_drive_secret, exact=True),
    **{f"workflow.stage.{f}": Field(_stage(f)) for f in ("name", "description")},
    **{f"workflow.sub_stage.{f}": Field(_sub_stage(f)) for f in ("name", "description")},
    "project.tag": Field(_project_tag),
    "document.tag": Field(_document_tag),
    # ";" separates capabilities: the SQL-looking text is refused as two tags in one.
    "contact.capability": Field(_capability, may_refuse=frozenset({"sql_drop"})),
    "po.po_number": Field(_po_number),
    "message.subject": Field(_subject),
    "message.edit": Field(_message_edit),
}


@pytest.mark.parametrize("entry", sorted(FIELDS))
def test_T_IN_03_admin_and_configuration_fields_store_or_refuse_in_words(
    actx: Actx, entry: str
) -> None:
    field = FIELDS[entry]
    for key, value in CORPUS.items():
        try:
            stored = field.run(actx, value)
        except UserFacingError as error:
            _words(error, value)
            if key in REFUSED_IN_FORMS or key in field.may_refuse:
                continue
            if key == "10kb" and ("too long" in str(error) or "at most" in str(error)):
                continue  # a bounded field
            pytest.fail(f"{entry} refuses {key}: {error}")
        except Exception as error:  # anything else reaches the person as a crash
            pytest.fail(f"{entry} with {key}: {type(error).__name__}: {str(error)[:200]}")
        else:
            assert key not in REFUSED_IN_FORMS, f"{entry} accepted {key}"
            typed = value.strip()
            expected = typed if field.exact else unicodedata.normalize("NFC", typed)
            assert stored == expected, (entry, key, (stored or "")[:80])
            assert stored is not None and stored.encode("utf-8") == expected.encode("utf-8")


# -- fixed sets -----------------------------------------------------------------------------

def _po_currency(c: Actx, value: str) -> str:
    line = purchase_orders.DraftLine(item_name="Bolt", quantity="1", unit_price="1")
    header, _ = purchase_orders.check_draft(purchase_orders.OrderDraft(
        po_number="PO-1", supplier_id=uuid.uuid4(), currency=value, lines=(line,)))
    return str(header["currency"])


def _quote_currency(c: Actx, value: str) -> str:
    line = supplier_rfqs.QuoteLineInput("Part", Decimal(1), Decimal(1))
    return supplier_rfqs.check_quote(supplier_rfqs.QuoteInput((line,), currency=value)).currency


def _event(c: Actx, value: str) -> str:
    notifications.save_preferences(c.ws, c.org, [notifications.Preference(value, value)])
    return value


# (how the value is checked, a valid value and what it becomes)
FIXED: dict[str, tuple[Callable[[Actx, str], str], str, str]] = {
    "settings.timezone": (lambda c, v: admin.check_timezone(v), "Europe/Berlin",
                          "Europe/Berlin"),
    "settings.currency": (lambda c, v: admin.check_currency(v), "eur", "EUR"),
    "settings.locale": (lambda c, v: admin.check_locale(v), "de-DE", "de_DE"),
    "drive.client_id": (lambda c, v: drive_settings.check_client_id(v), f" {CLIENT_ID} ",
                        CLIENT_ID),
    "po.currency": (_po_currency, "eur", "EUR"),
    "quote.currency": (_quote_currency, "vnd", "VND"),
    "notifications.event": (_event, "mention", "mention"),
    "approval.currency": (lambda c, v: str(approvals._amount(Decimal(1), v)[1]), "usd", "USD"),
    "approval.currency (no amount)": (lambda c, v: str(approvals._amount(None, v)[1]), "usd",
                                      "USD"),
}


@pytest.mark.parametrize("entry", sorted(FIXED))
def test_T_IN_03_fixed_choices_refuse_hostile_values_in_words(actx: Actx, entry: str) -> None:
    run, valid, becomes = FIXED[entry]
    assert run(actx, valid) == becomes
    for value in (*CORPUS.values(), *NEAR_MISSES):
        try:
            accepted = run(actx, value)
        except UserFacingError as error:
            _words(error, value)
            continue
        except Exception as error:
            pytest.fail(f"{entry} with {value[:40]!r}: {type(error).__name__}: "
                        f"{str(error)[:200]}")
        pytest.fail(f"{entry} accepted {value[:40]!r} as {accepted[:40]!r}")
