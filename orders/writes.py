"""What staff send Feishu about an order: progress stages, results, cancellations, an exam's
login and score (docs/feishu.md §8.4, §9.2, §9.3).

Every write is an ``OrderWrite`` committed before the call, with its content fixed then
(stage id and time, result, the report links once made), so a retry after a timeout sends
exactly the same thing. Feishu's rules are checked before anything is queued: a stage id is
used once per order (also a database constraint), stage times strictly increase, a stage
result has report files, and a closed order takes nothing more (``OrderClosed``: a background
check completed, canceled, terminated, or whose result or termination is on its way; an exam
graded).

The writes of one order are sent one at a time, oldest first (Feishu needs stage times in
order): a write whose order has an older one still queued waits, and each write that
finishes queues the next. The outbound engine (hireops.outbound) sends a write, with no
transaction open during the call: claim (lease the write, record the body) → call → finish
(compare-and-set on a still-queued row). A worker that dies mid-call leaves a lease that
expires; the sweep (``writes_resume``) sends it again. What is the writes' own is in
``SEND``: the precondition, the body, the call, what the answer changes.

Retries follow ``judge``: a refusal (1002858 order state, 1002862 unknown order, 1002851 /
1002855 exam state, 400 parameter errors) is final and explained; a 5xx, timeout or rate
limit is retried with the same content. A write whose earlier attempt may have reached
Feishu says so if Feishu then refuses it, so staff check Hire before sending anything again.
"""

import logging
import uuid
from datetime import UTC, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops import outbound
from hireops.core import audit
from hireops.core.messages import Message
from hireops.core.models import CallStatus
from hireops.core.secrets.sealing import seal, unseal
from hireops.feishu import FeishuError, FeishuResponse, eco, get_client
from hireops.feishu.shapes import JSONObject
from hireops.feishu_calls.callee import FEISHU, FeishuKind
from hireops.feishu_calls.failures import Failure
from hireops.webhooks.events import emit

from . import failures, trend
from . import reports as report_links
from .models import (
    BackgroundCheck,
    CheckState,
    Exam,
    ExamState,
    OrderWrite,
    ReportFile,
    WriteKind,
    touch_write,
)

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)  # longer than the client's longest call (timeouts, retries, waits)
TERMINATED_STAGE = ("已终止", "Terminated")  # Feishu advises a "terminated" stage before cancel
WAITING = gettext_noop("Waits for an earlier write to this order to be sent first.")
MAYBE_SENT = gettext_noop(
    "%(reason)s An earlier attempt may have reached Feishu: check the order in Feishu Hire "
    "before sending anything again."
)
CANCELED_NOT_SENT = gettext_noop("Not sent: the customer canceled the background check in Feishu Hire.")

# Change-history messages (hireops.core.audit), on the order and on each write it queued.
STAGE_REQUESTED = gettext_noop("Progress stage requested (write %(writes)s).")
RESULT_REQUESTED = gettext_noop("Result requested (write %(writes)s).")
TERMINATION_REQUESTED = gettext_noop("Termination requested (writes %(writes)s).")
LOGIN_REQUESTED = gettext_noop("Exam login requested (write %(writes)s).")
SCORE_REQUESTED = gettext_noop("Exam score requested (write %(writes)s).")
SENT_AGAIN = gettext_noop("Write #%(write)s sent again, unchanged.")  # on the write and its order


class WriteRefused(Exception):
    """A write refused before anything is queued; ``field`` names the input at fault (the
    forms' and the API's name for it), when one is."""

    def __init__(self, message, *, field: str = ""):
        super().__init__(message)
        self.field = field


class OrderClosed(WriteRefused):
    """The order takes nothing more: a background check completed, canceled by the customer,
    terminated, or whose result or termination is being sent; an exam graded in Feishu. Its
    state refuses the write, not the input (Feishu would answer 1002858 or 1002855 after the
    write was queued)."""


# --- requests ------------------------------------------------------------------------------


def _locked(model, pk):
    return model.objects.select_for_update().get(pk=pk)


def _pending(check: BackgroundCheck, kind: str) -> bool:
    """A write of ``kind`` that Feishu has or may get: queued or sent (a failed one never
    reached it, or its failure says so)."""
    return check.writes.filter(kind=kind).exclude(status=CallStatus.FAILED).exists()


