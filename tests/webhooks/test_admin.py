"""Webhook endpoints in the admin: made with a second factor proven minutes ago, the secret shown
once and again only on a fresh factor, a ping on request, failed deliveries sent again, and a
delivery found by the message ID a partner quotes. Other roles see no secret."""

from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from django.contrib.admin.models import LogEntry
from django.utils import timezone

from hireops.core.models import CallStatus
from hireops.outbound import Outbound
from hireops.webhooks import events, signing
from hireops.webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent
from tests.signin.test_every_page import age_the_proof

pytestmark = pytest.mark.django_db

ADD = "/admin/webhooks/webhookendpoint/add/"
LIST = "/admin/webhooks/webhookendpoint/"
DELIVERIES = "/admin/webhooks/webhookdelivery/"
PERMS = (
    "webhooks.add_webhookendpoint",
    "webhooks.change_webhookendpoint",
    "webhooks.view_webhookendpoint",
    "webhooks.view_webhookdelivery",
    "webhooks.view_webhookevent",
    # What the endpoints it makes are sent: an endpoint never reads more than its maker may.
    "orders.view_backgroundcheck",
    "tenants.view_tenant",
)


@pytest.fixture(autouse=True)
def no_sends(monkeypatch):
    """What is queued is read from the rows; delivering is tests/webhooks/test_delivery.py's."""
    monkeypatch.setattr(Outbound, "send", lambda self, pk: None)


@pytest.fixture
def integrator(staff_user):
    return staff_user(perms=PERMS)


def _add(client, **fields):
    data = {"url": "http://127.0.0.1:9/hooks", "description": "Case system", **fields}
    return client.post(ADD, data)


def test_an_endpoint_is_made_and_its_secret_shown_once(client, integrator):
    client.force_login(integrator)
    page = _add(client, event_types=["order.created"], tenants="t1\nt2")
    assert page.status_code == 200
    secret = page.context["secret"]
    assert secret.startswith("whsec_") and secret in page.content.decode()
    endpoint = WebhookEndpoint.objects.get()
    assert (endpoint.event_types, endpoint.tenants, endpoint.created_by) == (
        ["order.created"],
        ["t1", "t2"],
        integrator,
    )
    assert signing.current_secret(endpoint) == secret
    for url in (LIST, f"{LIST}{endpoint.pk}/change/"):
        html = client.get(url).content.decode()
        assert "Case system" in html and secret not in html
    assert LogEntry.objects.filter(object_id=str(endpoint.pk), user=integrator).exists()


@pytest.mark.django_db(transaction=True)
def test_a_factor_proven_long_ago_makes_no_endpoint_and_shows_no_secret(client, integrator):
    client.force_login(integrator)
    secret = _add(client).context["secret"]
    endpoint = WebhookEndpoint.objects.get()
    age_the_proof(client, 3600)
    for action in ("show_secret", "rotate_secret"):
        page = client.post(LIST, {"action": action, "_selected_action": [endpoint.pk]})
        assert page.status_code == 302 and urlsplit(page["Location"]).path == "/accounts/2fa/reauthenticate/"
    assert _add(client, url="http://127.0.0.1:9/other").status_code == 302
    assert WebhookEndpoint.objects.count() == 1 and signing.current_secret(endpoint) == secret


def test_showing_and_rotating_the_secret(client, integrator):
    client.force_login(integrator)
    first = _add(client).context["secret"]
    endpoint = WebhookEndpoint.objects.get()
    shown = client.post(LIST, {"action": "show_secret", "_selected_action": [endpoint.pk]})
    assert shown.context["secret"] == first
    rotated = client.post(LIST, {"action": "rotate_secret", "_selected_action": [endpoint.pk]})
    second = rotated.context["secret"]
    assert second != first and second in rotated.content.decode()
    endpoint.refresh_from_db()
    # Both sign for the overlap, so a partner switches without losing a delivery.
    assert set(signing.signing_secrets(endpoint, timezone.now())) == {first, second}


def test_a_private_url_is_refused_where_private_urls_are_not_allowed(client, integrator, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    client.force_login(integrator)
    page = _add(client)
    assert page.status_code == 200 and "secret" not in page.context
    assert "https" in page.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_ping_and_resending_failed_deliveries(client, integrator):
    client.force_login(integrator)
    _add(client)
    endpoint = WebhookEndpoint.objects.get()
    client.post(LIST, {"action": "send_ping", "_selected_action": [endpoint.pk]})
    ping = WebhookDelivery.objects.get(endpoint=endpoint)
    assert ping.event.type == "ping" and ping.status == CallStatus.QUEUED
    WebhookDelivery.objects.filter(pk=ping.pk).update(
        status=CallStatus.FAILED, attempts=8, finished_at=timezone.now(), error="it answered 500"
    )
    since = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S")
    answer = client.post(
        LIST, {"action": "resend_failed", "_selected_action": [endpoint.pk], "since": since}, follow=True
    )
    assert "1 delivery sent again." in answer.content.decode()
    ping.refresh_from_db()
    assert (ping.status, ping.attempts, ping.error) == (CallStatus.QUEUED, 0, "")


def test_a_delivery_is_found_by_the_message_id_a_partner_quotes(client, integrator):
    client.force_login(integrator)
    _add(client)
    endpoint = WebhookEndpoint.objects.get()
    quoted, other = events.ping(endpoint), events.ping(endpoint)
    for url, rows in ((DELIVERIES, "event_id"), ("/admin/webhooks/webhookevent/", "pk")):
        page = client.get(url, {"q": f" {quoted.webhook_id} "})
        found = {getattr(row, rows) for row in page.context["cl"].result_list}
        assert found == {quoted.pk}, url
        assert client.get(url, {"q": "msg_not-hex"}).status_code == 200
    page = client.get(f"{DELIVERIES}{WebhookDelivery.objects.get(event=quoted).pk}/change/")
    assert quoted.webhook_id in page.content.decode() and other.webhook_id not in page.content.decode()
    assert WebhookEvent.objects.count() == 2


def test_an_auditor_reads_the_log_but_never_a_secret_and_changes_nothing(client, staff_user, integrator):
    client.force_login(integrator)
    secret = _add(client).context["secret"]
    endpoint = WebhookEndpoint.objects.get()
    auditor = staff_user("Auditor")
    client.force_login(auditor)
    for url in (LIST, f"{LIST}{endpoint.pk}/change/", DELIVERIES):
        page = client.get(url)
        assert page.status_code == 200 and secret not in page.content.decode(), url
    for action in ("show_secret", "rotate_secret", "send_ping", "enable_again"):
        page = client.post(LIST, {"action": action, "_selected_action": [endpoint.pk]})
        assert "secret" not in (page.context or {}), action
    assert client.post(ADD, {"url": "http://127.0.0.1:9/x"}).status_code == 403
    assert not WebhookDelivery.objects.exists() and signing.current_secret(endpoint) == secret
    hr = staff_user("HR")
    client.force_login(hr)
    assert client.get(LIST).status_code == 403 and client.get(DELIVERIES).status_code == 403
