"""Webhook endpoints through the API: made with a key's own reach (its scopes, its tenants),
the secret in the creation's answer, read and rotated; a ping on request; the delivery log and
resending; another key's endpoint is a missing one."""

import pytest
from standardwebhooks import Webhook

from hireops import outbound
from hireops.webhooks import endpoints
from hireops.webhooks.delivery import DELIVER
from hireops.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.webhooks import receiver as receivers

from .keys import bearer, make_key

pytestmark = pytest.mark.django_db


def _example_endpoint(tenant_key: str, key=None) -> str:
    made, _ = endpoints.create(
        url="http://127.0.0.1:9/hooks", tenants=[tenant_key], scopes=["orders:read"], key=key
    )
    return str(made.pk)


def _example_delivery(tenant_key: str, key=None) -> str:
    made, _ = endpoints.create(
        url="http://127.0.0.1:9/hooks", tenants=[tenant_key], scopes=["orders:read"], key=key
    )
    from hireops.webhooks import events

    with pytest.MonkeyPatch.context() as m:
        m.setattr(outbound.Outbound, "send", lambda self, pk: None)
        event = events.ping(made)
    return str(event.deliveries.get().pk)


EXAMPLES = {
    "/webhook-endpoints/{id}": _example_endpoint,
    "/webhook-endpoints/{id}/secret": _example_endpoint,
    "/webhook-endpoints/{id}/rotate-secret": _example_endpoint,
    "/webhook-endpoints/{id}/test": _example_endpoint,
    "/webhook-endpoints/{id}/deliveries": _example_endpoint,
    "/webhook-endpoints/{id}/resend-failed": _example_endpoint,
    "/webhook-deliveries/{id}/resend": _example_delivery,
}
BODIES = {
    "PATCH /webhook-endpoints/{id}": lambda: ("json", {"description": "renamed"}),
    "DELETE /webhook-endpoints/{id}": lambda: ("json", None),
    "POST /webhook-endpoints/{id}/rotate-secret": lambda: ("json", None),
    "POST /webhook-endpoints/{id}/test": lambda: ("json", None),
    "POST /webhook-endpoints/{id}/resend-failed": lambda: ("json", {"since": "2026-01-01T00:00:00Z"}),
    "POST /webhook-deliveries/{id}/resend": lambda: ("json", None),
}


@pytest.fixture
def receiver():
    found, server = receivers.start()
    yield found
    server.shutdown()
    server.server_close()


def _post(client, key, path, body=None):
    return client.post(f"/api/v1{path}", body or {}, content_type="application/json", **bearer(key))


def test_a_partner_adds_an_endpoint_tests_it_and_verifies_the_ping(
    client, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: outbound.run(DELIVER, pk))
    key = make_key("webhooks:manage", "orders:read", "orders:personal_data")

    made = _post(client, key, "/webhook-endpoints", {"url": receiver.url, "scopes": ["orders:read"]})
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["secret"].startswith("whsec_") and body["enabled"] is True
    with django_capture_on_commit_callbacks(execute=True):
        ping = _post(client, key, f"/webhook-endpoints/{body['id']}/test")
    assert ping.status_code == 202 and ping.json()["type"] == "ping"

    (got,) = receiver.requests
    assert Webhook(body["secret"]).verify(got.body, got.headers)["data"]["endpoint_id"] == body["id"]
    log = client.get(f"/api/v1/webhook-endpoints/{body['id']}/deliveries", **bearer(key)).json()
    assert [(d["type"], d["status"], d["attempts"]) for d in log["data"]] == [("ping", "delivered", 1)]
    secret = client.get(f"/api/v1/webhook-endpoints/{body['id']}/secret", **bearer(key)).json()
    assert secret == {"secret": body["secret"], "previous_valid_until": None}


def test_a_rotated_secret_signs_beside_the_old_one_for_a_day(
    client, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: outbound.run(DELIVER, pk))
    key = make_key("webhooks:manage", "tenants:read")
    made = _post(client, key, "/webhook-endpoints", {"url": receiver.url}).json()

    rotated = _post(client, key, f"/webhook-endpoints/{made['id']}/rotate-secret").json()
    assert rotated["secret"] != made["secret"] and rotated["previous_valid_until"]
    with django_capture_on_commit_callbacks(execute=True):
        _post(client, key, f"/webhook-endpoints/{made['id']}/test")

    (got,) = receiver.requests
    assert len(got.headers["webhook-signature"].split()) == 2
    Webhook(made["secret"]).verify(got.body, got.headers)  # a receiver not yet told
    Webhook(rotated["secret"]).verify(got.body, got.headers)  # and one already told