def _check_writable(check: BackgroundCheck) -> None:
    if check.state == CheckState.COMPLETED:
        raise OrderClosed(_("This background check is completed: nothing more can be sent."))
    if check.state == CheckState.CANCELED:
        raise OrderClosed(
            _("The customer canceled this background check in Feishu Hire: nothing more can be sent.")
        )
    if check.state == CheckState.TERMINATED:
        raise OrderClosed(_("This background check was terminated: nothing more can be sent."))
    # Writes are sent in order: one queued behind a result or a termination would reach an
    # order Feishu has closed by then.
    if _pending(check, WriteKind.CANCEL):
        raise OrderClosed(_("This background check is being terminated: nothing more can be sent."))
    if _pending(check, WriteKind.RESULT):
        raise OrderClosed(
            _("The result of this background check is sent or being sent: nothing more can be sent.")
        )


def _exam_writable(exam: Exam) -> None:
    if exam.state == ExamState.GRADED:
        raise OrderClosed(_("The customer has finished grading this exam in Feishu: it takes nothing more."))


def refuse_if_closed(order: BackgroundCheck | Exam) -> None:
    """``OrderClosed`` when the order takes nothing more, asked before anything else (the API
    answers 409 before reading the request's fields). Each request asks it again with the
    order locked."""
    if isinstance(order, BackgroundCheck):
        _check_writable(order)
    else:
        _exam_writable(order)


def _check_reports(order_field: str, order, reports) -> list[ReportFile]:
    reports = list(reports or [])
    foreign = [r for r in reports if getattr(r, f"{order_field}_id") != order.pk]
    if foreign:
        raise WriteRefused(
            _("Report %(name)s belongs to another order.") % {"name": foreign[0].name}, field="report_ids"
        )
    return reports


def _last_stage_time(check: BackgroundCheck) -> int | None:
    """The latest stage time Feishu has, or may have: failed writes that never reached it do
    not count."""
    counted = check.writes.filter(kind=WriteKind.PROGRESS).exclude(
        status=CallStatus.FAILED, maybe_applied=False
    )
    return counted.aggregate(last=Max("time_ms"))["last"]


def _moment(ms: int) -> str:
    """A Feishu time in a refusal: to the millisecond (Feishu compares milliseconds) and naming
    its offset, in the reader's time zone (the admin's; UTC for the API)."""
    moment = timezone.localtime(datetime.fromtimestamp(ms / 1000, UTC))
    return moment.isoformat(sep=" ", timespec="milliseconds")


def _queue(write: OrderWrite, reports=()) -> OrderWrite:
    if reports:
        write.reports.set(reports)
    touch_write(write)  # the order's writes changed: a partner syncing reads it again
    SEND.send_on_commit(write.pk)
    return write


def _recorded(user, order, queued: list[OrderWrite], message: str) -> None:
    audit.record(user, [order, *queued], message, {"writes": ", ".join(f"#{w.pk}" for w in queued)})


def new_stage_id() -> str:
    return uuid.uuid4().hex[:16]


def stage_request(
    check: BackgroundCheck,
    *,
    name: str,
    time_ms: int,
    stage_id: str = "",
    en_name: str = "",
    result: str = "",
    reports=(),
    user=None,
) -> OrderWrite:
    """Queue a progress stage (``update_progress``)."""
    stage_id = (stage_id or new_stage_id()).strip()
    if not name.strip():
        raise WriteRefused(_("Give the stage a name."), field="stage_name")
    if len(stage_id) > 64:
        raise WriteRefused(_("A stage id has at most 64 characters."), field="stage_id")
    with transaction.atomic():
        check = _locked(BackgroundCheck, check.pk)
        _check_writable(check)
        reports = _check_reports("background_check", check, reports)
        if result.strip() and not reports:
            raise WriteRefused(
                _("A stage with a result needs at least one report file (Feishu's rule)."),
                field="report_file",
            )
        if check.writes.filter(kind=WriteKind.PROGRESS, stage_id=stage_id).exists():
            raise WriteRefused(
                _("Stage id %(id)s was already used on this order.") % {"id": stage_id}, field="stage_id"
            )
        last = _last_stage_time(check)
        if last is not None and time_ms <= last:
            raise WriteRefused(
                _("The stage time must be after the last stage's (%(last)s): Feishu needs them in order.")
                % {"last": _moment(last)},
                field="stage_time",
            )
        try:
            write = OrderWrite.objects.create(
                kind=WriteKind.PROGRESS,
                background_check=check,
                tenant_key=check.tenant_key,
                stage_id=stage_id,
                stage_name=name.strip(),
                stage_en_name=en_name.strip(),
                time_ms=time_ms,
                result=result.strip(),
                requested_by=user,
            )
        except IntegrityError as exc:  # the same id in a concurrent request
            raise WriteRefused(
                _("Stage id %(id)s was already used on this order.") % {"id": stage_id}, field="stage_id"
            ) from exc
        _recorded(user, check, [write], STAGE_REQUESTED)
        return _queue(write, reports)


