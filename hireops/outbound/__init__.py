"""The outbound engine: every row that stands for a call to another system is sent the same way.

A kind of call (an order write, a catalogue push, a withdrawal, a partner's webhook delivery, …)
is an ``Outbound``: the model its rows live in (a ``FeishuCall``, or any model with the same
status, attempts, error, lease and ``maybe_applied`` columns) and the few functions where kinds
differ. The engine runs one row in three steps, with no transaction open while the call runs:

1. **claim**, in one short transaction: the row is locked; it must still be queued and its
   lease free; then the kind's ``prepare`` checks its own precondition (e.g. "the order's
   earlier writes first"), may close the row without a call, or raise ``TryLater`` (another
   row holds what this one needs), and returns the body to send (recording it on the row as
   it sees fit). The engine counts the attempt and takes the lease (``leased_until``);
2. **call** the other side (``call``), outside any transaction;
3. **record**, in another short transaction: on success the row is closed (compare-and-set
   on a still-queued row) with the kind's ``answer`` fields, then the kind's ``effect`` runs;
   on a failure ``judge`` decides once for every kind: a retryable one keeps the row queued
   (the same idempotency key next time), releases the lease, remembers that the other side may
   already have acted (``maybe_applied``), and raises ``TryLater``; a final one closes the row
   failed with the explanation, prefixed by the kind's ``maybe_sent`` message when an earlier
   attempt may have reached the other side.

A kind whose rows come in thousands at once (a payout run's lines) may send them in batches
(``batch``, ``send_many``, ``batch_task``): one task claims several rows in one transaction and
calls them one after another, so the broker and the claim are paid once for several rows.
While the calls are quick their answers are recorded together (one transaction, and the kind's
``effect_many`` in a few statements for all of them), none waiting much more than
``OUTBOUND_BATCH_RECORD_WITHIN`` for the others; slow calls are recorded one by one. A worker killed before
an answer is recorded leaves its row leased, sent again after the lease with the same
idempotency key, as for a single row. A row to be tried again leaves the batch for its kind's
own task, counted as its first retry: the retry budget is the same either way.

Retries are Celery's (``hireops.outbound.retry``: ``TryLater``, ``backoff``, ``MAX_RETRIES``); when
they run out the kind's ``give_up`` (by default: the row fails with ``GAVE_UP``) writes what
a person can act on. One task per kind comes from ``task()``; ``resume()`` is the sweep that
sends again queued rows nobody holds the lease of (their task lost, their worker dead).

Whom a kind calls is its ``Callee``: which exceptions of the call are failures (``errors``),
what each means for the row (``judge``, which may name the delay before the next try:
``Failure.after``), the failure when the task's time limit cuts a call (``cut``) and the error
columns of a row that succeeded (``cleared``). Feishu's is ``hireops.feishu_calls.callee.FEISHU``,
partners' webhooks have theirs; the engine itself knows nothing of either (an import-linter
contract keeps it so). A kind also sets its retry budget (``max_retries``, by default the
one of ``hireops.outbound.retry``), ``queue`` and time limits.

Every kind is watched: the status page and the alerts (``hireops.ops``) count each kind's rows
stuck and failed, as its ``Watch`` says what those mean for it.

A worker that dies mid-call leaves a lease that expires, so a row is never sent twice at the
same time. ``lease`` outlives the longest call the client can make (timeouts, in-client
retries, rate-limit waits).
"""

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeAlias, TypeVar

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Manager, Q, QuerySet
from django.utils import timezone

from hireops.core import discovery
from hireops.core.messages import Message
from hireops.core.models import CallStatus
from hireops.core.task_names import task_named

from .retry import GAVE_UP, MAX_RETRIES, TryLater, backoff, run_retrying

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=15)  # longer than the client's longest call (timeouts, retries, waits)
GRACE = timedelta(minutes=2)  # a row queued a moment ago is most likely still in the broker


