"""The trend of the deliveries to partners' endpoints: the engine records every attempt, per
endpoint, in the transaction that records it on the delivery, and the rollups equal a GROUP BY
over that record whatever happened: deliveries answered, failed and tried again, failed for
good, sent again from the start, forgotten by retention, recomputations killed halfway
(PostgreSQL)."""

import contextlib
import random
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection, transaction
from django.utils import timezone

from hireops import outbound
from hireops.calls_made import record
from hireops.calls_made.models import CallMade
from hireops.core import trends
from hireops.core.models import CallStatus
from hireops.core.trends.models import Grain, TrendDirtyBucket
from hireops.outbound.retry import TryLater
from hireops.webhooks import delivery, endpoints, events, retention
from hireops.webhooks.delivery import DELIVER, TREND
from hireops.webhooks.models import WebhookDelivery, WebhookEvent
from tests.trend_rollups import assert_kept_equals, kept

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the rollups' recomputation is PostgreSQL's"
    ),
]


def made() -> Counter:
    """The record grouped by hour, endpoint and outcome."""
    hours: Counter = Counter()
    for at, dimension, outcome in CallMade.objects.filter(metric=TREND).values_list(
        "at", "dimension", "outcome"
    ):
        hours[trends.hour_of(at), dimension, outcome] += 1
    return hours


@pytest.mark.parametrize("seed", [1, 2])
def test_every_attempt_is_counted_per_endpoint_and_the_rollups_equal_a_group_by(
    receiver, monkeypatch, settings, seed
):
    rng = random.Random(seed)
    now = timezone.now()
    clock = [now]
    monkeypatch.setattr(record, "timezone", SimpleNamespace(now=lambda: clock[0]))
    monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: None)  # the test runs each attempt
    monkeypatch.setattr(delivery, "ATTEMPTS", 3)  # failed for good sooner
    settings.WEBHOOK_KEEP_DAYS = 0
    settings.WEBHOOK_DISABLE_AFTER_DAYS = 10_000
    partners = [
        endpoints.create(url=receiver.url, description=name, scopes=endpoints.data_scopes())[0]
        for name in ("first", "second")
    ]
    answered: Counter = Counter()  # what the receiver answered: (hour, endpoint, status)

    def tick():
        clock[0] = now - timedelta(minutes=rng.randrange(60 * 24 * 40))

    def emit():
        with transaction.atomic():
            events.record(events.get(events.PING), partners[0], [rng.choice(partners)])

    def attempt():
        queued = WebhookDelivery.objects.filter(status=CallStatus.QUEUED).order_by("?").first()
        if queued is None:
            return
        WebhookDelivery.objects.filter(pk=queued.pk).update(next_attempt_at=timezone.now())
        status = rng.choice([200, 200, 500])
        receiver.answers = [status]
        before = len(receiver.requests)
        with contextlib.suppress(TryLater):
            outbound.run(DELIVER, queued.pk)
        if len(receiver.requests) > before:
            answered[trends.hour_of(clock[0]), str(queued.endpoint_id), status] += 1

    def resend():
        done = WebhookDelivery.objects.exclude(status=CallStatus.QUEUED).order_by("?")[:2]
        delivery.resend(WebhookDelivery.objects.filter(pk__in=[d.pk for d in done]))

    def forget():  # retention: events and their deliveries go, what was counted stays
        WebhookEvent.objects.filter(pk__in=WebhookEvent.objects.order_by("?").values("pk")[:2]).update(
            created_at=now - timedelta(days=1)
        )
        retention.prune()

    def prune():
        record.prune(before=now - timedelta(days=rng.randrange(20, 40)), batch=rng.randrange(1, 50))

    def recompute_some():
        trends.recompute(batch=rng.randrange(1, 6), limit=rng.randrange(1, 20))

    steps = [tick] * 3 + [emit] * 3 + [attempt] * 6 + [resend, forget, prune, recompute_some]
    for _ in range(150):
        rng.choice(steps)()
    trends.recompute()
    assert not TrendDirtyBucket.objects.exists()
    assert_kept_equals(TREND, made())
    hours = made() + kept(TREND, Grain.PRUNED)
    # Every request the receiver answered is in the trend, in its hour and under its endpoint:
    # a 200 delivered, a 500 failed (tried again, or for good after the last attempt).
    seen: Counter = Counter()
    for (hour, endpoint, outcome), n in hours.items():
        seen[hour, endpoint, 200 if outcome == "succeeded" else 500] += n
    assert seen == +answered
    assert {o for _h, _e, o in hours} <= {"succeeded", "retried", "failed"}
    assert {e for _h, e, _o in hours} <= {str(p.pk) for p in partners}
