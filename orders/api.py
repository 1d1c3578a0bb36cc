"""A vendor's system works its orders through the API (``/api/v1/orders``): background checks
and exams in one list, and the writes staff send from the order's page (a progress stage, the
result, a termination, an exam's login and score).

**Ids.** An order's id is hireops' own, prefixed by its kind: ``bgc_<pk>`` for a background
check, ``exam_<pk>`` for an exam. Feishu's id is the field (and filter) ``feishu_id``.

**One list over two tables.** A page is ordered by (``updated_at``, ``type``, pk): each table
is read by one index range scan of its (``updated_at``, id) index (or the tenant's or the
state's (…, updated_at, id) index) from the cursor, ``limit + 1`` rows each, and the two are
merged here; the cursor is the last row's key. No table is sorted or counted, and walking the
list by ``next_cursor`` returns each row once (a row changed during the walk moves to its end).

**Writes** go through the services the admin uses (``orders.sending`` and ``orders.writes``,
the admin's forms for the same size, type and length checks, the same change history, naming
the key). Their fields come as JSON or as a form (``hireops.api.bodies``: multipart when a
report file comes with them), read into one schema: the same checks and answers either way.
A closed order (completed, canceled, terminated, or with its result or termination on the
way; an exam graded) answers a well-formed request 409 ``order-closed``; then Feishu's rules
are checked before anything is queued (422 naming the field), and the answer is the queued
write (202); its later state (``sent``, or ``failed`` with Feishu's message) shows on the
order. A write of the other kind of order (a background check's ``/exam-login``, an exam's
``/progress``) answers 404: the id says the kind, so the operation does not exist for it,
whatever the order.

**Personal data** (names, mobiles, emails, the order form's values and comment, an exam's link
and user name, report names) in full only to keys with ``orders:personal_data``; otherwise
mobiles and emails masked as the admin masks them, free text (the form's values, under their
keys, the comment, an exam's link and user name) hidden whole as the admin hides it
(``personal.HIDDEN``), and the rest to its first character.
"""

import datetime as dt
import enum
import re
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from ninja import File, Query, Router, Schema, Status, UploadedFile
from pydantic import BaseModel, Field, field_validator

from hireops.api.bodies import JsonOrForm
from hireops.api.pagination import MAX_LIMIT, PageParams, decode_cursor, encode_cursor
from hireops.api.problems import Problem, not_found
from hireops.api.schemas import Moment, Page, Timestamp, admin_words
from hireops.api.scopes import declare
from hireops.api.site import operation, register
from hireops.core.models import CallStatus
from hireops.core.privacy import personal
from hireops.core.privacy.masking import mask_personal_text, mask_text

from . import sending, writes
from .catalogue import api as _catalogue_api  # noqa: F401  (its operations: /catalogue/…)
from .forms import LoginForm, ResultForm, ScoreForm, StageForm
from .models import BackgroundCheck, CheckState, Exam, ExamState, OrderWrite, ReportFile, WriteKind

READ, WRITE, PERSONAL = "orders:read", "orders:write", "orders:personal_data"
declare(
    READ,
    _("See the background checks and exams and what was sent about them"),
    permission="orders.view_backgroundcheck",
)
declare(
    WRITE,
    _("Send progress, results, terminations, exam logins and scores to Feishu"),
    permission="orders.work_backgroundcheck",
)
declare(PERSONAL, _("See the candidates' personal data in orders unmasked"), permission=personal.PERMISSION)
router = Router(tags=["Orders"])

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


# --- reading --------------------------------------------------------------------------------

CURSOR = (("updated_at", dt.datetime), ("type", str), ("pk", int))


def _aware(value: dt.datetime) -> dt.datetime:
    return value if timezone.is_aware(value) else value.replace(tzinfo=dt.UTC)


PER_TENANT_SCANS = 20  # a key limited to more tenants reads them in one scan, sorted


