"""Numbers as people type them: one rule for every form of the app.

The resilience issue found that the forms read "12,500" differently: the intake took it as
twelve thousand five hundred, the purchase order and the quote forms as twelve and a half,
and the stock forms as 12.5 too. On a purchase order that is a price off by a factor of a
thousand. Every form now reads numbers here:

* spaces of any kind group digits ("12 500", "12 500"); full-width digits are digits;
* with both marks, the last one is the decimal mark ("12,500.50", "12.500,50");
* several of the same mark group thousands ("1,250,000", "1.250.000");
* one mark followed by exactly three digits ("12,500", "1.250") is a thousands mark in a
  field of at most two decimals (money: nobody types three decimals of a dollar); in other
  fields a comma there is refused with both readings spelled out ("12,500": 12500 or
  12.5?) rather than guessed, and a dot is the decimal mark (as the app shows numbers);
* otherwise one mark is the decimal mark ("2,5", "2.5", "0,125");
* groups must be of three digits ("1,23,4" is refused); no exponents, NaN or infinity.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation

from factorypulse_desktop.domain.text import shown

__all__ = ["NumberProblem", "parse_decimal"]

# Spaces people (and spreadsheets) put between groups of digits.
_SPACES = dict.fromkeys(map(ord, " \t\u00a0\u2007\u2009\u202f"), None)
_BODY = re.compile(r"[0-9.,]*[0-9][0-9.,]*")
_EXAMPLE = "write it like 1250 or 12.5"


class NumberProblem(ValueError):
    """What is wrong with a typed number, in words (a `ValueError`)."""


def parse_decimal(text: str, *, decimals: int | None = None) -> Decimal | None:
    """The number `text` stands for; None when it is empty; `NumberProblem` otherwise.

    `decimals`: how many decimals the field allows, when known (see the module's rules).
    """
    compact = unicodedata.normalize("NFKC", text or "").translate(_SPACES)
    if not compact:
        return None
    sign = ""
    if compact[0] in "+-":
        sign, compact = compact[0].replace("+", ""), compact[1:]
    if not _BODY.fullmatch(compact):
        raise NumberProblem(f"“{shown(text)}” is not a number; {_EXAMPLE}.")
    commas, dots = compact.count(","), compact.count(".")
    if commas and dots:
        decimal_mark = "," if compact.rfind(",") > compact.rfind(".") else "."
        group_mark = "." if decimal_mark == "," else ","
        whole, _, fraction = compact.rpartition(decimal_mark)
        if decimal_mark in whole:
            raise NumberProblem(f"“{shown(text)}” has more than one decimal mark; {_EXAMPLE}.")
        digits = _grouped(whole, group_mark, text) + "." + fraction
    elif commas == 1 or dots == 1:
        mark = "," if commas else "."
        whole, _, fraction = compact.partition(mark)
        if len(fraction) == 3 and 1 <= len(whole) <= 3 and whole != "0":
            if decimals is not None and decimals < 3:
                digits = whole + fraction  # three decimals are not allowed: thousands
            elif mark == ",":
                plain = f"{whole}.{fraction}".rstrip("0").rstrip(".")
                raise NumberProblem(
                    f"“{shown(text)}” could mean {whole}{fraction} or {plain}; "
                    f"write {whole}{fraction} or {plain}.")
            else:
                digits = whole + "." + fraction
        else:
            digits = whole + "." + fraction
    elif commas or dots:
        digits = _grouped(compact, "," if commas else ".", text)
    else:
        digits = compact
    try:
        value = Decimal(sign + (digits if not digits.startswith(".") else "0" + digits))
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits and marks
        raise NumberProblem(f"“{shown(text)}” is not a number; {_EXAMPLE}.") from None
    return value


def _grouped(whole: str, mark: str, text: str) -> str:
    """`whole` without its group marks, which must separate groups of three digits."""
    head, *groups = whole.split(mark)
    if not (1 <= len(head) <= 3) or any(len(g) != 3 for g in groups):
        raise NumberProblem(f"“{shown(text)}” is not a number we can read; {_EXAMPLE}.")
    return head + "".join(groups)
