"""Who reaches a webhook endpoint through the API, tried as an attacker holding one stolen key
would: every endpoint and delivery operation of the document, enumerated (a new one is covered
without a test of its own), with another partner's key, a key limited to the endpoint's own
tenant, and keys one scope short; each is refused exactly as a missing id is, and leaves the
endpoint, its secret and its deliveries as they were. Then: a key that stops working stops its
endpoints; a new address gets a new secret; an endpoint is never deaf by what it leaves out."""

import datetime as dt
import json

import pytest
from django.forms.models import model_to_dict
from django.utils import timezone
from standardwebhooks import Webhook

from hireops import outbound
from hireops.api import keys
from hireops.api.models import ApiKey
from hireops.api.scopes import all_scopes
from hireops.core.models import CallStatus
from hireops.webhooks import endpoints, events, signing
from hireops.webhooks.api import MANAGE
from hireops.webhooks.delivery import DELIVER, send_due
from hireops.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.webhooks import receiver as receivers

from .keys import bearer, make_key
from .test_every_operation import OPERATIONS, bodies, call, url_of

pytestmark = pytest.mark.django_db

TENANT = "t-acme"
# Every operation on endpoints and deliveries but making one (a key's own right).
ENDPOINT_OPERATIONS = [
    (m, p, op)
    for m, p, op in OPERATIONS
    if op.get("x-scope") == MANAGE and (m, p) != ("POST", "/api/v1/webhook-endpoints")
]
IDS = [f"{m} {p}" for m, p, _ in ENDPOINT_OPERATIONS]


def _row(key: str) -> ApiKey:
    return ApiKey.objects.get(prefix=key[:12])


@pytest.fixture
def victim(monkeypatch):
    """A partner's endpoint that hears candidates' personal data for one tenant, with a failed
    delivery in its log, made by its own key."""
    monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: None)
    key = make_key(*all_scopes())
    made, secret = endpoints.create(
        url="http://127.0.0.1:9/victim",
        tenants=[TENANT],
        scopes=["orders:read", "orders:personal_data"],
        key=_row(key),
    )
    delivered = events.ping(made).deliveries.get()
    WebhookDelivery.objects.filter(pk=delivered.pk).update(
        status=CallStatus.FAILED, attempts=8, finished_at=timezone.now()
    )
    return {"key": key, "endpoint": made, "delivery": delivered, "secret": secret}


def _state() -> str:
    """Everything an operation could change: every endpoint, delivery and event, as stored."""
    rows = [
        model_to_dict(e) | {"secret": e.secret, "previous": e.previous_secret}
        for e in WebhookEndpoint.objects.order_by("pk")
    ]
    rows += list(WebhookDelivery.objects.order_by("pk").values())
    rows += list(WebhookEvent.objects.order_by("pk").values("pk", "type"))
    return json.dumps(rows, default=str, sort_keys=True)


def _target(path: str, victim) -> str:
    """The victim's object the path names (a delivery for the delivery operations)."""
    if "{id}" not in path:
        return path
    own = victim["delivery"].pk if path.startswith("/api/v1/webhook-deliveries/") else victim["endpoint"].pk
    return url_of(path, str(own))


def _attackers() -> dict[str, tuple[str, int]]:
    """name → (key, the refusal it gets)."""
    everything = all_scopes()
    return {
        "another partner's key": (make_key(*everything, name="other partner"), 404),
        "a key of the endpoint's own tenant": (make_key(*everything, tenants=[TENANT], name="tenant"), 404),
        "a key without webhooks:manage": (make_key(*(s for s in everything if s != MANAGE)), 403),
        "a key without the personal-data scope": (
            make_key(*(s for s in everything if s != "orders:personal_data"), name="narrow"),
            404,
        ),
    }


