"""What every operation shares: the document, the docs page, keys, rate limits, problems."""

import datetime as dt
import json

import pytest
import redis
from django.core.management import call_command
from django.utils import timezone

from hireops.api import keys
from hireops.api.models import ApiKey
from hireops.tenants.models import Tenant

from .keys import bearer, make_key

pytestmark = pytest.mark.django_db


def test_the_document_and_the_docs_page_need_no_key_and_no_cdn(client):
    doc = client.get("/api/v1/openapi.json")
    assert doc.status_code == 200
    assert doc.json()["openapi"].startswith("3.1")
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower() and "https://" not in html


def test_no_key_a_wrong_revoked_or_expired_one_is_401_with_the_bearer_challenge(client):
    good = make_key("tenants:read")
    revoked = make_key("tenants:read")
    keys.revoke(revoked[:12])
    expired = make_key("tenants:read", days=1)
    ApiKey.objects.filter(prefix=expired[:12]).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    for headers in (
        {},
        bearer(good[:-1] + ("y" if good.endswith("x") else "x")),  # one character wrong
        bearer(revoked),
        bearer(expired),
        {"HTTP_AUTHORIZATION": good},
    ):
        answer = client.get("/api/v1/key", **headers)
        assert answer.status_code == 401, headers
        assert answer["WWW-Authenticate"].startswith("Bearer")
        assert answer["Content-Type"] == "application/problem+json"
        assert answer.json()["status"] == 401
    ok = client.get("/api/v1/key", **bearer(good))
    assert ok.status_code == 200
    assert ok.json()["scopes"] == ["tenants:read"] and ok.json()["prefix"] == good[:12]


def test_the_key_is_stored_only_as_its_hash(client):
    key = make_key("tenants:read")
    row = ApiKey.objects.get(prefix=key[:12])
    assert key not in json.dumps([row.secret_hash, row.prefix, row.name])
    assert row.secret_hash == keys.digest(key) and len(row.secret_hash) == 64


def test_an_unknown_path_is_a_problem_not_a_page(client):
    answer = client.get("/api/v1/no-such-thing", **bearer(make_key("tenants:read")))
    assert answer.status_code == 404
    assert answer["Content-Type"] == "application/problem+json"


@pytest.mark.parametrize("cache", ["redis", "file"])
def test_the_rate_limit_is_per_key_with_the_drafts_headers(client, settings, tmp_path, cache):
    """Counted in Redis (production: one round trip a request) or, without Redis, in the
    cache Django is given."""
    if cache == "redis" and not settings.REDIS_URL:
        pytest.skip("REDIS_URL is not set (CI sets it); the Redis counter is not exercised")
    if cache == "file":
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                "LOCATION": str(tmp_path),
            }
        }
    settings.API_RATE_LIMIT = 3
    key, other = make_key("tenants:read"), make_key("tenants:read")
    answers = [client.get("/api/v1/key", **bearer(key)) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert answers[0]["RateLimit-Policy"] == '"default";q=3;w=60'
    assert answers[2]["RateLimit"].startswith('"default";r=0;t=')
    refused = answers[3]
    assert int(refused["Retry-After"]) <= 60
    assert refused["Content-Type"] == "application/problem+json"
    assert client.get("/api/v1/key", **bearer(other)).status_code == 200  # another key's budget
    if cache == "redis":  # each window's count goes with it
        counters = redis.Redis.from_url(settings.REDIS_URL)
        names = counters.keys("*api:rate:*")
        assert len(names) == 2 and all(0 < counters.ttl(name) <= 65 for name in names)


def test_create_api_key_prints_the_key_alone_on_its_last_line(capsys):
    Tenant.objects.create(tenant_key="t1")
    call_command(
        "create_api_key",
        "payroll sync",
        "--scope",
        "tenants:read",
        "--tenant",
        "t1",
        "--expires-in-days",
        "30",
    )
    out = capsys.readouterr().out.strip().splitlines()
    key = out[-1]
    row = ApiKey.objects.get(prefix=key[:12])
    assert key.startswith("hko_") and row.name == "payroll sync" and row.tenant_keys == ["t1"]
    assert row.actor.is_active is False and not row.actor.has_usable_password()
    call_command("revoke_api_key", key[:12])
    assert ApiKey.objects.get(pk=row.pk).revoked_at is not None


def test_create_api_key_refuses_an_unknown_scope_and_makes_nothing():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="Unknown scope"):
        call_command("create_api_key", "x", "--scope", "everything")
    assert not ApiKey.objects.exists()


def test_the_api_speaks_english_whatever_the_callers_language(client):
    key = make_key("tenants:read")
    client.cookies["django_language"] = "zh-hans"
    answer = client.get("/api/v1/tenants?limit=0", HTTP_ACCEPT_LANGUAGE="zh-hans", **bearer(key))
    assert answer.status_code == 400 and answer["Content-Language"] == "en"


def test_an_updated_after_with_any_offset_is_compared_in_utc(client):
    key = make_key("tenants:read")
    for moment in ("2026-01-01T00:00:00-18:06", "0001-01-01T00:00:00+00:00", "9999-12-31T23:59:59+14:00"):
        answer = client.get("/api/v1/tenants", {"updated_after": moment}, **bearer(key))
        assert answer.status_code == 200, (moment, answer.content)
    edge = client.get("/api/v1/tenants", {"updated_after": "0001-01-01T00:00:00+18:00"}, **bearer(key))
    assert edge.status_code == 200  # before the first moment UTC names: every row
    assert client.get("/api/v1/tenants", {"updated_after": "yesterday"}, **bearer(key)).status_code == 400


def test_no_key_and_no_personal_data_reach_a_log_line(client, caplog):
    """Refused requests carrying a key, a mobile and an email: Django logs the refusals, and
    none of the three."""
    import logging

    caplog.set_level(logging.DEBUG)
    key = make_key("customers:write")
    customer = {
        "name": "x",
        "contact": "lilei@example.com",
        "identifiers": [{"key": "bad key!", "value": "13800138000"}],
    }
    assert (
        client.post(
            "/api/v1/customers", json.dumps(customer), content_type="application/json", **bearer(key)
        ).status_code
        == 422
    )
    client.get("/api/v1/tenants", {"updated_after": "lilei@example.com"}, **bearer(key))
    wrong = key[:-1] + ("y" if key.endswith("x") else "x")  # one character wrong
    client.get("/api/v1/tenants", **bearer(wrong))
    logged = caplog.text + "\n".join(str(r.args) for r in caplog.records)
    assert "Unprocessable" in logged or "Bad Request" in logged  # the refusals were logged
    for secret in (key, wrong, "lilei@example.com", "13800138000"):
        assert secret not in logged
