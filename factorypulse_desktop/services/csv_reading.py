"""Reading a CSV file people made in a spreadsheet: its encoding, its delimiter, its records,
and the problems found on the way (by row and column), for every import of the app.

Only reading lives here; what a record means is the importer's (contacts, inventory items).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

MAX_ERRORS = 500  # enough for a table of problems; beyond that the file is plainly wrong

# The csv module refuses cells above a limit (128 KiB by default) that is process-wide. It is
# raised once to this bound and never lowered again: lowering it after a parse could race a
# parse in another thread, and a higher limit makes no other reader stricter. The importers'
# column limits are what protect the database; this one only bounds a single cell's memory.
CSV_FIELD_LIMIT = 1024 * 1024

DELIMITERS = (",", ";", "\t")
_QUOTED = re.compile(r'"[^"]*"')
_EXCEL_SEP_LINE = re.compile(r"sep=(.)(?:\r\n|\n|\r)", re.IGNORECASE)


def heading_key(heading: str) -> str:
    """Headings match whatever their case, spaces, underscores, dashes or dots."""
    return re.sub(r"[\s_.\-]+", "", unicodedata.normalize("NFKC", heading).casefold())


@dataclass(frozen=True)
class RowError:
    """One problem: ``row`` is the spreadsheet row (heading = 1; None for the whole file),
    ``column`` the heading as written in the file (None for the whole row)."""

    row: int | None
    column: str | None
    message: str

    def __str__(self) -> str:
        if self.row is None:
            return self.message
        where = f"Row {self.row}" + (f", {self.column}" if self.column else "")
        return f"{where}: {self.message}"


class TooManyErrors(Exception):
    pass


class RowErrors:
    """Collects problems; stops the parse when there are more than a person can read."""

    def __init__(self) -> None:
        self.items: list[RowError] = []

    def add(self, row: int | None, column: str | None, message: str) -> None:
        self.items.append(RowError(row, column, message))
        if len(self.items) >= MAX_ERRORS:
            raise TooManyErrors

    def __bool__(self) -> bool:
        return bool(self.items)


def decode(data: bytes) -> tuple[str, str] | None:
    """The text and its encoding's name, or None when it is none of the accepted ones.

    "surrogatepass" lets an encoded lone surrogate through (strict UTF-8 would refuse it and
    the file would silently be read as Windows-1252 instead); cells then report it.
    """
    if data.startswith(b"\xef\xbb\xbf"):
        candidates = [("utf-8", "UTF-8", 3)]
    elif data.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = [("utf-16", "UTF-16", 0)]
    elif len(data) >= 2 and data[0] != 0 and data[1] == 0:
        candidates = [("utf-16-le", "UTF-16", 0)]  # no BOM, but "C\0o\0..." is unmistakable
    elif len(data) >= 2 and data[0] == 0 and data[1] != 0:
        candidates = [("utf-16-be", "UTF-16", 0)]
    else:
        candidates = [("utf-8", "UTF-8", 0), ("cp1252", "Windows-1252", 0)]
    for codec, name, skip in candidates:
        try:
            errors = "strict" if codec == "cp1252" else "surrogatepass"
            return data[skip:].decode(codec, errors), name
        except UnicodeDecodeError:
            continue
    return None


def sniff_delimiter(content: str) -> tuple[str, str]:
    """The delimiter, from an Excel ``sep=`` line (removed) or else the heading row."""
    hint = _EXCEL_SEP_LINE.match(content)
    if hint and hint.group(1) in DELIMITERS:
        return hint.group(1), content[hint.end():]
    # The heading row is short: look at the start only, not at a 50 MB file's every line.
    header = next((line for line in content[:65_536].splitlines() if line.strip()), "")
    outside_quotes = _QUOTED.sub("", header)
    counts = {d: outside_quotes.count(d) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: counts[d])  # ties: the earlier one (comma first)
    return (best if counts[best] else ","), content


def allow_large_fields() -> None:
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)


def read_records(content: str, delimiter: str,
                 errors: RowErrors) -> Iterator[tuple[int, list[str]]]:
    """(spreadsheet row number, cells) for every record; a broken quote ends the file."""
    # newline="" hands line breaks to csv untouched: it keeps those inside quoted cells.
    reader = csv.reader(io.StringIO(content, newline=""), delimiter=delimiter, strict=True)
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            if "field larger than field limit" in str(error):
                message = (
                    f"A cell is longer than {CSV_FIELD_LIMIT:,} characters; no column "
                    "accepts that much."
                )
            else:
                message = (
                    "A quote (\") is not closed, or text follows a closing quote. Put quotes "
                    "around the whole cell and double every quote inside it (\"\")."
                )
            errors.add(number + 1, None, message)
            return
        number += 1
        yield number, cells


def is_blank(cells: Sequence[str]) -> bool:
    return all(not c.strip() for c in cells)
