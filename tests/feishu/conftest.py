"""Helpers for the client's integration tests against the sandbox (tests/sandbox_fixtures.py)."""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.conf import settings as django_settings
from django.core.cache.backends.redis import RedisCache
from django.utils.module_loading import import_string

from hireops.feishu import FeishuClient, get_client, get_coordinator
from hireops.feishu.auth import resend_key, ticket_key
from sandbox.clock import Clock

ROOT = Path(__file__).resolve().parents[2]
TENANTS = ("demo-tenant", "acme-tenant", "globex-tenant")


@pytest.fixture(autouse=True)
def isolated_file_cache(settings, tmp_path):
    """A file cache of this test's own: var/cache is shared with every other test run on the
    machine, and a concurrent run's cache.clear() would drop our tokens mid-test. A Redis
    cache (CI: one run at a time) is kept, so the client is exercised against it too."""
    conf = settings.CACHES["default"]
    if conf["BACKEND"].endswith("filebased.FileBasedCache"):
        settings.CACHES = {"default": {**conf, "LOCATION": str(tmp_path / "cache")}}


def assert_refusals_waited_out(log: list[dict]) -> None:
    """``log``: the sandbox's record of get_account_assets calls, each account's made in turn by
    one caller. Every refused call (429) was sent again by its caller, for the same account,
    only after its reset (one second)."""
    for refused in (e for e in log if e["status"] == 429):
        account = refused["query"]["referral_account_id"]
        again = [
            e for e in log if e["time"] > refused["time"] and e["query"]["referral_account_id"] == account
        ]
        assert again, "a refused call was never sent again"
        assert again[0]["time"] - refused["time"] >= 1.0, "a refused call was sent again before its reset"


def forget_tokens(client) -> None:
    """The token cache outlives a sandbox reset (same URL, shared cache): start clean."""
    tokens = client.tokens
    for tenant in (None, *TENANTS):
        tokens._cache.delete(tokens._key("tenant_token", tenant))
    tokens._cache.delete(tokens._key("app_token"))
    tokens._cache.delete(ticket_key(client.app_id))
    tokens._cache.delete(resend_key(client.app_id))


@pytest.fixture
def coordination_dir(settings, tmp_path):
    settings.FEISHU_COORDINATION_URL = f"file://{tmp_path / 'coord'}"
    return tmp_path / "coord"


@pytest.fixture
def feishu(sandbox, coordination_dir):
    """get_client() pointed at a freshly reset sandbox, with no cached token."""
    client = get_client()
    forget_tokens(client)
    yield client
    forget_tokens(client)


@pytest.fixture
def clocked(sandbox, coordination_dir, settings):
    """A client like get_client()'s (shared Django cache, file coordinator) whose token clock
    moves with the sandbox's: ``clocked.advance(seconds)`` moves both, ``clocked.client``."""
    from django.core.cache import cache

    clock = Clock()
    client = FeishuClient(
        sandbox.url,
        settings.FEISHU_APP_ID,
        settings.FEISHU_APP_SECRET,
        settings.FEISHU_APP_TYPE,
        cache=cache,
        coordinator=get_coordinator(settings.FEISHU_COORDINATION_URL),
        clock=clock.time,
    )
    forget_tokens(client)

    def advance(seconds: float) -> None:
        sandbox.advance_clock(seconds)
        clock.advance(seconds)

    yield SimpleNamespace(client=client, advance=advance)
    forget_tokens(client)
    client.close()


def cache_env() -> dict:
    """Environment that makes a child process's Django cache the one this test uses."""
    conf = django_settings.CACHES["default"]
    backend, location = conf["BACKEND"], conf.get("LOCATION", "")
    if backend.endswith("filebased.FileBasedCache"):
        return {"CACHE_URL": f"filecache://{location}"}
    # Django's Redis cache, or the project's subclass of it (hireops.core.redis_cache).
    if issubclass(import_string(backend), RedisCache):
        return {"CACHE_URL": location if isinstance(location, str) else location[0]}
    pytest.skip(f"cache backend {backend} is not shared between processes")


def child_env(**extra) -> dict:
    s = django_settings
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "HIREOPS_VAR_DIR": str(s.VAR_DIR),
        "FEISHU_BASE_URL": s.FEISHU_BASE_URL,
        "FEISHU_APP_ID": s.FEISHU_APP_ID,
        "FEISHU_APP_SECRET": s.FEISHU_APP_SECRET,
        "FEISHU_APP_TYPE": s.FEISHU_APP_TYPE,
        "FEISHU_COORDINATION_URL": s.FEISHU_COORDINATION_URL,
        **cache_env(),
    }
    env.update(extra)
    return env


def start_child(code: str, *args: str) -> subprocess.Popen:
    """Run ``code`` in a fresh Python with Django set up; it prints one JSON line."""
    prelude = "import django, json, sys, time\ndjango.setup()\n"
    return subprocess.Popen(
        [sys.executable, "-c", prelude + code, *args],
        cwd=ROOT,
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def child_result(proc: subprocess.Popen, timeout: float = 60):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])
