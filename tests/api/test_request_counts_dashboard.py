"""The API's requests on the dashboard: per day and per key, from the hourly counts; a key
named only to whoever may open the keys, numbered for whoever may open only the status page;
requests without a usable key one bar; downloadable; in both languages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hireops.api import counting, keys
from hireops.api.models import RequestCount
from hireops.core import trends

from ..test_trends_dashboard import trend_table

pytestmark = pytest.mark.django_db


@pytest.fixture
def counted():
    """Three days ago: the payroll key's 10 requests (2 refused, 1 failed), 4 without a usable
    key, and 3 of a key deleted since."""
    payroll = keys.create("payroll", ["bindings:read"]).key[: keys.SHOWN]
    hour = trends.hour_of(timezone.now() - timedelta(days=3))
    rows = [(payroll, "answered", 7), (payroll, "refused", 2), (payroll, "failed", 1), ("", "refused", 4)]
    rows.append(("hko_Gone0000", "answered", 3))
    RequestCount.objects.bulk_create(
        RequestCount(hour=hour, key_prefix=p, outcome=o, count=n, batch="b") for p, o, n in rows
    )
    trends.mark(counting.METRIC, [hour])
    trends.recompute()
    return timezone.localdate(hour), payroll


def test_whoever_may_open_the_keys_sees_them_by_name(admin_client, counted):
    day, payroll = counted
    page = admin_client.get("/admin/").content.decode()
    assert trend_table(page, "api-requests-per-day")[f"{day:%Y-%m-%d}"] == [17, 6, 1]
    assert trend_table(page, "api-requests-per-key") == {
        f"payroll ({payroll}…)": [10, 2, 1],
        "Keys deleted since": [3, 0, 0],
        "No key, or an unknown one": [4, 4, 0],
    }
    csv = b"".join(admin_client.get("/admin/trends/api-requests-per-key.csv?period=year").streaming_content)
    assert '"No key, or an unknown one",4,4,0' in csv.decode()
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "每天的合作方 API 请求" in page


def test_the_status_pages_readers_see_numbered_keys_and_others_nothing(client, staff_user, counted):
    client.force_login(staff_user(username="operator", perms=["ops.view_status"]))
    page = client.get("/admin/").content.decode()
    by_key = trend_table(page, "api-requests-per-key")  # numbered in the order of their prefixes
    assert list(by_key) == ["Key 1", "Key 2", "No key, or an unknown one"]
    assert sorted(by_key.values()) == [[3, 0, 0], [4, 4, 0], [10, 2, 1]]
    assert "payroll" not in page
    client.force_login(staff_user(username="nobody"))
    assert "api-requests-per-day" not in client.get("/admin/").content.decode()
    assert client.get("/admin/trends/api-requests-per-key.csv").status_code == 404
