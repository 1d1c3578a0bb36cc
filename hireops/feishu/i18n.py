"""Feishu's i18n objects (``{"zh_cn": …, "en_us": …}``), built in one place for every body we send.

A language with no text is left out, and an object with no language is left out, instead of
sending ``""``: Feishu marks each language (and descriptions) optional and shows the
language it has to everyone (docs/feishu.md §2, §8). A required text (a name) that is empty
in both languages is refused here, before anything is sent.
"""

from __future__ import annotations

LANGUAGES = (("zh_cn", 0), ("en_us", 1))


class MissingText(ValueError):
    """A required i18n text has no language at all; ``what`` names it for the caller."""

    def __init__(self, what: str):
        super().__init__(f"{what} is empty in every language")
        self.what = what


def i18n(zh: str | None = "", en: str | None = "") -> dict[str, str] | None:
    """``{"zh_cn": zh, "en_us": en}`` without the empty languages; None when both are empty."""
    texts = {"zh_cn": (zh or "").strip(), "en_us": (en or "").strip()}
    kept = {language: text for language, text in texts.items() if text}
    return kept or None


def required_i18n(zh: str | None, en: str | None, *, what: str) -> dict[str, str]:
    """Like ``i18n``, but a text Feishu requires: raises ``MissingText`` when both are empty."""
    value = i18n(zh, en)
    if value is None:
        raise MissingText(what)
    return value