def outbound_time_limits() -> tuple[float, float]:
    """A call's soft and hard time limits unless its kind has its own (a call to Feishu may wait
    out 429s on top of its timeout): read from the settings each time they are asked for."""
    soft: float = settings.OUTBOUND_TASK_SOFT_TIME_LIMIT
    hard: float = settings.OUTBOUND_TASK_TIME_LIMIT
    return soft, hard


def _nothing(*args: object, **kwargs: object) -> None:
    return None


def _no_fields(*args: object, **kwargs: object) -> dict[str, Any]:
    return {}


# --- the types of a kind ---------------------------------------------------------------------
#
# A kind is typed over its row, the body ``prepare`` makes of it, the answer ``call`` gets, and
# its callee's error and failure: ``Outbound[Row, Body, Answer, Error, Failure]`` (a Feishu kind:
# ``hireops.feishu_calls.FeishuKind[Row, Body, Answer]``). Each callback names the same ones, so a
# ``call`` that takes another body than ``prepare`` returns, or an ``effect`` that reads another
# answer than ``call`` gives, is a type error (``tests/test_outbound_types.py``).


class CallRow(Protocol):
    """What the engine reads and writes on a row of any kind: a ``FeishuCall``'s columns (or the
    same columns on another model, as a webhook delivery has them), and its model's manager."""

    objects: ClassVar["Manager[Any]"]
    pk: Any
    attempts: int
    leased_until: datetime | None
    maybe_applied: bool

    def refresh_from_db(self, using: str | None = ..., fields: Iterable[str] | None = ...) -> None: ...


class Failure(Protocol):
    """What a callee's ``judge`` makes of a failed call, as the engine reads it; a failure may
    also say ``parked`` (no task is queued for its retry: the kind's sweep sends it)."""

    @property
    def retry(self) -> bool: ...  # try the same call again later (the same idempotency key)
    @property
    def maybe_applied(self) -> bool: ...  # the other side may have acted
    @property
    def reason(self) -> str: ...  # for staff, in their language
    @property
    def after(self) -> float | None: ...  # seconds before the next try, if the callee says
    def fields(self) -> dict[str, Any]: ...  # the row's error columns


# A kind's (and a callee's) own type variables have no bound: mypy checks a bound where a type is
# written (``FeishuKind[OrderWrite, ...]``) before django-stubs' plugin has typed the model's
# columns, and would find no model a ``CallRow``. The engine's functions bound theirs (``_Row``,
# ``_Failure``): a kind is checked where it is registered and run.
RowT = TypeVar("RowT")
# A callee judges the rows of many kinds: one that takes any row serves a kind of each.
RowT_contra = TypeVar("RowT_contra", contravariant=True)
BodyT = TypeVar("BodyT")
AnswerT = TypeVar("AnswerT")
ErrorT = TypeVar("ErrorT", bound=Exception)
FailureT = TypeVar("FailureT")
_Row = TypeVar("_Row", bound=CallRow)
_Failure = TypeVar("_Failure", bound=Failure)


@dataclass(frozen=True)
class Callee(Generic[RowT_contra, ErrorT, FailureT]):
    """Whom a kind calls, as the engine needs to know it."""

    errors: tuple[type[ErrorT], ...]  # what the call raises when it fails
    # (row, error) → its failure: ``retry``, ``maybe_applied``, ``reason``, ``after`` (seconds
    # before the next try, or None), ``fields()`` (the row's error columns); ``parked`` optional.
    judge: Callable[[RowT_contra, ErrorT], FailureT]
    cut: Callable[["AnyKind"], ErrorT]  # the error when the task's time limit ends a call
    cleared: Callable[[object], dict[str, Any]]  # the answer → the error columns of a row that succeeded
    # The trend its kinds' calls are counted in (``hireops.calls_made.record``), or none.
    trend: str = ""


