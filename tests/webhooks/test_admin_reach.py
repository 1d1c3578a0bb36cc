"""Who acts on an endpoint in the admin: staff with the endpoint permission manage every
endpoint, but nobody changes, points elsewhere, pings, resends to, or reads or rotates the
secret of an endpoint sent more than they may read themselves; every action of both admins is
enumerated, so a new one is covered. A new address gets a new secret, shown once. A superuser
hands an endpoint to another API key, and its history says so. The form is never deaf."""

import json

import pytest
from django.contrib import admin as django_admin
from django.contrib.admin.models import LogEntry
from django.forms.models import model_to_dict
from django.utils import timezone

from hireops.api.models import ApiKey
from hireops.core import audit
from hireops.core.models import CallStatus
from hireops.outbound import Outbound
from hireops.webhooks import endpoints, events, signing
from hireops.webhooks.models import WebhookDelivery, WebhookEndpoint
from tests.api.keys import bearer, make_key

pytestmark = pytest.mark.django_db

LIST = "/admin/webhooks/webhookendpoint/"
DELIVERIES = "/admin/webhooks/webhookdelivery/"
MANAGES = (
    "webhooks.add_webhookendpoint",
    "webhooks.change_webhookendpoint",
    "webhooks.view_webhookendpoint",
    "webhooks.view_webhookdelivery",
    "webhooks.view_webhookevent",
    "orders.view_backgroundcheck",
)


@pytest.fixture(autouse=True)
def no_sends(monkeypatch):
    monkeypatch.setattr(Outbound, "send", lambda self, pk: None)


@pytest.fixture
def personal():
    """An endpoint that hears candidates' personal data, with a failed delivery in its log."""
    made, secret = endpoints.create(
        url="http://127.0.0.1:9/partner", scopes=["orders:read", "orders:personal_data"]
    )
    delivery = events.ping(made).deliveries.get()
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=CallStatus.FAILED, attempts=8, finished_at=timezone.now()
    )
    return made, secret, delivery


def _state() -> str:
    rows = [model_to_dict(e) | {"secret": e.secret} for e in WebhookEndpoint.objects.order_by("pk")]
    rows += list(WebhookDelivery.objects.order_by("pk").values())
    return json.dumps(rows, default=str, sort_keys=True)


def _actions(model) -> list[str]:
    return [name for name in django_admin.site._registry[model].actions]


def test_a_colleague_without_personal_data_acts_on_no_endpoint_that_hears_it(client, staff_user, personal):
    made, secret, delivery = personal
    colleague = staff_user(perms=MANAGES)  # every endpoint permission, not core.view_personal_data
    client.force_login(colleague)
    before = _state()

    change = f"{LIST}{made.pk}/change/"
    form = {
        "url": "http://127.0.0.1:9/elsewhere",
        "description": "",
        "scopes": ["orders:read"],
        "tenants": "",
    }
    for fields in (form, {**form, "url": made.url, "description": "renamed"}):
        page = client.post(change, fields)
        assert page.status_code == 200, fields  # the form again, with its error
        assert "orders:personal_data" in page.content.decode()
    for action in _actions(WebhookEndpoint):
        data = {"action": action, "_selected_action": [made.pk], "since": "2020-01-01 00:00:00"}
        page = client.post(LIST, data, follow=True)
        assert secret not in page.content.decode(), action
        assert "secret" not in (page.context or {}), action
    for action in _actions(WebhookDelivery):
        client.post(DELIVERIES, {"action": action, "_selected_action": [delivery.pk]}, follow=True)
    assert _state() == before


def test_who_may_read_it_moves_it_and_is_shown_the_new_secret_once(client, staff_user, personal):
    made, secret, _ = personal
    reader = staff_user(perms=(*MANAGES, "core.view_personal_data"))
    client.force_login(reader)
    page = client.post(
        f"{LIST}{made.pk}/change/",
        {"url": "http://127.0.0.1:9/moved", "description": "", "scopes": made.scopes, "tenants": ""},
    )
    assert page.status_code == 200, page.content[:500]
    new = page.context["secret"]
    made.refresh_from_db()
    assert made.url == "http://127.0.0.1:9/moved" and signing.signing_secrets(made) == [new] != [secret]
    assert new not in client.get(f"{LIST}{made.pk}/change/").content.decode()


def test_a_superuser_hands_an_endpoint_to_another_key(client, admin_user, personal):
    made, secret, _ = personal
    old = make_key("webhooks:manage", "orders:read", "orders:personal_data", name="old")
    made.owner_key = ApiKey.objects.get(prefix=old[:12])
    made.save()
    narrow = make_key("webhooks:manage", "orders:read", name="narrow")
    new = make_key("webhooks:manage", "orders:read", "orders:personal_data", name="new")
    client.force_login(admin_user)
    fields = {"url": made.url, "description": "", "scopes": made.scopes, "tenants": ""}

    refused = client.post(
        f"{LIST}{made.pk}/change/", {**fields, "owner_key": ApiKey.objects.get(prefix=narrow[:12]).pk}
    )
    assert refused.status_code == 200 and "owner_key" in refused.context["adminform"].form.errors
    done = client.post(
        f"{LIST}{made.pk}/change/", {**fields, "owner_key": ApiKey.objects.get(prefix=new[:12]).pk}
    )
    assert done.status_code == 302, done.content[:500]

    made.refresh_from_db()
    assert made.owner_key.prefix == new[:12] and signing.current_secret(made) == secret
    assert client.get(f"/api/v1/webhook-endpoints/{made.pk}", **bearer(new)).status_code == 200
    assert client.get(f"/api/v1/webhook-endpoints/{made.pk}", **bearer(old)).status_code == 404
    history = [audit.describe(e) for e in LogEntry.objects.filter(object_id=str(made.pk))]
    assert any(new[:12] in m and old[:12] in m for m in history), history


def test_a_colleague_may_not_hand_over_an_endpoint(client, staff_user, personal):
    made, _, _ = personal
    reader = staff_user(perms=(*MANAGES, "core.view_personal_data"))
    key = make_key("webhooks:manage", "orders:read", "orders:personal_data")
    client.force_login(reader)
    fields = {"url": made.url, "description": "", "scopes": made.scopes, "tenants": ""}
    client.post(f"{LIST}{made.pk}/change/", {**fields, "owner_key": ApiKey.objects.get(prefix=key[:12]).pk})
    made.refresh_from_db()
    assert made.owner_key is None


def test_the_form_fills_in_the_read_scopes_and_names_one_it_lacks(client, staff_user):
    maker = staff_user(perms=MANAGES)  # may read orders, not referral accounts
    client.force_login(maker)
    made = client.post(LIST + "add/", {"url": "http://127.0.0.1:9/h", "event_types": ["order.created"]})
    assert made.status_code == 200 and "secret" in made.context
    assert WebhookEndpoint.objects.get().scopes == ["orders:read"]
    refused = client.post(
        LIST + "add/", {"url": "http://127.0.0.1:9/h", "event_types": ["referral_account.balance_changed"]}
    )
    assert "secret" not in refused.context and "referrals:read" in refused.content.decode()
    assert WebhookEndpoint.objects.count() == 1