def result_request(check: BackgroundCheck, *, result: str, time_ms: int, reports=(), user=None) -> OrderWrite:
    """Queue the final result (``update_result``)."""
    if not result.strip():
        raise WriteRefused(_("Write the result (for example 无差异, no discrepancy)."), field="result")
    with transaction.atomic():
        check = _locked(BackgroundCheck, check.pk)
        _check_writable(check)
        reports = _check_reports("background_check", check, reports)
        write = OrderWrite.objects.create(
            kind=WriteKind.RESULT,
            background_check=check,
            tenant_key=check.tenant_key,
            time_ms=time_ms,
            result=result.strip(),
            requested_by=user,
        )
        _recorded(user, check, [write], RESULT_REQUESTED)
        return _queue(write, reports)


def cancel_request(check: BackgroundCheck, *, user=None, time_ms: int | None = None) -> list[OrderWrite]:
    """Terminate the order: a "terminated" stage first (Feishu's advice), then ``cancel``."""
    time_ms = time_ms or int(timezone.now().timestamp() * 1000)
    with transaction.atomic():
        check = _locked(BackgroundCheck, check.pk)
        _check_writable(check)
        last = _last_stage_time(check)
        writes = [
            OrderWrite.objects.create(
                kind=WriteKind.PROGRESS,
                background_check=check,
                tenant_key=check.tenant_key,
                stage_id=f"terminated-{new_stage_id()}",
                stage_name=TERMINATED_STAGE[0],
                stage_en_name=TERMINATED_STAGE[1],
                time_ms=max(time_ms, (last or 0) + 1),
                requested_by=user,
            ),
            OrderWrite.objects.create(
                kind=WriteKind.CANCEL, background_check=check, tenant_key=check.tenant_key, requested_by=user
            ),
        ]
        _recorded(user, check, writes, TERMINATION_REQUESTED)
        _queue(writes[0])
        return writes


def login_request(
    exam: Exam,
    *,
    url: str,
    username: str = "",
    password: str = "",
    user=None,
    history: str = LOGIN_REQUESTED,
) -> OrderWrite:
    """Queue the exam's login information (``login_info``). The password is kept encrypted.
    ``history``: the change history's words (an import says where the login came from)."""
    if not url.strip():
        raise WriteRefused(_("Give the exam link."), field="exam_url")
    with transaction.atomic():
        exam = _locked(Exam, exam.pk)
        _exam_writable(exam)
        write = OrderWrite.objects.create(
            kind=WriteKind.LOGIN,
            exam=exam,
            tenant_key=exam.tenant_key,
            exam_url=url.strip(),
            exam_username=username.strip(),
            exam_password=seal(password),
            requested_by=user,
        )
        _recorded(user, exam, [write], history)
        return _queue(write)


def score_request(
    exam: Exam, *, score: str, time_ms: int | None = None, reports=(), details=(), user=None
) -> OrderWrite:
    """Queue the exam's score (``update_result``); repeatable until Feishu says it is graded."""
    if not score.strip():
        raise WriteRefused(_("Give the score (Feishu recommends a number from 0 to 100)."), field="score")
    details = [
        {"id": str(d.get("id") or ""), "name": str(d["name"]), "result": str(d["result"])}
        for d in details
        if str(d.get("name") or "").strip() and str(d.get("result") or "").strip()
    ]
    with transaction.atomic():
        exam = _locked(Exam, exam.pk)
        _exam_writable(exam)
        reports = _check_reports("exam", exam, reports)
        write = OrderWrite.objects.create(
            kind=WriteKind.SCORE,
            exam=exam,
            tenant_key=exam.tenant_key,
            result=score.strip(),
            time_ms=time_ms,
            details=details,
            requested_by=user,
        )
        _recorded(user, exam, [write], SCORE_REQUESTED)
        return _queue(write, reports)