@dataclass(frozen=True)
class Watch:
    """What of a kind's rows needs a person: read by the status page and the alerts
    (``hireops.ops.health``), which count every kind's stuck and failed rows. By default a
    row still queued 30 minutes after it was requested is stuck (retries are minutes apart,
    and a row given up on but kept queued is exactly one to look at), and every row that
    failed is a failure."""

    # Which queued rows wait for the callee (not for a person), and the field their wait counts from.
    waiting: Q = field(default_factory=Q)
    waiting_since: str = "requested_at"
    # Which failed rows are failures: a kind may close rows failed with nothing gone wrong
    # (replaced by a later request, nothing left to send; ``messages.stored_as`` finds them).
    failures: Q = field(default_factory=Q)
    # The findings' titles ({what}: the rows' name), for a kind that waits on someone else.
    stuck_title: "StrOrPromise" = ""
    failed_title: "StrOrPromise" = ""


@dataclass(frozen=True)
class Outbound(Generic[RowT, BodyT, AnswerT, ErrorT, FailureT]):
    """One kind of outbound call: what differs from every other kind."""

    name: str  # its Celery task's name (also its key in the registry)
    model: type[RowT]  # a FeishuCall model, or any with its status, attempts, error and lease
    # In the claim transaction, the row locked, queued and its lease free: the body to send,
    # or None when it is not sent now (``prepare`` closed it, or it waits for another row).
    prepare: Callable[[RowT], BodyT | None]
    call: Callable[[RowT, BodyT], AnswerT]  # the row and the body → the callee's answer (no transaction)
    callee: Callee[RowT, ErrorT, FailureT]  # whom ``call`` calls: its errors and what each means
    # In the record transaction, before the row is closed: the fields that close it. May
    # return ``status`` to close it otherwise (an answer that cannot be kept fails the row).
    answer: Callable[[RowT, BodyT, AnswerT], dict[str, Any]] = _no_fields
    effect: Callable[[RowT, BodyT, AnswerT], None] = _nothing  # after the close: what the answer changes
    # ``effect`` for several rows closed in one transaction (a batch's): [(row, body, answer)].
    effect_many: Callable[[list[tuple[RowT, BodyT, AnswerT]]], None] | None = None
    # In the record transaction of a retryable failure (row, body, error, failure): what else
    # the kind keeps; ``refused``: the same after a final failure closed the row.
    # (The error is one of its callee's ``errors``, the failure what its ``judge`` made of it.)
    retrying: Callable[[RowT, BodyT, ErrorT, FailureT], None] = _nothing
    refused: Callable[[RowT, BodyT, ErrorT, FailureT], None] = _nothing
    closed: Callable[[RowT], None] = _nothing  # after any close (e.g. queue the next row)
    released: Callable[[RowT], None] = _nothing  # after the call, whatever happened (a lease elsewhere)
    maybe_sent: str = ""  # a msgid with %(reason)s: a refusal after an attempt that may have acted
    give_up: Callable[[int, str], str] | None = None  # default: the row fails with GAVE_UP
    related: tuple[str, ...] = ()  # select_related on the claim
    lease: timedelta = LEASE
    # The sweep: which of the stale rows (a queryset) to send again, as primary keys.
    resumable: Callable[["QuerySet[Any]"], list[int]] | None = None
    # The scheduled task that sends its stale rows again (queued, no worker holding them: a
    # lost task, a dead worker), checked at start to be one a schedule runs (hireops.E034);
    # None where a person asks again, said where the kind is registered. Nothing else sends
    # a row whose task was lost.
    swept_by: str | None = ""
    watch: Watch = Watch()  # what "stuck" and "failed" mean for the status page
    # Its task: Celery's retries (None: as many as ``judge`` keeps asking for), queue, limits.
    max_retries: int | None = MAX_RETRIES
    # None: the default queue. ``send`` uses it; CELERY_TASK_ROUTES names it too, for retries.
    queue: str | None = None
    # Its bookkeeping may lose its last moment to a crash of the database (PostgreSQL's
    # synchronous_commit off): only for a kind whose call is harmless to repeat (a webhook,
    # which receivers must take at least once); its commits then never wait for the disk.
    relaxed_commit: bool = False
    # Its task's soft and hard time limits in seconds, asked by the worker that runs it (its
    # settings, when it starts: ``hireops.outbound.limits``): by default the outbound pair.
    time_limits: Callable[[], tuple[float, float]] = outbound_time_limits
    # How many rows ``send_many`` gives one task (its app's tasks module makes it with
    # ``batch_task``). Its rows' calls run one after another within the task's time limits, so
    # a batch must be short beside them; a batch kind's ``prepare`` never raises ``TryLater``
    # (it runs for all the batch's rows in one transaction).
    batch: int = 1
    # What its calls are counted under in its callee's trend: by default the kind's name (a
    # partner's webhook delivery: its endpoint).
    trend_dimension: Callable[[RowT], str] | None = None

    @property
    def task(self) -> "Task[Any, Any]":
        """The task ``task(self)`` made in the app's ``tasks`` module (a kind's name starts with
        its app's label), that module imported if it was not (``task_named``)."""
        return task_named(self.name)

    def send(self, pk: int) -> None:
        if self.queue:
            self.task.apply_async((pk,), queue=self.queue)
        else:
            self.task.delay(pk)  # as every caller and test of a Feishu kind expects

    def send_on_commit(self, pk: int) -> None:
        transaction.on_commit(lambda: self.send(pk))

    @property
    def batch_task_name(self) -> str:
        return f"{self.name}.batch"

    def send_many(self, pks: list[int]) -> None:
        """Send these rows, ``batch`` to a task, in this order (one row alone: its own task)."""
        for start in range(0, len(pks), self.batch):
            chunk = pks[start : start + self.batch]
            if len(chunk) == 1:
                self.send(chunk[0])
            elif self.queue:
                task_named(self.batch_task_name).apply_async((chunk,), queue=self.queue)
            else:
                task_named(self.batch_task_name).delay(chunk)


