"""Settings of the core plugin: defaults, and one frozen dataclass validated at start."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULTS = {
    "SITE_LANGUAGES": ("it", "en"),
    "SITE_DESCRIPTION": "",
    "SITE_DESCRIPTION_LENGTH": 155,
    "BUSINESS_NAME": "",
    "BUSINESS_LEGAL_NAME": "",
    "BUSINESS_STREET": "",
    "BUSINESS_POSTAL_CODE": "",
    "BUSINESS_CITY": "",
    "BUSINESS_REGION": "",
    "BUSINESS_COUNTRY": "IT",
    "BUSINESS_VAT_ID": "",
    "BUSINESS_EMAIL": "",
    "BUSINESS_PHONE": "",
}


class SiteConfigurationError(ValueError):
    """A site setting is missing or malformed."""


@dataclass(frozen=True)
class SiteSettings:
    """The validated settings the theme relies on."""

    languages: tuple[str, ...]
    default_lang: str
    description_length: int

    @classmethod
    def from_settings(cls, settings: dict) -> "SiteSettings":
        def get(key):
            return settings.get(key, DEFAULTS.get(key))

        languages = tuple(get("SITE_LANGUAGES"))
        default_lang = settings.get("DEFAULT_LANG", "it")
        if default_lang not in languages:
            raise SiteConfigurationError(
                f"DEFAULT_LANG {default_lang!r} has no UI catalogue; SITE_LANGUAGES is {languages!r}"
            )
        length = get("SITE_DESCRIPTION_LENGTH")
        if not isinstance(length, int) or not 50 <= length <= 300:
            raise SiteConfigurationError("SITE_DESCRIPTION_LENGTH must be an integer between 50 and 300")
        vat_id = get("BUSINESS_VAT_ID")
        if vat_id and not vat_id_is_valid(vat_id):
            raise SiteConfigurationError(f"BUSINESS_VAT_ID {vat_id!r} is not a valid VAT number")
        return cls(languages=languages, default_lang=default_lang, description_length=length)


def vat_id_is_valid(vat_id: str) -> bool:
    """Check the form of a VAT number; Italian ones (IT + 11 digits) also by their check digit."""
    vat_id = vat_id.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9A-Z+*]{2,13}", vat_id):
        return False
    if not vat_id.startswith("IT"):
        return True
    digits = vat_id[2:]
    if not re.fullmatch(r"\d{11}", digits):
        return False
    total = 0
    for position, char in enumerate(digits[:10]):
        value = int(char)
        if position % 2:
            value *= 2
            value = value - 9 if value > 9 else value
        total += value
    return (10 - total % 10) % 10 == int(digits[10])
