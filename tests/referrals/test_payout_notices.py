"""What telling a payout run's approvers failed on reads in its reader's language: the worker
that sent the notice writes in LANGUAGE_CODE, the preparer may read English (or the other way
round)."""

import pytest
from django.utils import translation

from hireops.core.messages import restore
from referrals.models import PayoutRun
from referrals.payouts.notices import NO_ADDRESS
from referrals.payouts.services import payout_notify
from tests.factories import a_payout_run

pytestmark = pytest.mark.django_db

NOT_SENT_EN = (
    "no approver has an e-mail address; Feishu group bot: could not reach the bot: could not connect"
)
NOT_SENT_ZH = "没有审批人有邮箱地址；飞书群机器人：无法连接机器人：无法建立连接"


def test_a_run_told_in_chinese_says_what_failed_in_english_and_back(admin_client, admin_user, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the worker's
    settings.ALERT_FEISHU_BOT_URL = "http://127.0.0.1:9/open-apis/bot/v2/hook/nobody"  # nothing listens
    admin_user.email = ""  # the one approver has no address
    admin_user.save()
    run = a_payout_run()
    with translation.override("zh-hans"):
        assert payout_notify(run.pk)
    url = f"/admin/referrals/payoutrun/{run.pk}/change/"
    english = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"⚠ {NOT_SENT_EN}" in english and "没有" not in english
    chinese = admin_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-CN").content.decode()
    assert f"⚠ {NOT_SENT_ZH}" in chinese


def test_a_run_told_before_reads_in_the_readers_language_once_migrated():
    """Rows written before stored the worker's words; the migration finds them in either language."""
    chinese, english = a_payout_run(), a_payout_run()
    PayoutRun.objects.filter(pk=chinese.pk).update(notice_error="没有审批人有邮箱地址")
    PayoutRun.objects.filter(pk=english.pk).update(notice_error="no approver has an e-mail address")
    assert restore(PayoutRun, "notice_error", [NO_ADDRESS]) == 2
    for run in (chinese, english):
        with translation.override("en"):
            assert PayoutRun.objects.get(pk=run.pk).notice_error == "no approver has an e-mail address"
        with translation.override("zh-hans"):
            assert PayoutRun.objects.get(pk=run.pk).notice_error == "没有审批人有邮箱地址"
