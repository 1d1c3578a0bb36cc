"""What the vendor orders' operations answer and take, and how an order becomes its answer,
masked for the key that reads it."""

import datetime as dt
import enum
import re
from typing import Annotated, Any, Literal

from django.utils import timezone
from ninja import Schema
from pydantic import BaseModel, Field, field_validator

from hireops.api.pagination import PageParams
from hireops.api.schemas import Moment, Timestamp, admin_words
from hireops.core.models import CallStatus
from hireops.core.privacy import personal
from hireops.core.privacy.masking import mask_personal_text, mask_text

from ..models import BackgroundCheck, CheckState, Exam, ExamState, OrderWrite, ReportFile, WriteKind
from .scopes import PERSONAL

BGC, EXAM = "background_check", "exam"
PREFIX = {BGC: "bgc", EXAM: "exam"}
MODEL: dict[str, type[Any]] = {BGC: BackgroundCheck, EXAM: Exam}
FEISHU_ID = {BGC: "background_check_id", EXAM: "exam_id"}
ORDER_FIELD = {BGC: "background_check", EXAM: "exam"}
_ID = re.compile(r"^(bgc|exam)_([1-9][0-9]{0,17})$")  # a primary key below 2**63
# An order's id in a path, bounded in the document (well past the longest, 23 characters) so
# the longest request line a partner may send is known (gunicorn.conf.py).
OrderId = Annotated[str, Field(max_length=64)]
OrderType = Literal["background_check", "exam"]


class OrderState(enum.StrEnum):
    """A background check's states and an exam's (``new`` is both's)."""

    NEW = "new"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    CANCELED = "canceled"
    TERMINATED = "terminated"
    ARRANGED = "arranged"
    ANSWERED = "answered"
    GRADED = "graded"


STATES = {BGC: set(CheckState.values), EXAM: set(ExamState.values)}
STATE_WORDS = dict([*CheckState.choices, *ExamState.choices]).items()  # "new" once


class WriteStatus(enum.StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    FAILED = "failed"


STATUS: dict[str, WriteStatus] = {
    CallStatus.QUEUED: WriteStatus.QUEUED,
    CallStatus.SUCCEEDED: WriteStatus.SENT,
    CallStatus.FAILED: WriteStatus.FAILED,
}
# The admin shows a call's status (a write's, a catalogue push's) by its stored value's label.
CALL_WORDS = admin_words(
    [(STATUS[value].value, label) for value, label in CallStatus.choices],
    "`queued`: waiting to be sent, being sent, or to be sent again.",
)


def _plain(value: str | None) -> str | None:
    if value is not None and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


# --- answers --------------------------------------------------------------------------------


class Answer(BaseModel):
    """The answers are plain pydantic models built from keyword arguments: ninja's ``Schema``
    reads Django objects through a getter per field, which a 200-row page does not need (it
    was most of the page's time)."""


class Person(Answer):
    name: str
    mobile: str
    email: str


class Candidate(Person):
    first_name: str
    last_name: str


class FormValue(Answer):
    key: str
    value: str


class Section(Answer):
    id: str
    name: str
    result: str


class ReportOut(Answer):
    id: int
    name: str
    kind: Literal["file", "link"]
    preview_url: str
    uploaded_at: Moment


class WriteOut(Answer):
    """One thing sent (or to be sent) to Feishu about the order."""

    id: int
    order_id: str
    kind: WriteKind = Field(
        description=admin_words(
            WriteKind.choices, "`cancel` is what `/terminate` sends after its “terminated” stage."
        )
    )
    status: WriteStatus = Field(description=CALL_WORDS)
    error: str | None = Field(description="Why it failed (Feishu's message, explained); null unless failed")
    error_code: int | None
    requested_at: Moment
    finished_at: Moment | None
    stage_id: str
    stage_name: str
    stage_en_name: str
    time: Moment | None = Field(description="The stage's, result's or score's time")
    result: str = Field(description="The stage's result, the final result or the score")
    details: list[Section]
    report_ids: list[int]
    exam_url: str
    exam_username: str


class WritesOut(Answer):
    data: list[WriteOut]


class OrderOut(Answer):
    id: str = Field(description="hireops' id: bgc_<n> or exam_<n>")
    type: OrderType
    feishu_id: str
    tenant: str
    account_id: str
    customer_id: int | None
    state: OrderState = Field(description=admin_words(STATE_WORDS))
    package_id: str | None = Field(description="A background check's package (null for an exam)")
    additional_item_ids: list[str] | None
    paper_id: str | None = Field(description="An exam's paper (null for a background check)")
    candidate: Candidate
    contact: Person | None = Field(description="The customer's contact (background checks)")
    form_values: list[FormValue] | None
    comment: str | None
    result: str | None
    cancel_reason: str | None
    score: str | None
    exam_url: str | None
    exam_username: str | None
    talent_id: str | None
    application_id: str | None
    reports: list[ReportOut]
    writes: list[WriteOut]
    received_at: Moment
    ended_at: Moment | None
    purged_at: Moment | None
    updated_at: Moment


class OrderFilters(PageParams):
    updated_after: Timestamp | None = None
    state: OrderState | None = None
    tenant: str | None = Field(None, max_length=128)
    type: OrderType | None = None
    feishu_id: str | None = Field(None, max_length=128)

    _plain = field_validator("tenant", "feishu_id")(_plain)


class Masker:
    """What a key is shown of an order's personal data."""

    def __init__(self, request=None, *, full: bool | None = None):
        self.full = full if full is not None else PERSONAL in request.api_key.scopes

    def declared(self, obj, name: str) -> str:
        """A field the model declares personal, as the admin shows it (masked without the scope)."""
        return personal.answered(obj, name, full=self.full)

    def whole(self, value: str) -> str:
        """Free text, hidden whole without the scope (as ``declared`` hides a declared one)."""
        return value if self.full or not value else personal.HIDDEN

    def text(self, value: str) -> str:
        return value if self.full else mask_text(value)

    def free(self, value: str) -> str:
        return value if self.full else mask_personal_text(value)


def order_id(kind: str, pk: int) -> str:
    return f"{PREFIX[kind]}_{pk}"


def _time(ms: int | None) -> dt.datetime | None:
    if ms is None:
        return None
    try:
        return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC)
    except (OverflowError, OSError, ValueError):
        return None


