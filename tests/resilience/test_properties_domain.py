"""Property-based tests (hypothesis) of the domain validators (T-IN-03, T-IN-06, T-IN-08).

Each validator raises only its documented error type, whatever text arrives, and its result
obeys the product's rules: NFC, no NUL, bounded, idempotent; file names stay inside their
folder; links other than https are refused before anything opens.
"""

from __future__ import annotations

import string
import unicodedata
import uuid
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from factorypulse_desktop.domain import (
    code39,
    csv_safety,
    field_changes,
    filenames,
    links,
    mentions,
    station_codes,
    validation,
)
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import FieldError, clean_text

FAST = settings(max_examples=200, deadline=None)

# Text with the hostile characters over-represented: NUL, lone surrogates, bidi controls,
# zero-width joiners, combining marks, 4-byte emoji, quotes, backslashes, formula starts.
_SPECIAL = st.sampled_from([
    "\x00", "\ud800", "\udfff", "\u202e", "\u202d", "\u2066", "\u200d", "\u200b", "\u0301",
    "\U0001f984", "'", '"', "\\", "%", "_", "=", "+", "-", "@", "\t", "\r", "\n", ";", ",",
    ":", "/", "..", " ", "\ufeff", "\u00a0",
])
hostile_text = st.lists(st.one_of(st.characters(codec=None), _SPECIAL),
                        max_size=60).map("".join)


@FAST
@given(hostile_text, st.integers(min_value=0, max_value=80), st.booleans())
@example("e\u0301", 10, False)
@example("\x00", 10, False)
@example("a\ud800", 10, True)
def test_T_IN_03_clean_text_properties(value: str, max_length: int, required: bool) -> None:
    try:
        cleaned = clean_text(value, field="f", label="Name", max_length=max_length,
                             required=required)
    except FieldError as error:
        assert error.field == "f" and error.message and str(error) == error.message
        return
    if cleaned is None:
        assert not required and not unicodedata.normalize("NFC", value).strip()
        return
    assert "\x00" not in cleaned
    cleaned.encode("utf-8")  # no lone surrogate survives
    assert unicodedata.is_normalized("NFC", cleaned)
    assert cleaned == cleaned.strip() and 0 < len(cleaned) <= max_length
    # Idempotent: cleaning what was stored changes nothing.
    assert clean_text(cleaned, field="f", label="Name", max_length=max_length,
                      required=required) == cleaned


@FAST
@given(hostile_text)
def test_T_IN_03_nfd_and_nfc_spellings_clean_alike(value: str) -> None:
    def outcome(v: str) -> str | None:
        try:
            return clean_text(v, field="f", label="Name", max_length=1000)
        except FieldError as error:
            return f"error: {error.message}"

    assert outcome(unicodedata.normalize("NFD", value)) == outcome(
        unicodedata.normalize("NFC", value))


@FAST
@given(hostile_text)
def test_T_IN_03_account_validators_raise_only_user_facing_errors(value: str) -> None:
    for check in (validation.check_username, validation.check_slug,
                  validation.check_password, validation.parse_role):
        try:
            result = check(value)
        except UserFacingError as error:
            assert str(error)
            continue
        if check is validation.check_username:
            assert result == value and value.isascii() and not value.startswith(("pg_", "fp_"))
            assert validation.check_username(value) == value
        if check is validation.check_slug:
            assert result == value and value.isascii()


@FAST
@given(hostile_text)
def test_T_IN_03_station_codes_raise_only_code_errors(raw: str) -> None:
    try:
        code = station_codes.parse(raw)
    except station_codes.CodeError as error:
        assert str(error)
        return
    assert code.value and len(code.value) <= station_codes.MAX_CODE
    assert all(ch.isprintable() for ch in code.value)
    if code.kind == "operation":
        assert code.sequence is not None
        again = station_codes.parse(station_codes.operation_code(code.value, code.sequence))
        assert (again.kind, again.value, again.sequence) == ("operation", code.value,
                                                             code.sequence)


@FAST
@given(st.text(alphabet=sorted(code39.CHARSET), max_size=30),
       st.text(max_size=10))
def test_code39_round_trips_and_refuses_other_characters(value: str, noise: str) -> None:
    assert code39.decode(code39.encode(value)) == value
    # Lower-case letters are read as capitals (documented); anything else is refused.
    if any(ch not in code39.CHARSET for ch in noise.upper()):
        with pytest.raises(ValueError):
            code39.encode(value + noise)


@FAST
@given(hostile_text)
def test_T_IN_05_csv_cells_are_formula_safe_and_reversible(value: str) -> None:
    escaped = csv_safety.escape_cell(value)
    assert not escaped or escaped[0] not in csv_safety.FORMULA_STARTS
    assert csv_safety.unescape_cell(escaped) == value
    try:
        cleaned = csv_safety.clean_cell(value)
    except csv_safety.CellProblem as error:
        assert str(error)
        assert "\x00" in value or any(0xD800 <= ord(c) <= 0xDFFF for c in value)
        return
    assert csv_safety.clean_cell(cleaned) == cleaned
    assert csv_safety.fold_name(unicodedata.normalize("NFD", cleaned)) == csv_safety.fold_name(
        cleaned)