# A kind whatever its types: the registry holds kinds of every row, body and answer.
AnyKind: TypeAlias = Outbound[Any, Any, Any, Any, Any]
KINDS: dict[str, AnyKind] = {}


def register(
    kind: Outbound[_Row, BodyT, AnswerT, ErrorT, _Failure],
) -> Outbound[_Row, BodyT, AnswerT, ErrorT, _Failure]:
    """Add a kind to the registry; its rows must be call rows (``CallRow``), its callee's
    failures ``Failure``s."""
    KINDS[kind.name] = kind
    return kind


def kind_named(name: str) -> AnyKind:
    """The kind registered as ``name``: for a module its kind's own module imports (which may
    not import it back: "No import cycle inside a package"). Its app's ``tasks`` module makes
    the kind's task from the kind's module, so importing it registers the kind."""
    if name not in KINDS:
        task_named(name)
    return KINDS[name]


def kinds() -> list[AnyKind]:
    """Every kind of every app. A kind is registered where its module is imported, and each
    app's ``tasks`` module makes its kinds' tasks (``Outbound.task``), so importing those
    makes the registry whole in any process (a web process imports no tasks module by itself)."""
    discovery.require("tasks")  # every app's tasks.py (hireops.core.apps)
    return list(KINDS.values())


# --- running a row -------------------------------------------------------------------------


def not_being_sent(now: datetime) -> Q:
    """Rows no worker holds the lease of (never claimed, finished, or whose worker died)."""
    return Q(leased_until__isnull=True) | Q(leased_until__lt=now)


def close(kind: "Outbound[_Row, Any, Any, Any, Any]", row: _Row, status: str, **fields: Any) -> int:
    """Finish a still-queued row (compare-and-set) and release its lease; the object then says
    what the row holds (an effect reads the closed row without reading it again)."""
    closing = {"status": status, "finished_at": timezone.now(), "leased_until": None, **fields}
    done: int = kind.model.objects.filter(pk=row.pk, status=CallStatus.QUEUED).update(**closing)
    if done:
        for name, value in closing.items():
            setattr(row, name, value)
        kind.closed(row)
    return done