def write_retry(write: OrderWrite, user=None) -> OrderWrite:
    """Send a failed write again, unchanged (same stage id and time): staff's "Send again"."""
    with transaction.atomic():
        write = _locked(OrderWrite, write.pk)
        if write.status != CallStatus.FAILED:
            raise WriteRefused(_("Only a failed write can be sent again."))
        if write.order.ended:  # Feishu refuses anything more (1002858, 1002855)
            refuse_if_closed(write.order)
        OrderWrite.objects.filter(pk=write.pk).update(status=CallStatus.QUEUED, finished_at=None, note="")
        failures.mark_reopened(write.finished_at)
        audit.record(user, [write, write.order], SENT_AGAIN, {"write": write.pk})
        return _queue(write)


# --- sending -------------------------------------------------------------------------------


def _order_writes(write: OrderWrite):
    if write.background_check_id:
        return OrderWrite.objects.filter(background_check_id=write.background_check_id)
    return OrderWrite.objects.filter(exam_id=write.exam_id)  # type: ignore[misc]  # one order per write


def _reports(write: OrderWrite, as_report) -> list:
    """The write's reports as Feishu is sent them, in the order staff attached them."""
    return [as_report(r) for r in write.reports.order_by("pk")]


def _body(write: OrderWrite) -> tuple[dict, dict]:
    """(body to send, body to record): the same but for an exam password."""
    if write.payload:  # a retry: exactly what was sent before
        body = dict(write.payload)
    elif write.kind == WriteKind.PROGRESS:
        reports = _reports(write, report_links.as_check_report)
        stage = eco.Stage(
            write.stage_id,
            write.stage_name,
            write.time_ms,  # type: ignore[arg-type]  # a stage has its time
            write.stage_en_name,
            write.result,
            reports,
        )
        body = stage.to_json(write.background_check.background_check_id)  # type: ignore[union-attr]  # one order per write
    elif write.kind == WriteKind.RESULT:
        reports = _reports(write, report_links.as_check_report)
        body = eco.result_body(
            write.background_check.background_check_id,  # type: ignore[union-attr]  # one order per write
            write.result,
            write.time_ms,  # type: ignore[arg-type]  # a result has its time
            reports,
        )
    elif write.kind == WriteKind.CANCEL:
        body = {"background_check_id": write.background_check.background_check_id}  # type: ignore[union-attr]  # one order per write
    elif write.kind == WriteKind.LOGIN:
        body = eco.login_info_body(write.exam_url, write.exam_username, "***" if write.exam_password else "")
    else:
        reports = _reports(write, report_links.as_exam_report)
        details = [eco.ExamDetail(d["name"], d["result"], d.get("id", "")) for d in write.details]
        body = eco.exam_result_body(write.result, write.time_ms, reports, details)
    recorded = body
    if write.kind == WriteKind.LOGIN and write.exam_password:
        body = {
            **body,
            "exam_login_info": {**body["exam_login_info"], "password": unseal(write.exam_password)},
        }
    return body, recorded


def _prepare(write: OrderWrite) -> JSONObject | None:
    """The claim's precondition (the order's earlier writes first, an order still open) and
    the body; the body is recorded (a password as ***)."""
    if _order_writes(write).filter(status=CallStatus.QUEUED, pk__lt=write.pk).exists():
        OrderWrite.objects.filter(pk=write.pk).update(note=Message(WAITING))
        return None  # the earlier one queues this one when it finishes
    if write.background_check_id and write.background_check.state == CheckState.CANCELED:  # type: ignore[union-attr]  # one order per write
        outbound.close(SEND, write, CallStatus.FAILED, error=Message(CANCELED_NOT_SENT))
        return None
    body, recorded = _body(write)
    OrderWrite.objects.filter(pk=write.pk).update(payload=recorded, note="")
    return body


def _call(write: OrderWrite, body: JSONObject) -> FeishuResponse:
    client, tenant = get_client(), write.tenant_key or None
    if write.kind == WriteKind.PROGRESS:
        return eco.update_progress(client, body, tenant_key=tenant)
    if write.kind == WriteKind.RESULT:
        return eco.update_result(client, body, tenant_key=tenant)
    if write.kind == WriteKind.CANCEL:
        return eco.cancel(client, body["background_check_id"], tenant_key=tenant)
    if write.kind == WriteKind.LOGIN:
        return eco.exam_login_info(client, write.exam.exam_id, body, tenant_key=tenant)  # type: ignore[union-attr]  # one order per write
    return eco.exam_update_result(client, write.exam.exam_id, body, tenant_key=tenant)  # type: ignore[union-attr]  # one order per write


