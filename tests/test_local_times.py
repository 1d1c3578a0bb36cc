"""Times people read are local (TIME_ZONE, Beijing by default) where code formats a datetime
itself, as on the pages Django renders; and "how long ago" says "just now" under a minute.
The moment used is just after midnight in Beijing, still the day before in UTC: a time shown
in UTC shows the wrong day as well as the wrong hour."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone, translation

from bindings.models import FieldPublish
from hireops.core import display
from hireops.core.models import CallStatus
from hireops.events.models import RefusalStatus, RejectedDelivery, RejectionKind
from hireops.ops import alerts
from hireops.ops.models import AlertIncident
from referrals.models import ReferralAccount

pytestmark = pytest.mark.django_db

LATE_UTC = datetime(2026, 11, 23, 16, 30, 5, tzinfo=UTC)
BEIJING, AS_UTC = "2026-11-24 00:30", "2026-11-23 16:30"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}


def test_the_helper_shows_the_local_day_and_hour():
    assert display.local_time(LATE_UTC) == BEIJING
    assert display.local_time(LATE_UTC, seconds=True) == f"{BEIJING}:05"
    assert display.from_ms(int(LATE_UTC.timestamp() * 1000)) == f"{BEIJING}:05"
    assert display.local_time(None) == "—"


def test_the_field_scopes_last_publish_is_local(admin_client):
    publish = FieldPublish.objects.create(scope=1, status=CallStatus.SUCCEEDED)
    FieldPublish.objects.filter(pk=publish.pk).update(requested_at=LATE_UTC)
    page = admin_client.get("/admin/bindings/fieldscope/", **ZH).content.decode()
    assert f"成功 · {BEIJING}" in page and AS_UTC not in page


def test_a_rejected_deliverys_title_is_local_and_in_words(admin_client):
    refused = RejectedDelivery.objects.create(
        received_at=LATE_UTC, kind=RejectionKind.BAD_JSON, reason="x", status=RefusalStatus.BAD_REQUEST
    )
    page = admin_client.get(f"/admin/events/rejecteddelivery/{refused.pk}/change/", **ZH).content.decode()
    with translation.override("zh-hans"):
        assert f"{BEIJING}:05 {RejectionKind.BAD_JSON.label}" in page
    assert AS_UTC not in page


def test_an_alert_says_since_when_in_local_time():
    incident = AlertIncident.objects.create(key="k", title="t", value="1")
    AlertIncident.objects.filter(pk=incident.pk).update(opened_at=LATE_UTC)
    incident.refresh_from_db()
    with translation.override("zh-hans"):
        assert f"开始于 {BEIJING}" in alerts._alert(incident).lines


def test_a_moment_ago_is_just_now():
    with translation.override("zh-hans"):
        assert display.ago(timezone.now() - timedelta(seconds=20)) == "刚刚"
        assert display.ago(timezone.now() - timedelta(hours=3, seconds=10)) == "3\xa0小时前"
    with translation.override("en"):
        assert display.ago(timezone.now()) == "just now"


def test_a_balance_confirmed_a_moment_ago_reads_just_now(admin_client):
    ReferralAccount.objects.create(email="x@example.com", balance_synced_at=timezone.now())
    page = admin_client.get("/admin/referrals/referralaccount/", **ZH).content.decode()
    assert ">刚刚</span>" in page and "0 分钟前" not in page


def test_every_admin_page_says_once_which_zone_its_times_are_in(admin_client, settings):
    """Times are shown without their zone ("1:22 a.m."): the page's header names it, once."""
    for language, words in (
        ("zh-CN", "时间均为 Asia/Shanghai（UTC+08:00）"),
        ("en", "Times in Asia/Shanghai (UTC+08:00)"),
    ):
        page = admin_client.get("/admin/axes/accessattempt/", HTTP_ACCEPT_LANGUAGE=language).content.decode()
        assert page.count(words) == 1, language
    settings.TIME_ZONE = "America/New_York"
    page = admin_client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Times in America/New_York (UTC-05:00)" in page or "(UTC-04:00)" in page


def test_a_plain_log_line_is_in_the_sites_zone_and_says_so(settings):
    """Beside the admin's pages, not UTC: gunicorn's master and honcho have no Django to set
    their zone (./dev run sets TZ for them), the formatter takes the site's."""
    import logging

    from hireops.core.logs.formatting import PLAIN_FORMAT, PlainFormatter

    record = logging.makeLogRecord({"msg": "x", "levelname": "INFO", "name": "t"})
    record.created = LATE_UTC.timestamp() + 0.25
    line = PlainFormatter(fmt=PLAIN_FORMAT).format(record)
    assert line.startswith(f"{BEIJING}:05.250+08:00 INFO t x"), line
