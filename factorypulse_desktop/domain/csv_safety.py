"""Pure helpers for spreadsheet files: formula escaping, cell cleaning, name comparison.

Formula injection (RELIABILITY.md T-IN-05, OWASP "CSV Injection"): a spreadsheet runs a cell
that starts with ``=``, ``+``, ``-`` or ``@`` as a formula, and tab or carriage return can
hide such a start. :func:`escape_cell` puts an apostrophe in front of those cells, which makes
them plain text; :func:`unescape_cell` takes that apostrophe away again on import, so export
followed by import gives back the same value.

The pair is exactly reversible. A value already made of apostrophes followed by a dangerous
character (``'=x``, ``''-1``) is escaped too, and the importer always removes exactly one
apostrophe, and only in front of ``'*`` plus a dangerous character. A value that merely starts
with an apostrophe ("'t Hoekje", a Dutch company) is neither changed on export nor on import.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence

__all__ = [
    "FORMULA_STARTS",
    "CellProblem",
    "clean_cell",
    "escape_cell",
    "fold_name",
    "unescape_cell",
]

FORMULA_STARTS = frozenset("=+-@\t\r")

# Apostrophes (possibly none) followed by a character that starts a formula.
_NEEDS_ESCAPE = re.compile(r"'*[=+\-@\t\r]")
_ESCAPED = re.compile(r"'+[=+\-@\t\r]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPACES = re.compile(r"\s+")

# Letters that Unicode does not decompose into "base letter + accent" but that people write
# without the accent all the same (Søren / Soren). ß is handled by casefold (ss).
_FOLD_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
     "\u0131": "i"}  # dotless i (Turkish)
)


class CellProblem(ValueError):
    """A cell that cannot be stored; ``str()`` is one sentence, without row or column."""


def escape_cell(value: str) -> str:
    """``value`` made safe to open in a spreadsheet (an apostrophe before a formula start)."""
    return "'" + value if _NEEDS_ESCAPE.match(value) else value


def unescape_cell(value: str) -> str:
    """The value :func:`escape_cell` was given (removes the one apostrophe it added)."""
    return value[1:] if _ESCAPED.match(value) else value


def clean_cell(value: str) -> str:
    """A cell as it will be stored: NFC-normalised, surrounding white space removed.

    Raises :class:`CellProblem` for what PostgreSQL text cannot hold or what is not text:
    NUL characters and lone surrogates (half of a broken emoji or of a broken encoding).
    """
    if "\x00" in value:
        raise CellProblem(
            "This cell contains an invisible NUL character (often left by a broken export); "
            "delete it or type the value again."
        )
    if _SURROGATE.search(value):
        raise CellProblem(
            "This cell contains a broken character (half of an emoji or of a symbol); type "
            "the value again."
        )
    return unicodedata.normalize("NFC", value.strip())


def fold_name(name: str) -> str:
    """A key under which names that people consider "the same" are equal.

    Case, accents, Unicode normal form and runs of white space do not count:
    "Müller  Präzision", "MULLER PRAZISION" and the NFD spelling all fold alike.
    """
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", bare.translate(_FOLD_LETTERS)).strip()


def spreadsheet_csv(rows: Iterable[Sequence[str]]) -> bytes:
    """A CSV file every spreadsheet opens alike: UTF-8 with BOM, comma, CRLF, and every cell
    made formula-safe (T-IN-05). The first row is the headings."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=",", lineterminator="\r\n")
    for row in rows:
        writer.writerow([escape_cell(cell) for cell in row])
    return out.getvalue().encode("utf-8-sig")
