"""Organization settings the UI formats with: locale and currency.

Pure Python on purpose (no database import), so the UI can use it directly.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Protocol


class _HasSettings(Protocol):
    """An :class:`~factorypulse_desktop.services.auth.Membership` (or anything with settings)."""

    @property
    def settings(self) -> Mapping[str, Any]: ...


DEFAULT_LOCALE = "en_US"
DEFAULT_CURRENCY = "USD"

# Currencies whose amounts have no minor unit in everyday use (ISO 4217 exponent 0).
_ZERO_DECIMAL_CURRENCIES = frozenset({"VND", "JPY", "KRW"})
# A language alone ("de") becomes the locale of its main country.
_LANGUAGE_REGIONS = {
    "en": "US",
    "de": "DE",
    "fr": "FR",
    "es": "ES",
    "it": "IT",
    "nl": "NL",
    "pl": "PL",
    "pt": "PT",
    "cs": "CZ",
    "sv": "SE",
    "da": "DK",
    "fi": "FI",
    "nb": "NO",
    "tr": "TR",
    "vi": "VN",
    "ja": "JP",
    "ko": "KR",
    "zh": "CN",
    "th": "TH",
    "id": "ID",
}
_LOCALE_RE = re.compile(r"^([A-Za-z]{2,3})(?:[_-]([A-Za-z]{2}|[0-9]{3}))?$")
_CURRENCY_RE = re.compile(r"^[A-Za-z]{3}$")


def _locale_name(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    match = _LOCALE_RE.match(value.strip())
    if match is None:
        return None
    language, region = match.group(1).lower(), match.group(2)
    if region is None:
        region = _LANGUAGE_REGIONS.get(language)
        return f"{language}_{region}" if region else language
    return f"{language}_{region.upper()}"


def organization_locale(m: _HasSettings) -> tuple[str, str]:
    """(locale name such as "de_DE", ISO 4217 currency code) of the member's organization.

    From the organization's settings: ``locale`` if set, else ``language``; ``currency``.
    Missing or malformed values fall back to ("en_US", "USD").
    """
    settings = m.settings
    locale = _locale_name(settings.get("locale")) or _locale_name(settings.get("language"))
    currency = settings.get("currency")
    code = currency.strip().upper() if isinstance(currency, str) else ""
    return (locale or DEFAULT_LOCALE, code if _CURRENCY_RE.match(code) else DEFAULT_CURRENCY)


def currency_decimals(code: str) -> int:
    """Digits after the decimal point for amounts in this currency (VND, JPY, KRW: 0)."""
    return 0 if code.strip().upper() in _ZERO_DECIMAL_CURRENCIES else 2
