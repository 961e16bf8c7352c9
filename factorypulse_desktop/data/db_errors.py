"""Turning database errors into sentences a user can act on.

Kept apart from `db` so that signing in (psycopg only) does not load SQLAlchemy.
"""

from __future__ import annotations

import psycopg

from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.text import shown

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
    if isinstance(original, psycopg.Error) and original.sqlstate in _STATE_WORDS:
        # Before the connection errors: psycopg files a cancelled statement (57014) and a
        # lock not available (55P03) under OperationalError, though the server is there.
        return UserFacingError(_STATE_WORDS[original.sqlstate or ""])
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
            return UserFacingError(_rule_broken(diag.table_name, diag.constraint_name))
        if isinstance(original, psycopg.errors.InsufficientPrivilege):
            return UserFacingError("You are not allowed to do that.")
        return UserFacingError(_by_state(original))
    return UserFacingError(str(error))


# What the database's own wording means, for the errors a person's input can cause when a
# check in the app missed it (T-IN-03: no driver or SQL wording reaches the person).
_STATE_WORDS = {
    "22001": "A text is longer than this field allows; shorten it.",
    "22003": "A number is too large (or too small) for this field.",
    "22007": "A date or time is not valid; check it.",
    "22008": "A date or time is out of range; check it.",
    "22012": "A calculation divided by zero; check the numbers.",
    "23502": "A required value is missing; fill it in.",
    "23503": ("This refers to something that was removed meanwhile, or is still used "
              "elsewhere; reload and try again."),
    "57014": ("The database took too long and stopped this request; narrow the search or "
              "try again later."),
    "55P03": "Someone else is changing the same record right now; try again in a moment.",
}


def _by_state(error: psycopg.Error) -> str:
    state = error.sqlstate or ""
    if state in _STATE_WORDS:
        return _STATE_WORDS[state]
    if state == "22P02":  # a value not in the expected form: a choice, a number, an id
        value = _quoted(error.diag.message_primary or "")
        if "enum" in (error.diag.message_primary or ""):
            return f"“{value}” is not one of the allowed choices." if value else \
                "A value is not one of the allowed choices."
        return f"“{value}” is not in the form this field expects." if value else \
            "A value is not in the form this field expects."
    if state.startswith("22"):
        return "A value is not valid for this field; check what you entered."
    if state.startswith("53"):
        return ("The database server is out of resources (disk space or memory); tell your "
                "administrator. Nothing was changed.")
    # Anything else: the server's own first line, printable only, as a sentence.
    return sentence(shown(error.diag.message_primary or type(error).__name__, 200))


def _rule_broken(table: str | None, constraint: str | None) -> str:
    """A CHECK constraint, named after what it guards ("contacts_credit_limit_check")."""
    name = constraint or ""
    if table and name.startswith(table + "_"):
        name = name[len(table) + 1:]
    name = name.removesuffix("_check").replace("_", " ").strip()
    if not name:
        return "A value is not allowed; check what you entered."
    return f"The value for “{shown(name)}” is not allowed; check what you entered."


def _quoted(message: str) -> str:
    """The value PostgreSQL quotes in 'invalid input …: "value"', printable, shortened."""
    start, end = message.find('"'), message.rfind('"')
    return shown(message[start + 1:end]) if 0 <= start < end else ""


def sentence(message: str) -> str:
    """`message` as a sentence: capital first letter, full stop at the end."""
    message = message.strip()
    if not message:
        return message
    message = message[0].upper() + message[1:]
    return message if message.endswith((".", "!", "?")) else message + "."
