"""The sandbox's custom bot webhook (docs/feishu.md §14), over real HTTP."""

import itertools
import json
import logging
import time
from io import StringIO

import pytest
import requests
from django.core.management import call_command

from sandbox.bot_api import sign
from sandbox.control import SandboxError
from sandbox.ratelimit import RateLimiter

OK = {"StatusCode": 0, "StatusMessage": "success", "code": 0, "data": {}, "msg": "success"}
BAD_REQUEST = {"code": 9499, "msg": "Bad Request", "data": {}}
SIGN_FAIL = 19021


def text(body="新更新提醒", **extra) -> dict:
    return {"msg_type": "text", "content": {"text": body}, **extra}


def post_message(title, *paragraphs) -> dict:
    return {"msg_type": "post", "content": {"post": {"zh_cn": {"title": title, "content": list(paragraphs)}}}}


def send(bot, body, **kw):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return requests.post(
        bot["url"], data=data, headers={"Content-Type": "application/json"}, timeout=10, **kw
    )


def signed(body: dict, secret: str, timestamp=None) -> dict:
    timestamp = str(int(time.time())) if timestamp is None else timestamp
    return {**body, "timestamp": timestamp, "sign": sign(timestamp, secret)}


@pytest.fixture
def unhurried(sandbox, monkeypatch):
    """Each request a second after the last, as the rate limit sees it: tests of other checks
    send more than 5 messages a second."""
    monkeypatch.setattr(sandbox.server.limiter, "clock", itertools.count(0, 1.0).__next__)
    return sandbox


def test_the_signature_is_feishus_test_vector():
    assert sign(1599360473, "demo") == "l1N0gAcBjdwBvGm1xMjOF0XSyaLRpR7tuO5dHfhAYc8="
    assert sign("1599360473", "demo") == sign(1599360473, "demo")


def test_a_text_message_is_accepted_and_can_be_read_back(sandbox):
    bot = sandbox.create_bot(token="f99fed8d-9b01-4dfe-ab56-000000000001")
    assert bot["url"] == sandbox.url + "/open-apis/bot/v2/hook/f99fed8d-9b01-4dfe-ab56-000000000001"
    resp = send(bot, text("部署完成"))
    assert (resp.status_code, resp.json()) == (200, OK)
    [message] = sandbox.bot_messages(bot["token"])
    assert message["msg_type"] == "text" and message["content"] == {"text": "部署完成"}
    assert message["texts"] == ["部署完成"] and message["signed"] is False
    assert message["time"] == pytest.approx(sandbox.clock()["now"], abs=5)
    assert [b["messages"] for b in sandbox.bots()] == [1]


def test_post_and_card_messages_are_accepted(sandbox):
    bot = sandbox.create_bot()
    assert len(bot["token"]) == 36  # a UUID, like Feishu's
    rich = post_message(
        "项目更新通知",
        [
            {"tag": "text", "text": "项目有更新: "},
            {"tag": "a", "text": "请查看", "href": "http://www.example.com/"},
        ],
        [{"tag": "at", "user_id": "all", "user_name": "所有人"}],
    )
    card = {
        "msg_type": "interactive",
        "card": {
            "header": {"title": {"tag": "plain_text", "content": "今日旅游推荐"}},
            "elements": [{"tag": "div", "text": {"tag": "lark_md", "content": "**西湖**"}}],
        },
    }
    for body in (rich, card):
        assert send(bot, body).json() == OK
    posted, carded = sandbox.bot_messages(bot["token"])
    assert posted["content"] == rich["content"]
    assert posted["texts"] == ["项目更新通知", "项目有更新: ", "请查看"]
    assert carded["card"] == card["card"] and carded["texts"] == ["今日旅游推荐", "**西湖**"]


