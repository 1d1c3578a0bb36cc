"""Personal data: which fields hold it, who may see it, and what the others are shown.

A model declares its personal fields next to its other fields, in one class attribute::

    personal_fields = {
        "mobile_number": personal.Mobile(code="mobile_code"),
        "email": personal.EMAIL,
        "comment": personal.FREE_TEXT,  # text or JSON a mobile or email may have been typed into
    }

That one declaration is what every reader follows: the admin's guard
(``hireops.core.personal_guard``, in front of every ModelAdmin) masks the fields on every page
and refuses to filter, search or sort by them for users without ``core.view_personal_data``,
and exports and displays render them through ``shown``.
"""

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from django.core.exceptions import FieldDoesNotExist
from django.db.models.constants import LOOKUP_SEP

from .masking import mask_email, mask_mobile, mask_personal_text, mask_personal_values

PERMISSION = "core.view_personal_data"


def can_see_personal_data(user) -> bool:
    return bool(user and user.is_authenticated and user.has_perm(PERMISSION))


@dataclass(frozen=True)
class Mobile:
    """A mobile number; ``code`` names the field holding its country code, shown before it."""

    code: str = ""

    def render(self, obj, value, full: bool) -> str:
        number = str(value) if full else mask_mobile(str(value))
        code = getattr(obj, self.code, "") if self.code else ""
        return f"+{code} {number}" if code else number


@dataclass(frozen=True)
class Email:
    def render(self, obj, value, full: bool) -> str:
        return str(value) if full else mask_email(str(value))


@dataclass(frozen=True)
class FreeText:
    """Text or JSON that may hold a mobile or an email someone typed in (a comment, a payload):
    shown with those masked, never searched or filtered by users who may not see them.
    ``text(obj)``, when given, is what the row reads as (the change history's message in the
    reader's language) instead of the stored value."""

    text: Callable | None = None

    def render(self, obj, value, full: bool) -> str:
        if self.text is not None:
            value = self.text(obj)
        if isinstance(value, dict | list):
            shown = value if full else mask_personal_values(value)
            return json.dumps(shown, ensure_ascii=False, indent=2, sort_keys=True)
        return str(value) if full else mask_personal_text(str(value))


MOBILE, EMAIL, FREE_TEXT = Mobile(), Email(), FreeText()
Kind = Mobile | Email | FreeText


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


def shown(user, obj, name: str, *, full: bool | None = None) -> str:
    """``obj``'s personal field ``name`` as ``user`` may see it ("" when empty): in full with
    the permission, masked without."""
    value = getattr(obj, name)
    if value in (None, "", [], {}):
        return ""
    if full is None:
        full = can_see_personal_data(user)
    return fields_of(type(obj))[name].render(obj, value, full)
