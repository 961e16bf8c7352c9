"""Scanned station codes (domain.station_codes): prefixed, bare, and what is refused."""

from __future__ import annotations

import pytest

from factorypulse_desktop.domain.station_codes import (
    CodeError,
    ScannedCode,
    badge_code,
    item_code,
    operation_code,
    parse,
)


@pytest.mark.parametrize(("raw", "expected"), [
    ("OP:MO-261126-3:2", ScannedCode("operation", "MO-261126-3", 2)),
    ("op:MO-261126-3:2\r\n", ScannedCode("operation", "MO-261126-3", 2)),  # scanner suffix
    ("MO-261126-3/2", ScannedCode("operation", "MO-261126-3", 2)),
    ("MO-261126-3:12", ScannedCode("operation", "MO-261126-3", 12)),
    ("IT:BRG-6204", ScannedCode("item", "BRG-6204")),
    ("BD:AC-1007", ScannedCode("badge", "AC-1007")),
    ("  AC-1007 ", ScannedCode("bare", "AC-1007")),
    ("\x02BRG-6204\x03", ScannedCode("bare", "BRG-6204")),  # STX/ETX framing dropped
])
def test_codes_are_read_as_what_they_name(raw: str, expected: ScannedCode) -> None:
    assert parse(raw) == expected


def test_printed_codes_read_back() -> None:
    assert parse(operation_code("FA-GX-1013", 3)) == ScannedCode("operation", "FA-GX-1013", 3)
    assert parse(item_code("HX-1")).kind == "item"
    assert parse(badge_code("GX-1014")).value == "GX-1014"


@pytest.mark.parametrize(("raw", "words"), [
    ("", "Nothing was scanned"),
    ("   \t", "Nothing was scanned"),
    ("OP:", "incomplete"),
    ("OP:MO-1", "should look like OP:<order number>:<operation number>"),
    ("OP:MO-1:x", "should look like"),
    ("X" * 121, "too long"),
])
def test_malformed_codes_are_refused_in_words(raw: str, words: str) -> None:
    with pytest.raises(CodeError, match=words.replace("(", r"\(")):
        parse(raw)
