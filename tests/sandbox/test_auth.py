"""Token flows (docs/feishu.md §1) over real HTTP. Time passes by advancing the sandbox clock."""

import pytest

from .helpers import (
    ASSETS,
    AUTH,
    REFERRAL,
    call,
    create_account,
    creds,
    post,
    store_tenant_token,
    tenant_token,
)


def test_self_built_tenant_token_at_top_level(sandbox):
    resp = post(sandbox, AUTH + "/tenant_access_token/internal", creds())
    body = resp.json()
    assert resp.status_code == 200
    assert body["code"] == 0 and body["msg"] == "ok" and "data" not in body
    assert body["tenant_access_token"].startswith("t-")
    assert body["expire"] == 7200
    assert resp.headers["X-Tt-Logid"]


def test_app_access_token_internal_returns_both_tokens(sandbox):
    body = post(sandbox, AUTH + "/app_access_token/internal", creds()).json()
    assert body["code"] == 0
    assert body["app_access_token"].startswith("a-")
    assert body["tenant_access_token"].startswith("t-")
    assert body["expire"] == 7200


def test_same_token_while_plenty_left(sandbox):
    first = post(sandbox, AUTH + "/tenant_access_token/internal", creds()).json()
    second = post(sandbox, AUTH + "/tenant_access_token/internal", creds()).json()
    assert second["tenant_access_token"] == first["tenant_access_token"]
    assert second["expire"] <= first["expire"]


def _assets_code(sandbox, token) -> int:
    # 1002553 (no such account) means the token was accepted; 99991663 that it was not.
    return call(sandbox, "GET", ASSETS, token, params={"referral_account_id": "x"}).json()["code"]


def test_new_token_in_refresh_window_and_old_one_still_valid_until_expiry(sandbox):
    first = post(sandbox, AUTH + "/tenant_access_token/internal", creds()).json()
    old = first["tenant_access_token"]
    assert first["expire"] == 7200  # refresh window: the last ttl/4 = 1800 s
    sandbox.advance_clock(7200 - 1800 - 1)  # 1801 s left: not in the window yet
    again = post(sandbox, AUTH + "/tenant_access_token/internal", creds()).json()
    assert again["tenant_access_token"] == old and 1799 <= again["expire"] <= 1801
    sandbox.advance_clock(2)  # 1799 s left: Feishu hands out a new token
    renewed = post(sandbox, AUTH + "/tenant_access_token/internal", creds()).json()
    new = renewed["tenant_access_token"]
    assert new != old and renewed["expire"] == 7200
    # Both tokens are valid while the old one lives.
    sandbox.advance_clock(1799 - 2)  # about 2 s left on the old token
    assert _assets_code(sandbox, old) == _assets_code(sandbox, new) == 1002553
    sandbox.advance_clock(3)  # the old token's 2 hours are over
    resp = call(sandbox, "GET", ASSETS, old, params={"referral_account_id": "x"})
    assert (resp.status_code, resp.json()["code"]) == (400, 99991663)
    assert _assets_code(sandbox, new) == 1002553


def test_token_really_expires_after_ttl(sandbox):
    sandbox.set_token_ttl(60)
    body = post(sandbox, AUTH + "/tenant_access_token/internal", creds()).json()
    assert body["expire"] == 60
    sandbox.advance_clock(58)
    assert _assets_code(sandbox, body["tenant_access_token"]) == 1002553
    sandbox.advance_clock(3)
    assert _assets_code(sandbox, body["tenant_access_token"]) == 99991663


def test_expire_tokens_control(sandbox):
    token = tenant_token(sandbox)
    sandbox.expire_tokens()
    resp = post(sandbox, REFERRAL, {"email": "na.li@demo.example"}, token)
    assert (resp.status_code, resp.json()["code"]) == (400, 99991663)
    assert resp.json()["data"] == {}
    assert tenant_token(sandbox) != token  # a fresh one is issued


@pytest.mark.parametrize(
    ("auth_header", "code"),
    [
        (None, 99991661),
        ("Bearer", 99991661),
        ("Basic abc", 99991661),
        ("Bearer a-gsomethingelse", 99991671),
        ("Bearer u-guser", 99991671),
        ("Bearer t-gneverissued", 99991663),
    ],
)
def test_hire_auth_errors(sandbox, auth_header, code):
    import requests

    headers = {"Authorization": auth_header} if auth_header else {}
    resp = requests.post(
        sandbox.url + REFERRAL, json={"email": "na.li@demo.example"}, headers=headers, timeout=5
    )
    assert resp.status_code == 400
    assert resp.json()["code"] == code
    assert resp.headers["X-Tt-Logid"]


