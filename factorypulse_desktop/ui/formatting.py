"""Numbers, money and dates in the organization's locale and currency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from PySide6.QtCore import QDate, QLocale

from factorypulse_desktop.services.organizations import currency_decimals

__all__ = ["Formatter", "currency_decimals"]


class Formatter:
    """Formats for one organization (e.g. en_US + USD, vi_VN + VND, de_DE + EUR)."""

    def __init__(self, locale_name: str = "en_US", currency: str = "USD") -> None:
        self.locale = QLocale(locale_name)
        self.currency = currency.upper()

    def number(self, value: float | int | Decimal, decimals: int = 0) -> str:
        return self.locale.toString(float(value), "f", decimals)

    def money(self, value: float | int | Decimal | None) -> str:
        if value is None:
            return ""
        iso = self.locale.currencySymbol(QLocale.CurrencySymbolFormat.CurrencyIsoCode)
        symbol = (self.locale.currencySymbol(QLocale.CurrencySymbolFormat.CurrencySymbol)
                  if iso == self.currency else self.currency)
        return self.locale.toCurrencyString(float(value), symbol,
                                            currency_decimals(self.currency))

    def date(self, value: dt.date | None) -> str:
        if value is None:
            return ""
        return self.locale.toString(QDate(value.year, value.month, value.day),
                                    QLocale.FormatType.ShortFormat)
