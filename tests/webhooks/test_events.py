"""The apps' events reach partners' endpoints as the API's GET answers their objects: an order
placed in Feishu, a binding decided, a tenant installing the app; personal data only to an
endpoint allowed it; each event written in the transaction of its change."""

import json

import pytest
from django.db import transaction

from bindings.matching import binding_bind_manually, binding_upsert_from_event
from bindings.models import VendorCustomer
from hireops import outbound
from hireops.tenants.models import TenantStatus
from hireops.tenants.services import tenant_lifecycle
from hireops.webhooks import endpoints
from hireops.webhooks.delivery import DELIVER
from hireops.webhooks.models import WebhookDelivery, WebhookEvent
from orders.intake import background_check_created
from tests.api.keys import bearer, make_key

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
    "client_contact_info": {"name": "李经理", "mobile": {"code": "86", "number": "13900000000"}},
}


@pytest.fixture(autouse=True)
def sent_by_hand(monkeypatch):
    monkeypatch.setattr(outbound.Outbound, "send", lambda self, pk: None)


def _delivered(receiver, endpoint) -> dict:
    (row,) = WebhookDelivery.objects.filter(endpoint=endpoint)
    outbound.run(DELIVER, row.pk)
    body = receiver.requests[-1].body
    return json.loads(body)


def test_an_order_placed_in_feishu_reaches_the_partner_as_get_answers_it(client, receiver):
    plain, _ = endpoints.create(url=receiver.url, event_types=["order.created"], scopes=["orders:read"])
    full, _ = endpoints.create(
        url=receiver.url, event_types=["order.created"], scopes=["orders:read", "orders:personal_data"]
    )

    check = background_check_created(app_id="cli_test", tenant_key="t1", event_id="ev-1", event=CHECK)

    event = WebhookEvent.objects.get()
    assert event.type == "order.created" and event.tenant_key == "t1"
    sent = _delivered(receiver, plain)
    assert sent["type"] == "order.created"
    got = client.get(f"/api/v1/orders/bgc_{check.pk}", **bearer(make_key("orders:read")))
    assert sent["data"] == got.json()
    assert "13812345678" not in json.dumps(sent, ensure_ascii=False)

    sent_full = _delivered(receiver, full)
    got_full = client.get(
        f"/api/v1/orders/bgc_{check.pk}", **bearer(make_key("orders:read", "orders:personal_data"))
    )
    assert sent_full["data"] == got_full.json()
    assert sent_full["data"]["candidate"]["mobile"] == "+86 13812345678"
    assert sent_full["data"]["updated_at"]

    # The same event again (Feishu redelivers): the order exists, nothing more is told.
    background_check_created(app_id="cli_test", tenant_key="t1", event_id="ev-1", event=CHECK)
    assert WebhookEvent.objects.count() == 1


def test_no_endpoint_without_the_read_scope_hears_an_order(receiver):
    endpoints.create(url=receiver.url, scopes=["bindings:read"])
    background_check_created(app_id="cli_test", tenant_key="t1", event_id="ev-1", event=CHECK)
    assert not WebhookEvent.objects.exists()


def test_a_binding_created_then_decided_by_hand(client, receiver):
    ep, _ = endpoints.create(url=receiver.url, scopes=["bindings:read"])
    event = {"account_id": "acc-1", "scope": 1, "custom_field_list": [{"key": "org_id", "value": "NOPE"}]}

    binding = binding_upsert_from_event(app_id="cli_test", tenant_key="t1", event_id="e1", event=event)
    customer = VendorCustomer.objects.create(name="Acme")
    binding_bind_manually(binding, customer, user=None)

    assert list(WebhookEvent.objects.order_by("pk").values_list("type", flat=True)) == [
        "binding.created",
        "binding.changed",
    ]
    created = WebhookEvent.objects.get(type="binding.created")
    changed = WebhookEvent.objects.get(type="binding.changed")
    assert created.data["status"] == "needs_review" and changed.data["customer_id"] == customer.pk
    got = client.get(f"/api/v1/bindings/{binding.pk}", **bearer(make_key("bindings:read")))
    assert changed.data == got.json()
    assert WebhookDelivery.objects.filter(endpoint=ep).count() == 2


def test_a_tenant_installing_the_app_is_told_in_its_transaction(receiver):
    endpoints.create(url=receiver.url, tenants=["t-acme"], scopes=["tenants:read"])
    with pytest.raises(RuntimeError), transaction.atomic():
        tenant_lifecycle(
            tenant_key="t-acme", event_id="open-0", event_type="app_open", to_status=TenantStatus.INSTALLED
        )
        raise RuntimeError
    assert not WebhookEvent.objects.exists()

    tenant_lifecycle(
        tenant_key="t-acme", event_id="open-1", event_type="app_open", to_status=TenantStatus.INSTALLED
    )
    tenant_lifecycle(
        tenant_key="t-other", event_id="open-2", event_type="app_open", to_status=TenantStatus.INSTALLED
    )

    (event,) = WebhookEvent.objects.all()  # t-other is no tenant of this endpoint
    assert event.type == "tenant.installed" and event.data["tenant_key"] == "t-acme"
    assert event.data["status"] == "installed"


def test_an_event_made_in_a_chinese_page_tells_partners_in_english(receiver):
    """Stored messages render in the active language; a partner reads the API's English, wherever
    the change was made (an admin page in Chinese, a worker)."""
    from django.utils import translation
    from django.utils.translation import gettext

    from hireops.webhooks import events

    said = events.declare(
        events.EventType(
            "test.said", "a test", scope=None, render=lambda s, p, w: {"said": gettext("Needs review")}
        )
    )
    try:
        endpoints.create(url=receiver.url, event_types=["test.said"], scopes=["tenants:read"])
        with translation.override("zh-hans"):
            assert gettext("Needs review") != "Needs review"
            events.emit(said.name, object())
        assert WebhookEvent.objects.get(type="test.said").data == {"said": "Needs review"}
    finally:
        events._types.pop(said.name)