@contextmanager
def _atomic(kind: AnyKind) -> Iterator[None]:
    """A transaction of the engine's for a row of ``kind``."""
    with transaction.atomic():
        if kind.relaxed_commit and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO off")
        yield


def _claim(kind: Outbound[_Row, BodyT, AnswerT, ErrorT, _Failure], pk: int) -> tuple[_Row, BodyT] | None:
    """The row and its body, or None when it is not sent now (see ``_claim_batch``)."""
    claimed = _claim_batch(kind, [pk])
    return claimed[0] if claimed else None


def _take(kind: "Outbound[_Row, Any, Any, Any, Any]", rows: list[_Row], now: datetime) -> None:
    """Count the attempt and take the lease of claimed rows (locked in this transaction); the
    objects say what the rows hold now."""
    leased_until = now + kind.lease
    kind.model.objects.filter(pk__in=[row.pk for row in rows]).update(
        attempts=F("attempts") + 1, leased_until=leased_until
    )
    for row in rows:
        row.attempts += 1
        row.leased_until = leased_until


def _count(kind: "Outbound[_Row, Any, Any, Any, Any]", outcomes: list[tuple[_Row, str]]) -> None:
    """Record calls of ``kind`` (row, outcome) in its callee's trend, in the transaction that
    records them on the rows: every kind's calls are counted here, and only here."""
    if kind.callee.trend and outcomes:
        from hireops.calls_made import record

        dimension = kind.trend_dimension or (lambda row: kind.name)
        record.record(kind.callee.trend, [(dimension(row), outcome) for row, outcome in outcomes])


def _status(kind: AnyKind, pk: int) -> str:
    status: str = kind.model.objects.values_list("status", flat=True).get(pk=pk)
    return status


def run(kind: Outbound[_Row, BodyT, AnswerT, ErrorT, _Failure], pk: int) -> str:
    """Claim, call, record one row; ``TryLater`` when it is to be tried again."""
    claimed = _claim(kind, pk)
    if claimed is None:
        return _status(kind, pk)
    return _send(kind, *claimed)


def _send(kind: Outbound[_Row, BodyT, AnswerT, ErrorT, _Failure], row: _Row, body: BodyT) -> str:
    """Call and record a claimed row."""
    try:
        outcome = _called(kind, row, body)
        return (
            _record(kind, [(row, body, outcome.answer)])[row.pk]
            if isinstance(outcome, _Answered)
            else outcome
        )
    finally:
        kind.released(row)


@dataclass(frozen=True)
class _Answered(Generic[AnswerT]):
    """What the callee answered a call that did not fail."""

    answer: AnswerT


def _called(
    kind: Outbound[_Row, BodyT, AnswerT, ErrorT, _Failure],
    row: _Row,
    body: BodyT,
    cut: list[int] | None = None,
) -> _Answered[AnswerT] | str:
    """Call a claimed row, no transaction open: its answer, or its status once its failure is
    recorded (``TryLater`` when it is to be tried again). ``cut`` is told when the task's time
    limit cut the call."""
    try:
        return _Answered(kind.call(row, body))
    except kind.callee.errors as exc:
        return _failed(kind, row, body, exc)
    except SoftTimeLimitExceeded:
        # The task's time limit cut the call: the other side may have acted. Kept queued
        # with the lease released and retried like a lost answer, the same body and key.
        if cut is not None:
            cut.append(row.pk)
        return _failed(kind, row, body, kind.callee.cut(kind))