def write_out(write: Any, mask: Masker, report_ids=()) -> WriteOut:
    """A write as the API answers it: an ``OrderWrite``, or a row of its ``WRITE_READ`` columns."""
    kind = BGC if write.background_check_id else EXAM
    failed = write.status == CallStatus.FAILED
    return WriteOut(
        id=write.pk,
        order_id=order_id(kind, write.background_check_id or write.exam_id),  # one is set
        kind=write.kind,  # the stored value: pydantic reads it as the enum
        status=STATUS[write.status],
        error=str(write.error) if failed and write.error else None,
        error_code=write.error_code if failed else None,
        requested_at=write.requested_at,
        finished_at=write.finished_at,
        stage_id=write.stage_id,
        stage_name=write.stage_name,
        stage_en_name=write.stage_en_name,
        time=_time(write.time_ms),
        result=write.result,
        details=[
            Section(
                id=str(d.get("id") or ""), name=str(d.get("name") or ""), result=str(d.get("result") or "")
            )
            for d in write.details or []
            if isinstance(d, dict)
        ],
        report_ids=sorted(report_ids),
        exam_url=mask.whole(write.exam_url),
        exam_username=mask.whole(write.exam_username),
    )


def report_out(report: ReportFile, mask: Masker) -> ReportOut:
    return ReportOut(
        id=report.pk,
        name=mask.text(report.name),
        kind="file" if report.file else "link",
        preview_url=mask.text(report.preview_url),
        uploaded_at=report.uploaded_at,
    )


def order_out(order, related: "Related", mask: Masker) -> OrderOut:
    check = isinstance(order, BackgroundCheck)
    kind = BGC if check else EXAM
    candidate = Candidate(
        name=mask.text(order.candidate_name),
        first_name=mask.text(order.candidate_first_name) if check else "",
        last_name=mask.text(order.candidate_last_name) if check else "",
        mobile=mask.declared(order, "candidate_mobile"),
        email=mask.declared(order, "candidate_email"),
    )
    out: dict[str, Any] = {
        "package_id": None,
        "additional_item_ids": None,
        "paper_id": None,
        "contact": None,
        "form_values": None,
        "comment": None,
        "result": None,
        "cancel_reason": None,
        "score": None,
        "exam_url": None,
        "exam_username": None,
        "talent_id": None,
        "application_id": None,
    }
    if check:
        out.update(
            package_id=order.package_id,
            additional_item_ids=[str(i) for i in order.additional_item_ids or []],
            contact=Person(
                name=mask.text(order.contact_name),
                mobile=mask.declared(order, "contact_mobile"),
                email=mask.declared(order, "contact_email"),
            ),
            form_values=[
                FormValue(key=str(v.get("key") or ""), value=mask.whole(str(v.get("value") or "")))
                for v in order.custom_field_values or []
                if isinstance(v, dict)
            ],
            comment=mask.whole(order.comment),
            result=order.result,
            cancel_reason=mask.free(order.cancel_reason),
        )
    else:
        out.update(
            paper_id=order.paper_id,
            score=order.score,
            exam_url=mask.whole(order.exam_url),
            exam_username=mask.whole(order.exam_username),
            talent_id=order.talent_id,
            application_id=order.application_id,
        )
    return OrderOut(
        id=order_id(kind, order.pk),
        type=kind,  # type: ignore[arg-type]  # BGC or EXAM
        feishu_id=getattr(order, FEISHU_ID[kind]),
        tenant=order.tenant_key,
        account_id=order.account_id,
        customer_id=order.customer_id,
        state=order.state,
        candidate=candidate,
        reports=[report_out(r, mask) for r in related.reports.get(order.pk, ())],
        writes=[
            write_out(w, mask, related.write_reports.get(w.pk, ())) for w in related.writes.get(order.pk, ())
        ],
        received_at=order.received_at,
        ended_at=order.ended_at,
        purged_at=order.purged_at,
        updated_at=order.updated_at,
        **out,
    )


