"""Validators used before anything reaches the database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from factorypulse_desktop.domain.enums import Role
from factorypulse_desktop.domain.errors import UserFacingError
from factorypulse_desktop.domain.validation import check_slug, check_username, parse_role


@pytest.mark.parametrize("name", ["acme.sales", "j.doe-2", "abc", "a" * 63])
def test_valid_usernames(name: str) -> None:
    assert check_username(name) == name


@pytest.mark.parametrize("name", ["ab", "Acme", "1abc", "a b", "pg_x", "fp_owner", "postgres",
                                  'x"; drop', "a" * 64, ""])
def test_invalid_usernames(name: str) -> None:
    with pytest.raises(UserFacingError):
        check_username(name)


@given(st.text(max_size=80))
def test_username_check_never_crashes_and_accepts_only_safe_identifiers(name: str) -> None:
    try:
        check_username(name)
    except UserFacingError as error:
        assert str(error)
    else:
        assert name.isascii() and '"' not in name and " " not in name


def test_roles_parse_case_insensitively_and_explain_choices() -> None:
    assert parse_role(" Sales ") is Role.SALES
    with pytest.raises(UserFacingError, match="admin, management"):
        parse_role("boss")
    assert Role.CUSTOMER.is_portal and not Role.QA.is_portal


def test_slug() -> None:
    assert check_slug("acme-2") == "acme-2"
    with pytest.raises(UserFacingError):
        check_slug("Acme Inc")
