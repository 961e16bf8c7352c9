"""File names from uploads: the name people see, and the name a file gets on disk (T-IN-06).

An uploaded file keeps its original name as a *display name* (:func:`display_name`): only the
last path component, without control characters, with bidirectional controls made visible,
NFC-normalised, trimmed and at most 255 characters. It is what the app shows and stores.

A file saved to disk gets a *safe name* (:func:`safe_file_name`) that is valid on Windows,
macOS and Linux, and :func:`path_inside` / :func:`unique_path` place it inside the chosen
folder and check that it stayed there.

Bidirectional controls are shown as their Unicode abbreviation between mathematical angle
brackets, e.g. U+202E RIGHT-TO-LEFT OVERRIDE becomes ``⟨RLO⟩``. Active, such a character makes
``invoice\\u202Efdp.exe`` read as "invoiceexe.pdf"; visible, it reads
``invoice⟨RLO⟩fdp.exe`` and the real extension is plain to see.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "BIDI_MARKERS",
    "MAX_DISPLAY_CHARS",
    "MAX_SAFE_BYTES",
    "UNNAMED",
    "display_name",
    "path_inside",
    "safe_file_name",
    "unique_path",
]

MAX_DISPLAY_CHARS = 255
# 255 bytes is the usual file-system limit; 200 leaves room for " (2)" and for folders that
# add their own suffixes (sync clients, ".part" downloads).
MAX_SAFE_BYTES = 200
UNNAMED = "unnamed"

BIDI_MARKERS: dict[str, str] = {
    "\u202a": "⟨LRE⟩", "\u202b": "⟨RLE⟩", "\u202c": "⟨PDF⟩", "\u202d": "⟨LRO⟩",
    "\u202e": "⟨RLO⟩", "\u2066": "⟨LRI⟩", "\u2067": "⟨RLI⟩", "\u2068": "⟨FSI⟩",
    "\u2069": "⟨PDI⟩", "\u200e": "⟨LRM⟩", "\u200f": "⟨RLM⟩", "\u061c": "⟨ALM⟩",
}
_BIDI_TABLE = str.maketrans(BIDI_MARKERS)

# C0, DEL and C1 controls.
_CONTROLS = re.compile("[\x00-\x1f\x7f-\x9f]")
_SURROGATES = re.compile("[\ud800-\udfff]")
_SEPARATORS = re.compile(r"[/\\]")
# What Windows refuses in a name (NTFS streams use ":"), plus controls and bidi controls in
# case they reach this point some other way.
_FORBIDDEN = re.compile('[<>:"/\\\\|?*\x00-\x1f\x7f-\x9f' + "".join(BIDI_MARKERS) + "]")
# A marker cut in half by a length cap ("⟨RL") would read as noise.
_PARTIAL_MARKER = re.compile("⟨[A-Z]{0,3}$")
# An extension longer than this is more likely part of the name than a file type.
_MAX_EXTENSION_CHARS = 16

_DIGITS = "0123456789¹²³"  # Windows treats superscript 1-3 like digits here
_RESERVED = frozenset(
    {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"}
    | {f"{port}{digit}" for port in ("COM", "LPT") for digit in _DIGITS}
)


def display_name(raw: str) -> str:
    """The name to show and store for an uploaded file called `raw`; never raises."""
    text = unicodedata.normalize("NFC", _SURROGATES.sub("\ufffd", raw))
    text = _CONTROLS.sub("", text)
    text = _SEPARATORS.split(text)[-1]
    text = text.translate(_BIDI_TABLE).strip()
    if not text.strip("."):  # "", "." and ".." name nothing
        return UNNAMED
    return _cap(text, MAX_DISPLAY_CHARS, len, _head_chars)


def safe_file_name(raw: str) -> str:
    """A name for `raw` that is valid on Windows, macOS and Linux; never empty, "." or ".."."""
    name = _FORBIDDEN.sub("_", display_name(raw))
    name = _cap(_strip_trailing(name), MAX_SAFE_BYTES, _utf8_size, _head_bytes)
    name = _strip_trailing(name) or UNNAMED
    if _is_reserved(name):
        name = _strip_trailing("_" + _cap(name, MAX_SAFE_BYTES - 1, _utf8_size, _head_bytes))
    return name


def path_inside(folder: Path, raw_name: str) -> Path:
    """Where a file called `raw_name` is saved in `folder` (resolved; checked to be inside).

    Raises ValueError when the result would leave the folder, which a safe name cannot do
    unless an existing entry of that name is a symlink pointing elsewhere.
    """
    return _checked(folder.resolve(), safe_file_name(raw_name))


def unique_path(folder: Path, raw_name: str) -> Path:
    """Like :func:`path_inside`, but "name (2).ext", "name (3).ext"… when the name is taken.

    Open the result with exclusive creation (mode "x"): another program may take the name
    between this check and the write.
    """
    base = folder.resolve()
    name = safe_file_name(raw_name)
    for number in range(1, 10_000):
        candidate = name if number == 1 else _numbered(name, number)
        if not os.path.lexists(base / candidate):  # lexists: a broken symlink is taken too
            return _checked(base, candidate)
    raise FileExistsError(f"{base} already holds 9,999 files named like {name}.")


def _checked(base: Path, name: str) -> Path:
    target = (base / name).resolve()
    if target.parent != base:
        raise ValueError(f"{name!r} would be saved outside {base}.")
    return target


def _numbered(name: str, number: int) -> str:
    suffix = f" ({number})"
    stem, extension = _split_extension(name)
    room = MAX_SAFE_BYTES - _utf8_size(suffix) - _utf8_size(extension)
    return _head_bytes(stem, room) + suffix + extension


def _split_extension(name: str) -> tuple[str, str]:
    """("report", ".pdf") for "report.pdf"; no extension for ".profile" or absurd ones."""
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem or not extension or len(extension) > _MAX_EXTENSION_CHARS:
        return name, ""
    return stem, dot + extension


def _cap(name: str, limit: int, size: Callable[[str], int],
         head: Callable[[str, int], str]) -> str:
    """`name` cut to `limit` (as measured by `size`), keeping its extension."""
    if size(name) <= limit:
        return name
    stem, extension = _split_extension(name)  # short enough to leave room for the stem
    stem = _PARTIAL_MARKER.sub("", head(stem, limit - size(extension))).rstrip()
    return stem + extension


def _head_chars(text: str, limit: int) -> str:
    return text[:limit]


def _head_bytes(text: str, limit: int) -> str:
    # "ignore" drops a character whose bytes the cut split: the cut lands on a boundary.
    return text.encode("utf-8")[:limit].decode("utf-8", errors="ignore")


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8"))


def _strip_trailing(name: str) -> str:
    # Windows silently drops trailing dots and spaces, so "a.txt." would become "a.txt".
    return name.rstrip(". ")


def _is_reserved(name: str) -> bool:
    # Windows reserves device names with any extension ("CON.txt", "nul.tar.gz", "CON .txt").
    return name.split(".", 1)[0].rstrip(" ").upper() in _RESERVED
