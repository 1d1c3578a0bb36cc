"""Normalise and validate how HR identifies an employee: mobile (country code + number) or email."""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

_DIGITS = re.compile(r"\d+")
_COUNTRY_CODE = re.compile(r"\+?(\d{1,4})")

# Each error names the field it is about (a form shows it there; an import row's outcome reads it).
CODE, NUMBER, EMAIL = "mobile_code", "mobile_number", "email"


@dataclass(frozen=True)
class Person:
    name: str
    mobile_code: str
    mobile_number: str
    email: str


def normalize_country_code(code: str) -> str:
    """1 to 4 digits, with or without a "+"; empty for none."""
    raw = (code or "").strip()
    found = _COUNTRY_CODE.fullmatch(raw)
    if raw and not found:
        raise ValidationError({CODE: _("A country code is 1 to 4 digits, e.g. 86.")})
    return found.group(1) if found else ""


def normalize_mobile(code: str, number: str) -> tuple[str, str]:
    code_digits = normalize_country_code(code) or "86"
    raw_number = (number or "").strip()
    if not raw_number:
        return "", ""
    if raw_number.startswith("+") and not (code or "").strip():
        raise ValidationError({NUMBER: _("Give the country code in its own field, not in the number.")})
    digits = "".join(_DIGITS.findall(raw_number))
    if code_digits == "86" and not re.fullmatch(r"1\d{10}", digits):
        raise ValidationError({NUMBER: _("A mainland China mobile number has 11 digits and starts with 1.")})
    if not 5 <= len(digits) <= 15:
        raise ValidationError({NUMBER: _("A mobile number has 5 to 15 digits.")})
    return code_digits, digits


def normalize_email(email: str) -> str:
    value = (email or "").strip().lower()
    if value:
        try:
            validate_email(value)
        except ValidationError as exc:
            # The value is not repeated: messages end up on screens and in job reports.
            raise ValidationError({EMAIL: _("This is not a valid email address.")}) from exc
    return value


def person(name: str = "", mobile_code: str = "", mobile_number: str = "", email: str = "") -> Person:
    """Validated, normalised identity; at least one of mobile and email."""
    code, number = normalize_mobile(mobile_code, mobile_number)
    email = normalize_email(email)
    if not number and not email:
        raise ValidationError(_("Give a mobile number or an email address."))
    return Person(name=(name or "").strip()[:100], mobile_code=code, mobile_number=number, email=email)
