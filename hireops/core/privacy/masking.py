"""Masking of personal data (mobile numbers, emails, resident ID numbers) for screens and logs.

Free text is searched as people write it: mobiles grouped with spaces or dashes
(``139 1234 5678``), with a country code (``+86 139…``, ``0086``), in full-width characters
(``１３９…``, ``zhou＠corp.example``), and resident ID numbers (18 characters, or the first
generation's 15 digits). The text is
matched in its NFKC form (full-width digits, letters, at sign and spaces as their ASCII
selves; every dash as ``-``), one character for one, so what is masked is the original text
at the same place: the reader sees what was written, its separators and width kept, with the
middle digits starred.

What must stay readable does: a Feishu id is a run of 19 digits (``7123456789012345678``) or
a prefix and hex (``ou_…``, ``od-…``), and a number is only ever matched whole (never a run of
digits inside a longer one or inside a word). Resident ID numbers are recognised by their
shape (an area code, then a birth date from 1800 to 2099), not by their check character: a
mistyped or invented number is masked all the same, and a run of 18 digits that is no ID
rarely holds a valid date at the right place.
"""

import re
import unicodedata
from typing import Any

_EMAIL_KEYS = {"email"}
_MOBILE_KEYS = {"mobile", "number", "phone"}
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"
# An address's local part is ASCII (the Chinese before it, "联系zhou@…", is text, and stays), or
# wholly of other letters ("张三@…"). Tried only where a local part can start (not inside a
# word): once per word, not once per letter.
EMAIL = re.compile(
    r"(?:(?<![A-Za-z0-9_.+-])[A-Za-z0-9_.+-]+|(?<![\w.+-])[^\W\x00-\x7f]+)@[\w-]+(?:\.[\w-]+)+"
)
_SEP = r"[ -]?"  # a space or a dash between groups of digits, or none
# A Chinese mobile (its country code kept apart: only the number's own digits are starred), in
# groups of 3, 4 and 4 or not grouped.
_CHINESE_MOBILE = (
    r"(?P<code>(?:\+|00)?86" + _SEP + r")?(?P<mobile>1[3-9][0-9]" + _SEP + r"[0-9]{4}" + _SEP + r"[0-9]{4})"
)
# Another country's number, written with its "+" code: 7 to 17 digits in all.
_INTERNATIONAL = r"(?P<international>\+[1-9](?:" + _SEP + r"[0-9]){6,16})"
# A resident ID: area code, birth date (YYYYMMDD), sequence and check character, in groups of
# 6, 8 and 4 or not grouped; or the first generation's 15 digits, still found in older records:
# area code, birth date (YYMMDD) and sequence, in groups of 6, 6 and 3 or not grouped.
_MONTH_DAY = r"(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])"
_RESIDENT_ID = (
    r"(?P<resident_id>[1-9][0-9]{5}"
    + _SEP
    + r"(?:(?:18|19|20)[0-9]{2}"
    + _MONTH_DAY
    + _SEP
    + r"[0-9]{3}[0-9Xx]|[0-9]{2}"
    + _MONTH_DAY
    + _SEP
    + r"[0-9]{3}))"
)


def _whole_numbers(*patterns: str) -> str:
    """Numbers that are not part of a longer one or of a word. The first character is looked
    at before anything else: at most places (a letter, a space) that one test fails and the
    alternatives are never tried, which keeps a line with digits about as cheap as it was with
    one pattern, not three."""
    return r"(?=[+0-9])(?<![0-9A-Za-z])(?:" + "|".join(patterns) + ")" + _NOT_ALNUM_AFTER


_NUMBERS = _whole_numbers(_RESIDENT_ID, _CHINESE_MOBILE, _INTERNATIONAL)
# Mobiles and international numbers.
MOBILE = re.compile(_whole_numbers(_CHINESE_MOBILE, _INTERNATIONAL))
RESIDENT_ID = re.compile(_whole_numbers(_RESIDENT_ID))
_FIND_NUMBERS = re.compile(_NUMBERS)
# The email first: a mobile used as an address's local part is masked as an address.
_FIND_ALL = re.compile(r"(?P<email>" + EMAIL.pattern + r")|" + _NUMBERS)

