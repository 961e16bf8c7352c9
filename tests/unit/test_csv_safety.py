"""Spreadsheet cell helpers: formula escaping (T-IN-05), cleaning (T-IN-03), name folding."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factorypulse_desktop.domain.csv_safety import (
    FORMULA_STARTS,
    CellProblem,
    clean_cell,
    escape_cell,
    fold_name,
    unescape_cell,
)


@pytest.mark.parametrize("value", [
    "=1+1", "+49 341 555", "-5", "@SUM(A1)", "\t=1+1", "\r=1+1", "=cmd|' /C calc'!A0",
    '=HYPERLINK("http://x","y")',
])
def test_T_IN_05_formula_starts_get_an_apostrophe(value: str) -> None:
    assert escape_cell(value) == "'" + value
    assert unescape_cell(escape_cell(value)) == value


@pytest.mark.parametrize("value", ["Acme", "", "'t Hoekje", "1+1", " =1", "a=b", "'"])
def test_other_values_are_left_alone_both_ways(value: str) -> None:
    assert escape_cell(value) == value
    assert unescape_cell(value) == value


def test_values_that_already_look_escaped_stay_reversible() -> None:
    assert escape_cell("'=x") == "''=x"
    assert escape_cell("''-1") == "'''-1"
    assert unescape_cell("''=x") == "'=x"


@given(st.text(max_size=30))
def test_escape_is_safe_and_exactly_reversible(value: str) -> None:
    escaped = escape_cell(value)
    assert escaped[:1] not in FORMULA_STARTS
    assert unescape_cell(escaped) == value


def test_T_IN_03_nul_and_lone_surrogates_are_refused() -> None:
    with pytest.raises(CellProblem, match="NUL"):
        clean_cell("a\x00b")
    with pytest.raises(CellProblem, match="broken character"):
        clean_cell("x\ud83d")
    with pytest.raises(CellProblem):
        clean_cell("\udc00")


def test_T_IN_03_clean_cell_keeps_text_but_normalises_it() -> None:
    nfd = unicodedata.normalize("NFD", "  Café\u200d 🔩 \u202eRTL  ")
    cleaned = clean_cell(nfd)
    assert cleaned == "Café\u200d 🔩 \u202eRTL"
    assert unicodedata.is_normalized("NFC", cleaned)


@pytest.mark.parametrize(("a", "b"), [
    ("Müller Präzision", "MULLER  prazision"),
    ("Café", unicodedata.normalize("NFD", "café")),
    ("Østfold Stål", "ostfold stal"),
    ("Straße", "STRASSE"),
    ("Łódź Tools", "lodz tools"),
])
def test_names_fold_alike(a: str, b: str) -> None:
    assert fold_name(a) == fold_name(b)


def test_different_names_stay_different() -> None:
    assert fold_name("Acme") != fold_name("Acme Inc")