@pytest.mark.parametrize(("method", "path", "op"), ENDPOINT_OPERATIONS, ids=IDS)
def test_no_other_key_reaches_an_endpoint_or_its_deliveries(client, victim, method, path, op):
    body = bodies().get(f"{method} {path}")
    url = _target(path, victim)
    for name, (key, refusal) in _attackers().items():
        before = _state()
        answer = call(client, method, url, bearer(key), body=body)
        if "{id}" not in path:  # a list: it answers, without the victim's endpoint
            assert answer.status_code == (403 if refusal == 403 else 200), (name, answer.content[:300])
            if answer.status_code == 200:
                assert victim["endpoint"].pk not in [e["id"] for e in answer.json()["data"]], name
            assert _state() == before, name
            continue
        assert answer.status_code == refusal, (name, answer.content[:300])
        assert answer["Content-Type"] == "application/problem+json"
        if refusal == 404:
            missing = call(client, method, url_of(path, "987654321"), bearer(key), body=body)
            assert answer.json() == missing.json(), name  # nothing tells it the endpoint exists
        assert victim["secret"] not in answer.content.decode()
        assert _state() == before, (name, method, path)
    # The owner itself reaches it: the refusals above were about who asks.
    mine = call(client, method, url, bearer(victim["key"]), body=body)
    assert mine.status_code < 400, mine.content[:300]


def test_the_attack_that_was_found_is_refused_step_by_step(client, victim):
    """A key holding only webhooks:manage reads the secret of another partner's endpoint that
    hears personal data, points it at its own server and resends the past deliveries."""
    thief = make_key(MANAGE, "tenants:read")
    endpoint_id, delivery_id = victim["endpoint"].pk, victim["delivery"].pk
    assert client.get("/api/v1/orders", **bearer(thief)).status_code == 403
    steps = [
        ("GET", f"/api/v1/webhook-endpoints/{endpoint_id}/secret", None),
        ("PATCH", f"/api/v1/webhook-endpoints/{endpoint_id}", {"url": "https://attacker.example/hook"}),
        ("POST", f"/api/v1/webhook-endpoints/{endpoint_id}/resend-failed", {"since": "2020-01-01T00:00:00Z"}),
        ("POST", f"/api/v1/webhook-deliveries/{delivery_id}/resend", None),
    ]
    before = _state()
    for method, url, body in steps:
        answer = call(client, method, url, bearer(thief), body=body)
        assert answer.status_code == 404, (url, answer.content)
    assert _state() == before
    listed = client.get("/api/v1/webhook-endpoints", **bearer(thief)).json()["data"]
    assert listed == []


def test_revoking_a_key_disables_its_endpoints_and_nothing_queued_is_sent(client, monkeypatch):
    found, server = receivers.start()
    try:
        monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: None)  # queued, not yet sent
        key = make_key(MANAGE, "tenants:read")
        made = client.post(
            "/api/v1/webhook-endpoints", {"url": found.url}, content_type="application/json", **bearer(key)
        ).json()
        other, _ = endpoints.create(url=found.url, scopes=["tenants:read"])  # staff's: not touched
        queued = [events.ping(WebhookEndpoint.objects.get(pk=made["id"])).deliveries.get() for _ in range(2)]

        keys.revoke(key[:12])

        endpoint = WebhookEndpoint.objects.get(pk=made["id"])
        assert not endpoint.enabled and "revoked" in str(endpoint.disabled_reason)
        assert key[:12] in str(endpoint.disabled_reason)
        assert WebhookEndpoint.objects.get(pk=other.pk).enabled
        for delivery in queued:
            outbound.run(DELIVER, delivery.pk)
            delivery.refresh_from_db()
            assert delivery.status == CallStatus.FAILED and "revoked" in str(delivery.error)
        assert found.requests == []
        # Nobody enables it again while its key is gone: it would be that key's way back in.
        with pytest.raises(endpoints.EndpointRefused):
            endpoints.enable(endpoint)
    finally:
        server.shutdown()
        server.server_close()


