"""Turning database errors into sentences a user can act on.

Kept apart from `db` so that signing in (psycopg only) does not load SQLAlchemy.
"""

from __future__ import annotations

import psycopg

from factorypulse_desktop.domain.errors import UserFacingError

# Errors raised by our own database functions carry a message written for people.
_OWN_MESSAGE_STATES = {
    "42501", "22023", "42710", "42704", "P0001",
    # Files (revision 0005): gone or finished, too large, out of order, damaged.
    "FP409", "FP410", "FP413", "FP416", "FP422",
}


def driver_error(error: BaseException) -> BaseException:
    """The driver's own error inside a SQLAlchemy ``DBAPIError``, or `error` itself."""
    original = getattr(error, "orig", None)
    return original if isinstance(original, BaseException) else error


NUL_TEXT = ("The text contains an invisible NUL character (often left by copying); delete it "
            "or type the text again.")


def friendly_error(error: BaseException) -> UserFacingError:
    """Translate a driver error into one clear sentence."""
    original = driver_error(error)
    if isinstance(original, psycopg.Error) and (original.diag.message_primary or "").startswith(
            "new row violates row-level security"):
        # A policy's WITH CHECK: the row would not be the person's to write.
        return UserFacingError("You are not allowed to do that: your role does not permit "
                               "it in this organization.")
    if isinstance(original, psycopg.Error) and original.sqlstate in _OWN_MESSAGE_STATES \
            and original.diag.message_primary:
        # Our functions put what to do next in the hint. (psycopg files our own "FP…"
        # states under OperationalError, so this comes before the connection errors.)
        diag = original.diag
        hint = f" {sentence(diag.message_hint)}" if diag.message_hint else ""
        return UserFacingError(sentence(diag.message_primary or "") + hint)
    if isinstance(original, psycopg.OperationalError):
        text = str(original)
        if "password authentication failed" in text:
            return UserFacingError("The user name or password is wrong.")
        if "does not exist" in text and "database" in text:
            return UserFacingError("That database does not exist on the server.")
        return UserFacingError(
            "The database server cannot be reached. Check that it is running and that the "
            "address is right."
        )
    if isinstance(original, psycopg.DataError) and "NUL (0x00)" in str(original):
        # Raised by psycopg itself (a NUL cannot be sent in a text value), e.g. pasted into a
        # filter: the driver's wording names bytes and PostgreSQL (T-IN-01).
        return UserFacingError(NUL_TEXT)
    if isinstance(original, psycopg.Error):
        diag = original.diag
        if isinstance(original, psycopg.errors.UniqueViolation):
            return UserFacingError("That already exists; choose another name or number.")
        if isinstance(original, psycopg.errors.CheckViolation):
            return UserFacingError(f"A value is not allowed ({diag.constraint_name}).")
        if isinstance(original, psycopg.errors.InsufficientPrivilege):
            return UserFacingError("You are not allowed to do that.")
        return UserFacingError(sentence(diag.message_primary or str(original)))
    return UserFacingError(str(error))


def sentence(message: str) -> str:
    """`message` as a sentence: capital first letter, full stop at the end."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
