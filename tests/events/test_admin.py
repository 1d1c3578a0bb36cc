"""The event log as staff see it: list, filters, masked payload, reprocess command."""

import re

import pytest
from django.core.management import call_command

from hireops.core.privacy.masking import mask_personal
from hireops.events.models import EventStatus, FeishuEvent

pytestmark = pytest.mark.django_db

PAYLOAD = {
    "schema": "2.0",
    "header": {"event_id": "evt-pii", "event_type": "hire.eco_background_check.created_v1"},
    "event": {
        "account_id": "acc-9",
        "candidate_info": {
            "name": "张三",
            "mobile": {"code": "86", "number": "13800138000"},
            "email": "zhangsan@example.com",
        },
    },
}


@pytest.fixture
def event():
    return FeishuEvent.objects.create(
        event_id="evt-pii",
        schema="2.0",
        event_type=PAYLOAD["header"]["event_type"],
        tenant_key="t-1",
        account_id="acc-9",
        payload=PAYLOAD,
        status=EventStatus.FAILED,
        last_error="RuntimeError: boom",
    )


def test_changelist_filters_and_search(admin_client, event):
    FeishuEvent.objects.create(
        event_id="evt-other", schema="2.0", event_type="x", payload={}, status=EventStatus.PROCESSED
    )
    page = admin_client.get("/admin/events/feishuevent/?status__exact=failed").content.decode()
    assert "acc-9" in page and "evt-other" not in page
    found = admin_client.get("/admin/events/feishuevent/?q=acc-9").content.decode()
    assert "acc-9" in found


def test_detail_masks_personal_data_unless_permitted(client, event, staff_user):
    auditor = staff_user("Auditor")
    client.force_login(auditor)
    page = client.get(f"/admin/events/feishuevent/{event.pk}/change/").content.decode()
    assert "13800138000" not in page and "zhangsan@example.com" not in page
    # The payload is free text: its keys show, every value is hidden whole (a name too).
    assert "张三" not in page and "8000" not in page and "zhangsan" not in page
    assert "&quot;candidate_info&quot;" in page and "(hidden: personal data)" in page
    assert "RuntimeError: boom" in page

    allowed = staff_user("Auditor", username="dpo", perms=["core.view_personal_data"])
    client.force_login(allowed)
    page = client.get(f"/admin/events/feishuevent/{event.pk}/change/").content.decode()
    assert "13800138000" in page and "zhangsan@example.com" in page


def test_event_log_is_read_only(admin_client, event):
    assert admin_client.get("/admin/events/feishuevent/add/").status_code == 403
    resp = admin_client.post(f"/admin/events/feishuevent/{event.pk}/change/", {"status": "processed"})
    assert resp.status_code == 403
    event.refresh_from_db()
    assert event.status == EventStatus.FAILED


def test_mask_personal_keeps_structure():
    masked = mask_personal({"a": [{"email": "x@y.cn", "mobile": "+8613800138000"}], "n": 1})
    assert masked == {"a": [{"email": "x***@y.cn", "mobile": "+86****8000"}], "n": 1}


@pytest.mark.django_db(transaction=True)
def test_reprocess_command_by_status_and_id(event, settings):
    other = FeishuEvent.objects.create(
        event_id="evt-2",
        schema="1.0",
        event_type="app_ticket",
        payload={"event": {"app_id": "cli_x", "app_ticket": "t"}},
        status=EventStatus.FAILED,
    )
    call_command("feishu_reprocess_events", "evt-2")
    other.refresh_from_db()
    assert other.status == EventStatus.PROCESSED
    unhandled = FeishuEvent.objects.create(
        event_id="evt-3",
        schema="2.0",
        event_type="hire.application.stage_changed_v1",
        payload={},
        status="failed",
    )
    call_command("feishu_reprocess_events", "--status", "failed")
    unhandled.refresh_from_db()
    # No handler is registered for this type: reprocessing settles it as ignored, not failed again.
    assert unhandled.status == EventStatus.IGNORED
    event.refresh_from_db()
    # The orders handle this type; the payload has no background_check_id: failed again, saying why.
    assert event.status == EventStatus.FAILED and "background_check_id" in event.last_error


ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}


def messages_shown(page: str) -> list[str]:
    return re.findall(r'<li class="(?:success|info|warning|error)">(.*?)</li>', page, re.S)


def test_reprocessing_from_the_failed_filter_counts_the_selection_before_it_changes(admin_client, event):
    """The list filtered on "failed": once queued, the events are pending and leave the filter.
    The count of those not queued is taken from the selection, not from the filter after."""
    reprocess = {"action": "reprocess", "_selected_action": [event.pk]}
    url = "/admin/events/feishuevent/?status__exact=failed"
    page = admin_client.post(url, reprocess, follow=True, **ZH).content.decode()
    assert messages_shown(page) == ["已将 1 个事件加入重新处理队列。"]  # nothing about "-1" left alone

    done = FeishuEvent.objects.create(
        event_id="evt-done", schema="2.0", event_type="x", payload={}, status=EventStatus.PROCESSED
    )
    FeishuEvent.objects.filter(pk=event.pk).update(status=EventStatus.FAILED)
    both = {"action": "reprocess", "_selected_action": [event.pk, done.pk]}
    page = admin_client.post("/admin/events/feishuevent/", both, follow=True, **ZH).content.decode()
    queued, left = messages_shown(page)
    assert queued == "已将 1 个事件加入重新处理队列。"
    assert left.startswith("所选事件中有 1 个未加入重新处理队列：")


def test_a_failed_event_says_whether_it_is_retried(admin_client):
    """A handler that keeps failing: retried on a backoff, then, after the last attempt, the
    page says it is not retried any more and what staff can do, never "retried later"."""
    from hireops.events.services import RETRY_BACKOFF, event_process

    event = FeishuEvent.objects.create(
        event_id="evt-unknown-account",
        schema="2.0",
        event_type="hire.referral_account.assets_update_v1",
        payload={"event": {"account_id": "acc-nobody", "modify_time": "1700000000000", "assets": {}}},
    )
    url = f"/admin/events/feishuevent/{event.pk}/change/"
    assert event_process(event.pk) == EventStatus.FAILED
    waiting = admin_client.get(url, **ZH).content.decode()
    assert "内推账户 acc-nobody 在本系统中（尚）未注册。" in waiting and "不会再自动重试" not in waiting

    for _attempt in RETRY_BACKOFF:
        assert event_process(event.pk) == EventStatus.FAILED
    event.refresh_from_db()
    assert event.next_attempt_at is None and event.attempts == len(RETRY_BACKOFF) + 1
    zh = admin_client.get(url, **ZH).content.decode()
    assert "稍后将重试" not in zh
    assert f"无：已尝试 {event.attempts} 次，不会再自动重试。" in zh
    assert "“重新处理所选的失败或已忽略事件”" in zh
    en = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "retried later" not in en and "it is not retried automatically" in en
