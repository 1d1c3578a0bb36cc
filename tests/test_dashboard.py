"""The admin index opens on what needs attention, for the user's role."""

import re

import pytest

from bindings.models import BindingStatus, EcoAccountBinding, FieldScope, TenantFieldScope
from hireops.events.models import EventStatus, FeishuEvent
from referrals.models import AccountCash, AccountStatus, ReferralAccount, Withdrawal

pytestmark = pytest.mark.django_db


@pytest.fixture
def work():
    EcoAccountBinding.objects.create(
        app_id="a", tenant_key="t", account_id="x1", scope=1, status=BindingStatus.NEEDS_REVIEW
    )
    FieldScope.objects.update_or_create(scope=2, defaults={"revision": 3, "shared_revision": 3})
    TenantFieldScope.objects.update_or_create(scope=2, tenant_key="", defaults={"published_revision": 1})
    for i, event_type in enumerate(["hire.eco_account.created_v1", "hire.referral_account.assets_update_v1"]):
        FeishuEvent.objects.create(
            event_id=f"f{i}", schema="2.0", event_type=event_type, payload={}, status=EventStatus.FAILED
        )
    ReferralAccount.objects.create(email="f@example.com", status=AccountStatus.FAILED)
    active = ReferralAccount.objects.create(
        email="a@example.com", status=AccountStatus.ACTIVE, account_id="acc", points=70
    )
    AccountCash.objects.create(account=active, currency="CNY", amount="12.50")
    Withdrawal.objects.create(account=active, external_order_id="o1", bonus_types=[1])


def attention(page: str) -> dict[str, int]:
    section = page.split('id="attention"', 1)[1].split("</table>", 1)[0]
    rows = re.findall(r'<a href="([^"]+)">([^<]+)</a></th>\s*<td[^>]*>(\d+)</td>', section)
    return {label: (int(count), url) for url, label, count in rows}


def test_superuser_sees_every_item_with_working_links(admin_client, work):
    page = admin_client.get("/admin/").content.decode()
    items = attention(page)
    counts = {label: n for label, (n, _url) in items.items()}
    assert counts["Bindings needing review"] == 1
    assert counts["Unpublished custom-field changes: Exam (笔试)"] == 1
    assert counts["Failed events"] == 2
    assert counts["Registrations failed"] == 1 and counts["Withdrawals in progress"] == 1
    for _n, url in items.values():
        assert admin_client.get(url.replace("&amp;", "&")).status_code == 200, url
    assert "Points held by active accounts" in page and ">70<" in page and "12.50" in page
    assert "trend-events-per-day-title" in page  # the trends (tests/test_trends_dashboard.py)


def test_each_role_sees_its_own_items(client, staff_user, work):
    client.force_login(staff_user("Vendor operations"))
    vendor = attention(client.get("/admin/").content.decode())
    assert "Bindings needing review" in vendor and vendor["Failed events"][0] == 1
    assert not any(label.startswith(("Registrations", "Withdrawals")) for label in vendor)

    client.force_login(staff_user("HR"))
    hr = attention(client.get("/admin/").content.decode())
    assert "Registrations failed" in hr and hr["Failed events"][0] == 1
    assert "Bindings needing review" not in hr


def test_the_admin_is_the_whole_site(admin_client):
    root = admin_client.get("/")
    assert root.status_code == 302 and root["Location"] == "/admin/"
    assert "View site" not in admin_client.get("/admin/").content.decode()


def test_open_incidents_say_whether_anyone_was_told(admin_client):
    """An incident opened with no alert channel reached nobody: the dashboard says so instead
    of claiming staff were alerted."""
    from django.utils import timezone

    from hireops.ops.models import AlertIncident

    AlertIncident.objects.create(key="told", title="Told", notified_at=timezone.now())
    AlertIncident.objects.create(key="untold", title="Untold")
    counts = {
        label: n for label, (n, _url) in attention(admin_client.get("/admin/").content.decode()).items()
    }
    assert counts["Operations: open incidents"] == 2
    assert counts["Operations: open incidents nobody was told of"] == 1
