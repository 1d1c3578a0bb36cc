"""Models every operation shares."""

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Annotated, Generic, TypeVar

from django.utils import translation
from pydantic import AfterValidator, AwareDatetime, BaseModel, BeforeValidator, Field

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

Row = TypeVar("Row")


class Page(BaseModel, Generic[Row]):
    """One page of a list; ``next_cursor`` asks for the next (null: this was the last)."""

    data: list[Row]
    next_cursor: str | None


def _iso_8601(value: object) -> dt.datetime | str:
    """Only an ISO 8601 text (or a datetime): pydantic would also read ``0.5`` as seconds
    since 1970, which no partner means."""
    if isinstance(value, dt.datetime) or (isinstance(value, str) and len(value) >= 19 and value[4] == "-"):
        return value
    raise ValueError("an ISO 8601 date and time with its offset, e.g. 2026-11-25T09:30:00Z")


def _utc(value: dt.datetime) -> dt.datetime:
    """In UTC: PostgreSQL refuses offsets beyond ±16 h that ISO 8601 allows (schemathesis)."""
    try:
        return value.astimezone(dt.UTC)
    except OverflowError:  # within a day of year 1 or 9999: as far as UTC goes (refuse nothing)
        edge = dt.datetime.min if value.year < 5000 else dt.datetime.max
        return edge.replace(tzinfo=dt.UTC)


# A moment in a request (``updated_after``): ISO 8601 with its UTC offset, as RFC 3339 says.
Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_8601), AfterValidator(_utc)]


def _in_utc(value: dt.datetime) -> dt.datetime:
    return value.astimezone(dt.UTC)


# A moment in an answer (and a webhook event's data, which are answers' schemas): in UTC,
# written ``2026-11-25T09:30:00Z``, whatever the deployment's TIME_ZONE or the value's own zone
# (a time the admin shows in local time, as a payroll line's, is the same instant here).
Moment = Annotated[AwareDatetime, AfterValidator(_in_utc)]


def plain_text(value: str) -> str:
    """No NUL (PostgreSQL refuses it in text) and no lone surrogate (not UTF-8): a 4xx, never a 5xx."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


# Text a row can store: at most so many characters, plain (``plain_text``). One alias a length,
# written out: a type checker reads no call in an annotation (``name: Text(200)`` it refuses).
Text64 = Annotated[str, Field(max_length=64), AfterValidator(plain_text)]
Text128 = Annotated[str, Field(max_length=128), AfterValidator(plain_text)]
Text200 = Annotated[str, Field(max_length=200), AfterValidator(plain_text)]
Text500 = Annotated[str, Field(max_length=500), AfterValidator(plain_text)]
Text2000 = Annotated[str, Field(max_length=2000), AfterValidator(plain_text)]
Text10000 = Annotated[str, Field(max_length=10_000), AfterValidator(plain_text)]


def admin_words(words: Iterable[tuple[str, "StrOrPromise"]], note: str = "") -> str:
    """A state's description in the document: how the admin shows each value (its English
    label, from the model's choices, so the two never drift apart). The API's values are keys
    a partner's code compares, kept stable; the admin's words are for people, and a partner
    talking with staff finds one in the other (docs/api.md, "The API's words and the admin's")."""
    with translation.override("en"):
        listed = "; ".join(f"`{value}`: {label}" for value, label in words)
    return f"{note + ' ' if note else ''}As the admin shows them: {listed}."