def _record(
    kind: Outbound[_Row, BodyT, AnswerT, ErrorT, _Failure], answered: list[tuple[_Row, BodyT, AnswerT]]
) -> dict[int, str]:
    """Close answered rows (row, body, answer) in one transaction, then make what their answers
    change: the kind's ``effect_many`` for those it closed as succeeded, or ``effect`` for each."""
    statuses: dict[int, str] = {}
    succeeded: list[tuple[_Row, BodyT, AnswerT]] = []
    with _atomic(kind):
        for row, body, resp in answered:
            fields = kind.callee.cleared(resp)
            fields.update(kind.answer(row, body, resp))
            status = statuses[row.pk] = fields.pop("status", CallStatus.SUCCEEDED)
            if close(kind, row, status, **fields) and status == CallStatus.SUCCEEDED:
                succeeded.append((row, body, resp))
        # An answer the kind could not keep failed its row: for its trend, a failed call.
        _count(kind, [(row, _answered_outcome(statuses[row.pk])) for row, _, _ in answered])
        if succeeded and kind.effect_many is not None:
            kind.effect_many(succeeded)
        else:
            for row, body, resp in succeeded:
                kind.effect(row, body, resp)
    return statuses


def _answered_outcome(status: str) -> str:
    """An answered call's outcome in its trend (``models.CallOutcome``)."""
    return "succeeded" if status == CallStatus.SUCCEEDED else "failed"


def _failed(
    kind: Outbound[_Row, BodyT, AnswerT, ErrorT, _Failure], row: _Row, body: BodyT, exc: ErrorT
) -> str:
    failure = kind.callee.judge(row, exc)
    log.warning("%s %s failed: %s", kind.name, row.pk, exc)
    if failure.retry:
        with _atomic(kind):
            kind.model.objects.filter(pk=row.pk, status=CallStatus.QUEUED).update(
                leased_until=None,
                **({"maybe_applied": True} if failure.maybe_applied else {}),
                **failure.fields(),
            )
            kind.retrying(row, body, exc, failure)
            _count(kind, [(row, "retried")])
        raise TryLater(failure.reason, after=failure.after, parked=getattr(failure, "parked", False)) from exc
    row.refresh_from_db(fields=["maybe_applied"])
    reason = failure.reason
    if row.maybe_applied and kind.maybe_sent:
        reason = Message(kind.maybe_sent, reason=failure.reason)
    with _atomic(kind):
        if close(kind, row, CallStatus.FAILED, **{**failure.fields(), "error": reason}):
            kind.refused(row, body, exc, failure)
        _count(kind, [(row, "failed")])
    return CallStatus.FAILED


def run_batch(kind: Outbound[_Row, BodyT, AnswerT, ErrorT, _Failure], pks: list[int]) -> dict[int, str]:
    """Claim these rows in one transaction, then call each, in order, and record the answers
    together while the calls are quick: an answer waits for others at most about
    ``OUTBOUND_BATCH_RECORD_WITHIN`` (0.2 s; one transaction and the kind's ``effect_many`` for
    several rows; a worker killed meanwhile leaves them to their leases and the same key). A row
    to be tried again goes to its kind's task, as that task's first retry; when the task's soft
    time limit comes, what was answered is recorded and the rows not called yet are given back
    and sent again. Returns the status of each row claimed."""
    claimed = _claim_batch(kind, pks)
    done: dict[int, str] = {}
    answered: list[tuple[_Row, BodyT, AnswerT]] = []
    cut: list[int] = []
    called = 0
    since = last_call = 0.0
    within: float = settings.OUTBOUND_BATCH_RECORD_WITHIN
    try:
        for row, body in claimed:
            if answered and time.monotonic() - since + last_call > within:
                _record_answered(kind, answered, done)  # the next answer would come too late
            called += 1
            started = time.monotonic()
            try:
                outcome = _called(kind, row, body, cut)
            except TryLater as exc:
                kind.released(row)
                done[row.pk] = CallStatus.QUEUED
                if not exc.parked:
                    _retry_alone(kind, row.pk, exc)
            else:
                last_call = time.monotonic() - started
                if not isinstance(outcome, _Answered):
                    kind.released(row)
                    done[row.pk] = outcome
                else:
                    since = since if answered else time.monotonic()
                    answered.append((row, body, outcome.answer))
            if cut:
                break
        _record_answered(kind, answered, done)
    except SoftTimeLimitExceeded:  # between two calls, or while recording
        _record_answered(kind, answered, done)
        cut.append(0)
    except Exception:  # the task fails; the rows not called yet need not wait for their leases
        _give_back(kind, [row for row, _ in claimed[called:]])
        raise
    if cut:
        _give_back(kind, [row for row, _ in claimed[called:]])
    return done