def _refused(write: OrderWrite, body: JSONObject, exc: FeishuError, failure: Failure) -> None:
    if write.kind == WriteKind.SCORE and exc.code == 1002855:
        now = timezone.now()
        exams = Exam.objects.filter(pk=write.exam_id)  # type: ignore[misc]  # one order per write
        before = trend.end_moments(exams=exams)
        exams.update(state=ExamState.GRADED, updated_at=now)
        exams.filter(ended_at__isnull=True).update(ended_at=now)
        trend.mark_ended([*before, *trend.end_moments(exams=exams)])
    # Partners hear of it with the order as it stands now (the write among its writes, failed).
    order = write.background_check or write.exam
    order = type(order).objects.get(pk=order.pk)  # type: ignore[union-attr]  # one order per write
    emit("order.write.failed", order, tenant_key=order.tenant_key)


def _closed(write: OrderWrite) -> None:
    """A write finished (sent, failed or closed unsent): its order shows it, and the order's
    next write is sent."""
    touch_write(write)
    failures.mark_closed(write)
    _queue_next(write)


def _queue_next(write: OrderWrite) -> None:
    """A write finished: the order's next one is sent (on commit)."""
    following = _order_writes(write).filter(status=CallStatus.QUEUED, pk__gt=write.pk).order_by("pk")
    next_pk = following.values_list("pk", flat=True).first()
    if next_pk:
        SEND.send_on_commit(next_pk)


def _firsts(stale: "QuerySet[OrderWrite]") -> list[int]:
    """The sweep sends each order's oldest stale write (the others follow it)."""
    firsts: dict[tuple, int] = {}
    for pk, check, exam in stale.order_by("pk").values_list("pk", "background_check_id", "exam_id")[:5000]:
        firsts.setdefault((check, exam), pk)
    return list(firsts.values())


def _apply(write: OrderWrite) -> None:
    """What Feishu accepted changes the order as staff see it."""
    now = timezone.now()
    checks = BackgroundCheck.objects.filter(pk=write.background_check_id)  # type: ignore[misc]  # one order per write
    exams = Exam.objects.filter(pk=write.exam_id)  # type: ignore[misc]  # one order per write
    # The hours the order ended in before and after: its trend (orders.trend) follows it.
    ending = write.kind in (WriteKind.RESULT, WriteKind.CANCEL, WriteKind.SCORE)
    before = trend.end_moments(checks, exams) if ending else []
    if write.kind == WriteKind.PROGRESS:
        checks.filter(state=CheckState.NEW).update(state=CheckState.IN_PROGRESS, updated_at=now)
        checks.filter(Q(last_stage_time__isnull=True) | Q(last_stage_time__lt=write.time_ms)).update(
            last_stage_time=write.time_ms, updated_at=now
        )
    elif write.kind == WriteKind.RESULT:
        checks.exclude(state__in=(CheckState.CANCELED, CheckState.TERMINATED)).update(
            state=CheckState.COMPLETED, result=write.result, ended_at=now, updated_at=now
        )
    elif write.kind == WriteKind.CANCEL:
        checks.exclude(state=CheckState.CANCELED).update(
            state=CheckState.TERMINATED, ended_at=now, updated_at=now
        )
    elif write.kind == WriteKind.LOGIN:
        exams.filter(state=ExamState.NEW).update(state=ExamState.ARRANGED)
        exams.update(
            exam_url=write.exam_url,
            exam_username=write.exam_username,
            exam_password=write.exam_password,
            updated_at=now,
        )
    else:
        exams.exclude(state=ExamState.GRADED).update(
            state=ExamState.ANSWERED, score=write.result, updated_at=now
        )
        exams.filter(ended_at__isnull=True).update(
            ended_at=now, updated_at=now
        )  # its first score: usage counts it
    if ending:
        trend.mark_ended([*before, *trend.end_moments(checks, exams)])


SEND: FeishuKind[OrderWrite, JSONObject, FeishuResponse] = outbound.register(
    outbound.Outbound(
        name="orders.send_write",
        model=OrderWrite,
        related=("background_check", "exam"),
        prepare=_prepare,
        call=lambda write, body: _call(write, body),
        callee=FEISHU,
        effect=lambda write, body, resp: _apply(write),
        refused=_refused,
        closed=_closed,
        maybe_sent=MAYBE_SENT,
        resumable=_firsts,
        swept_by="orders.resume_writes",
        lease=LEASE,
    )
)


def writes_resume(grace: timedelta = outbound.GRACE) -> int:
    """The sweep: send again each order's oldest queued write that nothing is sending (its
    task was lost, or its worker died mid-call). Returns how many were queued."""
    return outbound.resume(SEND, grace)
