"""Validators shared by the command line and the forms (the database checks the same rules)."""

from __future__ import annotations

import re

from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError

_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{2,62}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
_RESERVED_USERNAMES = {"postgres", "public", "none"}


def check_username(username: str) -> str:
    if not _USERNAME.match(username):
        raise UserFacingError(
            f'"{username}" is not a valid user name: use 3 to 63 lower-case letters, digits, '
            "dots, dashes or underscores, starting with a letter."
        )
    if username.startswith(("pg_", "fp_")) or username in _RESERVED_USERNAMES:
        raise UserFacingError(f'The user name "{username}" is reserved; choose another.')
    return username


def check_slug(slug: str) -> str:
    if not _SLUG.match(slug):
        raise UserFacingError(
            f'"{slug}" is not a valid organization short name: use 2 to 63 lower-case letters, '
            "digits or dashes."
        )
    return slug


def parse_role(value: str) -> Role:
    try:
        return Role(value.strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in Role)
        raise UserFacingError(f'"{value}" is not a role. Choose one of: {choices}.') from None


def check_password(password: str) -> str:
    if len(password) < 8:
        raise UserFacingError("A password needs at least 8 characters.")
    if "\x00" in password:
        raise UserFacingError("A password cannot contain a NUL character.")
    return password
