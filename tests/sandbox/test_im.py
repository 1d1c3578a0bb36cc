"""The sandbox's messages from the app to a person (im/v1/messages, docs/feishu.md §18), over
real HTTP as Feishu documents them: the answer, the uuid, the refusals and the limits, and the
page and commands that show what each person read."""

import itertools
import json
from io import StringIO

import pytest
import requests
from django.core.management import call_command

from sandbox.login_api import open_id_for

from .helpers import call, tenant_token

MESSAGES = "/open-apis/im/v1/messages"
FANG = "ou_demo1001"  # 王芳 of the seed directory, in the Hire app


def card(title="付款批次待审批", url="https://hireops.example/admin/referrals/payoutrun/1/decide/") -> dict:
    return {
        "config": {"wide_screen_mode": True},
        "header": {"title": {"tag": "plain_text", "content": title}, "template": "orange"},
        "elements": [
            {"tag": "div", "text": {"tag": "plain_text", "content": "3 lines: 37.50 CNY"}},
            {
                "tag": "action",
                "actions": [
                    {"tag": "button", "text": {"tag": "plain_text", "content": "Decide"}, "url": url}
                ],
            },
        ],
    }


def body(receive_id=FANG, content=None, **extra) -> dict:
    content = card() if content is None else content
    return {
        "receive_id": receive_id,
        "msg_type": "interactive",
        "content": content if isinstance(content, str) else json.dumps(content, ensure_ascii=False),
        **extra,
    }


def send(sandbox, token, json_body, id_type="open_id"):
    return call(sandbox, "POST", MESSAGES, token, params={"receive_id_type": id_type}, json=json_body)


def refused(resp) -> tuple[int, int]:
    return resp.status_code, resp.json()["code"]


@pytest.fixture
def unhurried(sandbox, monkeypatch):
    """Each request a second after the last, as the rate limits see it."""
    monkeypatch.setattr(sandbox.server.limiter, "clock", itertools.count(0, 1.0).__next__)
    return sandbox


def test_a_card_reaches_the_person_and_the_answer_is_feishus(sandbox):
    token = tenant_token(sandbox)
    resp = send(sandbox, token, body(uuid="payout-1-awaiting-7"))
    assert resp.status_code == 200 and resp.headers["X-Tt-Logid"]
    answer = resp.json()
    assert (answer["code"], answer["msg"]) == (0, "success")
    data = answer["data"]
    assert data["message_id"].startswith("om_") and data["chat_id"].startswith("oc_")
    assert data["msg_type"] == "interactive" and data["create_time"].isdigit()
    assert data["sender"] == {
        "id": sandbox.server.state.app_id,
        "id_type": "app_id",
        "sender_type": "app",
        "tenant_key": "demo-tenant",
    }
    assert json.loads(data["body"]["content"]) == card()
    [kept] = sandbox.im_messages(FANG)
    assert (kept["message_id"], kept["uuid"], kept["card"]) == (
        data["message_id"],
        "payout-1-awaiting-7",
        card(),
    )
    assert kept["shown"] == {
        "title": "付款批次待审批",
        "texts": ["3 lines: 37.50 CNY"],
        "buttons": [{"text": "Decide", "url": "https://hireops.example/admin/referrals/payoutrun/1/decide/"}],
    }
    # The same chat for the next message to the same person.
    again = send(sandbox, token, body(content=card("第二条"))).json()["data"]
    assert again["chat_id"] == data["chat_id"] and again["message_id"] != data["message_id"]


def test_a_repeated_uuid_within_the_hour_delivers_nothing_more(sandbox):
    token = tenant_token(sandbox)
    first = send(sandbox, token, body(uuid="same-uuid")).json()["data"]
    repeat = send(sandbox, token, body(uuid="same-uuid"))
    assert repeat.status_code == 200 and repeat.json()["data"]["message_id"] == first["message_id"]
    assert len(sandbox.im_messages(FANG)) == 1
    sandbox.advance_clock(3601)  # Feishu forgets a uuid after an hour
    token = tenant_token(sandbox)
    later = send(sandbox, token, body(uuid="same-uuid")).json()["data"]
    assert later["message_id"] != first["message_id"] and len(sandbox.im_messages(FANG)) == 2


