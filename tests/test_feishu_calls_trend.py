"""The trend of the calls to Feishu: the engine records every call of every Feishu kind in the
transaction that records it on the row (answered, failed and tried again, failed for good, given
up), and the rollups equal a GROUP BY over that record whatever happened: calls one by one and
in batches, retries, refusals, give-ups, retention and recomputations killed halfway
(PostgreSQL)."""

import contextlib
import random
from collections import Counter
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.db import connection
from django.utils import timezone

from hireops import outbound
from hireops.calls_made import record
from hireops.calls_made.models import CallMade
from hireops.core import trends
from hireops.core.models import CallStatus
from hireops.core.trends.models import Grain, TrendDirtyBucket, TrendRollup
from hireops.feishu import FeishuError
from hireops.feishu.errors import FeishuServerError
from hireops.feishu_calls.callee import FEISHU, TREND
from hireops.outbound.retry import TryLater
from hireops.tenants.models import Tenant, TenantNameLookup
from tests.trend_rollups import assert_kept_equals, kept, killed_recompute

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="the rollups' recomputation is PostgreSQL's"
    ),
]


def made() -> Counter:
    """The record grouped by hour, kind and outcome."""
    hours: Counter = Counter()
    for at, dimension, outcome in CallMade.objects.filter(metric=TREND).values_list(
        "at", "dimension", "outcome"
    ):
        hours[trends.hour_of(at), dimension, outcome] += 1
    return hours


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_call_is_counted_and_the_rollups_equal_a_group_by(monkeypatch, seed):
    rng = random.Random(seed)
    now = timezone.now()
    clock = [now]
    monkeypatch.setattr(record, "timezone", SimpleNamespace(now=lambda: clock[0]))
    monkeypatch.setattr(outbound, "_retry_alone", lambda kind, pk, exc: None)  # retried by the test
    called: Counter = Counter()  # what Feishu saw, as the test's fake Feishu counts it: (hour, outcome)

    def call(row, body):
        hour = trends.hour_of(clock[0])
        roll = rng.random()
        if roll < 0.3:
            called[hour, "retried"] += 1
            raise FeishuServerError(None, "internal error", http_status=500)
        if roll < 0.4:
            called[hour, "failed"] += 1
            raise FeishuError(1002, "refused")
        called[hour, "succeeded"] += 1
        return SimpleNamespace(log_id="log")

    kind = outbound.Outbound(
        name="tests.trend_lookup",
        model=TenantNameLookup,
        prepare=lambda row: "body",
        call=call,
        callee=FEISHU,
    )
    monkeypatch.setitem(outbound.KINDS, kind.name, kind)
    tenant = Tenant.objects.create(tenant_key="t-trend")

    def queued(n: int) -> list[int]:
        rows = TenantNameLookup.objects.filter(tenant=tenant, status=CallStatus.QUEUED).order_by("?")
        return list(rows.values_list("pk", flat=True)[:n])

    def tick():  # calls come at any hour of the last sixty days, in any order
        clock[0] = now - timedelta(minutes=rng.randrange(60 * 24 * 60))

    def request():
        TenantNameLookup.objects.create(tenant=tenant)

    def send():
        for pk in queued(1):
            with contextlib.suppress(TryLater):  # kept queued: tried again by a later step
                outbound.run(kind, pk)

    def send_batch():
        pks = queued(rng.randrange(2, 6))
        if pks:
            outbound.run_batch(kind, pks)

    def give_up():
        for pk in queued(1):
            if TenantNameLookup.objects.get(pk=pk).attempts:
                called[trends.hour_of(clock[0]), "gave_up"] += 1
                outbound.give_up(kind, pk, "the retries ran out")

    def prune():
        record.prune(before=now - timedelta(days=rng.randrange(30, 60)), batch=rng.randrange(1, 50))

    def recompute_some():
        trends.recompute(batch=rng.randrange(1, 6), limit=rng.randrange(1, 20))

    def recompute_killed():  # a worker killed halfway through a batch
        killed_recompute(monkeypatch, TREND)

    steps = [tick] * 4 + [request] * 4 + [send] * 4 + [send_batch, send_batch, give_up, prune]
    steps += [recompute_some, recompute_killed]
    for _ in range(200):
        rng.choice(steps)()
    trends.recompute()
    assert not TrendDirtyBucket.objects.exists()
    assert_kept_equals(TREND, made())
    hours = made() + kept(TREND, Grain.PRUNED)
    assert TrendRollup.objects.filter(metric=TREND, grain=Grain.PRUNED).exists()
    # Every call the fake Feishu saw is in the trend, in its hour, as it came out; nothing else.
    seen = Counter({(hour, outcome): n for (hour, _kind, outcome), n in hours.items()})
    assert {k: v for k, v in seen.items()} == +called
    assert {d for _h, d, _o in hours} == {kind.name}
