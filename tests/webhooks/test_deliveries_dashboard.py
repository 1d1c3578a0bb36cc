"""The deliveries to partners' endpoints on the dashboard: per day and per endpoint, from the
rollups; an endpoint named (its description or its URL's host, never its path) only to whoever
may open the endpoints; downloadable; in both languages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hireops.calls_made import record
from hireops.core import trends
from hireops.webhooks import endpoints
from hireops.webhooks.delivery import TREND

from ..test_trends_dashboard import trend_table

pytestmark = pytest.mark.django_db


@pytest.fixture
def deliveries(monkeypatch, settings):
    """Three days ago: to a described endpoint three attempts (one retried), to one with no
    description two (one failed for good), and one to an endpoint removed since."""
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    named, _ = endpoints.create(url="https://hooks.partner.example/in?token=s3cret", description="ATS")
    bare, _ = endpoints.create(url="https://other.example/path/secret-token")
    then = timezone.now() - timedelta(days=3)
    monkeypatch.setattr(record, "timezone", type("Clock", (), {"now": staticmethod(lambda: then)}))
    a, b = str(named.pk), str(bare.pk)
    record.record(TREND, [(a, "succeeded"), (a, "succeeded"), (a, "retried"), (b, "retried"), (b, "failed")])
    record.record(TREND, [("999999", "succeeded")])
    trends.recompute()
    return timezone.localdate(then)


def test_whoever_may_open_the_endpoints_sees_them_by_name(admin_client, deliveries):
    page = admin_client.get("/admin/").content.decode()
    days = trend_table(page, "webhook-deliveries-per-day")
    assert days[f"{deliveries:%Y-%m-%d}"] == [6, 3, 2, 1]  # attempts, delivered, retried, failed
    by_endpoint = trend_table(page, "webhook-deliveries-per-endpoint")
    assert by_endpoint == {
        "ATS": [3, 2, 1, 0],
        "other.example": [2, 0, 1, 1],
        "Endpoints removed since": [1, 1, 0, 0],
    }
    assert "secret-token" not in page and "s3cret" not in page
    csv = b"".join(admin_client.get("/admin/trends/webhook-deliveries-per-endpoint.csv").streaming_content)
    assert "other.example,2,0,1,1" in csv.decode()
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "每天向合作方投递的 Webhook" in page


def test_whoever_may_open_only_the_deliveries_sees_numbered_endpoints(client, staff_user, deliveries):
    client.force_login(staff_user(username="deliveries", perms=["webhooks.view_webhookdelivery"]))
    page = client.get("/admin/").content.decode()
    by_endpoint = trend_table(page, "webhook-deliveries-per-endpoint")
    assert by_endpoint == {"Endpoint 1": [3, 2, 1, 0], "Endpoint 2": [2, 0, 1, 1], "Endpoint 3": [1, 1, 0, 0]}
    assert "ATS" not in page and "other.example" not in page
    csv = b"".join(client.get("/admin/trends/webhook-deliveries-per-endpoint.csv").streaming_content).decode()
    assert "ATS" not in csv and "Endpoint 2,2,0,1,1" in csv
    client.force_login(staff_user(username="nobody"))
    page = client.get("/admin/").content.decode()
    assert "webhook-deliveries-per-day" not in page
    assert client.get("/admin/trends/webhook-deliveries-per-endpoint.csv").status_code == 404
