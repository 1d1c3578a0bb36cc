"""What the catalogue's operations answer and take."""

import datetime as dt
import enum
from typing import Annotated, Any, Literal

from ninja import Schema
from pydantic import BaseModel, Field, StrictBool, StrictInt, field_validator

from hireops.api.pagination import PageParams
from hireops.api.schemas import Moment, Timestamp, admin_words
from hireops.core.models import CallStatus

from ..catalogue.models import Catalogue, RolloutStatus

MAX_ENTRIES = 1000  # hireops' own bound on one list (Feishu prints none); a catalogue is far smaller
MAX_CUSTOMERS = 1000
FEISHU_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$"  # orders.catalogue.models.feishu_id_validator


# --- answers --------------------------------------------------------------------------------


class Answer(BaseModel):
    """Plain pydantic answers built from keyword arguments (as the orders' are, orders.api.schemas)."""


class PackageOut(Answer):
    id: str = Field(description="The package's id in Feishu (chosen by the vendor)")
    name: str
    description: str
    turnaround_days: int = Field(description="hireops' own: an order open longer shows as overdue")
    only_for: list[int] = Field(description="Customer ids it is offered to; empty: every customer")
    updated_at: Moment


class AdditionalItemOut(Answer):
    id: str
    name: str
    description: str
    only_for: list[int]
    updated_at: Moment


class PackagesOut(Answer):
    packages: list[PackageOut]
    additional_items: list[AdditionalItemOut]


class PaperOut(Answer):
    id: str = Field(description="The paper's id in Feishu (chosen by the vendor)")
    name: str
    duration_minutes: int | None
    question_count: int | None
    starts_at: Moment | None = Field(description="When it opens; null: no start limit")
    ends_at: Moment | None = Field(description="When it closes; null: no end limit")
    turnaround_days: int
    only_for: list[int]
    updated_at: Moment


class PapersOut(Answer):
    papers: list[PaperOut]


class RolloutState(enum.StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"


class PushState(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


STATUS: dict[str, PushState] = {
    CallStatus.QUEUED: PushState.QUEUED,
    CallStatus.SUCCEEDED: PushState.SENT,
    CallStatus.FAILED: PushState.FAILED,
}
CATALOGUE_NAME: dict[str, Any] = {  # the Literal names of RolloutOut
    Catalogue.PACKAGES: "packages",
    Catalogue.FORM_FIELDS: "form_fields",
    Catalogue.PAPERS: "exam_papers",
}


class PushCounts(Answer):
    queued: int = Field(description="Pushes waiting to be sent, or being sent")
    sent: int
    failed: int


class RolloutOut(Answer):
    id: int
    catalogue: Literal["packages", "form_fields", "exam_papers"]
    status: RolloutState = Field(
        description=admin_words(RolloutStatus.choices, "`running`: the bound accounts are being looked at.")
    )
    accounts: int = Field(description="Bound accounts of the catalogue's kind when the rollout started")
    accounts_looked_at: int
    pushes: PushCounts = Field(
        description="The pushes to the accounts whose Feishu differed (for a key limited to tenants: theirs)"
    )
    requested_at: Moment
    started_at: Moment | None
    finished_at: Moment | None = Field(description="When every account was looked at (pushes may still run)")


class ReplaceOut(Answer):
    catalogue: Literal["packages", "exam_papers"]
    changed: bool = Field(description="False: the document equals the catalogue; nothing was queued")
    added: list[str] = Field(description="Ids added (or brought back)")
    updated: list[str] = Field(description="Ids whose content changed")
    withdrawn: list[str] = Field(description="Ids no longer on offer")
    rollout: RolloutOut | None = Field(description="The rollout carrying the change (null when unchanged)")


class PushOut(Answer):
    id: int
    rollout_id: int | None
    tenant: str
    account_id: str
    status: PushState = Field(
        description=admin_words([(STATUS[value].value, label) for value, label in CallStatus.choices])
    )
    error: str | None = Field(description="Why it failed (Feishu's message, explained); null unless failed")
    error_code: int | None
    requested_at: Moment
    finished_at: Moment | None


# --- requests -------------------------------------------------------------------------------

# Strict: a partner's "5" or false where a number or a flag belongs is refused, not guessed.
CustomerId = Annotated[StrictInt, Field(ge=1, lt=2**63)]
Days = Annotated[StrictInt, Field(ge=1, le=365)]
Count_ = Annotated[StrictInt, Field(ge=0, le=2**31 - 1)]


def _plain(value):
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class Entry(Schema):
    only_for: list[CustomerId] = Field(
        default_factory=list, max_length=MAX_CUSTOMERS, description="Customer ids; empty: every customer"
    )


class PackageIn(Entry):
    id: str = Field(
        min_length=1, max_length=36, pattern=FEISHU_ID, description="At most 36 characters (Feishu)"
    )
    name: str = Field(min_length=1, max_length=100, description="At most 100 characters (Feishu)")
    description: str = Field("", max_length=2000)
    turnaround_days: Days | None = Field(
        None, description="Omitted: the entry's own is kept (7 for a new one)"
    )

    _plain = field_validator("id", "name", "description")(_plain)


class AdditionalItemIn(Entry):
    id: str = Field(min_length=1, max_length=36, pattern=FEISHU_ID)
    name: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)

    _plain = field_validator("id", "name", "description")(_plain)


class PackagesIn(Schema):
    """The whole list: what is not listed is withdrawn."""

    packages: list[PackageIn] = Field(max_length=MAX_ENTRIES)
    additional_items: list[AdditionalItemIn] = Field(max_length=MAX_ENTRIES)


class PaperIn(Entry):
    id: str = Field(min_length=1, max_length=255, pattern=FEISHU_ID, description="At most 255 characters")
    name: str = Field(min_length=1, max_length=255)
    duration_minutes: Count_ | None = None
    question_count: Count_ | None = None
    starts_at: Timestamp | None = None
    ends_at: Timestamp | None = None
    turnaround_days: Days | None = Field(
        None, description="Omitted: the paper's own is kept (7 for a new one)"
    )

    _plain = field_validator("id", "name")(_plain)

    @field_validator("starts_at", "ends_at")
    @classmethod
    def _sane(cls, value):
        if value is not None and not dt.datetime(1970, 1, 2, tzinfo=dt.UTC) <= value <= dt.datetime(
            2200, 1, 1, tzinfo=dt.UTC
        ):
            raise ValueError("must be between 1970 and 2200")
        return value


class PapersIn(Schema):
    """The whole list: what is not listed is withdrawn."""

    papers: list[PaperIn] = Field(max_length=MAX_ENTRIES)
    move_scheduled_exams: StrictBool = Field(
        False, description="Needed when a paper's new window moves exams already arranged on it (Feishu)"
    )


class PushFilters(PageParams):
    tenant: str | None = Field(None, max_length=128)
    status: PushState | None = None

    _plain = field_validator("tenant")(_plain)
