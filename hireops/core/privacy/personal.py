"""Personal data: which fields hold it, who may see it, and what the others are shown.

A model declares its personal fields next to its other fields, in one class attribute::

    personal_fields = {
        "mobile_number": personal.Mobile(code="mobile_code"),
        "email": personal.EMAIL,
        "comment": personal.FREE_TEXT,  # text or JSON anyone may have typed personal data into
    }

That one declaration is what every reader follows: the admin's guard
(``hireops.core.admin.personal_guard``, in front of every ModelAdmin) masks the fields on every page
and refuses to filter, search or sort by them for users without ``core.view_personal_data``,
and exports and displays render them through ``shown``; the partner API through ``answered``,
for a key without its app's personal-data scope.

A mobile or an email is masked (``139****5678``, ``z***@example.com``). Free text is hidden
whole: it is what a person typed, and no pattern finds every way of writing a name, an
address, a mobile or an ID number in it. Its reader sees that there is something, and the
shape of a JSON value (its keys, and the values under keys declared harmless), never a
character of the text: "(hidden: personal data)" in the reader's language, and in English
(``HIDDEN``) to the API, which always answers in English.
"""

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP
from django.utils.translation import gettext, gettext_noop

from .masking import mask_email, mask_mobile, mask_personal_text

PERMISSION = "core.view_personal_data"
# What stands for free text a reader may not see. The API's, whatever language is active (a
# webhook's data is rendered in a worker or an admin request); the admin shows it translated.
HIDDEN = gettext_noop("(hidden: personal data)")


def hidden_text() -> str:
    """``HIDDEN`` in the reader's language."""
    return gettext(HIDDEN)


def hide(value: Any, placeholder: str, keep: Collection[str] = ()) -> Any:
    """``value`` (text, or JSON) with every text and number in it replaced by ``placeholder``:
    the keys of JSON objects stay, and so do empty texts, booleans and nulls (they say nothing
    a person typed), and the texts under a key in ``keep`` (masked as logs mask them: a key
    declared harmless that holds a mobile all the same does not show it)."""
    if isinstance(value, dict):
        return {
            k: mask_personal_text(v) if k in keep and isinstance(v, str) else hide(v, placeholder, keep)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [hide(v, placeholder, keep) for v in value]
    if value in ("", None) or isinstance(value, bool):
        return value
    return placeholder


def can_see_personal_data(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(PERMISSION))


@dataclass(frozen=True)
class Mobile:
    """A mobile number; ``code`` names the field holding its country code, shown before it."""

    code: str = ""

    def render(self, obj, value, full: bool, placeholder: str) -> str:
        number = str(value) if full else mask_mobile(str(value))
        code = getattr(obj, self.code, "") if self.code else ""
        return f"+{code} {number}" if code else number


@dataclass(frozen=True)
class Email:
    def render(self, obj, value, full: bool, placeholder: str) -> str:
        return str(value) if full else mask_email(str(value))


@dataclass(frozen=True)
class FreeText:
    """Text or JSON someone typed (a comment, a form's values, a payload): hidden whole from
    users who may not see personal data (``hide``), never searched or filtered by them.

    ``keep`` names JSON keys whose values are no one's data but the form's own (a form value's
    ``key``): shown to everyone, as the API shows them. ``text(obj, placeholder)``, when given,
    is what the row reads as instead of the stored value (the change history's message in the
    reader's language), with what was typed in it as ``placeholder`` (None: shown in full); the
    rest of it is then shown with its mobiles, emails and ID numbers masked."""

    text: Callable | None = None
    keep: tuple[str, ...] = ()

    def render(self, obj, value, full: bool, placeholder: str) -> str:
        if self.text is not None:
            shown = self.text(obj, None if full else placeholder)
            return shown if full else mask_personal_text(shown)
        if isinstance(value, dict | list):
            value = value if full else hide(value, placeholder, self.keep)
            return json.dumps(value, ensure_ascii=False, indent=2, sort_keys=True)
        return str(value) if full else placeholder


@dataclass(frozen=True)
class MaskedText:
    """Text about something else that a mobile, an email or an ID number may have been
    written into (why Feishu's customer canceled an order): readable to everyone, with those
    masked as logs mask them; never searched or filtered by users who may not see them."""

    def render(self, obj, value, full: bool, placeholder: str) -> str:
        return str(value) if full else mask_personal_text(str(value))


MOBILE, EMAIL, FREE_TEXT, MASKED_TEXT = Mobile(), Email(), FreeText(), MaskedText()
Kind = Mobile | Email | FreeText | MaskedText


@cache
def _declarations() -> dict:
    """{concrete model: {field name: kind}}, from every installed model's ``personal_fields``
    (a proxy's declaration covers its concrete model: the rows are the same)."""
    from django.apps import apps

    declared: dict = {}
    for model in apps.get_models():
        fields = getattr(model, "personal_fields", None) or {}
        if fields:
            declared.setdefault(model._meta.concrete_model, {}).update(fields)
    return declared


def fields_of(model) -> dict[str, Kind]:
    """The model's personal fields and their kinds ({} for none)."""
    return _declarations().get(model._meta.concrete_model, {})


def declared_models() -> list:
    return list(_declarations())


def resolve(model, path: str):
    """(model, field name, kind) of the personal field a lookup, search or ordering path ends
    on or passes through (``email``, ``account__mobile_number__startswith``, ``payload__x``,
    ``-email``, ``=email``), following relations both ways; None when it touches none."""
    path = path.lstrip("-^=@")
    for part in path.split(LOOKUP_SEP):
        if part == "pk":
            part = model._meta.pk.name
        try:
            field = model._meta.get_field(part)
        except FieldDoesNotExist:
            return None  # a lookup or transform on a field that is not personal
        kind = fields_of(model).get(field.name)
        if kind is not None:
            return model, field.name, kind
        if not field.is_relation or field.related_model is None:
            return None
        model = field.related_model
    return None


def reaches(model, path: str) -> bool:
    return resolve(model, path) is not None


def shown(user, obj, name: str, *, full: bool | None = None, placeholder: str | None = None) -> str:
    """``obj``'s personal field ``name`` as ``user`` may see it ("" when empty): in full with
    the permission, masked without; free text hidden behind ``placeholder`` (by default
    ``HIDDEN`` in the reader's language)."""
    value = getattr(obj, name)
    if value in (None, "", [], {}):
        return ""
    if full is None:
        full = can_see_personal_data(user)
    placeholder = hidden_text() if placeholder is None else placeholder
    return fields_of(type(obj))[name].render(obj, value, full, placeholder)


def answered(obj, name: str, *, full: bool) -> str:
    """``shown`` as the partner API answers it: free text hidden behind the English ``HIDDEN``."""
    return shown(None, obj, name, full=full, placeholder=HIDDEN)
