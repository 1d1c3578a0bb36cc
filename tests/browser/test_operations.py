"""An operator follows an incident from the dashboard to the status page, in both languages."""

import pytest
from django.utils import timezone

from hireops.events.models import EventStatus, FeishuEvent
from hireops.ops import alerts
from hireops.ops.heartbeat import beat_once

from .admin_ui import expect, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def incident(settings):
    settings.ALERT_EMAILS, settings.ALERT_FEISHU_BOT_URL = [], ""  # no channel: the row only
    beat_once("celery@ops-host", "worker", "bulk,celery,events,webhooks", timezone.now())
    beat_once("beat@ops-host:1", "beat", "", timezone.now())
    FeishuEvent.objects.create(
        event_id="evt-given-up", schema="2.0", event_type="app_ticket", payload={}, status=EventStatus.FAILED
    )
    alerts.alerts_run()


def test_an_auditor_goes_from_the_dashboard_to_the_status_page(page, staff_user, incident):
    log_in(page, staff_user("Auditor", username="ops-auditor"))
    attention = page.locator("#attention")
    expect(attention).to_contain_text("Operations: open incidents nobody was told of")  # no channel
    attention.get_by_role("link", name="Operations: open incidents", exact=True).click()
    content = page.locator("#content-main")
    expect(content.locator("h2").first).to_have_text("1 thing needs a person")
    expect(content.locator("tr.needs-a-person")).to_contain_text("Events failed after their last retry")
    expect(content.locator("#ops-processes")).to_contain_text("celery@ops-host")
    # No channel is configured here: the incident says so instead of "staff told".
    expect(content).to_contain_text("not told yet: no alert channel is configured")
    screenshot(page, "operations-1-status")
    content.locator("tr.needs-a-person").get_by_role("link", name="Look").click()
    expect(page.locator("#result_list tbody tr")).to_have_count(1)  # the failed event


def test_the_status_page_in_chinese(zh_page, staff_user, incident):
    log_in(zh_page, staff_user("Auditor", username="ops-auditor-zh"))
    zh_page.goto("/admin/ops/alertincident/status/")
    expect(zh_page.locator("h1")).to_have_text("运行状态")
    expect(zh_page.locator("tr.needs-a-person")).to_contain_text("最后一次重试后仍失败的事件")
    screenshot(zh_page, "operations-2-status-zh")