def test_an_unknown_token_is_refused(sandbox):
    bot = {"url": sandbox.url + "/open-apis/bot/v2/hook/no-such-bot"}
    resp = send(bot, text())
    assert resp.status_code == 200
    assert resp.json() == {
        "code": 19001,
        "msg": "param invalid: incoming webhook access token invalid",
        "data": {},
    }


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"",
        b"[1, 2]",
        {"msg_type": "markdown", "content": {"text": "x"}},
        {"content": {"text": "x"}},
        {"msg_type": "text", "content": {"text": ""}},
        {"msg_type": "interactive", "content": {"text": "a card needs card"}},
        post_message("no paragraphs list", {"tag": "text", "text": "x"}),
        post_message("bad link", [{"tag": "a", "text": "see", "href": "/admin/relative"}]),
        post_message("unknown tag", [{"tag": "marquee", "text": "x"}]),
        {"msg_type": "post", "content": {"post": {"fr_fr": {"content": []}}}},
    ],
)
def test_a_body_feishu_does_not_document_is_a_bad_request(unhurried, body):
    sandbox = unhurried
    bot = sandbox.create_bot()
    resp = send(bot, body)
    assert (resp.status_code, resp.json()) == (400, BAD_REQUEST)
    assert sandbox.bot_messages(bot["token"]) == []


def test_a_body_over_20_kb_is_refused(sandbox):
    bot = sandbox.create_bot()
    envelope = len(json.dumps(text("")).encode())
    assert send(bot, text("x" * (20 * 1024 - envelope))).json() == OK  # exactly 20 KB
    resp = send(bot, text("x" * (20 * 1024 - envelope + 1)))
    assert (resp.status_code, resp.json()) == (400, BAD_REQUEST)
    assert len(sandbox.bot_messages(bot["token"])) == 1


def test_a_signed_bot_takes_only_good_signatures_within_the_hour(unhurried):
    sandbox = unhurried
    bot = sandbox.create_bot(secret="demo-secret")
    assert send(bot, signed(text("ok"), "demo-secret")).json() == OK
    now = int(time.time())
    assert send(bot, signed(text("late but in"), "demo-secret", now - 3500)).json() == OK
    assert send(bot, signed(text("as a number"), "demo-secret", now)).json() == OK
    refused = [
        signed(text("wrong secret"), "not-the-secret"),
        signed(text("stale"), "demo-secret", str(now - 3700)),
        signed(text("from the future"), "demo-secret", str(now + 3700)),
        text("unsigned"),
        {**signed(text("no timestamp"), "demo-secret"), "timestamp": None},
        {**signed(text("tampered timestamp"), "demo-secret", str(now)), "timestamp": str(now - 1)},
    ]
    for body in refused:
        resp = send(bot, body)
        assert resp.status_code == 200
        assert resp.json() == {
            "code": SIGN_FAIL,
            "msg": "sign match fail or timestamp is not within one hour from current time",
            "data": {},
        }, body
    messages = sandbox.bot_messages(bot["token"])
    assert [m["texts"] for m in messages] == [["ok"], ["late but in"], ["as a number"]]
    assert all(m["signed"] for m in messages)


def test_the_timestamp_window_follows_feishus_clock(sandbox):
    bot = sandbox.create_bot(secret="demo-secret")
    body = signed(text("signed a while ago"), "demo-secret")
    sandbox.advance_clock(3601)
    assert send(bot, body).json()["code"] == SIGN_FAIL
    assert send(bot, signed(text("fresh"), "demo-secret", str(int(sandbox.clock()["now"])))).json() == OK


def test_keywords_must_appear_in_a_text_not_in_a_link(unhurried):
    sandbox = unhurried
    bot = sandbox.create_bot(keywords=["告警", "alert"])
    missing = {"code": 19024, "msg": "Key Words Not Found", "data": {}}
    assert send(bot, text("部署完成")).json() == missing
    only_in_href = post_message("部署", [{"tag": "a", "text": "查看", "href": "https://example.com/alert"}])
    assert send(bot, only_in_href).json() == missing
    assert send(bot, text("事件处理告警")).json() == OK
    assert send(bot, post_message("hireops alert", [{"tag": "text", "text": "x"}])).json() == OK
    assert len(sandbox.bot_messages(bot["token"])) == 2


