"""The codes a shop-floor station scans: operations, items and operator badges.

A barcode scanner acts as a keyboard: it types the code and Enter. Printed codes carry a
prefix so the station knows what was scanned without asking the database:

- ``OP:<production number>:<sequence>`` — an operation, e.g. ``OP:MO-261126-3:2``
- ``IT:<item code>`` — an inventory item, e.g. ``IT:BRG-6204``
- ``BD:<badge>`` — an operator's badge (their employee id), e.g. ``BD:AC-1007``

A bare code (typed by hand, or an old label) has no prefix: ``MO-261126-3/2`` or
``MO-261126-3:2`` is read as an operation, anything else is looked up as an item code,
then as a badge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["operation", "item", "badge", "bare"]
MAX_CODE = 120

_OPERATION = re.compile(r"^(?P<number>\S+?)[:/](?P<sequence>\d{1,6})$")


class CodeError(ValueError):
    """A scan that cannot be a code; the message is for the person at the station."""


@dataclass(frozen=True)
class ScannedCode:
    kind: Kind
    value: str  # the production number, item code, badge, or the whole bare code
    sequence: int | None = None  # an operation's sequence


def operation_code(production_number: str, sequence: int) -> str:
    return f"OP:{production_number}:{sequence}"


def item_code(code: str) -> str:
    return f"IT:{code}"


def badge_code(badge: str) -> str:
    return f"BD:{badge}"


def parse(raw: str) -> ScannedCode:
    """What a scan says; raises `CodeError` for an empty or malformed one."""
    code = "".join(ch for ch in raw if ch.isprintable()).strip()
    if not code:
        raise CodeError("Nothing was scanned. Scan a label or type its code and press Enter.")
    if len(code) > MAX_CODE:
        raise CodeError("That is not a code this station knows (too long).")
    prefix, sep, rest = code.partition(":")
    tag = prefix.upper()
    if sep and tag in ("OP", "IT", "BD"):
        rest = rest.strip()
        if not rest:
            raise CodeError(f"The code {code} is incomplete.")
        if tag == "OP":
            match = _OPERATION.match(rest)
            if not match:
                raise CodeError(f"The operation code {code} should look like "
                                "OP:<order number>:<operation number>.")
            return ScannedCode("operation", match["number"], int(match["sequence"]))
        return ScannedCode("item" if tag == "IT" else "badge", rest)
    match = _OPERATION.match(code)
    if match:
        return ScannedCode("operation", match["number"], int(match["sequence"]))
    return ScannedCode("bare", code)
