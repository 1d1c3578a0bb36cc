"""Models every operation shares."""

import datetime as dt
from typing import Annotated, Generic, TypeVar

from pydantic import AwareDatetime, BaseModel, BeforeValidator

Row = TypeVar("Row")


class Page(BaseModel, Generic[Row]):
    """One page of a list; ``next_cursor`` asks for the next (null: this was the last)."""

    data: list[Row]
    next_cursor: str | None


def _iso_8601(value):
    """Only an ISO 8601 text (or a datetime): pydantic would also read ``0.5`` as seconds
    since 1970, which no partner means."""
    if isinstance(value, dt.datetime) or (isinstance(value, str) and len(value) >= 19 and value[4] == "-"):
        return value
    raise ValueError("an ISO 8601 date and time with its offset, e.g. 2026-11-25T09:30:00Z")


# A moment in a request (``updated_after``): ISO 8601 with its UTC offset, as RFC 3339 says.
Timestamp = Annotated[AwareDatetime, BeforeValidator(_iso_8601)]