def _give_back(kind: "Outbound[_Row, Any, Any, Any, Any]", rows: list[_Row]) -> None:
    """Rows claimed and never called: the attempt not counted, the lease given back, and sent
    again."""
    if rows:
        kind.model.objects.filter(pk__in=[row.pk for row in rows], status=CallStatus.QUEUED).update(
            attempts=F("attempts") - 1, leased_until=None
        )
        kind.send_many([row.pk for row in rows])


def _record_answered(
    kind: Outbound[_Row, BodyT, AnswerT, ErrorT, _Failure],
    answered: list[tuple[_Row, BodyT, AnswerT]],
    done: dict[int, str],
) -> None:
    """Record the answers waiting in ``answered`` together. If that fails, each alone: a row
    whose record fails (its effect refused by the database, say) keeps its lease and stays in
    ``answered``, and the first such error is raised once the others are recorded, so one row
    never holds back the rest of its batch (it is sent again after its lease, with its key)."""
    if not answered:
        return
    try:
        done.update(_record(kind, answered))
    except SoftTimeLimitExceeded:
        raise
    except Exception:
        if len(answered) == 1:
            raise
        log.exception("%s: %d answers not recorded together; recording each alone", kind.name, len(answered))
        failed: Exception | None = None
        for one in list(answered):
            try:
                done.update(_record(kind, [one]))
            except Exception as exc:
                failed = failed or exc
                continue
            answered.remove(one)
            kind.released(one[0])
        if failed is not None:
            raise failed from None
    for row, _, _ in answered:
        kind.released(row)
    answered.clear()


def _retry_alone(kind: AnyKind, pk: int, exc: TryLater) -> None:
    """A row of a batch to be tried again: its kind's task, as that task's first retry."""
    if kind.max_retries == 0:
        give_up(kind, pk, exc.reason)
        return
    options: dict[str, Any] = {"queue": kind.queue} if kind.queue else {}
    after = exc.after if exc.after is not None else backoff(0)
    # ``retries``: the message's count of retries, a Celery option its stub leaves out.
    kind.task.apply_async((pk,), countdown=after, retries=1, **options)  # type: ignore[call-arg]


def _claim_batch(
    kind: Outbound[_Row, BodyT, AnswerT, ErrorT, _Failure], pks: list[int]
) -> list[tuple[_Row, BodyT]]:
    """The claim step for these rows, in one transaction, locked in the order of their keys:
    each still queued, its lease free, and a body from ``prepare``; in the order given."""
    with _atomic(kind):
        rows: Iterable[_Row] = (
            kind.model.objects.select_for_update(of=("self",))
            .select_related(*kind.related)
            .filter(pk__in=pks, status=CallStatus.QUEUED)
            .order_by("pk")
        )
        now = timezone.now()
        claimed: list[tuple[_Row, BodyT]] = []
        for row in rows:
            if row.leased_until and row.leased_until > now:
                continue  # being sent by another worker
            body = kind.prepare(row)
            if body is not None:
                claimed.append((row, body))
        if claimed:
            _take(kind, [row for row, _ in claimed], now)
    order = {pk: i for i, pk in enumerate(pks)}
    return sorted(claimed, key=lambda claim: order[claim[0].pk])


