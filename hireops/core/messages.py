"""Texts the system stores for staff to read later (reasons, errors), in each reader's language.

A service stores ``Message(gettext_noop("No customer has %(values)s."), values=...)``: the
English message id and its values, kept as JSON by a ``MessageField``. A text that counts
something is given in its two English forms, with the name of the value that counts
(``Message(ngettext_lazy("%(n)d attempt", "%(n)d attempts", "n"), n=3)``): each reader reads
the form their language has for that number ("1 attempt", "2 attempts"). Reading the row turns it
back into text in the language active at that moment (the reader's, in a request), whatever
language the worker that wrote it ran in. Anything else (staff's own words, Feishu's msg, rows
written before) is stored and read as it is.

Words that have no message id of their own (a lazy string built of others, as the status
checks' titles are) are stored rendered in each of ``LANGUAGES`` (``in_each_language``) and read
in the reader's.
"""

import json
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import translation
from django.utils.translation import gettext, gettext_noop, ngettext

from .mixin_bases import FieldMixin

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

_MARK = '{"msgid": '
_TEXTS_MARK = '{"texts": '
_REWORDED: dict[str, str] = {}  # msgid stored by an earlier release → the msgid that replaced it
# msgid stored by an earlier release → the Message its values read as now
_UPGRADED: dict[str, "Callable[[dict], Message]"] = {}


def reworded(msgid: str, *, was: str) -> str:
    """Declare ``msgid`` the new wording of ``was``: rows stored with ``was`` read as ``msgid``
    (an old text may promise what is no longer true, and leaves the catalogue). Returns ``msgid``."""
    _REWORDED[was] = msgid
    return msgid


def render(msgid: str, params: dict, plural: str = "", number: str = "") -> str:
    """``msgid`` translated into the active language and filled with ``params``; with a
    ``plural``, the form the language has for the count ``params[number]``."""
    english = msgid
    if plural:
        count = params.get(number)
        count = count if isinstance(count, int) else 2  # a count lost: the plural form
        msgid, english = ngettext(msgid, plural, count), (msgid if count == 1 else plural)
    else:
        msgid = gettext(msgid)
    for text in (msgid, english):  # a translation that lost a placeholder falls back
        try:
            return text % params if params else text
        except (KeyError, TypeError, ValueError):
            continue
    return english


def forms(msgid) -> tuple[str, str, str]:
    """(singular, plural, the name of the value that counts) of ``ngettext_lazy(singular,
    plural, "n")``; (msgid, "", "") of a text that counts nothing."""
    if isinstance(msgid, str):
        return msgid, "", ""
    _unpickle, (_func, _result, number, texts) = msgid.__reduce__()  # how Django pickles it
    return texts["singular"], texts["plural"], number


def upgraded(was: str, how: "Callable[[dict], Message]") -> None:
    """Rows stored with ``was`` read as ``how(their values)``: where the new words need other
    values than the old (the fact an exception's name stood for, not the name)."""
    _UPGRADED[was] = how


def is_upgraded(msgid: str) -> bool:
    return msgid in _UPGRADED


class Message(str):
    """Text in the active language now, which remembers how to render itself again.

    ``params`` are plain values or other Messages (an explanation inside a reason).
    """

    msgid: str
    plural: str  # the English plural of a text that counts, "" otherwise
    number: str  # the name of the value that counts
    params: dict[str, object]

    def __new__(cls, msgid: "str | StrOrPromise", **params):
        return cls._made(*forms(msgid), params)

    def to_json(self) -> dict:
        params = {k: v.to_json() if isinstance(v, Message) else v for k, v in self.params.items()}
        if self.plural:  # after the msgid: stored rows start with it (_MARK, stored_as)
            return {"msgid": self.msgid, "plural": self.plural, "number": self.number, "params": params}
        return {"msgid": self.msgid, "params": params}

    @classmethod
    def from_json(cls, data: dict) -> "Message":
        params = {
            k: cls.from_json(v) if isinstance(v, dict) and "msgid" in v else v
            for k, v in (data.get("params") or {}).items()
        }
        if data["msgid"] in _UPGRADED:
            return _UPGRADED[data["msgid"]](params)
        if data.get("plural"):
            return cls._made(data["msgid"], data["plural"], data["number"], params)
        return cls(_REWORDED.get(data["msgid"], data["msgid"]), **params)

    @classmethod
    def _made(cls, singular: str, plural: str, number: str, params: dict) -> "Message":
        text = str.__new__(cls, render(singular, params, plural, number))
        text.msgid, text.plural, text.number, text.params = singular, plural, number, params
        return text


