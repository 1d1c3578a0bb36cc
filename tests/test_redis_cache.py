"""The Redis cache makes its redis-py client once per connection pool, not at every call
(hireops.core.redis_cache), and is otherwise Django's."""

import uuid

import pytest
import redis
from django.conf import settings
from django.core.cache.backends.redis import RedisCache as DjangosRedisCache

from hireops.core.redis_cache import RedisCache


@pytest.fixture
def redis_url():
    if not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set (CI sets it): there is no Redis cache to try")
    return settings.REDIS_URL


@pytest.fixture
def clients_made(monkeypatch) -> list:
    """Every redis.Redis constructed from now on."""
    made = []
    construct = redis.Redis.__init__

    def counted(self, *args, **kwargs):
        made.append(self)
        construct(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "__init__", counted)
    return made


def use(cache) -> None:
    """What the project asks of its cache, each call checked."""
    cache.set("a", {"x": 1}, 30)
    assert cache.get("a") == {"x": 1}
    assert cache.add("b", 1, 30) and not cache.add("b", 2, 30)
    assert cache.incr("b") == 2
    cache.set_many({"c": "三", "d": 4}, 30)
    assert cache.get_many(["a", "c", "d", "none"]) == {"a": {"x": 1}, "c": "三", "d": 4}
    assert cache.touch("a", 60) and cache.has_key("c")
    cache.delete_many(["b", "c", "d"])
    assert cache.delete("a") and cache.get("a", "gone") == "gone"


def test_a_redis_url_chooses_it():
    if not settings.REDIS_URL:
        assert "redis" not in settings.CACHES["default"]["BACKEND"].lower()
    else:
        assert settings.CACHES["default"]["BACKEND"] == "hireops.core.redis_cache.RedisCache"


def test_one_client_serves_every_call(redis_url, clients_made):
    prefix = f"test-{uuid.uuid4().hex}"
    ours = RedisCache(redis_url, {"KEY_PREFIX": prefix})
    use(ours)
    assert len(clients_made) == 1
    djangos = DjangosRedisCache(redis_url, {"KEY_PREFIX": prefix})
    use(djangos)
    assert len(clients_made) > 10  # what it replaces: one client a call


def test_each_server_has_its_client(redis_url, clients_made):
    """With replicas (``redis://primary;redis://replica``) writes go to the first server and
    reads to the others, each through its own pool and client."""
    cache = RedisCache(f"{redis_url};{redis_url}", {"KEY_PREFIX": f"test-{uuid.uuid4().hex}"})
    cache.set("a", 1, 30)
    assert cache.get("a") == 1  # the "replica" is the same Redis here
    cache.set("b", 2, 30)
    assert cache.get("b") == 2
    assert len(clients_made) == 2