def test_an_ip_allow_list_refuses_other_addresses(sandbox):
    elsewhere = sandbox.create_bot(token="elsewhere", ip_allowlist=["10.0.0.0/8", "192.168.1.*"])
    resp = send(elsewhere, text())
    assert (resp.status_code, resp.json()) == (200, {"code": 19022, "msg": "Ip Not Allowed", "data": {}})
    here = sandbox.create_bot(token="here", ip_allowlist=["127.0.0.*"])
    assert send(here, text()).json() == OK


def test_five_messages_a_second_and_a_hundred_a_minute_per_bot(sandbox, monkeypatch):
    now = [1000.0]  # the limiter's clock, moved by hand so the test does not depend on speed
    # Feishu's minute, not the suite's shortened one (tests/settings.py)
    monkeypatch.setattr(sandbox.server, "limiter", RateLimiter(clock=lambda: now[0], minute=60.0))
    bot, other = sandbox.create_bot(), sandbox.create_bot()
    too_many = (400, {"code": 9499, "msg": "too many request", "data": {}})
    for _ in range(5):
        assert send(bot, text()).json() == OK
    resp = send(bot, text())
    assert (resp.status_code, resp.json()) == too_many
    assert send(other, text()).json() == OK  # each bot has its own budget
    now[0] += 1
    for _ in range(95):  # 4 a second for 24 seconds more: 100 within the minute
        assert send(bot, text()).json() == OK
        now[0] += 0.25
    resp = send(bot, text())
    assert (resp.status_code, resp.json()) == too_many
    now[0] += 60
    assert send(bot, text()).json() == OK
    assert len(sandbox.bot_messages(bot["token"])) == 101


def test_a_ratelimit_fault_answers_like_the_bot_limit(sandbox):
    bot = sandbox.create_bot()
    sandbox.add_fault("/open-apis/bot/v2/hook/*", "ratelimit")
    resp = send(bot, text())
    assert (resp.status_code, resp.json()["code"]) == (400, 9499)
    assert send(bot, text()).json() == OK


def test_the_access_log_leaves_the_token_out(sandbox, caplog):
    bot = sandbox.create_bot(token="token-that-stays-secret")
    with caplog.at_level(logging.DEBUG, logger="sandbox"):
        send(bot, text())
    lines = [r.getMessage() for r in caplog.records if r.name == "sandbox"]
    assert any("/open-apis/bot/v2/hook/***" in line for line in lines)
    assert not any("token-that-stays-secret" in line for line in lines)


def test_bots_are_checked_when_made(sandbox):
    for bad in (
        {"token": "has/slash"},
        {"keywords": ["k"] * 11},
        {"keywords": [""]},
        {"ip_allowlist": ["not an address"]},
    ):
        with pytest.raises(SandboxError):
            sandbox.create_bot(**bad)
    with pytest.raises(SandboxError, match="no bot"):
        sandbox.bot_messages("never-made")
    sandbox.create_bot(token="again")
    sandbox.reset()
    assert sandbox.bots() == []


def test_ctl_creates_a_bot_and_shows_its_messages(sandbox):
    def ctl(*args):
        out = StringIO()
        call_command("feishu_sandbox_ctl", "--url", sandbox.url, *args, stdout=out)
        return json.loads(out.getvalue())

    bot = ctl("create-bot", "--token", "alerts", "--secret", "s3cret", "--keyword", "hireops")
    assert bot["url"] == sandbox.url + "/open-apis/bot/v2/hook/alerts" and bot["secret"] == "s3cret"
    assert send(bot, signed(text("hireops: all good"), "s3cret")).json() == OK
    assert [m["texts"] for m in ctl("bot-messages", "alerts")] == [["hireops: all good"]]
    assert [b["token"] for b in ctl("bots")] == ["alerts"]
