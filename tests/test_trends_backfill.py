"""manage.py trends_backfill builds the rollups of rows stored before the marks existed, a
day at a time, and resumes where it stopped."""

from collections import Counter
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from hireops.core import trends
from hireops.core.trends.models import Grain, TrendBackfill, TrendDirtyBucket, TrendRollup
from hireops.events.models import EventStatus, FeishuEvent

pytestmark = pytest.mark.django_db


def stored_before_the_marks(days_ago: list[int]) -> Counter:
    """Events written straight to the table (no marks), as a release before the trends left them."""
    hours: Counter = Counter()
    for i, days in enumerate(days_ago):
        event = FeishuEvent.objects.create(
            event_id=f"old-{days}-{i}",
            schema="2.0",
            event_type="hire.x_v1",
            payload={},
            status=EventStatus.PROCESSED,
        )
        at = timezone.now() - timedelta(days=days, minutes=i)
        FeishuEvent.objects.filter(pk=event.pk).update(received_at=at)
        hours[trends.hour_of(at), "hire.x_v1", EventStatus.PROCESSED] += 1
    return hours


def rollups() -> Counter:
    rows = TrendRollup.objects.filter(metric="events", grain=Grain.HOUR)
    return Counter(
        {(b, d, o): n for b, d, o, n in rows.values_list("bucket", "dimension", "outcome", "count")}
    )


def test_a_backfill_builds_the_rollups_of_rows_stored_before(monkeypatch):
    want = stored_before_the_marks([0, 3, 3, 20])
    stored_before_the_marks([40])  # before the days asked for: left out
    assert not rollups()
    out = StringIO()
    call_command("trends_backfill", "--metric", "events", "--days", "30", stdout=out)
    assert rollups() == want and not TrendDirtyBucket.objects.exists()
    assert "events: rollups rebuilt" in out.getvalue()
    again = StringIO()
    call_command("trends_backfill", "--metric", "events", stdout=again)
    assert "done already" in again.getvalue()


def test_a_stopped_backfill_resumes_from_its_watermark(monkeypatch):
    want = stored_before_the_marks([1, 5, 9])
    calls = []
    real = trends.recompute

    def stopped_on_the_third_day(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(trends, "recompute", stopped_on_the_third_day)
    with pytest.raises(KeyboardInterrupt):
        call_command("trends_backfill", "--metric", "events", "--days", "10")
    watermark = TrendBackfill.objects.get(metric="events").done_until
    assert timezone.now() - timedelta(days=8) < watermark < timezone.now() - timedelta(days=6)
    monkeypatch.setattr(trends, "recompute", real)
    out = StringIO()
    call_command("trends_backfill", "--metric", "events", "--days", "10", stdout=out)
    assert "resuming from" in out.getvalue() and len(calls) == 3
    assert rollups() == want


def test_an_unknown_metric_is_refused():
    with pytest.raises(CommandError, match="Unknown metric: nothing"):
        call_command("trends_backfill", "--metric", "nothing")


def test_a_batch_of_hours_is_read_in_spans_of_hours_close_together():
    """``trends.spans``: what a metric's ``count_hours`` reads, one query a span."""
    start = trends.hour_of(timezone.now())
    hour = trends.HOUR
    hours = [start + 30 * hour, start, start + 2 * hour, start + 3 * hour, start + 40 * hour]
    assert trends.spans(hours, timedelta(hours=2)) == [
        (start, start + 4 * hour),
        (start + 30 * hour, start + 31 * hour),
        (start + 40 * hour, start + 41 * hour),
    ]
    assert trends.spans(hours, timedelta(hours=27)) == [(start, start + 41 * hour)]
    assert trends.spans([], timedelta(hours=24)) == []
