"""Money and numbers in the organization's locale and currency."""

from __future__ import annotations

import datetime as dt

from factorypulse_desktop.ui.formatting import Formatter, currency_decimals


def test_vnd_has_no_decimals_and_usd_has_two() -> None:
    assert currency_decimals("VND") == 0
    assert currency_decimals("JPY") == 0
    assert currency_decimals("usd") == 2
    vnd = Formatter("vi_VN", "VND").money(1234567)
    assert "1.234.567" in vnd and "," not in vnd
    assert Formatter("en_US", "USD").money(1234.5) == "$1,234.50"


def test_foreign_currency_named_by_code_and_dates_localized() -> None:
    assert "EUR" in Formatter("en_US", "EUR").money(10)
    assert Formatter("de_DE", "EUR").number(1234.5, 1) == "1.234,5"
    assert Formatter("en_US").date(dt.date(2026, 11, 25)) == "11/25/26"
    assert Formatter().money(None) == ""
