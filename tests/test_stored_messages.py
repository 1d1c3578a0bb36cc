"""Reasons and errors the system stores read in each reader's language, not the writer's.

The Celery worker has no request, so it writes in LANGUAGE_CODE (zh-hans by default); an
English-reading member of staff must still read English, and the other way round.
"""

import pytest
from django.utils import translation

from bindings.matching import binding_upsert_from_event
from bindings.models import BindingStatusChange, EcoAccountBinding
from hireops.core.messages import Message
from hireops.feishu import FeishuError
from hireops.feishu_calls.failures import explain
from referrals.models import AccountStatus, ReferralAccount

pytestmark = pytest.mark.django_db


def test_a_reason_written_in_chinese_reads_in_english_and_back():
    event = {"account_id": "acc-lang", "scope": 1, "custom_field_list": [{"key": "k", "value": "v"}]}
    with translation.override("zh-hans"):  # the worker
        binding_upsert_from_event(app_id="cli", tenant_key="t", event_id="e1", event=event)
    with translation.override("en"):
        assert EcoAccountBinding.objects.get().review_reason == (
            "No matching rule for this scope: choose the customer by hand."
        )
        assert BindingStatusChange.objects.get().reason.startswith("No matching rule")
    with translation.override("zh-hans"):
        assert EcoAccountBinding.objects.get().review_reason == "该业务类型没有匹配规则：请手动选择客户。"


def test_a_feishu_explanation_keeps_feishus_own_words_in_every_language(admin_client):
    with translation.override("zh-hans"):
        error = explain(
            FeishuError(1002551, "user not found", http_status=400, endpoint="hire.referral_account.create")
        )
    account = ReferralAccount.objects.create(email="x@example.com", status=AccountStatus.FAILED, error=error)
    page = admin_client.get(
        f"/admin/referrals/referralaccount/{account.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()
    assert "No employee in Feishu has this mobile number or email. (Feishu 1002551: user not found)" in page
    zh = admin_client.get("/admin/referrals/referralaccount/", HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "飞书中没有使用该手机号或邮箱的员工。（Feishu 1002551: user not found）" in zh


def test_plain_text_and_older_rows_read_as_they_are():
    account = ReferralAccount.objects.create(email="y@example.com", error="HTTP 502: bad gateway")
    ReferralAccount.objects.filter(pk=account.pk).update(action_error="旧的原因")
    account.refresh_from_db()
    assert (account.error, account.action_error) == ("HTTP 502: bad gateway", "旧的原因")


def test_a_message_too_long_to_keep_its_form_is_stored_as_text_cut_to_fit():
    long = Message("%(x)s", x="很" * 600)
    account = ReferralAccount.objects.create(email="z@example.com", error=long)
    account.refresh_from_db()
    assert account.error == "很" * 500


def test_the_event_log_explains_a_handler_failure_in_the_readers_language(admin_client):
    from hireops.events.models import EventStatus, FeishuEvent
    from hireops.events.services import event_process

    event = FeishuEvent.objects.create(
        event_id="evt-unknown-account",
        schema="2.0",
        event_type="hire.referral_account.assets_update_v1",
        payload={"event": {"account_id": "acc-nobody", "modify_time": "1700000000000", "assets": {}}},
    )
    with translation.override("zh-hans"):  # the worker
        assert event_process(event.pk) == EventStatus.FAILED
    url = f"/admin/events/feishuevent/{event.pk}/change/"
    en = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Referral account acc-nobody is not registered here (yet)." in en
    zh = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert "内推账户 acc-nobody 在本系统中（尚）未注册。" in zh


def test_a_message_reworded_since_it_was_stored_reads_in_its_new_words():
    """An earlier release stored "…; retried later.", which is not true after the last retry."""
    from hireops.core.messages import read

    stored = (
        '{"msgid": "Referral account %(account_id)s is not registered here (yet); retried later.", '
        '"params": {"account_id": "acc-1"}}'
    )
    with translation.override("zh-hans"):
        assert read(stored) == "内推账户 acc-1 在本系统中（尚）未注册。"
    with translation.override("en"):
        assert read(stored) == "Referral account acc-1 is not registered here (yet)."


def test_rows_are_found_by_the_message_they_were_closed_with_whatever_its_values():
    from hireops.core.messages import stored_as

    def account(error):
        n = ReferralAccount.objects.count()
        return ReferralAccount.objects.create(email=f"e{n}@example.com", error=error)

    with translation.override("zh-hans"):  # stored by the worker, in its language
        held = account(Message("Held: %(amount)s", amount="5.00 CNY"))
        longer = account(Message("Held: %(amount)s, twice", amount="5.00 CNY"))  # another msgid
    account("Held: 5.00 CNY")  # plain text reading the same: not that message
    found = ReferralAccount.objects.filter(stored_as("error", "Held: %(amount)s"))
    assert list(found) == [held]
    assert list(ReferralAccount.objects.filter(stored_as("error", "Held: %(amount)s, twice"))) == [longer]


def test_a_stored_count_reads_in_the_form_each_language_has_for_it():
    from hireops.jobs.exports import WORKER_STOPPED

    with translation.override("zh-hans"):  # the worker writes in its own language
        once = ReferralAccount.objects.create(email="a@example.com", error=Message(WORKER_STOPPED, n=1))
        twice = ReferralAccount.objects.create(email="b@example.com", error=Message(WORKER_STOPPED, n=2))
    with translation.override("en"):
        assert ReferralAccount.objects.get(pk=once.pk).error == "Its worker stopped 1 time; try again."
        assert ReferralAccount.objects.get(pk=twice.pk).error == "Its worker stopped 2 times; try again."
    with translation.override("zh-hans"):
        assert ReferralAccount.objects.get(pk=once.pk).error == "执行它的后台进程已中断 1 次；请重试。"


def test_a_count_stored_before_it_had_plural_forms_reads_with_them():
    import json

    old = {"msgid": "Stopped after %(n)d attempts; try again.", "params": {"n": 1}}
    account = ReferralAccount.objects.create(email="c@example.com")
    ReferralAccount.objects.filter(pk=account.pk).update(error=json.dumps(old))
    with translation.override("en"):
        assert ReferralAccount.objects.get(pk=account.pk).error == "Stopped after 1 attempt; try again."
    with translation.override("zh-hans"):
        assert ReferralAccount.objects.get(pk=account.pk).error == "已尝试 1 次后停止；请重试。"


def test_the_change_history_counts_in_each_readers_language(admin_user):
    from django.contrib.admin.models import LogEntry

    from hireops.core import audit
    from hireops.webhooks.delivery import RESENT_FAILED

    account = ReferralAccount.objects.create(email="d@example.com")
    since = "2020-01-01T00:00:00+00:00"
    for n in (1, 2):
        audit.record(admin_user, [account], RESENT_FAILED, {"n": n, "since": since})
    # An entry written before the count had its plural forms.
    old = "Sent again %(n)s failed deliveries requested since %(since)s."
    audit.record(admin_user, [account], old, {"n": 1, "since": since})
    entries = list(LogEntry.objects.order_by("pk"))
    with translation.override("en"):
        assert [audit.describe(e) for e in entries] == [
            f"Sent again 1 failed delivery requested since {since}.",
            f"Sent again 2 failed deliveries requested since {since}.",
            f"Sent again 1 failed delivery requested since {since}.",
        ]
    with translation.override("zh-hans"):
        assert audit.describe(entries[0]) == f"重新发送了自 {since} 起请求的 1 次失败投递。"