def test_an_expired_key_sends_nothing_more_and_the_sweep_says_why(client, monkeypatch):
    found, server = receivers.start()
    try:
        monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: None)
        key = make_key(MANAGE, "tenants:read", days=1)
        made = client.post(
            "/api/v1/webhook-endpoints", {"url": found.url}, content_type="application/json", **bearer(key)
        ).json()
        endpoint = WebhookEndpoint.objects.get(pk=made["id"])
        first = events.ping(endpoint).deliveries.get()
        ApiKey.objects.filter(prefix=key[:12]).update(expires_at=timezone.now() - dt.timedelta(seconds=1))

        # A delivery claimed before any sweep ran checks the key itself.
        outbound.run(DELIVER, first.pk)
        first.refresh_from_db()
        assert first.status == CallStatus.FAILED and "expired" in str(first.error)
        endpoint.refresh_from_db()
        assert not endpoint.enabled and "expired" in str(endpoint.disabled_reason)

        # And the sweep disables the endpoints of a key that expired, with nothing to deliver.
        again = make_key(MANAGE, "tenants:read", days=1)
        quiet, _ = endpoints.create(url=found.url, key=_row(again))
        ApiKey.objects.filter(prefix=again[:12]).update(expires_at=timezone.now())
        send_due()
        quiet.refresh_from_db()
        assert not quiet.enabled and again[:12] in str(quiet.disabled_reason)
        assert found.requests == []
    finally:
        server.shutdown()
        server.server_close()


def test_a_new_address_gets_a_new_secret_and_the_old_one_signs_nothing(client, monkeypatch):
    found, server = receivers.start()
    try:
        monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: outbound.run(DELIVER, pk))
        key = make_key(MANAGE, "tenants:read")
        made = client.post(
            "/api/v1/webhook-endpoints",
            {"url": "http://127.0.0.1:9/old"},
            content_type="application/json",
            **bearer(key),
        ).json()
        rotated = client.post(f"/api/v1/webhook-endpoints/{made['id']}/rotate-secret", **bearer(key)).json()

        renamed = client.patch(
            f"/api/v1/webhook-endpoints/{made['id']}",
            {"description": "same place"},
            content_type="application/json",
            **bearer(key),
        ).json()
        assert renamed["secret"] is None  # the address stays: so does the secret
        moved = client.patch(
            f"/api/v1/webhook-endpoints/{made['id']}",
            {"url": found.url},
            content_type="application/json",
            **bearer(key),
        ).json()
        assert moved["url"] == found.url and moved["secret"] not in (made["secret"], rotated["secret"], None)
        shown = client.get(f"/api/v1/webhook-endpoints/{made['id']}/secret", **bearer(key)).json()
        assert shown == {"secret": moved["secret"], "previous_valid_until": None}
        endpoint = WebhookEndpoint.objects.get(pk=made["id"])
        assert signing.signing_secrets(endpoint) == [moved["secret"]]
    finally:
        server.shutdown()
        server.server_close()


def test_a_delivery_to_a_moved_endpoint_verifies_with_the_new_secret_only(
    client, monkeypatch, django_capture_on_commit_callbacks
):
    found, server = receivers.start()
    try:
        monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: outbound.run(DELIVER, pk))
        key = make_key(MANAGE, "tenants:read")
        made = client.post(
            "/api/v1/webhook-endpoints",
            {"url": "http://127.0.0.1:9/old"},
            content_type="application/json",
            **bearer(key),
        ).json()
        client.post(f"/api/v1/webhook-endpoints/{made['id']}/rotate-secret", **bearer(key))
        moved = client.patch(
            f"/api/v1/webhook-endpoints/{made['id']}",
            {"url": found.url},
            content_type="application/json",
            **bearer(key),
        ).json()
        with django_capture_on_commit_callbacks(execute=True):
            client.post(f"/api/v1/webhook-endpoints/{made['id']}/test", **bearer(key))
        (got,) = found.requests
        assert len(got.headers["webhook-signature"].split()) == 1
        Webhook(moved["secret"]).verify(got.body, got.headers)
        with pytest.raises(Exception):  # noqa: B017  (the library's own verification error)
            Webhook(made["secret"]).verify(got.body, got.headers)
    finally:
        server.shutdown()
        server.server_close()


