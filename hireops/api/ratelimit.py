"""Requests a minute per key (``API_RATE_LIMIT``), counted in the shared cache (Redis in
production) so every web process counts against one budget; a fixed one-minute window.

A key counts under its prefix, unique and never given to another key, rather than its row's id,
which a database restored, recreated or rolled back gives out again (a test database does so
at every test): a counter left in Redis by another key would count against the new one."""

import time

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache

WINDOW = 60


def take(key_prefix: str) -> tuple[bool, int, int, int]:
    """Count one request of the key; (allowed, limit, remaining, seconds to the window's reset).
    The limit is read at every request (a change of the setting applies at once)."""
    limit = settings.API_RATE_LIMIT
    now = int(time.time())
    window = now - now % WINDOW
    used = _count(f"api:rate:{key_prefix}:{window}")
    reset = window + WINDOW - now
    return used <= limit, limit, max(limit - used, 0), reset


def _count(name: str) -> int:
    """Add one to the window's counter; its new value. On Redis one round trip (INCR, and the
    window's expiry set by the first), where the cache's ``add`` and ``incr`` take three."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        key = backend.make_and_validate_key(name)
        # RedisCache keeps its redis-py client behind ``_cache`` (Django's own, since 4.0).
        pipeline = backend._cache.get_client(key, write=True).pipeline(transaction=False)
        pipeline.incr(key)
        pipeline.expire(key, WINDOW + 5, nx=True)
        return int(pipeline.execute()[0])
    backend.add(name, 0, WINDOW + 5)
    try:
        return backend.incr(name)
    except ValueError:  # expired between add and incr
        backend.set(name, 1, WINDOW + 5)
        return 1


def headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    """IETF httpapi draft's fields, and Retry-After for the 429 (RFC 9110)."""
    return {
        "RateLimit-Policy": f'"default";q={limit};w={WINDOW}',
        "RateLimit": f'"default";r={remaining};t={reset}',
    }
