"""The intake form's checks, without a database."""

from __future__ import annotations

from decimal import Decimal

import pytest

from factorypulse_desktop.domain.csv_safety import fold_name
from factorypulse_desktop.domain.enums import IntakeType, Priority
from factorypulse_desktop.domain.intake import (
    ROUTES,
    IntakeForm,
    IntakeInvalid,
    parse_money,
    parse_tags,
    validate,
)
from factorypulse_desktop.domain.text import FieldError, clean_text


@pytest.mark.parametrize(("typed", "value"), [
    ("12500", Decimal("12500")), ("12,500.50", Decimal("12500.50")),
    ("12.500,50", Decimal("12500.50")), ("12 500,50", Decimal("12500.50")),
    ("1,5", Decimal("1.5")), ("$ 99.90", Decimal("99.90")), ("", None),
])
def test_money_as_people_type_it(typed: str, value: Decimal | None) -> None:
    assert parse_money(typed) == value


@pytest.mark.parametrize("typed", ["lots", "1e400x", "NaN", "12-5"])
def test_money_that_is_not_a_number(typed: str) -> None:
    with pytest.raises(ValueError):
        parse_money(typed)


def test_tags_split_trimmed_and_deduplicated() -> None:
    assert parse_tags(" laser;brackets , Laser,,  big   job ") == ("laser", "brackets", "big job")


def test_every_type_has_a_route_and_direct_requests_start_at_inquiry() -> None:
    assert set(ROUTES) == set(IntakeType)
    assert ROUTES[IntakeType.DIRECT_REQUEST].stage_slug == "inquiry_received"


def test_default_priority_only_when_none_chosen() -> None:
    base = IntakeForm(IntakeType.PURCHASE_ORDER, company="Kessler", contact_name="Tom",
                      title="Repeat order")
    assert validate(base).priority is Priority.HIGH
    chosen = IntakeForm(IntakeType.PURCHASE_ORDER, company="Kessler", contact_name="Tom",
                        title="Repeat order", priority=Priority.LOW)
    assert validate(chosen).priority is Priority.LOW


def test_all_wrong_fields_are_named_at_once() -> None:
    with pytest.raises(IntakeInvalid) as invalid:
        validate(IntakeForm(IntakeType.RFQ, title="x" * 201, phone="call me",
                            estimated_value="-5", tags=",".join(f"t{i}" for i in range(21))))
    assert set(invalid.value.errors) == {"company", "contact_name", "title", "phone",
                                         "estimated_value", "tags"}


def test_T_IN_03_text_cleaning() -> None:
    assert clean_text("  Cafe\u0301 ", field="f", label="Name", max_length=10) == "Café"
    assert clean_text("🛠️ fixture", field="f", label="Name", max_length=20) == "🛠️ fixture"
    for bad in ("a\x00b", "a\ud800b"):
        with pytest.raises(FieldError):
            clean_text(bad, field="f", label="Name", max_length=10)
    with pytest.raises(FieldError, match="too long"):
        clean_text("x" * 1_000_000, field="f", label="Name", max_length=200)
    assert fold_name("MÜLLER  Präzision") == fold_name("muller prazision")
