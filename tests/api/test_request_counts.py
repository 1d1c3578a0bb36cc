"""The API's requests per key, counted in Redis on the hot path and written once each hour is
over: the trend equals a GROUP BY over the hourly rows, and those rows hold every answered
request, under its key or under "no key", whatever happened: refused requests (no key, an
unknown or revoked key, the rate limit, no such operation), flushes killed before or after
their commit, retention, recomputations (PostgreSQL, Redis)."""

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection
from django.utils import timezone

from hireops.api import counting, keys
from hireops.api.models import RequestCount
from hireops.core import trends
from hireops.core.trends.models import Grain, TrendDirtyBucket, TrendRollup

from .keys import bearer, make_key

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql" or not isinstance(caches["default"], RedisCache),
        reason="the counts are Redis's, the rollups' recomputation PostgreSQL's",
    ),
]


class Killed(Exception):
    pass


def expected() -> dict[str, Counter]:
    hours: Counter = Counter()
    for hour, prefix, outcome, n in RequestCount.objects.values_list(
        "hour", "key_prefix", "outcome", "count"
    ):
        hours[hour, prefix, outcome] += n
    pruned = TrendRollup.objects.filter(metric=counting.METRIC, grain=Grain.PRUNED)
    for bucket, dimension, outcome, n in pruned.values_list("bucket", "dimension", "outcome", "count"):
        hours[bucket, dimension, outcome] += n
    days: Counter = Counter()
    for (hour, dimension, outcome), n in hours.items():
        days[trends.day_of(hour), dimension, outcome] += n
    return {Grain.HOUR: +hours, Grain.DAY: +days}


def rollups(grain: str) -> Counter:
    rows = TrendRollup.objects.filter(metric=counting.METRIC, grain=grain)
    return Counter(
        {(b, d, o): n for b, d, o, n in rows.values_list("bucket", "dimension", "outcome", "count")}
    )


@pytest.mark.parametrize("seed", [1, 2])
def test_every_request_is_counted_under_its_key_and_the_rollups_equal_a_group_by(
    client, monkeypatch, settings, seed
):
    rng = random.Random(seed)
    settings.API_RATE_LIMIT = 6
    real_now = timezone.now().timestamp()
    clock = [real_now]
    monkeypatch.setattr(counting, "_clock", lambda: clock[0])
    reader = make_key("bindings:read", name="reader")
    other = make_key("bindings:read", name="other")
    revoked = make_key("bindings:read", name="revoked")
    keys.revoke(revoked[: keys.SHOWN])
    prefixes = {reader: reader[: keys.SHOWN], other: other[: keys.SHOWN]}
    answered: Counter = Counter()  # what the test was answered: (hour, key prefix or "", outcome)

    def tick():
        clock[0] = real_now - 60 * rng.randrange(60 * 24 * 40)

    def ask():
        presented = rng.choice([reader, reader, other, revoked, None, "hko_" + "x" * 40])
        path = rng.choice(["/api/v1/bindings", "/api/v1/bindings?limit=1", "/api/v1/nowhere"])
        response = client.get(path, **(bearer(presented) if presented else {}))
        hour = datetime.fromtimestamp(int(clock[0]) // 3600 * 3600, tz=UTC)
        answered[hour, prefixes.get(presented, ""), counting.outcome_of(response.status_code)] += 1

    def flush():
        counting.flush()

    def flush_killed_after_commit():
        redis_client = type(caches["default"]._cache.get_client(None, write=True))
        delete = redis_client.delete

        def die(self, *names):
            raise Killed  # the rows are committed, the moved hash is still in Redis

        monkeypatch.setattr(redis_client, "delete", die)
        try:
            counting.flush()
        except Killed:
            pass
        finally:
            monkeypatch.setattr(redis_client, "delete", delete)

    def flush_killed_before_commit():
        real = trends.mark

        def die(*args):
            raise Killed

        monkeypatch.setattr(trends, "mark", die)
        try:
            counting.flush()
        except Killed:
            pass
        finally:
            monkeypatch.setattr(trends, "mark", real)

    def prune():
        # Retention takes rows 35 days old, daily: the minute's flush has long finished any
        # flush killed after its commit (their batches would otherwise come back).
        counting.flush()
        counting.prune(
            before=timezone.now() - timedelta(days=rng.randrange(10, 40)), batch=rng.randrange(1, 20)
        )

    def recompute_some():
        trends.recompute(batch=rng.randrange(1, 6), limit=rng.randrange(1, 20))

    steps = [tick] * 3 + [ask] * 10 + [flush, flush_killed_after_commit, flush_killed_before_commit, prune]
    steps += [recompute_some]
    for _ in range(150):
        rng.choice(steps)()
    clock[0] = real_now + 3600  # every hour counted so far is over
    counting.flush()
    trends.recompute()
    assert not TrendDirtyBucket.objects.exists()
    want = expected()
    assert rollups(Grain.HOUR) == want[Grain.HOUR] and rollups(Grain.DAY) == want[Grain.DAY]
    assert want[Grain.HOUR] == +answered  # every request, once, in its hour, under its key or none
    assert {o for _h, _k, o in answered} >= {counting.ANSWERED, counting.REFUSED}
    # Only usable keys' prefixes are kept: never a revoked key's, never what was presented.
    kept = set(RequestCount.objects.values_list("key_prefix", flat=True))
    assert kept <= {"", reader[: keys.SHOWN], other[: keys.SHOWN]}


def test_a_refusal_whose_hour_was_flushed_before_its_answer_stays_counted_once(client, monkeypatch):
    """A request with a usable key is counted (as answered) in the rate limit's round trip; its
    answer moves it to its outcome. If the flush took its hour in between, it stays as it was
    counted: once, never again in a hash of its own."""
    clock = [timezone.now().timestamp()]
    monkeypatch.setattr(counting, "_clock", lambda: clock[0])
    key = make_key("bindings:read")
    real_settle = counting.settle

    def settle_after_the_hour_was_flushed(counted, status):
        clock[0] += 3600
        counting.flush()
        real_settle(counted, status)

    monkeypatch.setattr(counting, "settle", settle_after_the_hour_was_flushed)
    assert client.get("/api/v1/nowhere", **bearer(key)).status_code == 404
    monkeypatch.setattr(counting, "settle", real_settle)
    assert client.get("/api/v1/nowhere", **bearer(key)).status_code == 404  # the next hour: moved
    clock[0] += 3600
    counting.flush()
    counted = sorted(RequestCount.objects.values_list("key_prefix", "outcome", "count"))
    prefix = key[: keys.SHOWN]
    assert counted == [(prefix, counting.ANSWERED, 1), (prefix, counting.REFUSED, 1)]