# --- never deaf --------------------------------------------------------------------------------


def _make(client, key, **body):
    return client.post(
        "/api/v1/webhook-endpoints",
        {"url": "http://127.0.0.1:9/h", **body},
        content_type="application/json",
        **bearer(key),
    )


def test_scopes_left_out_are_the_read_scopes_its_types_need_never_personal_data(client):
    key = make_key(MANAGE, "orders:read", "orders:personal_data", "bindings:read", "tenants:read")
    one_type = _make(client, key, event_types=["order.created"]).json()
    assert one_type["scopes"] == ["orders:read"]
    every_type = _make(client, key).json()
    assert every_type["scopes"] == ["bindings:read", "orders:read", "tenants:read"]
    asked = _make(client, key, event_types=["order.created"], scopes=["orders:read", "orders:personal_data"])
    assert asked.json()["scopes"] == ["orders:personal_data", "orders:read"]


def test_an_event_type_no_scope_can_hear_is_refused_naming_the_scope(client):
    key = make_key(MANAGE, "orders:read", "bindings:read")
    for body, needed in (
        ({"event_types": ["referral_account.balance_changed"]}, "referrals:read"),  # the key lacks it
        ({"event_types": ["order.created", "binding.created"], "scopes": ["orders:read"]}, "bindings:read"),
    ):
        answer = _make(client, key, **body)
        assert answer.status_code == 422, answer.content
        assert needed in answer.json()["detail"], answer.json()
    deaf = _make(client, make_key(MANAGE))  # no read scope at all: it would hear only pings
    assert deaf.status_code == 422 and "tenants:read" in deaf.json()["detail"]
    assert not WebhookEndpoint.objects.exists()


def test_a_change_is_checked_as_the_endpoint_will_be(client):
    key = make_key(MANAGE, "orders:read", "bindings:read")
    made = _make(client, key, event_types=["order.created"]).json()
    for patch, field in (
        ({"event_types": ["binding.created"]}, "scopes"),  # its scopes stay orders:read: deaf to it
        ({"scopes": ["orders:personal_data"]}, "scopes"),
        ({"tenants": ["x"], "scopes": ["referrals:read"]}, "scopes"),
    ):
        before = _state()
        answer = client.patch(
            f"/api/v1/webhook-endpoints/{made['id']}", patch, content_type="application/json", **bearer(key)
        )
        assert answer.status_code == 422 and field in {e["field"] for e in answer.json()["errors"]}, patch
        assert _state() == before
    widened = client.patch(
        f"/api/v1/webhook-endpoints/{made['id']}",
        {"event_types": ["binding.created"], "scopes": []},
        content_type="application/json",
        **bearer(key),
    ).json()
    assert widened["scopes"] == ["bindings:read"]


def test_an_endpoint_stopped_with_its_key_is_no_incident_but_one_its_receiver_refused_is(client):
    from hireops.core.messages import Message
    from hireops.ops import status
    from hireops.webhooks.delivery import GONE_REASON, disable

    def disabled() -> int:
        (found,) = [f for f in status.findings() if f.key == "webhooks.endpoints.disabled"]
        return found.value

    key = make_key(MANAGE, "tenants:read")
    endpoints.create(url="http://127.0.0.1:9/a", key=_row(key))
    keys.revoke(key[:12])
    endpoints.create(url="http://127.0.0.1:9/b", key=_row(make_key(MANAGE, "tenants:read")))
    assert WebhookEndpoint.objects.filter(enabled=False).count() == 1 and disabled() == 0
    gone = WebhookEndpoint.objects.get(url="http://127.0.0.1:9/b")
    disable(gone.pk, Message(GONE_REASON))
    assert disabled() == 1
