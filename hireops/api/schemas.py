"""Models every operation shares."""

from typing import Generic, TypeVar

from pydantic import BaseModel

Row = TypeVar("Row")


class Page(BaseModel, Generic[Row]):
    """One page of a list; ``next_cursor`` asks for the next (null: this was the last)."""

    data: list[Row]
    next_cursor: str | None
