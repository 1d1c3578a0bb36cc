"""The calls to Feishu on the dashboard: per day and per kind, from the rollups, each kind shown
to whoever may open its rows, downloadable, in both languages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hireops.calls_made import record
from hireops.core import trends
from hireops.feishu_calls.callee import TREND

from .test_trends_dashboard import trend_table

pytestmark = pytest.mark.django_db

LOOKUP, WRITE = "tenants.lookup_name", "orders.send_write"


@pytest.fixture
def calls(monkeypatch):
    """Three days ago: four tenant name lookups (one retried, one refused) and two order writes,
    one of which was given up on after its retries."""
    then = timezone.now() - timedelta(days=3)
    monkeypatch.setattr(record, "timezone", type("Clock", (), {"now": staticmethod(lambda: then)}))
    record.record(
        TREND, [(LOOKUP, "succeeded"), (LOOKUP, "succeeded"), (LOOKUP, "retried"), (LOOKUP, "failed")]
    )
    record.record(TREND, [(WRITE, "retried"), (WRITE, "gave_up")])
    trends.recompute()
    return timezone.localdate(then)


def test_the_superuser_sees_the_calls_per_day_and_per_kind(admin_client, calls):
    page = admin_client.get("/admin/").content.decode()
    assert '<title id="trend-feishu-calls-per-day-title">Calls to Feishu per day</title>' in page
    days = trend_table(page, "feishu-calls-per-day")
    assert len(days) == 30 and days[f"{calls:%Y-%m-%d}"] == [5, 2, 2]  # made, retried, failed for good
    kinds = trend_table(page, "feishu-calls-per-kind")
    assert kinds["Tenant name lookups"] == [4, 1, 1] and kinds["Order writes"] == [1, 1, 1]
    assert sum(v[0] for v in kinds.values()) == 5


def test_the_figures_download_and_read_in_chinese(admin_client, calls):
    csv = b"".join(admin_client.get("/admin/trends/feishu-calls-per-kind.csv?period=year").streaming_content)
    lines = csv.decode().lstrip("\ufeff").splitlines()
    assert lines[0] == 'kind of call,Calls made,"Failed, tried again",Failed for good'
    assert "Tenant name lookups,4,1,1" in lines
    xlsx = admin_client.get("/admin/trends/feishu-calls-per-day.xlsx?period=quarter")
    assert xlsx.status_code == 200
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "每天调用飞书的次数" in page


def test_each_kind_only_to_whoever_may_open_its_rows(client, staff_user, calls):
    client.force_login(staff_user(username="lookups", perms=["tenants.view_tenantnamelookup"]))
    page = client.get("/admin/").content.decode()
    assert trend_table(page, "feishu-calls-per-kind") == {"Tenant name lookups": [4, 1, 1]}
    assert trend_table(page, "feishu-calls-per-day")[f"{calls:%Y-%m-%d}"] == [4, 1, 1]
    client.force_login(staff_user(username="nobody"))
    page = client.get("/admin/").content.decode()
    assert "feishu-calls-per-day" not in page and "feishu-calls-per-kind" not in page
    assert client.get("/admin/trends/feishu-calls-per-kind.csv").status_code == 404
