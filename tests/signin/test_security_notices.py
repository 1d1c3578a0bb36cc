"""Removing or replacing a second factor (docs/second-factor.md) needs the current one, is in the change
history, and is told to the operators through the alerts' channels (e-mail and the Feishu
group's bot, served by the sandbox): once, after the change is committed, with no personal
data; what cannot be delivered stays visible (the row, the log, the counter)."""

import itertools
import logging

import pytest
from allauth.core import context
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.sessions.backends.db import SessionStore
from django.db import transaction
from django.test import Client, RequestFactory
from django.utils import translation

from hireops.signin.models import FactorChange, SecurityNotice
from hireops.signin.second_factor import record
from tests.conftest import STAFF_PASSWORD
from tests.ops.test_metrics import Counted
from tests.second_factor import give_totp, totp_code

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.second_factor_unproven]

BOT = "security-bot"
STEP = "/accounts/2fa/reauthenticate/"


@pytest.fixture
def wired(sandbox, settings, monkeypatch):
    """The operators' channels: a sandbox group bot (signed) and an address."""
    monkeypatch.setattr(sandbox.server.limiter, "clock", itertools.count(0, 1.0).__next__)
    bot = sandbox.create_bot(token=BOT, secret="s3cret")
    settings.ALERT_FEISHU_BOT_URL, settings.ALERT_FEISHU_BOT_SECRET = bot["url"], "s3cret"
    settings.ALERT_EMAILS = ["ops@example.com"]
    settings.ADMIN_BASE_URL = "https://hireops.example.com"
    settings.FEISHU_RETRY_BACKOFF = 0
    return sandbox


@pytest.fixture
def lead(staff_user):
    user = staff_user("HR", "HR payout approvals", username="hr-lead")
    user.email = "lead@example.com"
    user.save()
    user.totp_secret = give_totp(user)
    RecoveryCodes.activate(user)
    return user


def signed_in_with_code(user) -> Client:
    client = Client()
    assert (
        client.post("/admin/login/", {"username": user.username, "password": STAFF_PASSWORD}).status_code
        == 302
    )
    assert client.post(STEP, {"code": totp_code(user.totp_secret)}).status_code == 302
    return client


def ops_mails(mailoutbox) -> list:
    return [m for m in mailoutbox if m.to == ["ops@example.com"]]


def test_the_owner_removing_their_app_is_told_to_the_operators(wired, lead, mailoutbox):
    counted = Counted(("hireops_security_notices_total", {"outcome": "sent"}))
    client = Client()
    client.post("/admin/login/", {"username": "hr-lead", "password": STAFF_PASSWORD})
    assert client.post("/accounts/2fa/totp/deactivate/")["Location"].startswith(STEP)  # the code first
    assert not SecurityNotice.objects.exists() and not wired.bot_messages(BOT)

    client.post(STEP, {"code": totp_code(lead.totp_secret)})
    assert client.post("/accounts/2fa/totp/deactivate/").status_code == 302
    assert not Authenticator.objects.filter(user=lead).exists()

    notice = SecurityNotice.objects.get()  # one, though the recovery codes went too
    assert (notice.user, notice.user_ref, notice.actor, notice.change) == (
        lead,
        lead.pk,
        lead,
        FactorChange.REMOVED,
    )
    assert (
        notice.factors == "totp" and notice.sent_at and notice.told == "email,feishu_bot" and not notice.error
    )
    [message] = wired.bot_messages(BOT)
    [mail] = ops_mails(mailoutbox)
    text = str(message) + mail.subject + mail.body
    assert f"Second factor removed: hr-lead (#{lead.pk})" in text
    assert f"hr-lead (#{lead.pk}) removed their own authenticator app." in text
    assert f"https://hireops.example.com/admin/auth/user/{lead.pk}/history/" in text
    assert "lead@example.com" not in text  # a username and an id, never an address
    assert counted.delta() == [1]


def test_an_administrators_reset_is_told_once_per_colleague(wired, lead, django_user_model, mailoutbox):
    Authenticator.objects.create(
        user=lead, type=Authenticator.Type.WEBAUTHN, data={"name": "key", "credential": {}}
    )
    root = django_user_model.objects.create_superuser("root", password=STAFF_PASSWORD)
    root.totp_secret = give_totp(root)
    admin = signed_in_with_code(root)
    admin.post("/admin/auth/user/", {"action": "reset_second_factor", "_selected_action": [lead.pk]})
    assert not Authenticator.objects.filter(user=lead).exists()

    notice = SecurityNotice.objects.get()
    assert (notice.user, notice.actor, notice.change, notice.factors) == (
        lead,
        root,
        FactorChange.RESET,
        "totp,webauthn",
    )
    [message] = wired.bot_messages(BOT)
    assert f"root (#{root.pk}) reset every second factor of hr-lead (#{lead.pk})" in str(message)
    assert "authenticator app, security key" in str(message)
    assert len(ops_mails(mailoutbox)) == 1


def test_what_cannot_be_sent_stays_on_the_row_in_the_log_and_the_count(
    wired, lead, settings, mailoutbox, caplog
):
    settings.ALERT_FEISHU_BOT_SECRET = "wrong"  # the bot refuses the signature (19021)
    counted = Counted(
        ("hireops_security_notices_total", {"outcome": "retried"}),
        ("hireops_security_notices_total", {"outcome": "failed"}),
    )
    client = signed_in_with_code(lead)
    with caplog.at_level(logging.WARNING):
        assert client.post("/accounts/2fa/totp/deactivate/").status_code == 302
    notice = SecurityNotice.objects.get()
    assert notice.sent_at is None and notice.told == "email" and "19021" in notice.error
    assert notice.attempts == 6  # the task's tries (eager here: one after the other)
    assert len(ops_mails(mailoutbox)) == 1  # the e-mail, which went, is not sent again
    assert counted.delta() == [6, 1]
    assert f"security notice {notice.pk} not delivered" in caplog.text
    assert "s3cret" not in caplog.text and BOT not in caplog.text and BOT not in notice.error


def test_with_no_channel_the_row_says_so_in_each_readers_language(lead, settings):
    settings.ALERT_EMAILS, settings.ALERT_FEISHU_BOT_URL = [], ""
    client = signed_in_with_code(lead)
    client.post("/accounts/2fa/totp/deactivate/", HTTP_ACCEPT_LANGUAGE="zh-CN")  # sent from a Chinese page
    notice = SecurityNotice.objects.get()
    assert notice.sent_at is None
    with translation.override("en"):
        notice = SecurityNotice.objects.get()
        assert notice.error == "no alert channel is configured (ALERT_EMAILS, ALERT_FEISHU_BOT_URL)"
    with translation.override("zh-hans"):
        assert SecurityNotice.objects.get().error == "未配置告警渠道（ALERT_EMAILS、ALERT_FEISHU_BOT_URL）"


def test_a_removal_rolled_back_is_not_announced(wired, lead):
    request = RequestFactory().get("/")
    request.user, request.session = lead, SessionStore()
    record(request, lead, "mfa", type="totp")  # proven just now
    with context.request_context(request), pytest.raises(RuntimeError), transaction.atomic():
        Authenticator.objects.filter(user=lead, type=Authenticator.Type.TOTP).delete()
        raise RuntimeError("the page failed after the delete")
    assert Authenticator.objects.filter(user=lead, type="totp").exists()
    assert not SecurityNotice.objects.exists() and not wired.bot_messages(BOT)
