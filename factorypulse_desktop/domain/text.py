"""Cleaning what people type before it is stored (RELIABILITY.md §7.2, T-IN-03).

PostgreSQL text cannot hold NUL and UTF-8 cannot hold a lone surrogate: both are refused with
a message rather than silently dropped. Text is NFC-normalised so that "é" typed on macOS
(NFD) and on Windows (NFC) compare equal, and trimmed. Lengths are bounded here as well as
by the form, so a 1 MB paste gets a message instead of a database error.
"""

from __future__ import annotations

import unicodedata

from factorypulse_desktop.domain.errors import UserFacingError


class FieldError(UserFacingError, ValueError):
    """A value a person typed cannot be used; `field` names the form field."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def clean_text(value: str | None, *, field: str, label: str, max_length: int,
               required: bool = False, min_length: int = 0) -> str | None:
    """`value` trimmed and NFC-normalised, or None when empty (and not required)."""
    text = unicodedata.normalize("NFC", (value or "").strip())
    if "\x00" in text:
        raise FieldError(field, f"{label} contains an invisible NUL character; remove it.")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FieldError(field, f"{label} contains a broken character; type it again.") from None
    if not text:
        if required:
            raise FieldError(field, f"{label} is required.")
        return None
    if len(text) < min_length:
        raise FieldError(field, f"{label} needs at least {min_length} characters.")
    if len(text) > max_length:
        raise FieldError(field, f"{label} is too long ({len(text):,} characters; at most "
                                f"{max_length:,}).")
    return text



def shown(value: str, limit: int = 40) -> str:
    """What of a typed value a message may quote back: printable characters only (NUL,
    halves of emoji, direction and zero-width marks dropped), at most `limit` of them."""
    text = "".join(c for c in value.strip() if c.isprintable())
    return text if len(text) <= limit else text[:limit - 1] + "\u2026"
