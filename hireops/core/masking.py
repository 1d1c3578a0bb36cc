"""Masking of personal data (mobile numbers, emails) for screens and logs."""

from typing import Any

_EMAIL_KEYS = {"email"}
_MOBILE_KEYS = {"mobile", "number", "phone"}


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
