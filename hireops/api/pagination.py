"""Cursor pagination: ``{"data": [...], "next_cursor": "…" | null}``.

The order is a stable key of the rows (by default ``updated_at`` then ``id``, so a partner
syncing with ``updated_after`` walks forward); the cursor is the last row's key, opaque
(URL-safe base64 of JSON). A page is one index range scan whatever its depth, where an
offset would read every earlier row and skip or repeat rows that changed between pages.
"""

import base64
import datetime as dt
import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypedDict, TypeVar

from django.db.models import Model, Q, QuerySet
from ninja import Schema
from pydantic import Field

from .problems import Problem

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
# The longest cursor this API gives (a payout run's lines: a tenant key of 128 characters, each
# of up to 4 bytes in UTF-8, and an id: 715 characters) with room; its characters are URL-safe
# base64's. Both are in the document, so the longest request line is known (gunicorn.conf.py).
CURSOR_MAX_LENGTH = 768
CURSOR_PATTERN = r"^[A-Za-z0-9_-]*$"

_Row = TypeVar("_Row", bound=Model)
_Out = TypeVar("_Out")
# The key rows are ordered by: (field, its type: dt.datetime, int or str), most significant first.
Order = Sequence[tuple[str, type[Any]]]


class PageOf(TypedDict, Generic[_Out]):
    """A page as an operation returns it (``schemas.Page`` is its document)."""

    data: list[_Out]
    next_cursor: str | None


class PageParams(Schema):
    cursor: str | None = Field(None, max_length=CURSOR_MAX_LENGTH, pattern=CURSOR_PATTERN)
    limit: int = DEFAULT_LIMIT


def encode_cursor(values: Iterable[object]) -> str:
    plain = [v.isoformat() if isinstance(v, dt.datetime) else v for v in values]
    text = json.dumps(plain, separators=(",", ":"), ensure_ascii=False)  # UTF-8: shorter than \u escapes
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, fields: Order) -> list[Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(fields):
            raise ValueError
        out = []
        for value, (_name, kind) in zip(values, fields, strict=True):
            if kind is dt.datetime:
                value = dt.datetime.fromisoformat(value)
                if value.tzinfo is None:
                    raise ValueError
                value = value.astimezone(dt.UTC)  # PostgreSQL takes no offset beyond ±16 h
            elif not isinstance(value, kind) or isinstance(value, bool):
                raise ValueError
            elif kind is int and not 0 <= value < 2**63:  # beyond a bigint: the database would fail
                raise ValueError("out of range")
            elif isinstance(value, str) and ("\x00" in value or not value.isprintable()):
                raise ValueError  # PostgreSQL stores no NUL: never a value this API gave
            out.append(value)
        return out
    except (ValueError, TypeError, OverflowError, UnicodeDecodeError, json.JSONDecodeError):
        # Never the decoder's own words ("'utf-8' codec can't decode byte 0x81"): they say how
        # this API reads its cursors, nothing the partner can act on.
        raise Problem(
            400,
            "The cursor is not one this API gave: send one from a page's next_cursor, or none.",
            kind="invalid-cursor",
            errors=[("cursor", "not a cursor this API gave")],
        ) from None


def page(
    queryset: QuerySet[_Row],
    params: PageParams,
    *,
    order: Order = (("updated_at", dt.datetime), ("id", int)),
    serialize: Callable[[_Row], _Out],
    newest_first: bool = False,
) -> PageOf[_Out]:
    """One page of ``queryset`` in ``order`` (field, type) ascending (``newest_first``:
    descending), rows turned into answers by ``serialize``."""
    if not 1 <= params.limit <= MAX_LIMIT:
        raise Problem(
            400,
            f"limit is between 1 and {MAX_LIMIT}.",
            kind="invalid-parameter",
            errors=[("limit", f"between 1 and {MAX_LIMIT}")],
        )
    names = [name for name, _ in order]
    beyond, bound = ("lt", "lte") if newest_first else ("gt", "gte")
    if params.cursor:
        values = decode_cursor(params.cursor, order)
        after = Q()
        for i in range(len(names) - 1, -1, -1):  # (a, b) > (x, y)  ==  a > x or (a = x and b > y)
            step = Q(**{f"{names[i]}__{beyond}": values[i]})
            after = step if i == len(names) - 1 else step | (Q(**{names[i]: values[i]}) & after)
        # a >= x as well: the same rows, but a bound PostgreSQL starts the index scan at (the
        # OR alone makes it read the index from its start and filter: slower every page).
        queryset = queryset.filter(Q(**{f"{names[0]}__{bound}": values[0]}) & after)
    rows = list(queryset.order_by(*(f"-{n}" if newest_first else n for n in names))[: params.limit + 1])
    more = len(rows) > params.limit
    rows = rows[: params.limit]
    next_cursor = encode_cursor([getattr(rows[-1], name) for name in names]) if more else None
    return {"data": [serialize(row) for row in rows], "next_cursor": next_cursor}
