"""Display and disk names of uploaded files (T-IN-06)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from factorypulse_desktop.domain.filenames import (
    MAX_DISPLAY_CHARS,
    MAX_SAFE_BYTES,
    UNNAMED,
    display_name,
    path_inside,
    safe_file_name,
    unique_path,
)

RTLO_NAME = "invoice\u202efdp.exe"  # reads as "invoiceexe.pdf" when the override is active

HOSTILE_NAMES = [
    "../../evil.txt",
    "C:\\Windows\\x.dll",
    "\\\\host\\share\\a",
    "CON.txt",
    "a.txt.",
    "a:stream",
    RTLO_NAME,
    "é" * 300,
    "a" * 300 + ".pdf",
    "..",
    "/",
    "nul",
    "\x00\x1f\x7f\x85",
]

_RESERVED_ON_WINDOWS = re.compile(r"(CON|PRN|AUX|NUL|COM[0-9¹²³]|LPT[0-9¹²³])( *)(\..*)?",
                                  re.IGNORECASE)
_NOT_ON_WINDOWS = re.compile('[<>:"/\\\\|?*\x00-\x1f\x7f-\x9f]')


@pytest.mark.parametrize("raw", HOSTILE_NAMES)
def test_T_IN_06_hostile_names_are_stored_without_a_way_out(raw: str) -> None:
    shown = display_name(raw)
    assert shown
    assert "/" not in shown and "\\" not in shown
    assert shown not in (".", "..")
    assert len(shown) <= MAX_DISPLAY_CHARS
    assert not re.search("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]",
                         shown)


@pytest.mark.parametrize("raw", HOSTILE_NAMES)
def test_T_IN_06_hostile_names_are_saved_inside_the_folder(raw: str, tmp_path: Path) -> None:
    target = path_inside(tmp_path, raw)
    target.write_bytes(b"content")
    assert target.resolve().parent == tmp_path.resolve()
    assert target.read_bytes() == b"content"
    assert [entry.name for entry in tmp_path.iterdir()] == [target.name]


@pytest.mark.parametrize(("raw", "shown", "saved"), [
    ("../../evil.txt", "evil.txt", "evil.txt"),
    ("C:\\Windows\\x.dll", "x.dll", "x.dll"),
    ("\\\\host\\share\\a", "a", "a"),
    ("CON.txt", "CON.txt", "_CON.txt"),
    ("con", "con", "_con"),
    ("Lpt9.tar.gz", "Lpt9.tar.gz", "_Lpt9.tar.gz"),
    ("COM¹.txt", "COM¹.txt", "_COM¹.txt"),
    ("a.txt.", "a.txt.", "a.txt"),
    ("a.txt . .", "a.txt . .", "a.txt"),
    ("a:stream", "a:stream", "a_stream"),
    ('a<b>c"d|e?f*g', 'a<b>c"d|e?f*g', "a_b_c_d_e_f_g"),
    ("x/..", UNNAMED, UNNAMED),
    ("...", UNNAMED, UNNAMED),
    ("   ", UNNAMED, UNNAMED),
    ("", UNNAMED, UNNAMED),
    ("  Quote 12.pdf \n", "Quote 12.pdf", "Quote 12.pdf"),
    ("Ange\u0301lique.pdf", "Angélique.pdf", "Angélique.pdf"),  # NFD typed, NFC kept
])
def test_T_IN_06_display_and_safe_names(raw: str, shown: str, saved: str) -> None:
    assert display_name(raw) == shown
    assert safe_file_name(raw) == saved


def test_T_IN_06_rtlo_is_shown_not_obeyed() -> None:
    assert display_name(RTLO_NAME) == "invoice⟨RLO⟩fdp.exe"
    assert safe_file_name(RTLO_NAME).endswith(".exe")
    every_bidi = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
    assert display_name("a" + every_bidi + "b") == (
        "a⟨LRE⟩⟨RLE⟩⟨PDF⟩⟨LRO⟩⟨RLO⟩⟨LRI⟩⟨RLI⟩⟨FSI⟩⟨PDI⟩⟨LRM⟩⟨RLM⟩⟨ALM⟩b"
    )


@pytest.mark.parametrize("raw", ["é" * 300, "a" * 300 + ".pdf", "€" * 100 + ".xlsx"])
def test_T_IN_06_long_names_are_cut_keeping_the_extension(raw: str) -> None:
    shown = display_name(raw)
    saved = safe_file_name(raw)
    assert len(shown) <= MAX_DISPLAY_CHARS
    assert MAX_SAFE_BYTES - 4 < len(saved.encode("utf-8")) <= MAX_SAFE_BYTES
    if "." in raw:
        extension = raw[raw.rindex("."):]
        assert shown.endswith(extension) and saved.endswith(extension)
    assert raw.startswith(saved.rpartition(".")[0] or saved)  # cut on a character boundary


def test_T_IN_06_cut_does_not_leave_half_a_bidi_marker() -> None:
    # 249 + len("⟨RLO⟩") + 10 + len(".pdf") > 255: the cut falls inside the marker.
    shown = display_name("a" * 249 + "\u202e" + "b" * 10 + ".pdf")
    assert shown == "a" * 249 + ".pdf"


def test_T_IN_06_surrogates_and_controls_never_raise() -> None:
    assert display_name("\ud800x\x00y") == "\ufffdxy"
    assert safe_file_name("\udfff").encode("utf-8")


def test_unique_path_never_overwrites(tmp_path: Path) -> None:
    written = []
    for _ in range(3):
        target = unique_path(tmp_path, "../Report.pdf")
        with target.open("xb") as file:
            file.write(b"x")
        written.append(target.name)
    assert written == ["Report.pdf", "Report (2).pdf", "Report (3).pdf"]
    assert unique_path(tmp_path, "notes").name == "notes"


def test_unique_path_keeps_long_names_within_the_limit(tmp_path: Path) -> None:
    first = unique_path(tmp_path, "a" * 300 + ".pdf")
    first.write_bytes(b"")
    second = unique_path(tmp_path, "a" * 300 + ".pdf")
    assert second.name.endswith(" (2).pdf")
    assert len(second.name.encode("utf-8")) <= MAX_SAFE_BYTES
    assert second.parent == tmp_path.resolve()


def test_a_symlink_pointing_out_of_the_folder_is_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "evil.txt").symlink_to(outside)
    with pytest.raises(ValueError, match="outside"):
        path_inside(folder, "evil.txt")
    assert unique_path(folder, "evil.txt").name == "evil (2).txt"


# Plain text, and text built from the pieces hostile names are made of.
_NAME_PIECES = ["/", "\\", ".", "..", " ", ":", "*", "CON", "nul", "COM1", "LPT¹", ".txt", "é",
                "\u202e", "\u2066", "\x00", "\x85", "\ud800", "a" * 150, "€" * 40]
_NAMES = st.one_of(
    st.text(),
    st.lists(st.one_of(st.sampled_from(_NAME_PIECES), st.characters()), max_size=12)
    .map("".join),
)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Module-scoped: hypothesis runs the test many times within one function-scoped call.
    return tmp_path_factory.mktemp("names").resolve()


@settings(deadline=None)
@given(raw=_NAMES)
def test_T_IN_06_any_text_gives_a_safe_name_inside_the_folder(raw: str, folder: Path) -> None:
    name = safe_file_name(raw)
    assert name and name not in (".", "..")
    assert not _NOT_ON_WINDOWS.search(name)
    assert not re.search("[\u202a-\u202e\u2066-\u2069\u200e\u200f\u061c]", name)
    assert len(name.encode("utf-8")) <= MAX_SAFE_BYTES
    assert not _RESERVED_ON_WINDOWS.fullmatch(name)
    assert not name.endswith((".", " "))
    assert path_inside(folder, raw).parent == folder
    shown = display_name(raw)
    assert shown and "/" not in shown and "\\" not in shown and shown not in (".", "..")