@pytest.mark.parametrize(
    ("what", "query", "payload", "expected"),
    [
        ("no receive_id_type", None, body(), 99992402),
        ("an unknown receive_id_type", "phone", body(), 99992402),
        ("no receive_id", "open_id", body(receive_id=""), 99992402),
        ("a uuid over 50 characters", "open_id", body(uuid="u" * 51), 99992402),
        ("content that is not a string", "open_id", {**body(), "content": card()}, 99992402),
        ("a msg_type not modelled", "open_id", {**body(), "msg_type": "sticker"}, 230001),
        ("an unknown open_id", "open_id", body(receive_id="ou_nobody"), 230034),
        ("a card that is not JSON", "open_id", body(content="{not json"), 230099),
        ("a card without elements", "open_id", body(content={"header": {}}), 230099),
        ("a button to a relative URL", "open_id", body(content=card(url="/admin/")), 230099),
        ("a card over 30 KB", "open_id", body(content=card(title="长" * 11_000)), 230025),
        ("a group chat", "chat_id", body(receive_id="oc_anygroup"), 230002),
        ("another tenant's employee", "open_id", body(receive_id="ou_acme2001"), 230013),
    ],
)
def test_what_feishu_refuses_is_refused_with_its_code(unhurried, what, query, payload, expected):
    token = tenant_token(unhurried)
    params = {"receive_id_type": query} if query else {}
    resp = call(unhurried, "POST", MESSAGES, token, params=params, json=payload)
    assert refused(resp) == (400, expected), (what, resp.text)
    assert resp.json()["data"] == {}
    assert unhurried.im_messages() == []


def test_another_apps_open_id_and_a_resigned_employee_are_refused(unhurried):
    token = tenant_token(unhurried)
    fang = next(e for e in unhurried.state()["employees"] if e["open_id"] == FANG)
    login_apps_open_id = open_id_for(unhurried.server.state, "cli_other_app", fang)
    unhurried.register_login_app("cli_other_app", "s3cret", ["http://testserver/callback/"])
    assert refused(send(unhurried, token, body(receive_id=login_apps_open_id))) == (400, 99992361)
    unhurried.employee_leave("u1003")
    assert refused(send(unhurried, token, body(receive_id="ou_demo1003"))) == (400, 230029)


def test_the_availability_scope_and_the_bot_ability_are_the_apps_settings(unhurried):
    token = tenant_token(unhurried)
    unhurried.im_availability(FANG, False)
    assert refused(send(unhurried, token, body())) == (400, 230013)
    unhurried.im_availability(FANG, True)
    unhurried.im_bot(False)
    assert refused(send(unhurried, token, body())) == (400, 230006)
    unhurried.im_bot(True)
    assert send(unhurried, token, body()).json()["code"] == 0


def test_other_ids_of_the_person_reach_the_same_chat(unhurried):
    token = tenant_token(unhurried)
    by_open_id = send(unhurried, token, body()).json()["data"]["chat_id"]
    for id_type, receive_id in (
        ("union_id", "on_demo1001"),
        ("user_id", "u1001"),
        ("email", "fang.wang@demo.example.com"),
    ):
        answer = send(unhurried, token, body(receive_id=receive_id), id_type).json()
        assert answer["code"] == 0 and answer["data"]["chat_id"] == by_open_id, id_type
    text = {"receive_id": FANG, "msg_type": "text", "content": json.dumps({"text": "你好"})}
    assert send(unhurried, token, text).json()["code"] == 0
    assert len(unhurried.im_messages(FANG)) == 5


