"""Errors whose message is meant for the person using the product."""

from __future__ import annotations


class UserFacingError(Exception):
    """Something the user can fix or must know; `str(error)` is one plain sentence."""
