"""The trends' rollups equal a GROUP BY over the raw rows, whatever happened to them: events
stored late and out of order, delivered twice, processed, failing, reprocessed, pruned by
retention, and a recomputation killed halfway or racing a writer (PostgreSQL)."""

import random
import threading
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.utils import timezone

from hireops.core import trends
from hireops.core.trends.models import Grain, TrendDirtyBucket, TrendRollup
from hireops.events import inbox, registry, services, trend
from hireops.events.models import EventStatus, FeishuEvent
from tests.lock_waits import until_another_waits
from tests.trend_rollups import assert_kept_equals, kept, killed_recompute

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the writers' marks race on PostgreSQL"),
]

HANDLED_TYPE = "hire.trends_test_v1"
FAILING: set[str] = set()


def handle(event):
    if event.event_id in FAILING:
        raise RuntimeError("refused by the test")


@pytest.fixture
def handled(monkeypatch):
    claim = registry.EventType(HANDLED_TYPE, "tests.test_trends.handle", "events.view_feishuevent")
    monkeypatch.setattr(registry, "_claims", [*registry.claims(), claim])
    monkeypatch.setattr(services.publisher, "submit", lambda pk: None)  # the test processes them itself
    FAILING.clear()


def row(event_id: str, event_type: str, received_at) -> inbox.InboxRow:
    status = EventStatus.PENDING if registry.handles(event_type) else EventStatus.IGNORED
    return inbox.InboxRow(event_id, "2.0", event_type, "cli_test", "", "", "", "{}", received_at, status)


def grouped() -> Counter:
    """The raw rows grouped by hour, type and status."""
    hours: Counter = Counter()
    for received_at, event_type, status in FeishuEvent.objects.values_list(
        "received_at", "event_type", "status"
    ):
        hours[trends.hour_of(received_at), event_type, status] += 1
    return hours


def assert_rollups_match():
    trends.recompute()
    assert not TrendDirtyBucket.objects.exists()
    assert_kept_equals(trend.METRIC, grouped())


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_rollups_equal_a_group_by_after_random_changes(handled, monkeypatch, settings, seed):
    settings.FEISHU_EVENT_RETENTION_DAYS = 20
    rng = random.Random(seed)
    now = timezone.now()
    stored: list[str] = []

    def store():
        # Late and out of order: any hour of the last sixty days, up to now.
        at = now - timedelta(minutes=rng.randrange(60 * 24 * 60))
        event_id = f"ev-{seed}-{len(stored)}"
        event_type = rng.choice([HANDLED_TYPE, HANDLED_TYPE, "hire.nobody_handles_v1"])
        with transaction.atomic():
            inbox.insert_rows([row(event_id, event_type, at)])
        stored.append(event_id)

    def deliver_again():
        if stored:
            first = FeishuEvent.objects.filter(event_id=rng.choice(stored)).first()
            if first:  # a replay of a stored event: a duplicate, whatever its time now
                inbox.insert_rows([row(first.event_id, first.event_type, now)])

    def process():
        pending = list(
            FeishuEvent.objects.filter(status=EventStatus.PENDING).values_list("pk", "event_id")[:5]
        )
        for pk, event_id in pending:
            if rng.random() < 0.4:
                FAILING.add(event_id)
            else:
                FAILING.discard(event_id)
            services.event_process(pk)

    def reprocess():
        failed = FeishuEvent.objects.filter(status=EventStatus.FAILED)
        FAILING.difference_update(rng.sample(sorted(FAILING), k=len(FAILING) // 2))
        services.events_reprocess(failed.filter(pk__in=list(failed.values_list("pk", flat=True)[:3])))

    def prune():
        services.events_prune(now=now - timedelta(days=rng.randrange(20)))

    def recompute_some():
        trends.recompute(batch=rng.randrange(1, 6), limit=rng.randrange(1, 20))

    def recompute_killed():  # a worker killed halfway through a batch
        killed_recompute(monkeypatch, trend.METRIC)

    steps = [store] * 8 + [
        deliver_again,
        process,
        process,
        reprocess,
        prune,
        recompute_some,
        recompute_killed,
    ]
    for _ in range(150):
        rng.choice(steps)()
    assert FeishuEvent.objects.exists() and TrendRollup.objects.filter(grain=Grain.PRUNED).exists()
    assert_rollups_match()


def test_a_change_committed_while_its_hour_is_recomputed_is_counted_next_run(handled, monkeypatch):
    """The writer's mark waits for the recomputation that deleted it, then marks the hour
    again: what the recomputation could not see is counted by the next run."""
    at = timezone.now() - timedelta(hours=3)
    with transaction.atomic():
        inbox.insert_rows([row("first", HANDLED_TYPE, at)])
    counts = trend.counts
    writer_done = threading.Event()

    failed: list[BaseException] = []

    def write_late():
        try:
            with transaction.atomic():
                inbox.insert_rows([row("late", HANDLED_TYPE, at)])
        except BaseException as exc:  # shown by the assertion below, not lost in the thread
            failed.append(exc)
        finally:
            connections.close_all()
            writer_done.set()

    def count_while_a_writer_commits(start, end):
        seen = list(counts(start, end))  # before the writer's row
        threading.Thread(target=write_late).start()
        until_another_waits(writer_done, lambda: repr(failed))  # the deleted mark's lock
        return seen

    monkeypatch.setitem(
        trends._metrics, trend.METRIC, trends.Metric(trend.METRIC, count_while_a_writer_commits)
    )
    # One batch of one hour: a second batch could find the writer's new mark (once it commits)
    # and run the writer again, which would find its event stored and not wait.
    assert trends.recompute(limit=1) == 1
    monkeypatch.setitem(trends._metrics, trend.METRIC, trends.Metric(trend.METRIC, counts))
    writer_done.wait(30)
    assert FeishuEvent.objects.count() == 2
    assert TrendDirtyBucket.objects.filter(bucket=trends.hour_of(at)).exists()
    assert_rollups_match()
    assert sum(kept(trend.METRIC, Grain.HOUR).values()) == 2