class Texts(str):
    """Text rendered in each language when it was stored: the reader's language now."""

    texts: dict[str, str]

    def __new__(cls, texts: dict[str, str]):
        now = texts.get(_language()) or texts.get(settings.LANGUAGE_CODE) or next(iter(texts.values()), "")
        text = super().__new__(cls, now)
        text.texts = texts
        return text

    def to_json(self) -> dict:
        return {"texts": self.texts}


def _language() -> str:
    try:  # "en-us" reads the "en" text
        return translation.get_supported_language_variant(
            translation.get_language() or settings.LANGUAGE_CODE
        )
    except LookupError:
        return settings.LANGUAGE_CODE


def in_each_language(value) -> Texts:
    """``value`` (a lazy string, a Message, a number) as text in each of ``LANGUAGES``, to store
    where no message id says it (it reads in the reader's language)."""
    texts = {}
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            texts[code] = str(value)
    return Texts(texts)


# Two texts one after the other, as ``joined`` puts a list of them.
_AND_THEN = gettext_noop("%(first)s; %(rest)s")


def joined(parts: list) -> str:
    """``parts`` (Messages or plain texts) one after another, "; " between them, as one Message
    that reads in each reader's language; "" for none."""
    if not parts:
        return ""
    together = parts[-1]
    for part in reversed(parts[:-1]):
        together = Message(_AND_THEN, first=part, rest=together)
    return together


def stored_as(field: str, *msgids: str) -> Q:
    """Rows whose ``field`` holds a Message of one of ``msgids``, whatever its values (as
    stored: JSON with the msgid first), e.g. to leave out rows closed for a known reason."""
    query = Q()
    for msgid in msgids:
        prefix = json.dumps({"msgid": msgid}, ensure_ascii=False)[:-1] + ","  # '{"msgid": "…",'
        query |= Q(**{f"{field}__startswith": prefix})
    return query


def read(value):
    """A stored value as text in the active language (the field does this on every read)."""
    if isinstance(value, str) and value.startswith(_MARK):
        try:
            return Message.from_json(json.loads(value))
        except (ValueError, KeyError, TypeError):
            return value
    if isinstance(value, str) and value.startswith(_TEXTS_MARK):
        try:
            return Texts(dict(json.loads(value)["texts"]))
        except (ValueError, KeyError, TypeError):
            return value
    return value


class _StoresMessages(FieldMixin):
    def from_db_value(self, value, expression, connection):
        return read(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if isinstance(value, Message | Texts):
            # Starts with _MARK (msgid comes first) or _TEXTS_MARK.
            stored = json.dumps(value.to_json(), ensure_ascii=False)
            if self.max_length is None or len(stored) <= self.max_length:
                return stored
        if isinstance(value, str) and self.max_length:
            return str(value)[: self.max_length]  # too long to keep its form: the text as it reads now
        return value


class MessageField(_StoresMessages, models.CharField):
    """A CharField for text the system writes for staff; see the module."""


class MessageTextField(_StoresMessages, models.TextField):
    """A TextField for text the system writes for staff; see the module."""


def restore(model, field: str, msgids: list[str]) -> int:
    """For a data migration: rows whose ``field`` holds the text of one of ``msgids`` (without
    values) as some language read it when it was written, stored as that Message instead, so
    they read in each reader's language from now on. Returns how many rows changed."""
    changed = 0
    for msgid in msgids:
        stored = json.dumps(Message(msgid).to_json(), ensure_ascii=False)
        for code, _name in settings.LANGUAGES:
            with translation.override(code):
                text = gettext(msgid)
            changed += model.objects.filter(**{field: text}).update(**{field: stored})
    return changed
