"""Writes on the inbox: store a delivery, process it, sweep, prune (rejected deliveries too),
reprocess."""

import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.translation import gettext_noop

from hireops.core import audit
from hireops.core.logs import bind as bind_log_ids
from hireops.core.logs import log_scope
from hireops.core.messages import Message
from hireops.ops import metrics

from . import inbox, trend
from .inbox import InboxRow
from .models import EventStatus, FeishuEvent
from .publisher import publisher, queue_events
from .refusals import EventRefused
from .registry import handled_types, handler_for, handles
from .rejected_deliveries import rejected_deliveries_prune
from .verify import Envelope

if TYPE_CHECKING:
    from django.contrib.auth.models import User

log = logging.getLogger(__name__)

# Backoff after the n-th failure; after the last one the row stays failed for a person.
RETRY_BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1))
SWEEP_GRACE = timedelta(seconds=30)
# Change-history message (hireops.core.audit), on each event, translated when read.
REPROCESSED = gettext_noop("Queued again for processing.")


def _without_nul(value: object) -> object:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def payload_text(payload: dict[str, Any], as_sent: str = "") -> str:
    """The payload as JSON text: ``as_sent`` (the text it was parsed from) when given, which
    saves serializing it again on the webhook's path."""
    if as_sent and "\\u0000" not in as_sent:
        return as_sent
    text = json.dumps(payload, ensure_ascii=False)
    if "\\u0000" in text:
        # PostgreSQL's jsonb cannot hold U+0000: store U+FFFD in its place rather than
        # refuse the event until Feishu stops retrying it.
        text = json.dumps(_without_nul(payload), ensure_ascii=False)
    return text


def event_row(envelope: Envelope) -> InboxRow:
    account_id = envelope.event.get("account_id")
    return InboxRow(
        event_id=envelope.event_id,
        schema=envelope.schema,
        event_type=envelope.event_type,
        app_id=envelope.app_id,
        tenant_key=envelope.tenant_key,
        create_time=envelope.create_time,
        account_id=account_id[:128] if isinstance(account_id, str) else "",
        payload=payload_text(envelope.payload, envelope.text),
        received_at=timezone.now(),
        status=EventStatus.PENDING if handles(envelope.event_type) else EventStatus.IGNORED,
    )


def _needs_processing(row: InboxRow, stored: inbox.Stored) -> bool:
    return stored.created and row.status == EventStatus.PENDING


def event_store(envelope: Envelope, via: str = "webhook") -> bool:
    """Store the delivery, or count it as a duplicate; True for its first delivery.

    Outside a transaction the row is committed when this returns (by the inbox writer,
    with concurrent deliveries); inside one, it is part of the caller's transaction.
    Raises DatabaseError when it could not be stored.
    """
    row = event_row(envelope)
    if connection.in_atomic_block:
        stored = inbox.insert_rows([row])[0]
        if _needs_processing(row, stored):
            transaction.on_commit(lambda: publisher.submit(stored.pk))  # type: ignore[arg-type]  # stored: has its pk
        kept = [inbox.Kept(row, stored, via, inbox.delivering_request_id())]
        transaction.on_commit(lambda: inbox.log_kept(kept))  # the writer's line, for a row it did not write
    else:
        stored = inbox.writer.store(row, via)
        if _needs_processing(row, stored):
            publisher.submit(stored.pk)  # type: ignore[arg-type]  # stored: has its pk
    return stored.created


async def aevent_store(envelope: Envelope, via: str = "webhook") -> bool:
    """``event_store`` for the ASGI endpoint: waits for the commit without a thread."""
    row = event_row(envelope)
    stored = await inbox.serving().astore(row, via)
    if _needs_processing(row, stored):
        publisher.submit(stored.pk)  # type: ignore[arg-type]  # stored: has its pk
    return stored.created


def event_process(pk: int) -> str:
    """Run the handler once; safe to call any number of times for the same row."""
    with log_scope():  # the event id, bound once the row is read, is for this event's lines only
        return _process(pk)


def _process(pk: int) -> str:
    try:
        with transaction.atomic():
            event = FeishuEvent.objects.select_for_update().get(pk=pk)
            bind_log_ids(event_id=event.event_id)
            if event.status not in (EventStatus.PENDING, EventStatus.FAILED):
                return event.status
            handler = handler_for(event.event_type)
            if handler is None:
                event.status = EventStatus.IGNORED
            else:
                handler(event)
                event.status = EventStatus.PROCESSED
                event.processed_at = timezone.now()
            event.attempts += 1
            event.last_error = ""
            event.next_attempt_at = None
            event.save()
            trend.mark([event.received_at])
    except FeishuEvent.DoesNotExist:
        log.warning("event %s vanished before processing", pk)
        return "missing"
    except Exception as exc:
        _count(_record_failure(pk, exc), EventStatus.FAILED)
        return EventStatus.FAILED
    log.info("event %s (%s) %s", event.event_id, event.event_type, event.status)
    _count(event, event.status)
    return event.status


def _type_label(event_type: str) -> str:
    """The type as a metrics label when an app handles it; anything else is "other" (a sender
    can invent types: they must not grow the label set)."""
    return event_type if handles(event_type) else "other"


