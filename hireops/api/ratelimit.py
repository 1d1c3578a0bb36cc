"""Requests a minute per key (``API_RATE_LIMIT``), counted in the shared cache (Redis in
production) so every web process counts against one budget; a fixed one-minute window.

A key counts under its prefix, unique and never given to another key, rather than its row's id,
which a database restored, recreated or rolled back gives out again (a test database does so
at every test): a counter left in Redis by another key would count against the new one.

On Redis the same round trip also counts the request for the requests' trend
(``hireops.api.counting``): a round trip is a fair part of a short request's cost, so a request
answered as it usually is makes one, not two."""

import time
from typing import NamedTuple

from django.conf import settings
from django.core.cache import caches

from . import counting

WINDOW = 60

# KEYS: the window's counter, the hour's hash of counts. ARGV: the counter's lifetime, the
# limit, the hash's fields for an allowed and a refused request, the hash's lifetime.
_TAKE = """
local used = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
local field = ARGV[3]
if used > tonumber(ARGV[2]) then field = ARGV[4] end
redis.call('HINCRBY', KEYS[2], field, 1)
redis.call('EXPIRE', KEYS[2], ARGV[5], 'NX')
return used
"""


class Taken(NamedTuple):
    allowed: bool
    limit: int
    remaining: int
    reset: int  # seconds to the window's reset
    counted: counting.Counted | None  # the request as the trend counts it so far (None: not counted)


def take(key_prefix: str) -> Taken:
    """Count one request of the key. The limit is read at every request (a change of the
    setting applies at once)."""
    limit = settings.API_RATE_LIMIT
    now = int(time.time())
    window = now - now % WINDOW
    used, counted = _count(f"api:rate:{key_prefix}:{window}", key_prefix, limit)
    reset = window + WINDOW - now
    return Taken(used <= limit, limit, max(limit - used, 0), reset, counted)


def _count(name: str, key_prefix: str, limit: int) -> tuple[int, counting.Counted | None]:
    """Add one to the window's counter; its new value, and how the request was counted. On
    Redis one round trip (a script: the counter, its expiry set by the first, and the request
    in its hour's counts), where the cache's ``add`` and ``incr`` take three."""
    redis_cache = counting.shared_cache()
    if redis_cache is not None:
        key = redis_cache.make_and_validate_key(name)
        hour = counting.hour_now()
        hash_name = counting.hash_name(redis_cache, hour)
        client = counting.redis_client(redis_cache, key)
        used = int(
            counting.script(client, _TAKE)(
                keys=[key, hash_name],
                args=[
                    WINDOW + 5,
                    limit,
                    counting.field(key_prefix, counting.ANSWERED),
                    counting.field(key_prefix, counting.REFUSED),
                    counting.HELD,
                ],
            )
        )
        outcome = counting.ANSWERED if used <= limit else counting.REFUSED
        return used, counting.Counted(key_prefix, hour, outcome)
    backend = caches["default"]
    backend.add(name, 0, WINDOW + 5)
    try:
        return backend.incr(name), None
    except ValueError:  # expired between add and incr
        backend.set(name, 1, WINDOW + 5)
        return 1, None


def headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    """IETF httpapi draft's fields, and Retry-After for the 429 (RFC 9110)."""
    return {
        "RateLimit-Policy": f'"default";q={limit};w={WINDOW}',
        "RateLimit": f'"default";r={remaining};t={reset}',
    }
