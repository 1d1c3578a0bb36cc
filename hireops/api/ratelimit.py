"""Requests a minute per key (``API_RATE_LIMIT``), counted in the shared cache (Redis in
production) so every web process counts against one budget; a fixed one-minute window."""

import time

from django.conf import settings
from django.core.cache import cache

WINDOW = 60


def take(key_id: int) -> tuple[bool, int, int, int]:
    """Count one request; (allowed, limit, remaining, seconds to the window's reset)."""
    limit = settings.API_RATE_LIMIT
    now = int(time.time())
    window = now - now % WINDOW
    name = f"api:rate:{key_id}:{window}"
    cache.add(name, 0, WINDOW + 5)
    try:
        used = cache.incr(name)
    except ValueError:  # expired between add and incr
        cache.set(name, 1, WINDOW + 5)
        used = 1
    reset = window + WINDOW - now
    return used <= limit, limit, max(limit - used, 0), reset


def headers(limit: int, remaining: int, reset: int) -> dict[str, str]:
    """IETF httpapi draft's fields, and Retry-After for the 429 (RFC 9110)."""
    return {
        "RateLimit-Policy": f'"default";q={limit};w={WINDOW}',
        "RateLimit": f'"default";r={remaining};t={reset}',
    }
