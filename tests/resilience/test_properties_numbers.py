"""Numbers typed as text, in every form (T-IN-03; the resilience issue's "numbers typed as
text"): one rule (`domain.numbers`), checked by examples and by hypothesis.

The sweep found that "12,500" meant 12500 in the intake and 12.5 on a purchase order, a quote
and a stock movement; and that a stock quantity of 40 nines crashed the form's parser
(`Decimal.quantize` beyond its precision) instead of saying "too large". Now money fields
(two decimals) read it as 12500 and the others ask which was meant; none reads 12.5.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.intake import parse_money
from factorypulse_desktop.domain.numbers import NumberProblem, parse_decimal
from factorypulse_desktop.domain.text import FieldError
from factorypulse_desktop.services import inventory, purchase_orders
from factorypulse_desktop.services.project_detail import ProjectInvalid, parse_value
from factorypulse_desktop.ui.dialogs.rfq_dialogs import parse_number as quote_number

FAST = settings(max_examples=300, deadline=None)

READ = {
    "12500": "12500", "12 500": "12500", "12\u00a0500,50": "12500.50", "12\u202f500": "12500",
    "12,500.50": "12500.50", "12.500,50": "12500.50", "1,250,000": "1250000",
    "1.250.000": "1250000", "1,250,000.5": "1250000.5", "2,5": "2.5", "2.5": "2.5",
    "0,125": "0.125", "1.250": "1.250", "1234,567": "1234.567", ".5": "0.5", "-3": "-3",
    "+3": "3", "\uff11\uff12": "12", "0": "0", "007": "7",
}
MONEY = {"12,500": "12500", "1.250": "1250", "12,500.50": "12500.50", "1,25": "1.25",
         "0,125": "0.125", "1,250,000": "1250000", "999": "999"}
REFUSED = {
    "12,500": "could mean 12500 or 12.5", "1,250": "could mean 1250 or 1.25",
    "1,200": "could mean 1200 or 1.2",
    "twelve": "is not a number", "1e3": "is not a number", "NaN": "is not a number",
    "Infinity": "is not a number", "1_000": "is not a number", "0x10": "is not a number",
    "12-5": "is not a number", "--5": "is not a number", "1,23,4": "we can read",
    "1.2.3,4": "we can read", "1,2,3.4.5": "more than one decimal mark", ",": "is not a number",
    "\x00": "is not a number", "5\ud800": "is not a number", "\u202e5": "is not a number",
}


@pytest.mark.parametrize("typed", sorted(READ))
def test_numbers_as_people_type_them(typed: str) -> None:
    assert parse_decimal(typed) == Decimal(READ[typed])


@pytest.mark.parametrize("typed", sorted(MONEY))
def test_in_a_money_field_three_digits_after_a_mark_are_thousands(typed: str) -> None:
    assert parse_decimal(typed, decimals=2) == Decimal(MONEY[typed])


@pytest.mark.parametrize("typed", sorted(REFUSED))
def test_what_is_not_a_number_is_refused_in_words(typed: str) -> None:
    with pytest.raises(NumberProblem) as problem:
        parse_decimal(typed)
    words = str(problem.value)
    assert REFUSED[typed] in words and words.isprintable() and len(words) < 120, words


def test_empty_is_nothing() -> None:
    assert parse_decimal("") is None and parse_decimal("  \u00a0") is None


# Every form's parser, with the rule's error type for that form.
FORMS: dict[str, Callable[[str], object]] = {
    "intake estimated value": parse_money,
    "project estimated value": parse_value,
    "purchase order quantity": lambda t: purchase_orders.parse_number(
        t, field_name="quantity", label="Quantity", maximum=Decimal("1e9"), places=3,
        allow_zero=False),
    "purchase order unit price": lambda t: purchase_orders.parse_number(
        t, field_name="unit_price", label="Unit price", maximum=Decimal("1e11"), places=4,
        allow_zero=True),
    "stock quantity": lambda t: inventory.parse_number(
        t, field="quantity", label="The quantity", decimals=3),
    "stock unit cost": lambda t: inventory.parse_number(
        t, field="unit_cost", label="The unit cost", decimals=4),
    "quote line": quote_number,
}
ERRORS = (NumberProblem, FieldError, ProjectInvalid, UserFacingError)


MONEY_FORMS = {"intake estimated value", "project estimated value"}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_no_form_reads_12_500_as_twelve_and_a_half(form: str) -> None:
    """The finding: "12,500" was 12500 in one form and 12.5 in another."""
    if form in MONEY_FORMS:
        assert _number(FORMS[form]("12,500")) == Decimal("12500")
    else:
        with pytest.raises(ERRORS) as refused:
            FORMS[form]("12,500")
        words = str(refused.value) + repr(getattr(refused.value, "errors", ""))
        assert "12500 or 12.5" in words
    assert _number(FORMS[form]("12,500.50")) == Decimal("12500.50")
    assert _number(FORMS[form]("2,5")) == Decimal("2.5")


def _number(result: object) -> Decimal | None:
    return result if isinstance(result, Decimal) or result is None else None


numberish = st.lists(st.sampled_from(list("0123456789.,+- \u00a0e_")) | st.characters(),
                     max_size=40).map("".join)


@FAST
@given(numberish)
@example("9" * 40)
@example("9" * 5000)
@example("0." + "0" * 5000 + "1")
@example("1" + ",000" * 50)
def test_every_form_answers_a_number_or_words_never_a_crash(typed: str) -> None:
    for name, parse in FORMS.items():
        try:
            result = parse(typed)
        except ERRORS as error:
            assert str(error) or getattr(error, "errors", None), name
            continue
        assert result is None or (isinstance(result, Decimal) and result.is_finite()), name


@FAST
@given(st.decimals(allow_nan=False, allow_infinity=False, places=4,
                   min_value=Decimal("-1e12"), max_value=Decimal("1e12")))
def test_a_number_written_plainly_reads_back_as_itself(value: Decimal) -> None:
    assert parse_decimal(f"{value:f}") == value
    grouped = f"{value:,.4f}"  # 1,234,567.1234: both marks, the dot is the decimal one
    assert parse_decimal(grouped) == value.quantize(Decimal("0.0001"))
    european = grouped.replace(",", " ").replace(".", ",")
    assert parse_decimal(european) == value.quantize(Decimal("0.0001"))