def test_app_token_is_not_a_tenant_token(sandbox):
    app = post(sandbox, AUTH + "/app_access_token/internal", creds()).json()["app_access_token"]
    assert post(sandbox, REFERRAL, {"email": "na.li@demo.example"}, app).json()["code"] == 99991671


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"app_id": "cli_nobody", "app_secret": "x"}, 99991543),
        ({"app_secret": "wrong"}, 10015),
        ({"app_id": None}, 10003),
    ],
)
def test_wrong_credentials(sandbox, body, code):
    resp = post(sandbox, AUTH + "/tenant_access_token/internal", {**creds(), **body})
    assert resp.status_code == 400
    assert resp.json() == {"code": code, "msg": resp.json()["msg"]}


def test_store_flow_ticket_app_token_tenant_token(sandbox, webhook_receiver):
    sandbox.configure(webhook_url=webhook_receiver.url, verification_token="vt-1")
    assert post(sandbox, AUTH + "/app_ticket/resend", creds()).json() == {"code": 0, "msg": "ok"}
    pushed = webhook_receiver.wait_for(1)[0].json()
    # Schema 1.0 shape (docs/feishu.md §1.2).
    assert set(pushed) == {"ts", "uuid", "token", "type", "event"}
    assert pushed["type"] == "event_callback" and pushed["token"] == "vt-1"
    assert pushed["event"]["type"] == "app_ticket"
    ticket = pushed["event"]["app_ticket"]
    assert pushed["event"]["app_id"] == creds()["app_id"]

    app = post(sandbox, AUTH + "/app_access_token", creds(app_ticket=ticket)).json()
    assert app["code"] == 0 and app["app_access_token"].startswith("a-") and app["expire"] == 7200
    tenant = post(
        sandbox,
        AUTH + "/tenant_access_token",
        {"app_access_token": app["app_access_token"], "tenant_key": "acme-tenant"},
    ).json()
    assert tenant["code"] == 0 and tenant["tenant_access_token"].startswith("t-")
    # The token acts for acme: an acme employee is found, a demo-tenant one is not.
    acc = create_account(sandbox, tenant["tenant_access_token"], email="li.sun@acme.example")
    assert acc["referrer"]["name"]["zh_cn"] == "孙丽"
    resp = post(sandbox, REFERRAL, {"email": "na.li@demo.example"}, tenant["tenant_access_token"])
    assert resp.json()["code"] == 1002551


def test_store_flow_errors(sandbox):
    bad_ticket = post(sandbox, AUTH + "/app_access_token", creds(app_ticket="never-issued"))
    assert (bad_ticket.status_code, bad_ticket.json()["code"]) == (400, 10012)
    post(sandbox, AUTH + "/app_ticket/resend", creds())
    ticket = sandbox.state()["tickets"][-1]["app_ticket"]
    sandbox.expire_tokens(tickets=True)
    assert post(sandbox, AUTH + "/app_access_token", creds(app_ticket=ticket)).json()["code"] == 10012
    assert post(sandbox, AUTH + "/app_ticket/resend", creds(app_secret="nope")).json()["code"] == 10015

    post(sandbox, AUTH + "/app_ticket/resend", creds())
    ticket = sandbox.state()["tickets"][-1]["app_ticket"]
    app = post(sandbox, AUTH + "/app_access_token", creds(app_ticket=ticket)).json()["app_access_token"]
    unknown = post(sandbox, AUTH + "/tenant_access_token", {"app_access_token": app, "tenant_key": "nobody"})
    assert unknown.json()["code"] == 10013
    bad_app = post(
        sandbox, AUTH + "/tenant_access_token", {"app_access_token": "a-x", "tenant_key": "acme-tenant"}
    )
    assert bad_app.json()["code"] == 99991664


def test_data_is_per_tenant(sandbox):
    demo = tenant_token(sandbox)
    acme = store_tenant_token(sandbox, "acme-tenant")
    # 13800001001 is 王芳 in demo-tenant and 周杰 in acme-tenant.
    a = create_account(sandbox, demo, mobile={"number": "13800001001"})
    b = create_account(sandbox, acme, mobile={"code": "86", "number": "13800001001"})
    assert a["account_id"] != b["account_id"]
    assert (a["referrer"]["name"]["zh_cn"], b["referrer"]["name"]["zh_cn"]) == ("王芳", "周杰")
    other = call(sandbox, "GET", ASSETS, acme, params={"referral_account_id": a["account_id"]})
    assert other.json()["code"] == 1002553