def _tenant_scans(filters: OrderFilters, tenants) -> list:
    """The tenants to scan one by one (None: all in one scan; [] : nothing is visible)."""
    if filters.tenant is not None:
        return [filters.tenant] if not tenants or filters.tenant in tenants else []
    if tenants and len(tenants) <= PER_TENANT_SCANS:
        return list(tenants)
    return [None]


def _keys(kind: str, filters: OrderFilters, tenants, after, limit: int) -> list:
    """One table's next ``limit + 1`` keys (updated_at, kind, pk) after the cursor: an index-only
    range scan of (updated_at, id), or of (tenant_key | state, updated_at, id) per tenant of the
    key or for the state asked, bounded below by the cursor's time."""
    rows = MODEL[kind].objects.all()
    if filters.state is not None:
        rows = rows.filter(state=filters.state.value)
    if filters.feishu_id is not None:
        rows = rows.filter(**{FEISHU_ID[kind]: filters.feishu_id})
    if filters.updated_after is not None:
        rows = rows.filter(updated_at__gt=_aware(filters.updated_after))
    if after is not None:
        at, after_kind, after_pk = after
        if kind > after_kind:  # this table's rows at the cursor's time come after it
            rows = rows.filter(updated_at__gte=at)
        elif kind < after_kind:
            rows = rows.filter(updated_at__gt=at)
        else:  # (updated_at, pk) > (at, after_pk); the first term is the scan's start
            rows = rows.filter(Q(updated_at__gt=at) | Q(updated_at=at, pk__gt=after_pk), updated_at__gte=at)
    found = []
    for tenant in _tenant_scans(filters, tenants):
        scan = rows.filter(tenant_key=tenant) if tenant is not None else rows
        if tenant is None and tenants:
            scan = scan.filter(tenant_key__in=tenants)
        found += scan.order_by("updated_at", "pk").values_list("updated_at", "pk")[: limit + 1]
    return sorted((updated_at, kind, pk) for updated_at, pk in found)[: limit + 1]


def _cursor(params: OrderFilters):
    if not 1 <= params.limit <= MAX_LIMIT:
        raise Problem(
            400,
            f"limit is between 1 and {MAX_LIMIT}.",
            kind="invalid-parameter",
            errors=[("limit", f"between 1 and {MAX_LIMIT}")],
        )
    if not params.cursor:
        return None
    at, kind, pk = decode_cursor(params.cursor, CURSOR)
    if kind not in MODEL or not 0 <= pk < 2**63:
        raise Problem(
            400, "The cursor is not one this API gave.", kind="invalid-cursor", errors=[("cursor", "invalid")]
        )
    return at, kind, pk


@operation(
    router.get,
    "/orders",
    "listOrders",
    scope=READ,
    summary="List background checks and exams, by when they last changed",
    response=Page[OrderOut],
)
def list_orders(request, filters: Query[OrderFilters]):
    after = _cursor(filters)
    kinds = [k for k in (BGC, EXAM) if filters.type in (None, k)]
    if filters.state is not None:
        kinds = [k for k in kinds if filters.state.value in STATES[k]]
    mask = Masker(request)
    keys = sorted(
        k for kind in kinds for k in _keys(kind, filters, request.api_key.tenant_keys, after, filters.limit)
    )
    more = len(keys) > filters.limit
    keys = keys[: filters.limit]
    loaded = {kind: _load(kind, [pk for _at, k, pk in keys if k == kind]) for kind in kinds}
    data = [order_out(*loaded[kind][pk], mask=mask) for _at, kind, pk in keys if pk in loaded[kind]]  # type: ignore[misc]
    return {"data": data, "next_cursor": encode_cursor(keys[-1]) if more else None}


def _parse(id: str) -> tuple[str, int] | None:
    match = _ID.match(id or "")
    if not match:
        return None
    return (BGC if match.group(1) == "bgc" else EXAM), int(match.group(2))


