"""One alert through its channels (hireops.ops.channels): a Feishu group bot served by the
sandbox over real HTTP, and e-mail through Django's locmem backend."""

import itertools
import logging
import socket

import pytest
from django.views.debug import get_default_exception_reporter_filter

from hireops.core.privacy.scrubbing import scrub_text
from hireops.ops.channels import EMAIL, FEISHU_BOT, Alert, ChannelResult, bot_sign, send_alert

BOT_TOKEN = "f99fed8d-9b01-4dfe-ab56-5ec2e7a1c0de"
SECRET = "bot-secret-that-stays-home"
ADMIN = "https://hireops.example.com/admin/events/feishuevent/?status__exact=failed"


def alert(**changes) -> Alert:
    fields = {
        "title": "3 events failed after their last retry",
        "lines": ["hire.eco_account.created_v1: 2", "app_ticket: 1"],
        "url": ADMIN,
        "severity": "critical",
        "key": "events-failed",
    }
    return Alert(**{**fields, **changes})


@pytest.fixture
def alerts(sandbox, settings, monkeypatch):
    """Only the channels a test configures; a group bot in the sandbox, not yet wired."""
    settings.ALERT_EMAILS = []
    settings.ALERT_FEISHU_BOT_URL = ""
    settings.ALERT_FEISHU_BOT_SECRET = ""
    # Each request a second after the last, as the bot's rate limit sees it.
    monkeypatch.setattr(sandbox.server.limiter, "clock", itertools.count(0, 1.0).__next__)
    return sandbox


def wire_bot(sandbox, settings, secret=None, **bot) -> dict:
    made = sandbox.create_bot(token=BOT_TOKEN, secret=secret, **bot)
    settings.ALERT_FEISHU_BOT_URL = made["url"]
    return made


def the_post(message: dict) -> dict:
    assert message["msg_type"] == "post"
    [(locale, post)] = message["content"]["post"].items()
    return {"locale": locale, **post}


def links(post: dict) -> list[str]:
    return [node["href"] for paragraph in post["content"] for node in paragraph if node["tag"] == "a"]


def test_the_signature_is_feishus_test_vector():
    assert bot_sign("1599360473", "demo") == "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="


@pytest.mark.parametrize("secret", [None, SECRET], ids=["unsigned", "signed"])
def test_the_group_bot_receives_one_message_with_the_title_and_the_link(alerts, settings, secret):
    wire_bot(alerts, settings, secret=secret)
    settings.ALERT_FEISHU_BOT_SECRET = secret or ""
    assert send_alert(alert()) == [ChannelResult(FEISHU_BOT, True)]
    [message] = alerts.bot_messages(BOT_TOKEN)
    post = the_post(message)
    assert post["title"] == "[Critical] 3 events failed after their last retry"
    assert links(post) == [ADMIN]
    assert message["texts"] == [
        post["title"],
        "hire.eco_account.created_v1: 2",
        "app_ticket: 1",
        "Open in the admin",
    ]
    assert message["signed"] is bool(secret)


def test_a_wrong_secret_is_a_failure_with_feishus_code(alerts, settings):
    wire_bot(alerts, settings, secret=SECRET)
    settings.ALERT_FEISHU_BOT_SECRET = "not-the-bots-secret"
    [result] = send_alert(alert())
    assert (result.channel, result.ok, result.code) == (FEISHU_BOT, False, 19021)
    assert "19021" in result.error and "sign match fail" in result.error
    assert alerts.bot_messages(BOT_TOKEN) == []


def test_a_refusal_over_http_400_is_a_failure_too(alerts, settings):
    wire_bot(alerts, settings)
    alerts.add_fault(f"/open-apis/bot/v2/hook/{BOT_TOKEN}", "ratelimit")
    [result] = send_alert(alert())
    assert (result.ok, result.code) == (False, 9499)
    assert result.error == "HTTP 400, code 9499: too many request"


def test_an_answer_that_is_not_feishus_is_a_failure(alerts, settings):
    wire_bot(alerts, settings)
    alerts.add_fault(f"/open-apis/bot/v2/hook/{BOT_TOKEN}", "5xx", status=502)
    [result] = send_alert(alert())
    assert (result.ok, result.code) == (False, None)
    assert "502" in result.error


def test_a_group_that_requires_a_keyword_finds_it_in_the_title(alerts, settings):
    wire_bot(alerts, settings, keywords=["events failed"])
    assert send_alert(alert()) == [ChannelResult(FEISHU_BOT, True)]
    wire_bot(alerts, settings, keywords=["hireops alert"])
    [result] = send_alert(alert())
    assert result.code == 19024


def test_the_message_is_in_the_language_of_language_code(alerts, settings):
    wire_bot(alerts, settings)
    for language, locale in (("zh-hans", "zh_cn"), ("en", "en_us")):
        settings.LANGUAGE_CODE = language
        assert send_alert(alert())[0].ok
        assert the_post(alerts.bot_messages(BOT_TOKEN)[-1])["locale"] == locale


def test_a_long_alert_is_cut_to_fit_feishus_size_limit(alerts, settings):
    wire_bot(alerts, settings)
    many = alert(lines=[f"事件 {i}: " + "处理失败，" * 20 for i in range(200)])
    assert send_alert(many) == [ChannelResult(FEISHU_BOT, True)]
    post = the_post(alerts.bot_messages(BOT_TOKEN)[0])
    kept = [p[0]["text"] for p in post["content"] if p[0]["text"].startswith("事件")]
    assert 0 < len(kept) < 200 and kept == many.lines[: len(kept)]
    assert post["content"][-2][0]["text"] == f"… and {200 - len(kept)} more lines"
    assert links(post) == [ADMIN]