# Whether a text can hold anything above: a digit or an at sign (of any width, in a text that
# is not ASCII). Many log lines have neither and cost this one scan.
_MAYBE_ASCII = re.compile(r"[0-9@]")
_MAYBE = re.compile(r"[0-9@\ufe6b\uff10-\uff19\uff20\U0001d7ce-\U0001d7ff]")
# What makes a text worth normalising: a character of a number or an address written another
# way (full-width digits, letters, "+", "-", "." and at sign, mathematical digits, spaces of
# other widths, dashes). Not the full-width comma, colon or brackets of Chinese prose: most
# Chinese lines have them, and they are part of no number.
_WIDE = re.compile(
    r"[\u00a0\u2000-\u200a\u2010-\u2015\u202f\u205f\u2212\u3000\ufe58\ufe63\ufe6b"
    r"\uff0b\uff0d\uff0e\uff10-\uff19\uff20-\uff3a\uff41-\uff5a\U0001d7ce-\U0001d7ff]"
)
_DASHES = frozenset("\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d")


class _Normal(dict):
    """``str.translate``'s table: each character as the one ASCII character NFKC makes of it
    (a dash as "-"), else itself; worked out once per character."""

    def __missing__(self, code: int) -> int:
        char = chr(code)
        if char in _DASHES:
            normal = "-"
        else:
            normal = unicodedata.normalize("NFKC", char)
            if len(normal) != 1 or not normal.isascii():
                normal = char
        self[code] = ord(normal)
        return self[code]


_NORMAL = _Normal()


def normalised(text: str) -> str:
    """``text`` as it is matched: the same length, character for character."""
    if text.isascii() or not _WIDE.search(text):
        return text
    return text.translate(_NORMAL)


def _may_hold_personal_data(text: str) -> bool:
    return bool((_MAYBE_ASCII if text.isascii() else _MAYBE).search(text))


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


def _star_digits(original: str, normal: str) -> str:
    """A number as written, its first 3 and last 4 digits kept and every other digit a star
    (the last 2 only, for a number of fewer than 8 digits); separators and width kept."""
    positions = [i for i, char in enumerate(normal) if char.isdigit() or char in "Xx"]
    n = len(positions)
    kept = set(positions[:3] + positions[-4:]) if n >= 8 else set(positions[-2:])
    hidden = set(positions) - kept
    return "".join("*" if i in hidden else char for i, char in enumerate(original))


def _masked(text: str, match: re.Match) -> str:
    start, end = match.span()
    original, normal = text[start:end], match.group()
    if match.lastgroup == "email":
        at = normal.index("@")
        return original[:1] + "***" + original[at:]
    code = match.group("code") if match.lastgroup == "mobile" else None
    if code:  # +86: kept as written, the number starred on its own
        cut = len(code)
        return original[:cut] + _star_digits(original[cut:], normal[cut:])
    return _star_digits(original, normal)


def mask_personal_text(text: str) -> str:
    """Free text with every email, mobile and resident ID number in it masked: ``139****5678``,
    ``+86 139****2222``, ``139 **** 5678``, ``z***@corp.example``, ``110***********4512``."""
    if not _may_hold_personal_data(text):
        return text
    normal = normalised(text)
    # The email pattern backtracks over every word: only where there is an at sign.
    pattern = _FIND_ALL if "@" in normal else _FIND_NUMBERS
    parts, done = [], 0
    for match in pattern.finditer(normal):
        parts += [text[done : match.start()], _masked(text, match)]
        done = match.end()
    if not parts:
        return text
    parts.append(text[done:])
    return "".join(parts)


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


def mask_personal_texts(data: Any) -> Any:
    """A copy of a JSON-like value with every string in it masked as free text (``mask_personal_text``):
    what is masked already stays as it is."""
    if isinstance(data, dict):
        return {k: mask_personal_texts(v) for k, v in data.items()}
    if isinstance(data, list):
        return [mask_personal_texts(v) for v in data]
    return mask_personal_text(data) if isinstance(data, str) else data
