"""The API's requests per key and outcome, counted on the hot path without a database write.

A partner may send hundreds of requests a second, so a request is counted in Redis with
``HINCRBY`` on its hour's hash (``api:requests:h:<hour>``, a field per key prefix and outcome).
A request with a usable key is counted as answered (or refused, over the limit) in the rate
limit's own round trip (``hireops.api.ratelimit``), and moved to its outcome after its answer
only when that is a refusal or a failure (``settle``); any other request is counted after its
answer (``count``). Once an hour is over, the beat task
``api.flush_request_counts`` (every minute) moves each closed hour's hash aside under a name of
its own (``RENAME``: a request still counting that hour starts a new hash, flushed next run),
writes its figures as ``RequestCount`` rows with that name as their batch and marks the hour
for the trend, in one transaction, and then deletes the moved hash. A flush killed before its
commit leaves the hash to the next run; one killed after it writes the same batch again, which
the batch's unique constraint ignores: nothing is counted twice (the next run, a minute
later, finishes it; retention takes rows only ``KEEP`` after their hour, so a batch never comes
back once its rows were pruned).

What can be lost: the counts Redis holds (the current hour, and closed hours not flushed yet)
if Redis itself loses them (a restart without persistence, a failover to a replica behind
it), and a request whose count Redis refused (logged; the answer is sent whatever). A request
with a usable key is counted before its operation runs: a web process killed mid-request
leaves it counted as answered, and so does a refusal or failure whose hour was flushed before
it was answered (a request begun in the hour's last seconds): counted once either way, under
the outcome it was counted with first.

The key is its prefix (unique, never given to another key); a request with no key, or with one
that is unknown, revoked or expired, counts under "" and what it presented is never kept.
Without Redis (development with a file cache, tests on SQLite) requests are not counted: a
database write per request would be the very cost this avoids, and production has Redis for
its shared rate limit anyway.
"""

import contextlib
import itertools
import logging
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple
from weakref import WeakKeyDictionary

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from redis import Redis
from redis.commands.core import Script
from redis.exceptions import ResponseError

from hireops.core import trends

from .models import RequestCount

log = logging.getLogger(__name__)

METRIC = "api.requests"
ANSWERED, REFUSED, FAILED = "answered", "refused", "failed"
NO_KEY = ""
_HASH = "api:requests:h:"
_MOVED = "api:requests:flush:"
HELD = 7 * 24 * 3600  # a hash not flushed in a week (the beat stopped that long) expires
KEEP = timedelta(days=35)  # the rows; their counts stay in the trend (trends.prune)


def outcome_of(status: int) -> str:
    if status >= 500:
        return FAILED
    return REFUSED if status >= 400 else ANSWERED


def _clock() -> float:
    return time.time()


class Counted(NamedTuple):
    """A request as its hour's counts hold it so far (``hireops.api.ratelimit.take``)."""

    key_prefix: str
    hour: int  # the hour's first second (Unix time)
    outcome: str


def shared_cache() -> RedisCache | None:
    """The default cache when it is Redis, as production's is: the counts and the shared rate
    limit need it (development's local-memory cache counts nothing)."""
    backend = caches["default"]
    return backend if isinstance(backend, RedisCache) else None


def redis_client(backend: RedisCache, key: str | None) -> Redis:
    """The cache's own redis-py client for ``key``, for what the cache's public methods cannot
    do in one round trip (a script, a pipeline, a hash): Django keeps it behind
    ``RedisCache._cache`` (docs/internals.md)."""
    return backend._cache.get_client(key, write=True)


# Each client's scripts, registered once: redis-py's ``register_script`` hashes the text
# (SHA-1) and looks up the client's encoder at every call, a fair part of a request's round trip.
_scripts: "WeakKeyDictionary[Redis, dict[str, Script]]" = WeakKeyDictionary()


def script(client: Redis, text: str) -> Script:
    """``text`` as a script of ``client``, registered at its first use."""
    registered = _scripts.setdefault(client, {})
    if text not in registered:
        registered[text] = client.register_script(text)
    return registered[text]


def hour_now() -> int:
    return int(_clock()) // 3600 * 3600


def hash_name(backend: RedisCache, hour: int) -> str:
    return backend.make_and_validate_key(f"{_HASH}{hour}")


def field(key_prefix: str, outcome: str) -> str:
    return f"{key_prefix}|{outcome}"