def _order(request, id: str, kind: str | None = None):
    """The order ``id`` names, if this key may see it; ``kind``: the kind the operation takes."""
    parsed = _parse(id)
    if parsed is None:
        raise not_found()
    found_kind, pk = parsed
    if kind is not None and found_kind != kind:
        other = "exams" if kind == EXAM else "background checks"
        raise Problem(404, f"Only {other} take this operation.", kind="not-found")
    rows = MODEL[found_kind].objects.filter(pk=pk)
    if request.api_key.tenant_keys:
        rows = rows.filter(tenant_key__in=request.api_key.tenant_keys)
    order = rows.first()
    if order is None:
        raise not_found()
    return order


@operation(
    router.get,
    "/orders/{id}",
    "getOrder",
    scope=READ,
    summary="One background check or exam",
    response=OrderOut,
)
def get_order(request, id: OrderId):
    return one_order(_order(request, id), Masker(request))


def one_order(order, mask: Masker) -> OrderOut:
    """An order as ``GET /orders/{id}`` answers it (also the data of its webhook events, which
    hireops.webhooks.events.record renders in English as the API's middleware does a request)."""
    kind = BGC if isinstance(order, BackgroundCheck) else EXAM
    return order_out(*_load(kind, [order.pk])[order.pk], mask=mask)  # type: ignore[misc]  # (order, related)


# --- writing --------------------------------------------------------------------------------


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


FORM_FIELDS = {"existing_reports": "report_ids", "__all__": "request", "confirm": "request"}


@contextmanager
def _in_utc():
    """A write's refusals as the API gives them: a time in one (the last stage's) in UTC, naming
    its offset, as the API's times are (their English is the API's middleware's)."""
    with timezone.override(dt.UTC):
        yield


def _open(order):
    """The order, if it takes writes: a closed one answers 409 before its fields are checked
    against it or a file is kept (the service asks again with the order locked)."""
    try:
        writes.refuse_if_closed(order)
    except writes.OrderClosed as exc:
        raise Problem(409, str(exc), kind="order-closed") from None
    return order


def _checked(form, report_ids=()):
    """The admin's form, validated as the admin validates it (sizes, types, lengths, PDFs)."""
    if report_ids and "existing_reports" not in form.fields:  # the order has no report yet
        raise Problem(
            422,
            "The request is not valid.",
            kind="invalid-request",
            errors=[("report_ids", "This order has no reports yet.")],
        )
    if not form.is_valid():
        errors = [
            (FORM_FIELDS.get(name, name), str(message))
            for name, messages in form.errors.items()
            for message in messages
        ]
        raise Problem(422, "The request is not valid.", kind="invalid-request", errors=errors)
    return form


def _iso(value: dt.datetime | None) -> str:
    return _aware(value).isoformat() if value is not None else ""


def _report_data(data: WithReportsIn) -> dict:
    return {
        "report_name": data.report_name,
        "report_link": data.report_link,
        "existing_reports": [str(pk) for pk in data.report_ids],
    }


def _files(report_file) -> dict:
    return {"report_file": report_file} if report_file is not None else {}


def _sent(request, send):
    """``send(actor)`` through the service (``orders.sending``, ``orders.writes``); a refusal
    answers 422 naming the field (409 when the order takes nothing more) and keeps nothing (the
    middleware rolls the request back, and the service removes a report file stored for it);
    the service's change history names the key."""
    try:
        queued = send(request.api_key.actor)
    except writes.OrderClosed as exc:
        raise Problem(409, str(exc), kind="order-closed") from None
    except writes.WriteRefused as exc:
        raise Problem(
            422, str(exc), kind="write-refused", errors=[(exc.field or "request", str(exc))]
        ) from None
    return queued if isinstance(queued, list) else [queued]


def _one(request, queued) -> Status:
    write = queued[0]
    return Status(202, write_out(write, Masker(request), write.reports.values_list("pk", flat=True)))


