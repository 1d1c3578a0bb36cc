"""GET /api/v1/tenants: the pagination every list shares, and a key limited to tenants."""

import pytest

from hireops.tenants.models import Tenant, TenantStatus

from .keys import bearer, make_key

pytestmark = pytest.mark.django_db


def _walk(client, key, url):
    seen, pages = [], 0
    while url:
        answer = client.get(url, **bearer(key))
        assert answer.status_code == 200, answer.content
        body = answer.json()
        seen += [row["tenant_key"] for row in body["data"]]
        pages += 1
        url = f"/api/v1/tenants?limit=2&cursor={body['next_cursor']}" if body["next_cursor"] else None
    return seen, pages


def test_walking_the_list_returns_each_tenant_once(client):
    for i in range(5):
        Tenant.objects.create(tenant_key=f"t{i}", name=f"Tenant {i}")
    seen, pages = _walk(client, make_key("tenants:read"), "/api/v1/tenants?limit=2")
    assert sorted(seen) == [f"t{i}" for i in range(5)] and len(seen) == 5
    assert pages == 3


def test_filters_and_a_key_limited_to_tenants(client):
    Tenant.objects.create(tenant_key="mine", name="Mine")
    Tenant.objects.create(tenant_key="gone", name="Gone", status=TenantStatus.UNINSTALLED)
    Tenant.objects.create(tenant_key="theirs", name="Theirs")
    limited = make_key("tenants:read", tenants=["mine", "gone"])
    seen, _ = _walk(client, limited, "/api/v1/tenants?limit=2")
    assert sorted(seen) == ["gone", "mine"]
    answer = client.get("/api/v1/tenants?status=uninstalled", **bearer(make_key("tenants:read")))
    assert [row["tenant_key"] for row in answer.json()["data"]] == ["gone"]


def test_a_bad_cursor_or_limit_is_a_400_problem(client):
    key = make_key("tenants:read")
    for query in ("cursor=not-ours", "cursor=WzFd", "limit=0", "limit=201", "status=nope"):
        answer = client.get(f"/api/v1/tenants?{query}", **bearer(key))
        assert answer.status_code == 400, (query, answer.content)
        assert answer["Content-Type"] == "application/problem+json"
        assert answer.json()["errors"]


def test_a_cursor_this_api_never_gave_is_said_so_not_how_it_failed_to_read(client):
    """ "gQ" is the byte 0x81, no UTF-8: the answer says the cursor is not ours, never the
    decoder's "'utf-8' codec can't decode byte 0x81"."""
    key = make_key("tenants:read")
    for cursor in ("gQ", "not-ours", "WzFd", "WyJ4IiwxXQ"):
        answer = client.get(f"/api/v1/tenants?cursor={cursor}", **bearer(key))
        assert answer.status_code == 400 and answer["Content-Type"] == "application/problem+json"
        problem = answer.json()
        assert problem["type"] == "urn:hireops:problem:invalid-cursor", cursor
        assert problem["errors"] == [{"field": "cursor", "message": "not a cursor this API gave"}], problem
        text = answer.content.decode()
        assert "codec" not in text and "0x81" not in text and "Expecting" not in text, text