# KEYS: the hour's hash. ARGV: the field the request was counted under, the one it now belongs
# to. A hash no longer there was flushed with the request in it: it stays as it was counted.
_MOVE = """
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], ARGV[1], -1)
  redis.call('HINCRBY', KEYS[1], ARGV[2], 1)
end
"""


def count(key_prefix: str, status: int) -> None:
    """Count one answered request of the key (``NO_KEY``: none usable)."""
    backend = shared_cache()
    if backend is None:
        return  # development: the trend needs Redis, as production's shared rate limit does
    try:
        name = hash_name(backend, hour_now())
        pipeline = redis_client(backend, name).pipeline(transaction=False)
        pipeline.hincrby(name, field(key_prefix, outcome_of(status)), 1)
        pipeline.expire(name, HELD, nx=True)
        pipeline.execute()
    except Exception:  # the answer goes whatever: a request uncounted is said, not raised
        log.warning("an API request could not be counted", exc_info=True)


def settle(counted: Counted, status: int) -> None:
    """Move a request counted before its answer to the outcome its answer had, where that
    differs (a refusal or a failure: another round trip, rare on the hot path)."""
    outcome = outcome_of(status)
    if outcome == counted.outcome:
        return
    backend = shared_cache()
    if backend is None:
        return
    try:
        name = hash_name(backend, counted.hour)
        client = redis_client(backend, name)
        script(client, _MOVE)(
            keys=[name], args=[field(counted.key_prefix, counted.outcome), field(counted.key_prefix, outcome)]
        )
    except Exception:  # the answer goes whatever
        log.warning("an API request's outcome could not be counted", exc_info=True)


def _moment(hour: int) -> datetime:
    return datetime.fromtimestamp(hour, tz=UTC)


def flush() -> int:
    """Write the closed hours' counts from Redis as rows; returns how many hashes were written."""
    backend = shared_cache()
    if backend is None:
        return 0
    client = redis_client(backend, None)
    current = int(_clock()) // 3600 * 3600
    for name in client.scan_iter(match=backend.make_key(f"{_HASH}*"), count=1000):
        hour = int(name.rsplit(b":", 1)[1])
        if hour < current:
            moved = backend.make_key(f"{_MOVED}{hour}:{uuid.uuid4().hex}")
            with contextlib.suppress(ResponseError):  # gone meanwhile: another flush moved it
                client.rename(name, moved)
    done = 0
    for moved in client.scan_iter(match=backend.make_key(f"{_MOVED}*"), count=1000):
        _write(client, moved)
        done += 1
    return done


def _write(client: Any, moved: bytes) -> None:
    batch = moved.decode().split(_MOVED, 1)[1]  # "<hour>:<uuid>"
    hour = _moment(int(batch.split(":", 1)[0]))
    rows = []
    for name, n in client.hgetall(moved).items():
        if int(n) == 0:  # a request moved to another outcome in the same hour (``settle``)
            continue
        key_prefix, _, outcome = name.decode().rpartition("|")
        rows.append(
            RequestCount(hour=hour, key_prefix=key_prefix, outcome=outcome, count=int(n), batch=batch)
        )
    with transaction.atomic():
        RequestCount.objects.bulk_create(rows, ignore_conflicts=True)
        trends.mark(METRIC, [hour])
    client.delete(moved)


# The trend's ``count``: (key prefix, outcome, requests) in the hours of [start, end).
counted, counted_by_hour = trends.grouped(
    trends.Counted(RequestCount.objects.all, "hour", "key_prefix", "outcome", n=Sum("count"), hourly=True)
)


def prune(before: datetime | None = None, batch: int = 5000) -> int:
    """Delete the rows of hours before ``before`` (by default ``KEEP`` ago), their counts kept
    by the trend; returns how many rows."""
    before = before or timezone.now() - KEEP
    done = 0
    while True:
        with transaction.atomic():
            rows = list(
                RequestCount.objects.select_for_update()
                .filter(hour__lt=before)
                .order_by("hour", "pk")
                .values_list("pk", "hour", "key_prefix", "outcome", "count")[:batch]
            )
            if not rows:
                return done
            trends.prune(
                METRIC,
                itertools.chain.from_iterable(itertools.repeat((h, k, o), n) for _pk, h, k, o, n in rows),
            )
            RequestCount.objects.filter(pk__in=[row[0] for row in rows]).delete()
            done += len(rows)


trends.register(trends.Metric(METRIC, counted, count_hours=counted_by_hour))