class Related:
    """The writes and reports of some orders of one kind, read in three queries whatever their
    number (grouped here: Django's prefetch clones a queryset per order, most of a page's time)."""

    def __init__(self, kind: str, pks):
        field = ORDER_FIELD[kind]
        self.writes: dict[int, list[Any]] = {}  # rows of WRITE_READ, read as write_out reads a write
        self.reports: dict[int, list[ReportFile]] = {}
        self.write_reports: dict[int, list[int]] = {}
        if not pks:
            return
        # Rows of the columns an answer reads, not model instances: a page of 200 orders has ~370
        # writes, and building each as an OrderWrite (deferred fields, foreign-key descriptors) was
        # a sixth of that page's time (docs/benchmarks.md).
        writes_ = list(
            OrderWrite.objects.filter(**{f"{field}_id__in": pks})
            .order_by("pk")
            .values_list(*WRITE_READ, named=True)
        )
        for write in writes_:
            self.writes.setdefault(getattr(write, f"{field}_id"), []).append(write)
        for report in ReportFile.objects.filter(**{f"{field}_id__in": pks}).order_by("pk"):
            self.reports.setdefault(getattr(report, f"{field}_id"), []).append(report)
        if writes_:
            links = OrderWrite.reports.through.objects.filter(orderwrite_id__in=[w.pk for w in writes_])
            for write_pk, report_pk in links.values_list("orderwrite_id", "reportfile_id"):
                self.write_reports.setdefault(write_pk, []).append(report_pk)


# What the answers never read: the password above all, and the bodies as sent.
ORDER_UNREAD = {
    BGC: ("app_id", "source_event_id", "binding_id", "last_stage_time"),
    EXAM: ("app_id", "source_event_id", "binding_id", "exam_password"),
}
# What an answer reads of a write (``write_out``): never the password, nor the body as sent.
WRITE_READ = (
    "pk",
    "background_check_id",
    "exam_id",
    "kind",
    "status",
    "error",
    "error_code",
    "requested_at",
    "finished_at",
    "stage_id",
    "stage_name",
    "stage_en_name",
    "time_ms",
    "result",
    "details",
    "exam_url",
    "exam_username",
)


def _load(kind: str, pks: list[int]) -> dict:
    """The orders ``pks`` of one kind and what their answers read: four queries."""
    if not pks:
        return {}
    rows = {row.pk: row for row in MODEL[kind].objects.filter(pk__in=pks).defer(*ORDER_UNREAD[kind])}
    related = Related(kind, list(rows))
    return {pk: (row, related) for pk, row in rows.items()}


def _aware(value: dt.datetime) -> dt.datetime:
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)


def one_order(order, mask: Masker) -> OrderOut:
    """An order as ``GET /orders/{id}`` answers it (also the data of its webhook events, which
    hireops.webhooks.events.record renders in English as the API's middleware does a request)."""
    kind = BGC if isinstance(order, BackgroundCheck) else EXAM
    return order_out(*_load(kind, [order.pk])[order.pk], mask=mask)  # type: ignore[misc]  # (order, related)


# --- what the writes take -------------------------------------------------------------------


EARLIEST = dt.datetime(1970, 1, 2, tzinfo=dt.UTC)  # Feishu's times are milliseconds since 1970
LATEST = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)


def _sane_time(value: dt.datetime | None) -> dt.datetime | None:
    if value is not None and not EARLIEST <= _aware(value) <= LATEST:
        raise ValueError("must be between 1970 and 2200")
    return value


ReportId = Annotated[int, Field(ge=1, lt=2**63)]


class WithReportsIn(Schema):
    """A new report (a PDF uploaded as ``report_file``, at most 50 MB, or a preview link) and/or
    reports the order already has (``report_ids``)."""

    report_name: str = Field("", max_length=200)
    report_link: str = Field("", max_length=1000)
    report_ids: list[ReportId] = Field(default_factory=list)


class StageIn(WithReportsIn):
    stage_name: str = Field(max_length=100)
    stage_en_name: str = Field("", max_length=100)
    stage_time: Timestamp = Field(description="Later than the order's last stage (Feishu's rule)")
    stage_id: str = Field("", max_length=64, description="Unique in the order; left empty, one is made up")
    result: str = Field("", max_length=500, description="With a result, Feishu requires a report")

    _time = field_validator("stage_time")(_sane_time)


class ResultIn(WithReportsIn):
    result: str = Field(max_length=500, description="The final result, e.g. 无差异 (no discrepancy)")
    result_time: Timestamp

    _time = field_validator("result_time")(_sane_time)


class ScoreIn(WithReportsIn):
    score: str = Field(max_length=64, description="Feishu recommends a number from 0 to 100, e.g. 60.5")
    result_time: Timestamp | None = None
    details: str = Field(
        "", max_length=20000, description="Per-section results, one per line: section: result"
    )

    _time = field_validator("result_time")(_sane_time)


class LoginIn(Schema):
    exam_url: str = Field(max_length=1000)
    username: str = Field("", max_length=200)
    password: str = Field("", max_length=200, description="Kept encrypted; never shown again")
