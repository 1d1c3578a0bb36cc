"""Tenants: recorded from every event's tenant_key, moved by the store app's lifecycle events."""

import uuid

import pytest

from hireops.events.models import EventStatus, FeishuEvent
from hireops.tenants.models import Tenant, TenantStatus, TenantStatusChange
from hireops.tenants.services import forget_seen
from tests.events.payloads import ENCRYPT_KEY, TOKEN, eco_account_event, post_delivery, signed

pytestmark = pytest.mark.django_db(transaction=True)  # events are processed after their commit


@pytest.fixture(autouse=True)
def _feishu_app(settings):
    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN
    forget_seen()  # which tenants this process recorded lately: per test
    yield
    forget_seen()


def lifecycle_event(kind, tenant_key="t-acme", ts="1700000000.500000", **extra):
    """A schema 1.0 lifecycle event as Feishu's pages show it (docs/feishu-api-2.md §1.1)."""
    return {
        "ts": ts,
        "uuid": uuid.uuid4().hex,
        "token": TOKEN,
        "type": "event_callback",
        "event": {"app_id": "cli_test", "tenant_key": tenant_key, "type": kind, **extra},
    }


def deliver(client, payload):
    resp = post_delivery(client, *signed(payload))
    assert resp.status_code == 200
    return FeishuEvent.objects.get(event_id=payload.get("uuid") or payload["header"]["event_id"])


def test_any_event_records_its_tenant_once(client):
    deliver(client, eco_account_event(account_id="a1"))
    tenant = Tenant.objects.get(tenant_key="tenant-a")
    assert tenant.status == TenantStatus.INSTALLED and tenant.name == ""
    first = (tenant.first_seen, tenant.last_seen)
    deliver(client, eco_account_event(account_id="a2"))
    assert Tenant.objects.count() == 1
    tenant.refresh_from_db()
    assert (tenant.first_seen, tenant.last_seen) == first  # recorded at most once a minute


def test_lifecycle_events_move_the_status_with_history(client):
    deliver(client, lifecycle_event("app_open", ts="100.0", installer={"open_id": "ou_1"}))
    assert Tenant.objects.get(tenant_key="t-acme").status == TenantStatus.INSTALLED
    deliver(client, lifecycle_event("app_status_change", ts="200.0", status="stop_by_platform"))
    assert Tenant.objects.get(tenant_key="t-acme").status == TenantStatus.SUSPENDED
    deliver(client, lifecycle_event("app_status_change", ts="300.0", status="start_by_tenant"))
    assert Tenant.objects.get(tenant_key="t-acme").status == TenantStatus.INSTALLED
    deliver(client, lifecycle_event("app_uninstalled", ts="400.25"))
    tenant = Tenant.objects.get(tenant_key="t-acme")
    assert tenant.status == TenantStatus.UNINSTALLED and tenant.status_since_ms == 400_250
    history = list(
        tenant.history.order_by("feishu_time_ms").values_list("from_status", "to_status", "applied")
    )
    assert history == [
        ("installed", "installed", True),
        ("installed", "suspended", True),
        ("suspended", "installed", True),
        ("installed", "uninstalled", True),
    ]
    assert tenant.history.get(feishu_time_ms=200_000).feishu_status == "stop_by_platform"


def test_an_older_event_arriving_late_is_kept_but_changes_nothing(client):
    deliver(client, lifecycle_event("app_uninstalled", ts="500.0"))
    late = deliver(client, lifecycle_event("app_open", ts="100.0"))  # a retried delivery
    assert late.status == EventStatus.PROCESSED
    tenant = Tenant.objects.get(tenant_key="t-acme")
    assert tenant.status == TenantStatus.UNINSTALLED
    assert TenantStatusChange.objects.get(event_id=late.event_id).applied is False


def test_the_same_event_twice_changes_the_tenant_once(client):
    payload = lifecycle_event("app_status_change", ts="100.0", status="stop_by_tenant")
    event = deliver(client, payload)
    from hireops.events.services import event_process

    event_process(event.pk)  # as a reprocess would
    assert TenantStatusChange.objects.filter(tenant__tenant_key="t-acme").count() == 1


def test_an_unknown_app_status_fails_the_event_and_leaves_the_tenant(client):
    deliver(client, lifecycle_event("app_open", ts="100.0"))
    event = deliver(client, lifecycle_event("app_status_change", ts="200.0", status="paused_by_moon"))
    event.refresh_from_db()
    assert event.status == EventStatus.FAILED and "paused_by_moon" in event.last_error
    assert Tenant.objects.get(tenant_key="t-acme").status == TenantStatus.INSTALLED


