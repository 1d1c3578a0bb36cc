"""Writes on the inbox: store a delivery, process it, sweep, prune, reprocess."""

import json
import logging
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from .dispatch import handler_for
from .models import EventStatus, FeishuEvent
from .verify import Envelope

log = logging.getLogger(__name__)

# Backoff after the n-th failure; after the last one the row stays failed for a person.
RETRY_BACKOFF = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(hours=1))
SWEEP_GRACE = timedelta(seconds=30)


def _enqueue(pk: int) -> None:
    # Imported late: tasks import this module. retry=False: a broker that is down must
    # not hold up Feishu's 3-second answer; the sweep picks the row up later.
    from .tasks import process_event

    try:
        process_event.apply_async(args=[pk], retry=False)
    except Exception as exc:
        log.warning("event %s stored but not queued (%s); the sweep will queue it", pk, type(exc).__name__)


_COLUMNS = (
    "event_id",
    "schema",
    "event_type",
    "app_id",
    "tenant_key",
    "create_time",
    "account_id",
    "payload",
    "received_at",
    "status",
    "attempts",
    "last_error",
    "duplicate_count",
)


@cache
def _insert_sql(vendor: str) -> str:
    # Built once per database backend (``vendor`` is the cache key; quoting is the backend's).
    # One statement on the hot path: ON CONFLICT makes a duplicate a no-op instead of an
    # exception (and a savepoint), RETURNING says whether this delivery was the first.
    # Plain SQL that PostgreSQL and SQLite (3.35+) both run.
    table = connection.ops.quote_name(FeishuEvent._meta.db_table)
    cols = ", ".join(connection.ops.quote_name(c) for c in _COLUMNS)
    marks = ", ".join(["%s"] * len(_COLUMNS))
    # Only model metadata goes into the string; every value is a bound parameter.
    return f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT (event_id) DO NOTHING RETURNING id"  # noqa: S608


def event_store(envelope: Envelope) -> tuple[int, bool]:
    """Insert the delivery, or count it as a duplicate. Returns (pk, first delivery?).

    Outside a transaction the insert commits by itself, so the row is durable when this returns.
    """
    status = EventStatus.PENDING if handler_for(envelope.event_type) else EventStatus.IGNORED
    account_id = envelope.event.get("account_id")
    now = timezone.now()
    values = (
        envelope.event_id,
        envelope.schema,
        envelope.event_type,
        envelope.app_id,
        envelope.tenant_key,
        envelope.create_time,
        account_id[:128] if isinstance(account_id, str) else "",
        json.dumps(envelope.payload, ensure_ascii=False),
        connection.ops.adapt_datetimefield_value(now),
        status,
        0,
        "",
        0,
    )
    with connection.cursor() as cursor:
        cursor.execute(_insert_sql(connection.vendor), values)
        row = cursor.fetchone()
    if row is None:
        FeishuEvent.objects.filter(event_id=envelope.event_id).update(
            duplicate_count=F("duplicate_count") + 1, last_duplicate_at=now
        )
        return FeishuEvent.objects.values_list("pk", flat=True).get(event_id=envelope.event_id), False
    pk = row[0]
    if status == EventStatus.PENDING:
        transaction.on_commit(lambda: _enqueue(pk))
    return pk, True


def event_process(pk: int) -> str:
    """Run the handler once; safe to call any number of times for the same row."""
    try:
        with transaction.atomic():
            event = FeishuEvent.objects.select_for_update().get(pk=pk)
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
            return event.status
    except FeishuEvent.DoesNotExist:
        log.warning("event %s vanished before processing", pk)
        return "missing"
    except Exception as exc:
        _record_failure(pk, exc)
        return EventStatus.FAILED


def _record_failure(pk: int, exc: Exception) -> None:
    with transaction.atomic():
        event = FeishuEvent.objects.select_for_update().get(pk=pk)
        event.attempts += 1
        event.status = EventStatus.FAILED
        event.last_error = f"{type(exc).__name__}: {exc}"[:2000]
        n = event.attempts - 1
        event.next_attempt_at = timezone.now() + RETRY_BACKOFF[n] if n < len(RETRY_BACKOFF) else None
        event.save()
    log.warning("event %s failed (attempt %s): %s", pk, event.attempts, type(exc).__name__)


def events_sweep() -> int:
    """Queue what was stored but never queued (broker down) and failures now due."""
    now = timezone.now()
    due = FeishuEvent.objects.filter(
        Q(status=EventStatus.PENDING, received_at__lte=now - SWEEP_GRACE)
        | Q(status=EventStatus.FAILED, next_attempt_at__lte=now)
    ).values_list("pk", flat=True)[:1000]
    pks = list(due)
    for pk in pks:
        _enqueue(pk)
    return len(pks)


def events_reprocess(queryset) -> list[int]:
    """Make failed events pending again and queue them (admin action, command). Returns their pks."""
    pks = list(queryset.filter(status=EventStatus.FAILED).values_list("pk", flat=True))
    FeishuEvent.objects.filter(pk__in=pks).update(status=EventStatus.PENDING, next_attempt_at=None)
    for pk in pks:
        transaction.on_commit(lambda pk=pk: _enqueue(pk))
    return pks


def events_prune(now=None) -> int:
    days = settings.FEISHU_EVENT_RETENTION_DAYS
    cutoff = (now or timezone.now()) - timedelta(days=days)
    done = (EventStatus.PROCESSED, EventStatus.IGNORED)
    deleted, _ = FeishuEvent.objects.filter(status__in=done, received_at__lt=cutoff).delete()
    return deleted
