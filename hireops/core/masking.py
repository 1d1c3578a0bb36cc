"""Masking of personal data (mobile numbers, emails) for screens and logs."""

import re
from typing import Any

_EMAIL_KEYS = {"email"}
_MOBILE_KEYS = {"mobile", "number", "phone"}
_NOT_ALNUM_BEFORE, _NOT_ALNUM_AFTER = r"(?<![0-9A-Za-z])", r"(?![0-9A-Za-z])"
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Chinese mobiles (optionally +86) and international numbers written with their "+" code.
MOBILE = re.compile(
    _NOT_ALNUM_BEFORE
    + r"(\+?86[ -]?)?1[3-9]\d{9}"
    + _NOT_ALNUM_AFTER
    + r"|\+\d{1,3}[ -]?\d{6,14}"
    + _NOT_ALNUM_AFTER
)


def mask_email(value: str) -> str:
    local, sep, domain = value.partition("@")
    if not sep:
        return mask_text(value)
    return f"{local[:1]}***@{domain}"


def mask_mobile(value: str) -> str:
    digits = str(value)
    if len(digits) <= 4:
        return "*" * len(digits)
    return f"{digits[:3]}****{digits[-4:]}" if len(digits) >= 8 else f"***{digits[-2:]}"


def mask_text(value: str) -> str:
    return value[:1] + "***" if value else value


def mask_personal_text(text: str) -> str:
    """Free text with every email and mobile number in it masked as the admin masks them."""
    if "@" in text:  # the pattern backtracks over every word: skip it on most log lines
        text = EMAIL.sub(lambda m: mask_email(m.group()), text)
    return MOBILE.sub(lambda m: mask_mobile(re.sub(r"\D", "", m.group())), text)


def mask_personal(data: Any, _key: str = "") -> Any:
    """Return a copy of a JSON-like value with mobiles and emails masked.

    Keys are matched by name anywhere in the tree (``email``, ``mobile`` whether a
    string or ``{code, number}``), so new payload shapes are masked too.
    """
    key = _key.lower()
    if isinstance(data, dict):
        return {k: mask_personal(v, k) for k, v in data.items()}
    if isinstance(data, list):
        return [mask_personal(v, _key) for v in data]
    if isinstance(data, str) and data:
        if key in _EMAIL_KEYS:
            return mask_email(data)
        if key in _MOBILE_KEYS:
            return mask_mobile(data)
    return data


def mask_personal_values(data: Any, _key: str = "") -> Any:
    """``mask_personal``, and besides every other string in the tree masked as free text: a
    mobile or email typed into a comment or a form value is masked wherever it sits."""
    if isinstance(data, dict):
        return {k: mask_personal_values(v, k) for k, v in data.items()}
    if isinstance(data, list):
        return [mask_personal_values(v, _key) for v in data]
    masked = mask_personal(data, _key)
    if isinstance(masked, str) and masked == data:
        return mask_personal_text(masked)
    return masked
