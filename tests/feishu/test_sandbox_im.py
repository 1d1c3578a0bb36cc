"""The client's message to a person (docs/feishu.md §18) against the sandbox over real HTTP: the
documented request, the card as a string, the uuid; Feishu's refusals typed; and the official
SDK reading the sandbox's answer unchanged."""

import json

import pytest
from django.conf import settings

from hireops.feishu import FeishuBusinessError, FeishuRateLimited, im

MESSAGES = "/open-apis/im/v1/messages"
FANG = "ou_demo1001"


def a_card(title="发放批次 <b>*粗体*</b>"):
    return im.card(
        title, ["第一段\n第二行", ""], button=("打开", "https://hireops.example/x/"), template="orange"
    )


def test_a_card_is_plain_text_with_a_button_that_opens_a_link():
    card = a_card()
    assert card["header"] == {
        "title": {"tag": "plain_text", "content": "发放批次 <b>*粗体*</b>"},
        "template": "orange",
    }
    div, action = card["elements"]  # the empty paragraph is left out
    assert div == {"tag": "div", "text": {"tag": "plain_text", "content": "第一段\n第二行"}}
    assert action["actions"] == [
        {"tag": "button", "text": {"tag": "plain_text", "content": "打开"}, "type": "primary",
         "url": "https://hireops.example/x/"}
    ]  # fmt: skip
    assert "lark_md" not in json.dumps(card)
    with pytest.raises(ValueError):
        im.card("x", [], template="purple")


def test_the_client_sends_the_documented_request(sandbox, feishu):
    sent = im.send_message(feishu, receive_id=FANG, content=a_card(), uuid="run-1-awaiting-1")
    [call] = sandbox.requests(MESSAGES)
    assert call["query"] == {"receive_id_type": "open_id"}
    assert call["headers"]["Authorization"].startswith("Bearer t-")
    body = call["json"]
    assert (body["receive_id"], body["msg_type"], body["uuid"]) == (FANG, "interactive", "run-1-awaiting-1")
    assert json.loads(body["content"]) == a_card()
    [kept] = sandbox.im_messages(FANG)
    assert (sent.message_id, sent.chat_id, sent.log_id) == (
        kept["message_id"],
        kept["chat_id"],
        call["logid"],
    )
    again = im.send_message(feishu, receive_id=FANG, content=a_card(), uuid="run-1-awaiting-1")
    assert again.message_id == sent.message_id and len(sandbox.im_messages(FANG)) == 1
    with pytest.raises(ValueError):
        im.send_message(feishu, receive_id=FANG, content=a_card(), uuid="u" * 51)


def test_feishus_refusals_are_final_and_its_per_person_limit_is_retried(sandbox, feishu, monkeypatch):
    sandbox.im_availability(FANG, False)
    with pytest.raises(FeishuBusinessError) as refused:
        im.send_message(feishu, receive_id=FANG, content=a_card(), uuid="u-1")
    assert (refused.value.code, refused.value.http_status, refused.value.retryable) == (230013, 400, False)
    assert refused.value.endpoint == "im.message.create"
    sandbox.im_availability(FANG, True)
    # The error as the task sees it once the client's own waits are spent.
    monkeypatch.setattr(feishu, "max_ratelimit_retries", 0)
    sandbox.add_fault(
        MESSAGES, "error", status=400, code=230020, msg="This operation triggers the frequency limit."
    )
    with pytest.raises(FeishuRateLimited) as limited:
        im.send_message(feishu, receive_id=FANG, content=a_card(), uuid="u-2")
    assert limited.value.retryable and limited.value.code == 230020


def test_the_official_sdk_reads_the_sandboxs_answer(sandbox):
    import lark_oapi as lark  # 11,000 modules: loaded by this test, not at collection
    from lark_oapi.api.im.v1 import CreateMessageRequest, CreateMessageRequestBody

    client = (
        lark.Client.builder()
        .app_id(settings.FEISHU_APP_ID)
        .app_secret(settings.FEISHU_APP_SECRET)
        .domain(sandbox.url)
        .log_level(lark.LogLevel.ERROR)
        .build()
    )
    body = (
        CreateMessageRequestBody.builder()
        .receive_id(FANG)
        .msg_type("interactive")
        .content(json.dumps(a_card(), ensure_ascii=False))
        .uuid("sdk-1")
        .build()
    )
    request = CreateMessageRequest.builder().receive_id_type("open_id").request_body(body).build()
    resp = client.im.v1.message.create(request)
    assert resp.success(), (resp.code, resp.msg)
    assert resp.data.message_id.startswith("om_") and resp.data.msg_type == "interactive"
    assert resp.data.sender.sender_type == "app" and resp.data.sender.id == settings.FEISHU_APP_ID
    assert json.loads(resp.data.body.content) == a_card()
    assert resp.get_log_id() == sandbox.requests(MESSAGES)[-1]["logid"]