def give_up(kind: AnyKind, pk: int, reason: str) -> str:
    """The callee could not be reached after the task's retries. A row closed failed counts,
    in the same transaction, as given up in its callee's trend."""
    with transaction.atomic():
        if kind.give_up is not None:
            status = kind.give_up(pk, reason)
            row = kind.model.objects.get(pk=pk) if status == CallStatus.FAILED and kind.callee.trend else None
        else:
            row = kind.model.objects.get(pk=pk)
            closed = close(kind, row, CallStatus.FAILED, error=Message(GAVE_UP, reason=reason))
            status = CallStatus.FAILED if closed else ""
        if row is not None and status == CallStatus.FAILED:
            _count(kind, [(row, "gave_up")])
    return status or CallStatus.FAILED


# --- tasks and the sweep -------------------------------------------------------------------


def retrying_task(
    name: str,
    run: Callable[[int], object],
    give_up: Callable[[int, str], object],
    *,
    max_retries: int | None = MAX_RETRIES,
    time_limits: Callable[[], tuple[float, float]] = outbound_time_limits,
) -> "Task[Any, Any]":
    """A bound Celery task named ``name`` that runs ``run(pk)``; ``TryLater`` is retried with
    backoff (``hireops.outbound.retry``), and ``give_up(pk, reason)`` runs when retries run out.
    Every outbound task is made here, by default with the outbound time limits: the hard one
    ends before a row's lease (``LEASE``), so a row is never sent by two workers at once. The
    limits are ``time_limits()`` as the worker's settings give them, not as they were when the
    task was made (``hireops.outbound.limits``)."""
    from celery import shared_task

    from .limits import SettingsTimeLimits

    def send(self: "Task[Any, Any]", pk: int) -> object:
        return run_retrying(self, run, pk, give_up, max_retries=max_retries)

    send.__name__ = send.__qualname__ = name.rsplit(".", 1)[-1]
    return shared_task(
        bind=True,
        name=name,
        ignore_result=True,
        base=SettingsTimeLimits,
        time_limits=staticmethod(time_limits),
    )(send)


def task(kind: AnyKind) -> "Task[Any, Any]":
    """The kind's Celery task, named ``kind.name``, with the kind's retries, queue and limits."""
    return retrying_task(
        kind.name,
        lambda pk: run(kind, pk),
        lambda pk, reason: give_up(kind, pk, reason),
        max_retries=kind.max_retries,
        time_limits=kind.time_limits,
    )


def batch_task(kind: AnyKind) -> "Task[Any, Any]":
    """The kind's batch task (``send_many``), named ``kind.batch_task_name``: it runs
    ``run_batch``; its rows retry on the kind's own task, so it has no retries of its own."""
    from celery import shared_task

    from .limits import SettingsTimeLimits

    def send_batch(pks: list[int]) -> dict[int, str]:
        return run_batch(kind, pks)

    send_batch.__name__ = send_batch.__qualname__ = kind.batch_task_name.rsplit(".", 2)[-2] + "_batch"
    return shared_task(
        name=kind.batch_task_name,
        ignore_result=True,
        base=SettingsTimeLimits,
        time_limits=staticmethod(kind.time_limits),
    )(send_batch)


def stale(kind: AnyKind, grace: timedelta = GRACE) -> "QuerySet[Any]":
    """Queued rows of a kind that nothing is sending, queued longer than ``grace`` ago."""
    now = timezone.now()
    rows: QuerySet[Any] = kind.model.objects.filter(
        not_being_sent(now), status=CallStatus.QUEUED, requested_at__lte=now - grace
    )
    return rows


def resume(kind: AnyKind, grace: timedelta = GRACE) -> int:
    """The sweep for one kind: send again its stale rows. Returns how many were queued."""
    rows = stale(kind, grace)
    pks: list[int]
    if kind.resumable is not None:
        pks = kind.resumable(rows)
    else:
        pks = list(rows.order_by("pk").values_list("pk", flat=True)[:5000])
    for pk in pks:
        kind.send(pk)
    return len(pks)