def test_a_link_that_is_not_a_full_url_is_sent_as_text(alerts, settings):
    wire_bot(alerts, settings)
    assert send_alert(alert(url="/admin/events/"))[0].ok
    post = the_post(alerts.bot_messages(BOT_TOKEN)[0])
    assert links(post) == [] and post["content"][-1] == [{"tag": "text", "text": "/admin/events/"}]


def test_mobiles_and_emails_in_an_alert_are_masked(alerts, settings, mailoutbox):
    wire_bot(alerts, settings)
    settings.ALERT_EMAILS = ["ops@example.com"]
    leaky = alert(title="Withdrawal for 13800138000 stuck", lines=["referrer wang.fang@example.com"])
    assert all(r.ok for r in send_alert(leaky))
    sent = " ".join(alerts.bot_messages(BOT_TOKEN)[0]["texts"]) + mailoutbox[0].subject + mailoutbox[0].body
    assert "13800138000" not in sent and "wang.fang@example.com" not in sent
    assert "138****8000" in sent and "w***@example.com" in sent


def test_email_goes_to_the_alert_addresses_with_a_subject_and_the_link(alerts, settings, mailoutbox):
    settings.ALERT_EMAILS = ["ops@example.com", "oncall@example.com"]
    settings.DEFAULT_FROM_EMAIL = "hireops@example.com"
    assert send_alert(alert()) == [ChannelResult(EMAIL, True)]
    [mail] = mailoutbox
    assert mail.to == ["ops@example.com", "oncall@example.com"]
    assert mail.from_email == "hireops@example.com"
    assert mail.subject == "[hireops] [Critical] 3 events failed after their last retry"
    assert mail.body.splitlines() == [
        "3 events failed after their last retry",
        "",
        "hire.eco_account.created_v1: 2",
        "app_ticket: 1",
        "",
        f"Open in the admin: {ADMIN}",
    ]
    assert mail.extra_headers["X-Hireops-Alert"] == "events-failed"
    assert alerts.requests() == []  # no bot configured: none called


def test_both_channels_and_one_failing_does_not_stop_the_other(alerts, settings, mailoutbox):
    wire_bot(alerts, settings)
    settings.ALERT_EMAILS = ["ops@example.com"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    mail, bot = send_alert(alert())
    assert (mail.channel, mail.ok) == (EMAIL, False) and "ConnectionRefusedError" in mail.error
    assert bot == ChannelResult(FEISHU_BOT, True)
    assert len(alerts.bot_messages(BOT_TOKEN)) == 1
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert send_alert(alert(), channels=[EMAIL]) == [ChannelResult(EMAIL, True)]
    assert len(alerts.bot_messages(BOT_TOKEN)) == 1 and len(mailoutbox) == 1


def test_nothing_configured_sends_nothing(alerts, mailoutbox):
    assert send_alert(alert()) == []
    assert mailoutbox == [] and alerts.requests() == []


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # free again once closed: nothing listens there


def test_the_token_and_secret_are_in_no_result_or_log(alerts, settings, caplog, monkeypatch):
    bot = wire_bot(alerts, settings, secret=SECRET)
    caplog.set_level(logging.DEBUG)
    results = [*send_alert(alert())]
    settings.ALERT_FEISHU_BOT_SECRET = SECRET
    results += send_alert(alert())  # signed and accepted
    settings.ALERT_FEISHU_BOT_SECRET = "wrong-" + SECRET
    results += send_alert(alert())  # refused: 19021
    alerts.add_fault("/open-apis/bot/v2/hook/*", "slow", delay=1.5)
    monkeypatch.setattr("hireops.ops.channels.TIMEOUT", (3, 0.3))
    results += send_alert(alert())  # no answer in time
    settings.ALERT_FEISHU_BOT_URL = bot["url"].replace(alerts.url, f"http://127.0.0.1:{closed_port()}")
    results += send_alert(alert())  # nothing listening
    settings.ALERT_FEISHU_BOT_URL = bot["url"][: -len(BOT_TOKEN)] + "unknown-" + BOT_TOKEN
    results += send_alert(alert())  # 19001

    assert [r.ok for r in results] == [False, True, False, False, False, False]
    assert [r.code for r in results] == [19021, None, 19021, None, None, 19001]
    assert "no answer in time" in results[3].error and "could not reach" in results[4].error
    logged = [record.getMessage() for record in caplog.records]
    assert any("/open-apis/bot/v2/hook/***" in line for line in logged)  # urllib3's request lines
    for text in [r.error for r in results] + logged:
        assert BOT_TOKEN not in text and SECRET not in text


def test_error_pages_and_error_tracking_hide_the_bot_url_and_secret(settings):
    settings.ALERT_FEISHU_BOT_URL = f"https://open.feishu.cn/open-apis/bot/v2/hook/{BOT_TOKEN}"
    settings.ALERT_FEISHU_BOT_SECRET = SECRET
    shown = get_default_exception_reporter_filter().get_safe_settings()
    assert BOT_TOKEN not in str(shown) and SECRET not in str(shown)
    assert shown["FEISHU_BASE_URL"] == settings.FEISHU_BASE_URL  # other URLs stay readable
    text = scrub_text(f"POST {settings.ALERT_FEISHU_BOT_URL} failed; secret {SECRET}")
    assert BOT_TOKEN not in text and SECRET not in text