def test_five_messages_a_second_to_one_person_then_230020(sandbox, monkeypatch):
    token = tenant_token(sandbox)
    # The six arrive in one instant, as the limit sees them: on a busy machine six real
    # requests could span more than the second the limit counts.
    monkeypatch.setattr(sandbox.server.limiter, "clock", lambda: 1000.0)
    answers = [send(sandbox, token, body(content=card(f"第{i}条"))) for i in range(6)]
    assert [a.json()["code"] for a in answers[:5]] == [0] * 5
    assert refused(answers[5]) == (400, 230020)
    assert len(sandbox.im_messages(FANG)) == 5


def test_the_apps_rate_limit_answers_429(sandbox, monkeypatch):
    monkeypatch.setitem(sandbox.server.limiter.limits, "im.message.create", [(2, 60.0)])
    token = tenant_token(sandbox)
    people = ["ou_demo1001", "ou_demo1002", "ou_demo1004"]
    answers = [send(sandbox, token, body(receive_id=p)) for p in people]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert answers[2].json()["code"] == 99991400 and answers[2].headers["x-ogw-ratelimit-reset"]


def test_the_page_and_the_command_show_what_each_person_read(sandbox):
    token = tenant_token(sandbox)
    send(sandbox, token, body(content=card("付款批次待审批 <script>")))
    page = requests.get(sandbox.url + "/im/", timeout=10)
    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert "王芳" in page.text and FANG in page.text
    assert "付款批次待审批 &lt;script&gt;" in page.text and "<script>" not in page.text
    assert 'href="https://hireops.example/admin/referrals/payoutrun/1/decide/"' in page.text
    out = StringIO()
    call_command("feishu_sandbox_ctl", "--url", sandbox.url, "im-messages", "--open-id", FANG, stdout=out)
    [listed] = json.loads(out.getvalue())
    assert listed["shown"]["title"] == "付款批次待审批 <script>"
    call_command(
        "feishu_sandbox_ctl", "--url", sandbox.url, "im-availability", FANG, "off", stdout=StringIO()
    )
    assert refused(send(sandbox, token, body())) == (400, 230013)
    call_command("feishu_sandbox_ctl", "--url", sandbox.url, "im-bot", "off", stdout=StringIO())
    assert sandbox.server.state.im_bot_enabled is False


def test_a_fault_of_the_control_api_answers_as_the_engine_expects(sandbox):
    """The usual faults apply to messages like any OpenAPI: a scripted Feishu code."""
    sandbox.add_fault(MESSAGES, "error", status=400, code=230013, msg="Bot has NO availability to this user.")
    token = tenant_token(sandbox)
    assert refused(send(sandbox, token, body())) == (400, 230013)
    assert send(sandbox, token, body()).json()["code"] == 0


def test_a_restarted_sandbox_keeps_what_people_read_and_the_uuids(tmp_path):
    from django.conf import settings

    from sandbox.control import SandboxControl
    from sandbox.server import SandboxServer

    def started() -> SandboxControl:
        server = SandboxServer(
            app_id=settings.FEISHU_APP_ID,
            app_secret=settings.FEISHU_APP_SECRET,
            state_file=tmp_path / "state.json",
        ).start()
        control = SandboxControl(server.url)
        control.server = server
        return control

    first = started()
    try:
        token = tenant_token(first)
        sent = send(first, token, body(uuid="kept-uuid")).json()["data"]
        first.im_availability("ou_demo1002", False)
        first.im_bot(False)
    finally:
        first.server.stop()
    second = started()
    try:
        assert [m["message_id"] for m in second.im_messages(FANG)] == [sent["message_id"]]
        assert refused(send(second, token, body())) == (400, 230006)
        second.im_bot(True)
        assert refused(send(second, token, body(receive_id="ou_demo1002"))) == (400, 230013)
        repeat = send(second, token, body(uuid="kept-uuid")).json()["data"]
        assert repeat["message_id"] == sent["message_id"] and len(second.im_messages(FANG)) == 1
    finally:
        second.server.stop()
