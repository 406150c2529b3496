"""Cleansing of e-mail, phone and company-name values, defined once.

The import cleanses e-mail and phone cells with these, and its duplicate keys
and the duplicate review compare with them, stored values included (forms and
the API store e-mails and phones as typed: see ``engine.forms.builtin_types``).
"""

from __future__ import annotations

import os
import re
import unicodedata

from engine.config import setting
from engine.errors import TesseraError, error_entry
from engine.i18n import t as _t

_COMPANY_SUFFIXES = (
    "股份有限公司",
    "有限责任公司",
    "有限公司",
    "集团公司",
    "公司",
    "co.,ltd.",
    "co.,ltd",
    "co.ltd.",
    "co.ltd",
    "co.,limited",
    "company limited",
    "corporation",
    "limited",
    "ltd.",
    "ltd",
    "inc.",
    "inc",
    "corp.",
    "corp",
    "llc",
    "gmbh",
    "co.",
)
_SPACES = re.compile(r"\s+")
_TRAILING = re.compile(r"[\s,.;:()（）\-]+$")


def normalize_email(value: str) -> str:
    """Trimmed and lower-cased (full-width characters made half-width): mail servers
    treat addresses case-insensitively in practice, and one spelling per address is what
    lets duplicate detection and lookups compare stored values directly."""
    return unicodedata.normalize("NFKC", value).strip().lower()


# (text, region) → normalize_phone's answer. An import asks for the same number more
# than once (the cell, then its match key; every stored record when the duplicate index
# loads), and one parse costs about 60 µs. Bounded: cleared when it grows past the cap.
_PHONE_CACHE: dict[tuple[str, str], str] = {}
_PHONE_CACHE_CAP = 200_000


# The phone_region setting as last read, keyed on the environment variables that can
# change it: setting() looks for the configuration file on every call (a file-system
# lookup), which cost about 100 µs per phone cell an import cleanses. A process reads its
# configuration file once; a test or an operator that sets TESSERA_PHONE_REGION or
# TESSERA_CONFIG is seen at once.
_REGION: dict[tuple[str | None, str | None], str] = {}


def default_region() -> str:
    """The ``phone_region`` setting (see ``_REGION`` for when it is read again)."""
    key = (os.environ.get("TESSERA_PHONE_REGION"), os.environ.get("TESSERA_CONFIG"))
    found = _REGION.get(key)
    if found is None:
        found = _REGION[key] = setting("phone_region")
    return found


def normalize_phone(value: str, region: str | None = None) -> str:
    """The number in E.164 when it is a valid number, read as written in ``region``
    (the ``phone_region`` setting unless given): ``021-5555 0101``, ``+86 (21) 5555-0101``
    and ``0086 21 55550101`` are all ``+862155550101``, so an import matches them as one
    phone. A number that is not valid (too short, an extension only) keeps its digits,
    with a leading ``+`` if it had one, so nothing typed is thrown away.

    Answers are remembered per (text, region), and a valid answer is also remembered as
    its own answer (an E.164 number normalises to itself), so the match key of a cell
    that was just cleansed costs a dictionary lookup instead of a second parse."""
    region = region or default_region()
    known = _PHONE_CACHE.get((value, region))
    if known is not None:
        return known
    answer, valid = _parse_phone(value, region)
    if len(_PHONE_CACHE) >= _PHONE_CACHE_CAP:
        _PHONE_CACHE.clear()
    _PHONE_CACHE[(value, region)] = answer
    if valid:
        _PHONE_CACHE[(answer, region)] = answer
    return answer


def _parse_phone(value: str, region: str) -> tuple[str, bool]:
    """normalize_phone without the cache: (the answer, whether it is a valid number)."""
    import phonenumbers  # 0.1 s to import: only an import or a duplicate review needs it

    value = unicodedata.normalize("NFKC", value).strip()
    digits = "".join(c for c in value if c.isdigit())
    if not digits:
        return "", False
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise TesseraError(
            _t("phone_region {region!r} is not a country code such as CN or US", region=region),
            [error_entry(_t("unknown country code"), field="phone_region")],
        )
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is not None and phonenumbers.is_valid_number(number):
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164), True
    return (("+" + digits) if value.startswith("+") else digits), False


def normalize_company(value: str) -> str:
    """The form company names are compared in (full-width → half-width, case folded,
    spaces collapsed, legal suffixes such as 有限公司 or Co., Ltd. removed)."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", value).casefold()).strip()
    changed = True
    while changed and text:
        changed = False
        squeezed = text.replace(", ", ",").replace(". ", ".")
        for suffix in _COMPANY_SUFFIXES:
            if squeezed.endswith(suffix):
                cut = len(text) - _tail_length(text, suffix)
                text = _TRAILING.sub("", text[:cut])
                changed = True
                break
    return text.replace(" ", "")


def _tail_length(text: str, suffix: str) -> int:
    """How many characters of ``text`` (spaces after commas and dots included) make ``suffix``."""
    i, j = len(text), len(suffix)
    while j > 0:
        i -= 1
        if text[i] == suffix[j - 1]:
            j -= 1
        elif text[i] != " ":
            break
    return len(text) - i


__all__ = [
    "normalize_company",
    "normalize_email",
    "normalize_phone",
]