WRITE_ANSWER = {202: WriteOut}


@operation(
    router.post,
    "/orders/{id}/progress",
    "sendOrderProgress",
    scope=WRITE,
    summary="Queue a progress stage of a background check (multipart: a report file may come with it)",
    response=WRITE_ANSWER,
    write=True,
)
def post_progress(request, id: OrderId, data: JsonOrForm[StageIn], report_file: File[UploadedFile] = None):  # type: ignore[assignment]  # optional: ninja reads the default
    with _in_utc():
        check = _open(_order(request, id, BGC))
        form = _checked(
            StageForm(
                {
                    "stage_name": data.stage_name,
                    "stage_en_name": data.stage_en_name,
                    "stage_time": _iso(data.stage_time),
                    "stage_id": data.stage_id,
                    "result": data.result,
                    **_report_data(data),
                },
                _files(report_file),
                order_field="background_check",
                order=check,
            ),
            data.report_ids,
        )
        return _one(request, _sent(request, lambda actor: sending.send_stage(check, form, actor)))


@operation(
    router.post,
    "/orders/{id}/result",
    "sendOrderResult",
    scope=WRITE,
    summary="Queue a background check's final result (multipart: a report file may come with it)",
    response=WRITE_ANSWER,
    write=True,
)
def post_result(request, id: OrderId, data: JsonOrForm[ResultIn], report_file: File[UploadedFile] = None):  # type: ignore[assignment]  # optional: ninja reads the default
    with _in_utc():
        check = _open(_order(request, id, BGC))
        form = _checked(
            ResultForm(
                {"result": data.result, "result_time": _iso(data.result_time), **_report_data(data)},
                _files(report_file),
                order_field="background_check",
                order=check,
            ),
            data.report_ids,
        )
        return _one(request, _sent(request, lambda actor: sending.send_result(check, form, actor)))


@operation(
    router.post,
    "/orders/{id}/terminate",
    "terminateOrder",
    scope=WRITE,
    summary="Terminate a background check: a “terminated” stage, then the termination (Feishu's advice)",
    response={202: WritesOut},
    write=True,
)
def post_terminate(request, id: OrderId):
    with _in_utc():
        check = _open(_order(request, id, BGC))
        queued = _sent(request, lambda actor: writes.cancel_request(check, user=actor))
        mask = Masker(request)
        return Status(202, WritesOut(data=[write_out(w, mask) for w in queued]))


@operation(
    router.post,
    "/orders/{id}/exam-login",
    "sendExamLogin",
    scope=WRITE,
    summary="Queue an exam's login information (the password is kept encrypted, never shown again)",
    response=WRITE_ANSWER,
    write=True,
)
def post_exam_login(request, id: OrderId, data: JsonOrForm[LoginIn]):
    with _in_utc():
        exam = _open(_order(request, id, EXAM))
        form = _checked(
            LoginForm({"exam_url": data.exam_url, "username": data.username, "password": data.password})
        )
        return _one(request, _sent(request, lambda actor: sending.send_login(exam, form, actor)))


@operation(
    router.post,
    "/orders/{id}/score",
    "sendExamScore",
    scope=WRITE,
    summary="Queue an exam's score (multipart: a report file may come with it); repeatable until graded",
    response=WRITE_ANSWER,
    write=True,
)
def post_score(request, id: OrderId, data: JsonOrForm[ScoreIn], report_file: File[UploadedFile] = None):  # type: ignore[assignment]  # optional: ninja reads the default
    with _in_utc():
        exam = _open(_order(request, id, EXAM))
        form = _checked(
            ScoreForm(
                {
                    "score": data.score,
                    "result_time": _iso(data.result_time),
                    "details": data.details,
                    **_report_data(data),
                },
                _files(report_file),
                order_field="exam",
                order=exam,
            ),
            data.report_ids,
        )
        return _one(request, _sent(request, lambda actor: sending.send_score(exam, form, actor)))


register(router)
