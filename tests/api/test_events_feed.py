"""A partner catching up (``GET /api/v1/events``), tried as its programmer would after its
receiver was down longer than the retries: every event its key could have heard, newest first,
with the id and the data its webhook carried, walked by cursor and filtered by type and time;
only its types and tenants; nothing older than the events are kept. ``GET /event-types``
lists the types with their scopes."""

import datetime as dt
import json

import pytest
from django.utils import timezone

from hireops import outbound
from hireops.tenants.models import TenantStatus
from hireops.tenants.services import tenant_lifecycle
from hireops.webhooks import endpoints, events
from hireops.webhooks.models import WebhookEvent
from orders.intake import background_check_created
from referrals.payouts import announce as payout_events
from tests.factories import a_payout_run

from .keys import bearer, make_key

pytestmark = pytest.mark.django_db

CHECK = {
    "background_check_id": "bgc-1",
    "account_id": "7300000000000000101",
    "package_id": "pkg-1",
    "candidate_info": {
        "name": "王小明",
        "mobile": {"code": "86", "number": "13812345678"},
        "email": "xm@example.com",
    },
}


@pytest.fixture(autouse=True)
def nothing_delivered(monkeypatch):
    """The partner's receiver is down: deliveries stay queued."""
    monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: None)


def _order(n: int, tenant: str = "t1"):
    return background_check_created(
        app_id="cli_test",
        tenant_key=tenant,
        event_id=f"ev-{n}",
        event={**CHECK, "background_check_id": f"bgc-{n}"},
    )


def _install(tenant: str, n: int) -> None:
    tenant_lifecycle(
        tenant_key=tenant, event_id=f"open-{n}", event_type="app_open", to_status=TenantStatus.INSTALLED
    )


def _walk(client, key, **filters) -> list[dict]:
    params, found = {**filters, "limit": 1}, []
    while True:
        page = client.get("/api/v1/events", params, **bearer(key))
        assert page.status_code == 200, page.content
        found += page.json()["data"]
        if not page.json()["next_cursor"]:
            return found
        params["cursor"] = page.json()["next_cursor"]


def test_a_partner_down_longer_than_the_retries_lists_what_it_missed(client):
    key = make_key("webhooks:manage", "orders:read", "orders:personal_data", "tenants:read")
    made = client.post(
        "/api/v1/webhook-endpoints",
        {"url": "http://127.0.0.1:9/down", "scopes": ["orders:read", "orders:personal_data", "tenants:read"]},
        content_type="application/json",
        **bearer(key),
    ).json()
    endpoint = endpoints.WebhookEndpoint.objects.get(pk=made["id"])
    first = _order(1)
    _install("t1", 1)
    second = _order(2)

    listed = _walk(client, key)
    assert [e["type"] for e in listed] == ["order.created", "tenant.installed", "order.created"]
    stored = list(WebhookEvent.objects.order_by("-created_at", "-id"))
    for row, event in zip(listed, stored, strict=True):
        sent = json.loads(events.payload(event, endpoint))  # what its webhook carries, byte for byte
        assert row == {"id": event.webhook_id, **sent}
    # The data is the object as GET answers it to this key, personal data included.
    got = client.get(f"/api/v1/orders/bgc_{second.pk}", **bearer(key)).json()
    assert listed[0]["data"] == got and listed[0]["data"]["candidate"]["mobile"] == "+86 13812345678"

    assert [e["type"] for e in _walk(client, key, type="tenant.installed")] == ["tenant.installed"]
    after = stored[-1].created_at.isoformat()
    assert [e["data"]["id"] for e in _walk(client, key, type="order.created", created_after=after)] == [
        f"bgc_{second.pk}"
    ]
    assert f"bgc_{first.pk}" in json.dumps(listed)


def test_a_key_with_no_endpoint_catches_up_too_with_masked_data(client):
    key = make_key("orders:read")  # no endpoint anywhere: the key alone could hear of orders
    _order(1)
    (row,) = _walk(client, key)
    assert row["type"] == "order.created" and "13812345678" not in json.dumps(row, ensure_ascii=False)


def test_nothing_is_written_when_nobody_may_hear_of_it(client):
    make_key("bindings:read")  # a key, but none reads orders
    _order(1)
    assert not WebhookEvent.objects.exists()


def test_a_key_lists_only_its_types_and_its_tenants(client):
    mine = make_key("orders:read", tenants=["t1"])
    everyone = make_key("orders:read", "tenants:read", "payouts:read")
    _order(1, "t1")
    _order(2, "t2")
    _install("t1", 1)
    run = a_payout_run("t1")  # pays a line of t1: spans t1
    payout_events.payout_run("payout_run.awaiting_approval", run.pk)
    other_run = a_payout_run("t2")
    payout_events.payout_run("payout_run.awaiting_approval", other_run.pk)

    listed = _walk(client, mine)
    assert [(e["type"], e["data"]["tenant"]) for e in listed] == [("order.created", "t1")]
    assert len(_walk(client, everyone)) == 5

    refused = client.get("/api/v1/events", {"type": "tenant.installed"}, **bearer(mine))
    assert refused.status_code == 400 and "tenants:read" in refused.json()["detail"]
    unknown = client.get("/api/v1/events", {"type": "ping"}, **bearer(everyone))
    assert unknown.status_code == 400 and unknown.json()["type"] == "urn:hireops:problem:invalid-parameter"

    # A run spanning tenants, to a key limited to one it pays: as such a key reads it (no totals).
    limited = make_key("payouts:read", tenants=["t1"])
    (seen,) = _walk(client, limited)
    assert seen["data"]["id"] == run.pk and seen["data"]["totals"] is None


def test_events_older_than_they_are_kept_are_not_listed(client, settings):
    key = make_key("orders:read")
    _order(1)
    _order(2)
    WebhookEvent.objects.filter(pk=WebhookEvent.objects.order_by("pk").first().pk).update(
        created_at=timezone.now() - dt.timedelta(days=settings.WEBHOOK_KEEP_DAYS, minutes=1)
    )
    assert len(_walk(client, key)) == 1


def test_the_event_types_say_their_scopes_and_whether_this_key_hears_them(client):
    key = make_key("orders:read")
    types = {t["name"]: t for t in client.get("/api/v1/event-types", **bearer(key)).json()}
    assert "ping" not in types
    assert types["order.created"] | {"description": ""} == {
        "name": "order.created",
        "description": "",
        "scope": "orders:read",
        "personal_scope": "orders:personal_data",
        "heard": True,
    }
    assert types["binding.created"]["heard"] is False and types["binding.created"]["scope"] == "bindings:read"
    assert set(types) == set(events.types()) - {"ping"}