def _count(event: FeishuEvent, outcome: str) -> None:
    label = _type_label(event.event_type)
    metrics.events_processed.labels(label, outcome).inc()
    if outcome == EventStatus.PROCESSED:
        metrics.event_lag.labels(label).observe((timezone.now() - event.received_at).total_seconds())


def failure_text(exc: Exception) -> str:
    """What the event log shows: a handler's Message as staff read it, in their language; any
    other error as its type and text, which is for whoever maintains the code."""
    reason = exc.args[0] if len(exc.args) == 1 else None
    if isinstance(reason, Message):
        return reason
    return f"{type(exc).__name__}: {exc}"[:2000]


def _record_failure(pk: int, exc: Exception) -> FeishuEvent:
    with transaction.atomic():
        event = FeishuEvent.objects.select_for_update().get(pk=pk)
        event.attempts += 1
        event.status = EventStatus.FAILED
        event.last_error = failure_text(exc)
        n = event.attempts - 1
        event.next_attempt_at = timezone.now() + RETRY_BACKOFF[n] if n < len(RETRY_BACKOFF) else None
        event.save()
        trend.mark([event.received_at])
        if isinstance(exc, EventRefused) and exc.record is not None:
            _record_refusal(pk, exc.record)
    log.warning("event %s failed (attempt %s): %s", pk, event.attempts, type(exc).__name__)
    return event


def _record_refusal(pk: int, record: Callable[[], object]) -> None:
    """The handler's ``record``, in a savepoint: its own failure leaves the event's recorded."""
    try:
        with transaction.atomic():
            record()
    except Exception:
        log.exception("event %s: what its refusal records could not be written", pk)


def events_sweep() -> int:
    """Queue what was stored but never queued (broker down) and failures now due.

    A pending event may only be waiting its turn behind a backlog: each time the sweep queues
    it, it waits one more backoff step (30 s, 2 min, 10 min, then hourly) before the sweep
    queues it again, so a backlog does not fill the queue with copies of itself."""
    now = timezone.now()
    pending_due = Q(status=EventStatus.PENDING, received_at__lte=now - SWEEP_GRACE) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    due = list(
        FeishuEvent.objects.filter(pending_due | Q(status=EventStatus.FAILED, next_attempt_at__lte=now))
        .values_list("pk", "status")
        .order_by()[:1000]
    )
    pending = [pk for pk, status in due if status == EventStatus.PENDING]
    if pending:
        steps = [When(sweeps=n, then=Value(now + step)) for n, step in enumerate(RETRY_BACKOFF)]
        FeishuEvent.objects.filter(pk__in=pending, status=EventStatus.PENDING).update(
            sweeps=F("sweeps") + 1, next_attempt_at=Case(*steps, default=Value(now + RETRY_BACKOFF[-1]))
        )
    return queue_events([pk for pk, _status in due])


def replayable(queryset: "QuerySet[FeishuEvent]") -> "QuerySet[FeishuEvent]":
    """Events worth processing again: failed ones, and ignored ones whose type has a handler
    now (stored before the app that handles them was deployed)."""
    return queryset.filter(
        Q(status=EventStatus.FAILED) | Q(status=EventStatus.IGNORED, event_type__in=handled_types())
    )


def events_reprocess(queryset: "QuerySet[FeishuEvent]", user: "User | None" = None) -> list[int]:
    """Make failed or replayable ignored events pending again and queue them (admin action,
    command), each in ``user``'s change history. Returns their pks."""
    pks = list(replayable(queryset).values_list("pk", flat=True))
    with transaction.atomic():
        FeishuEvent.objects.filter(pk__in=pks).update(
            status=EventStatus.PENDING, next_attempt_at=None, sweeps=0
        )
        trend.mark(FeishuEvent.objects.filter(pk__in=pks).values_list("received_at", flat=True).distinct())
        audit.record(user, FeishuEvent.objects.filter(pk__in=pks), REPROCESSED)
    transaction.on_commit(lambda: queue_events(pks))
    return pks


PRUNE_BATCH = 5000


def events_prune(now: datetime | None = None) -> int:
    """Delete processed and ignored events past the retention period, and rejected deliveries
    past theirs; returns how many events. An ignored event whose type has a handler now is
    kept: it waits for staff to replay it."""
    days: int = settings.FEISHU_EVENT_RETENTION_DAYS
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = FeishuEvent.objects.filter(received_at__lt=cutoff)
    done = Q(status=EventStatus.PROCESSED) | Q(status=EventStatus.IGNORED) & ~Q(
        event_type__in=handled_types()
    )
    # In batches, each committed on its own: a run cut short by its time limit keeps what it
    # deleted, and no statement holds a table's worth of row locks.
    deleted = 0
    while pks := list(old.filter(done).order_by("pk").values_list("pk", flat=True)[:PRUNE_BATCH]):
        with transaction.atomic():
            gone = FeishuEvent.objects.filter(pk__in=pks)
            trend.prune(gone.values_list("received_at", "event_type", "status"))
            deleted += gone.delete()[0]
    rejected_deliveries_prune(now)
    return deleted