def test_sandbox_lifecycle_through_webhook_and_worker(sandbox, live_server, celery_worker):
    sandbox.configure(
        webhook_url=live_server.url + "/feishu/events/", encrypt_key=ENCRYPT_KEY, verification_token=TOKEN
    )

    def status_becomes(expected):
        celery_worker(
            lambda: Tenant.objects.filter(tenant_key="t-globex", status=expected).exists(),
            what=f"tenant {expected}",
        )

    sandbox.install_tenant("t-globex")
    status_becomes(TenantStatus.INSTALLED)
    sandbox.suspend_tenant("t-globex", by="platform")
    status_becomes(TenantStatus.SUSPENDED)
    sandbox.uninstall_tenant("t-globex")
    status_becomes(TenantStatus.UNINSTALLED)
    events = FeishuEvent.objects.filter(tenant_key="t-globex")
    assert sorted(events.values_list("event_type", flat=True)) == [
        "app_open",
        "app_status_change",
        "app_uninstalled",
    ]
    assert set(events.values_list("status", flat=True)) == {EventStatus.PROCESSED}
    assert "t-globex" in sandbox.state()["tenants"]


def test_admin_lists_tenants_and_staff_name_them(client, staff_user):
    Tenant.objects.create(tenant_key="t-acme")
    tenant = Tenant.objects.get(tenant_key="t-acme")
    client.force_login(staff_user("Vendor operations"))
    page = client.get("/admin/tenants/tenant/").content.decode()
    assert "t-acme" in page
    url = f"/admin/tenants/tenant/{tenant.pk}/change/"
    assert client.get(url).status_code == 200
    inlines = {
        f"{prefix}-{n}_FORMS": "0" for prefix in ("history", "name_lookups") for n in ("TOTAL", "INITIAL")
    }
    assert client.post(url, {"name": "Acme 科技", **inlines}).status_code == 302
    tenant.refresh_from_db()
    assert tenant.name == "Acme 科技" and tenant.status == TenantStatus.INSTALLED
    assert client.get("/admin/tenants/tenant/add/").status_code == 403

    client.force_login(staff_user("HR"))
    assert client.get("/admin/tenants/tenant/").status_code == 200
    client.post(url, {"name": "changed by HR"})
    tenant.refresh_from_db()
    assert tenant.name == "Acme 科技"


def test_store_app_dashboard_says_when_the_last_ticket_came(admin_client, settings):
    settings.FEISHU_APP_TYPE = "store"
    page = admin_client.get("/admin/").content.decode()
    assert "No app ticket from Feishu for over 2 hours" in page
    assert "?event_type=app_ticket" in page
    FeishuEvent.objects.create(event_id="tick", schema="1.0", event_type="app_ticket", payload={})
    page = admin_client.get("/admin/").content.decode()
    assert "Last app ticket from Feishu" in page and "No app ticket from Feishu" not in page

    settings.FEISHU_APP_TYPE = "self_built"  # no tickets there: nothing to say
    assert "app ticket" not in admin_client.get("/admin/").content.decode()


def test_lists_filter_by_tenant_under_its_name(admin_client):
    Tenant.objects.create(tenant_key="t-acme", name="Acme 科技")
    Tenant.objects.create(tenant_key="t-globex")
    for i, key in enumerate(["t-acme", "t-globex", "t-globex"]):
        FeishuEvent.objects.create(event_id=f"e{i}", schema="2.0", event_type="x", tenant_key=key, payload={})
    page = admin_client.get("/admin/events/feishuevent/").content.decode()
    assert "Acme 科技" in page and "?tenant_key=t-globex" in page
    filtered = admin_client.get("/admin/events/feishuevent/?tenant_key=t-acme")
    assert [e.event_id for e in filtered.context["cl"].result_list] == ["e0"]
    assert admin_client.get("/admin/bindings/ecoaccountbinding/?tenant_key=t-acme").status_code == 200


def test_upgrade_records_the_tenants_of_events_stored_before(client):
    import importlib

    from django.apps import apps

    for i, key in enumerate(["t-old", "t-old", "", "t-other"]):
        FeishuEvent.objects.create(
            event_id=f"old{i}", schema="2.0", event_type="x", tenant_key=key, payload={}
        )
    Tenant.objects.all().delete()  # as before the tenants app existed
    migration = importlib.import_module("hireops.tenants.migrations.0002_tenants_of_stored_events")
    migration.tenants_of_stored_events(apps, None)
    migration.tenants_of_stored_events(apps, None)  # twice: harmless
    assert sorted(Tenant.objects.values_list("tenant_key", flat=True)) == ["t-old", "t-other"]
    old = Tenant.objects.get(tenant_key="t-old")
    events = FeishuEvent.objects.filter(tenant_key="t-old").order_by("received_at")
    assert (old.first_seen, old.last_seen) == (events.first().received_at, events.last().received_at)