def test_an_endpoint_never_reaches_beyond_its_key(client):
    narrow = make_key("webhooks:manage", "orders:read", tenants=["t-a"])
    refused = [
        ({"url": "http://127.0.0.1:9/", "tenants": ["t-a"], "scopes": ["orders:personal_data"]}, "scopes"),
        ({"url": "http://127.0.0.1:9/", "tenants": []}, "tenants"),  # every tenant: more than t-a
        ({"url": "http://127.0.0.1:9/", "tenants": ["t-b"]}, "tenants"),
        ({"url": "http://127.0.0.1:9/", "tenants": ["t-a"], "event_types": ["order.sent"]}, "event_types"),
        ({"url": "ftp://127.0.0.1:9/", "tenants": ["t-a"]}, "url"),
    ]
    for body, field in refused:
        answer = _post(client, narrow, "/webhook-endpoints", body)
        assert answer.status_code == 422, (body, answer.content)
        assert field in {e["field"] for e in answer.json()["errors"]}, answer.json()
    assert not WebhookEndpoint.objects.exists()

    ours = _post(client, narrow, "/webhook-endpoints", {"url": "http://127.0.0.1:9/", "tenants": ["t-a"]})
    assert ours.status_code == 201
    everyones, _ = endpoints.create(url="http://127.0.0.1:9/other", scopes=["orders:read"])
    seen = client.get("/api/v1/webhook-endpoints", **bearer(narrow)).json()["data"]
    assert [e["id"] for e in seen] == [ours.json()["id"]]
    assert client.get(f"/api/v1/webhook-endpoints/{everyones.pk}/secret", **bearer(narrow)).status_code == 404


def test_a_disabled_endpoint_enabled_again_and_its_failures_resent(
    client, receiver, monkeypatch, django_capture_on_commit_callbacks
):
    sent = []
    monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: sent.append(pk))
    key = make_key("webhooks:manage", "tenants:read")
    made = _post(client, key, "/webhook-endpoints", {"url": receiver.url}).json()
    endpoint = WebhookEndpoint.objects.get(pk=made["id"])
    ping = _post(client, key, f"/webhook-endpoints/{made['id']}/test").json()
    WebhookDelivery.objects.filter(pk=ping["id"]).update(status="failed", attempts=8, error="it answered 500")
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        enabled=False, disabled_reason="it answered 410 Gone"
    )

    patched = client.patch(
        f"/api/v1/webhook-endpoints/{made['id']}",
        {"enabled": True},
        content_type="application/json",
        **bearer(key),
    ).json()
    assert patched["enabled"] is True and patched["disabled_reason"] is None
    with django_capture_on_commit_callbacks(execute=True):
        again = _post(
            client, key, f"/webhook-endpoints/{made['id']}/resend-failed", {"since": "2020-01-01T00:00:00Z"}
        )
    assert again.json() == {"resent": 1}
    row = WebhookDelivery.objects.get(pk=ping["id"])
    assert row.status == "queued" and row.attempts == 0 and sent[-1] == row.pk
    one = _post(client, key, f"/webhook-deliveries/{row.pk}/resend")
    assert one.status_code == 202 and one.json()["status"] == "pending"


def test_a_keys_pings_and_resends_are_in_the_change_history_as_the_admins_are(client, monkeypatch):
    """The services record them, so the API leaves what the admin's actions leave, by the key."""
    from hireops.api.keys import authenticate
    from tests.test_history import entries, read

    monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: None)
    key = make_key("webhooks:manage", "orders:read")
    actor = authenticate(key).actor
    endpoint = WebhookEndpoint.objects.get(pk=_example_endpoint("", key=authenticate(key)))

    ping = _post(client, key, f"/webhook-endpoints/{endpoint.pk}/test").json()
    WebhookDelivery.objects.filter(pk=ping["id"]).update(status="failed")
    _post(client, key, f"/webhook-endpoints/{endpoint.pk}/resend-failed", {"since": "2020-01-01T00:00:00Z"})
    _post(client, key, f"/webhook-deliveries/{ping['id']}/resend")

    pinged, resent_failed = entries(endpoint)
    (resent,) = entries(WebhookDelivery.objects.get(pk=ping["id"]))
    assert {pinged.user, resent_failed.user, resent.user} == {actor}
    assert read(pinged)[0] == "Sent a test event (ping)."
    since = "2020-01-01T00:00:00+00:00"
    assert read(resent_failed)[0] == f"Sent again 1 failed delivery requested since {since}."
    assert read(resent)[0] == "Delivery sent again."