@FAST
@given(st.lists(st.lists(hostile_text.filter(lambda v: not any(
    0xD800 <= ord(c) <= 0xDFFF for c in v)), max_size=4), min_size=1, max_size=4))
def test_T_IN_05_spreadsheet_csv_never_writes_a_formula_cell(rows: list[list[str]]) -> None:
    import csv
    import io

    text = csv_safety.spreadsheet_csv(rows).decode("utf-8-sig")
    for row in csv.reader(io.StringIO(text, newline="")):
        for cell in row:
            assert not cell or cell[0] not in csv_safety.FORMULA_STARTS, cell


_PATH_PIECES = st.sampled_from([
    "..", ".", "/", "\\", "C:", "C:\\Windows\\", "\\\\host\\share\\", "CON", "nul", "COM1",
    "LPT9", "a.txt.", "a:stream", "\u202e", "\x00", "\ud800", "~", "$HOME", "%APPDATA%",
    " ", "x" * 120, "\U0001f984" * 30, ".txt", "e\u0301",
])


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.one_of(_PATH_PIECES, st.text(max_size=8)), max_size=12).map("".join))
def test_T_IN_06_file_names_never_escape_the_folder(tmp_path: Path, raw: str) -> None:
    shown = filenames.display_name(raw)
    assert shown and "/" not in shown and "\\" not in shown and "\x00" not in shown
    assert "\u202e" not in shown  # RTLO shown visibly, never applied
    safe = filenames.safe_file_name(raw)
    assert safe not in ("", ".", "..") and len(safe.encode("utf-8")) <= filenames.MAX_SAFE_BYTES
    assert not any(ch in safe for ch in '<>:"/\\|?*\x00')
    assert filenames.safe_file_name(safe) == safe  # idempotent
    folder = tmp_path.resolve()
    target = filenames.path_inside(folder, raw)
    assert target.parent == folder
    unique = filenames.unique_path(folder, raw)
    assert unique.parent == folder


_SCHEMES = st.sampled_from([
    "javascript", "JaVaScRiPt", "data", "file", "ms-msdt", "vbscript", "ftp", "http", "HTTP",
    "mailto", "blob", "about", "chrome", "jar", "smb", "ssh", "tel", "search-ms", "x-y+z.w",
])


@FAST
@given(_SCHEMES, st.sampled_from(["", "//", "///", " //", "\t//", "//\u200b"]),
       st.text(max_size=40))
def test_T_IN_08_every_scheme_but_https_is_refused(scheme: str, slashes: str,
                                                   rest: str) -> None:
    with pytest.raises(links.LinkError):
        links.parse_link(f"{scheme}:{slashes}{rest}")


@FAST
@given(st.text(max_size=80), st.text(alphabet=string.ascii_lowercase + ".-", max_size=20))
@example("https://drive.google.com@evil.example/", "")
@example("https://evil.example\\@drive.google.com/", "")
def test_T_IN_08_parse_link_raises_only_link_errors_and_is_canonical(text: str,
                                                                     host: str) -> None:
    for candidate in (text, f"https://{host}/{text}", f"https://{host}{text}"):
        try:
            link = links.parse_link(candidate)
        except links.LinkError as error:
            assert str(error)
            continue
        assert link.url.startswith("https://") and link.provider in links.PROVIDERS
        assert link.host_ascii.isascii() and link.host_ascii == link.host_ascii.lower()
        assert "@" not in link.url.split("/")[2]
        assert links.parse_link(link.url).url == link.url  # canonical is a fixed point


@FAST
@given(hostile_text, st.lists(st.tuples(st.text(min_size=1, max_size=12),
                                        st.text(min_size=1, max_size=20)), max_size=5),
       st.integers(min_value=-5, max_value=80))
def test_mentions_never_raise_and_resolve_only_known_people(
    text: str, people: list[tuple[str, str]], cursor: int
) -> None:
    persons = [mentions.Person(uuid.uuid4(), role, name) for role, name in people]
    resolved = mentions.resolve(text, persons)
    known = {p.id for p in persons}
    assert all(getattr(p, "id", p) in known for p in getattr(resolved, "people", ()))
    mentions.find_tokens(text)
    assume(0 <= cursor <= len(text))
    mentions.partial_at(text, cursor)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10)
    | st.uuids().map(str),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=8)


_CHANGE = st.one_of(_JSON, st.fixed_dictionaries({"old": _JSON, "new": _JSON}),
                    st.fixed_dictionaries({"old": st.uuids().map(str), "new": _JSON}))
_FIELD = st.one_of(st.sampled_from(sorted(field_changes._ID_FIELDS)), st.text(max_size=12))


@FAST
@given(st.one_of(st.none(), st.dictionaries(_FIELD, _CHANGE, max_size=5)))
def test_field_changes_never_raise_on_any_stored_json(changes: dict[str, object] | None) -> None:
    ids = field_changes.referenced_ids(changes)
    assert all(isinstance(i, uuid.UUID) for i in ids)
    for change in field_changes.describe_changes(changes, {i: "Someone" for i in ids}):
        assert str(change)
