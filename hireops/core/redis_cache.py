"""Django's Redis cache, with its redis-py client made once per connection pool.

Django's ``RedisCacheClient`` builds a ``redis.Redis`` for every cache call; redis-py 8's
constructor fills a case-insensitive table of some 170 response callbacks each time: a
``cache.get`` took 476 µs with it and 280 µs without on a 2-core machine (docs/benchmarks.md,
"Partner API writes"), nearly as much as the round trip it wraps. Every admin page (its
session), every API request (its rate limit) and every Feishu call (its token) paid it. A
client only holds its pool and that table, and redis-py documents it as safe to share between
threads, so the one made for a pool is kept and given out again. Django gives each thread its
own cache object anyway; connections still come from the pool per command, as before.

Chosen in the settings for a ``redis://`` ``CACHE_URL`` or ``REDIS_URL``
(``config/settings/django.py``).
"""

from django.core.cache.backends import redis


class RedisCacheClient(redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients: dict = {}  # connection pool → its client

    def get_client(self, key=None, *, write=False):
        # Django's private names (docs/internals.md), which its stub leaves out.
        pool = self._get_connection_pool(write)  # type: ignore[attr-defined]
        client = self._clients.get(pool)
        if client is None:
            client = self._clients.setdefault(pool, self._client(connection_pool=pool))  # type: ignore[attr-defined]
        return client


class RedisCache(redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = RedisCacheClient
