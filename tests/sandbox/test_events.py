"""Event pushes (docs/feishu.md §5): envelope, encryption, signature, retries."""

import json
import time

import pytest

from hireops.feishu import crypto
from sandbox.control import SandboxError
from sandbox.server import SandboxServer

from .helpers import REFERRAL, create_account, creds, post, tenant_token

KEY, VTOKEN = "sandbox-encrypt-key", "sandbox-verification-token"


def sdk_cipher():
    """The SDK's own cipher, imported by the tests that decrypt with it: the SDK is 11,000
    modules, not to be loaded by every process that collects this file."""
    from lark_oapi.core.utils import AESCipher

    return AESCipher(KEY)


@pytest.fixture
def account_id(sandbox):
    return create_account(sandbox, tenant_token(sandbox), email="fang.wang@demo.example")["account_id"]


def test_plain_push(sandbox, webhook_receiver, account_id):
    sandbox.configure(webhook_url=webhook_receiver.url, verification_token=VTOKEN)
    result = sandbox.grant_bonus(
        account_id, point_bonus=100, cash=[{"currency_type": "CNY", "amount": "12.50"}]
    )
    req = webhook_receiver.wait_for(1)[0]
    assert req.uri == "/feishu/events/"
    assert req.headers["Content-Type"] == "application/json; charset=utf-8"
    assert "X-Lark-Signature" not in req.headers
    body = req.json()
    assert body == result["event"]
    header = body["header"]
    assert body["schema"] == "2.0"
    assert header["event_type"] == "hire.referral_account.assets_update_v1"
    assert len(header["event_id"]) == 32 and int(header["event_id"], 16) >= 0
    assert header["token"] == VTOKEN and header["app_id"] == creds()["app_id"]
    assert header["tenant_key"] == "demo-tenant"
    assert abs(int(header["create_time"]) - time.time() * 1000) < 60_000
    assert body["event"]["account_id"] == account_id
    assert body["event"]["assets"] == {
        "confirmed_bonus": {"point_bonus": 100, "cash_bonus": [{"currency_type": "CNY", "amount": 12.5}]}
    }
    assert body["event"]["modify_time"].isdigit()


def test_encrypted_and_signed_push(sandbox, webhook_receiver, account_id):
    sandbox.configure(webhook_url=webhook_receiver.url, encrypt_key=KEY, verification_token=VTOKEN)
    sandbox.grant_bonus(account_id, point_bonus=7)
    req = webhook_receiver.wait_for(1)[0]
    outer = json.loads(req.body)
    assert list(outer) == ["encrypt"]
    h = req.headers
    assert h["Content-Type"] == "application/json; charset=utf-8"
    assert crypto.verify_signature(
        h["X-Lark-Request-Timestamp"], h["X-Lark-Request-Nonce"], KEY, req.body, h["X-Lark-Signature"]
    )
    assert not crypto.verify_signature(
        h["X-Lark-Request-Timestamp"], h["X-Lark-Request-Nonce"], "wrong", req.body, h["X-Lark-Signature"]
    )
    inner = json.loads(sdk_cipher().decrypt_str(outer["encrypt"]))  # the SDK's own cipher
    assert inner["header"]["token"] == VTOKEN
    assert inner["event"]["assets"]["confirmed_bonus"]["point_bonus"] == 7


def test_retried_until_200_with_same_event_id(sandbox, webhook_receiver, account_id):
    webhook_receiver.statuses = [500, 503]
    sandbox.configure(webhook_url=webhook_receiver.url, encrypt_key=KEY, verification_token=VTOKEN)
    event = sandbox.grant_bonus(account_id, point_bonus=1)["event"]
    reqs = webhook_receiver.wait_for(3)
    ids = {json.loads(sdk_cipher().decrypt_str(r.json()["encrypt"]))["header"]["event_id"] for r in reqs}
    assert ids == {event["header"]["event_id"]}
    assert sandbox.server.pusher.wait_idle()
    deliveries = sandbox.deliveries()
    assert [(d["attempt"], d["status"]) for d in deliveries] == [(1, 500), (2, 503), (3, 200)]
    assert {d["event_id"] for d in deliveries} == ids
    assert deliveries[0]["error"] == "HTTP 500" and deliveries[2]["error"] is None
    assert len(webhook_receiver.requests) == 3


def test_at_most_four_retries(sandbox, webhook_receiver, account_id):
    webhook_receiver.statuses = [500] * 10
    sandbox.configure(webhook_url=webhook_receiver.url)
    sandbox.grant_bonus(account_id, point_bonus=1)
    webhook_receiver.wait_for(5, timeout=20)
    assert sandbox.server.pusher.wait_idle()
    assert [d["attempt"] for d in sandbox.deliveries()] == [1, 2, 3, 4, 5]
    assert sandbox.server.pusher._queue == []  # nothing left to retry


def test_unreachable_webhook_is_retried_at_the_current_url(sandbox, webhook_receiver, account_id):
    sandbox.configure(webhook_url="http://127.0.0.1:9/down", retry_delays=[0.5, 0.5, 0.5, 0.5])
    event = sandbox.grant_bonus(account_id, point_bonus=3)["event"]
    deadline = time.monotonic() + 10
    while not sandbox.deliveries() and time.monotonic() < deadline:
        time.sleep(0.02)
    first = sandbox.deliveries()[0]
    assert first["status"] is None and "ConnectionError" in first["error"]
    sandbox.configure(webhook_url=webhook_receiver.url)  # the app's server comes back
    assert webhook_receiver.wait_for(1)[0].json()["header"]["event_id"] == event["header"]["event_id"]


def test_balance_after_change_and_strictly_increasing_modify_time(sandbox, webhook_receiver, account_id):
    sandbox.configure(webhook_url=webhook_receiver.url)
    for _ in range(5):
        sandbox.grant_bonus(account_id, point_bonus=10)
    token = tenant_token(sandbox)
    post(
        sandbox,
        f"{REFERRAL}/{account_id}/withdraw",
        {"withdraw_bonus_type": [1], "external_order_id": "w"},
        token,
    )
    # Pushes may arrive out of order, as Feishu's may (docs/feishu.md §5.1): modify_time orders them.
    events = sorted(
        (r.json()["event"] for r in webhook_receiver.wait_for(6)), key=lambda e: int(e["modify_time"])
    )
    assert [e["assets"]["confirmed_bonus"]["point_bonus"] for e in events] == [10, 20, 30, 40, 50, 0]
    assert len({e["modify_time"] for e in events}) == 6  # strictly increasing: no two alike


def test_no_assets_events_while_deactivated(sandbox, webhook_receiver, account_id):
    sandbox.configure(webhook_url=webhook_receiver.url)
    token = tenant_token(sandbox)
    post(sandbox, f"{REFERRAL}/{account_id}/deactivate", None, token)
    assert sandbox.grant_bonus(account_id, point_bonus=10)["event"] is None
    post(sandbox, REFERRAL + "/enable", {"referral_account_id": account_id}, token)
    event = sandbox.grant_bonus(account_id, point_bonus=5)["event"]
    reqs = webhook_receiver.wait_for(1)
    assert sandbox.server.pusher.wait_idle()
    assert len(sandbox.events()) == 1 and len(webhook_receiver.requests) == 1
    assert reqs[0].json()["header"]["event_id"] == event["header"]["event_id"]
    assert reqs[0].json()["event"]["assets"]["confirmed_bonus"]["point_bonus"] == 15  # balance still changed


def test_bind_account_event(sandbox, webhook_receiver):
    sandbox.configure(webhook_url=webhook_receiver.url, verification_token=VTOKEN)
    event = sandbox.bind_account(
        scope=2,
        account_name="笔试账号 001",
        usage_list=[1, 2],
        custom_field_list=[{"key": "account_token", "value": "ABC123"}],
        tenant_key="acme-tenant",
    )
    body = webhook_receiver.wait_for(1)[0].json()
    assert body == event
    assert body["header"]["event_type"] == "hire.eco_account.created_v1"
    assert body["header"]["tenant_key"] == "acme-tenant"
    assert body["event"]["scope"] == 2 and body["event"]["account_name"] == "笔试账号 001"
    assert body["event"]["usage_list"] == [1, 2]
    assert body["event"]["custom_field_list"] == [{"key": "account_token", "value": "ABC123"}]
    assert body["event"]["account_id"].isdigit()
    assert sandbox.state()["eco_accounts"][0]["account_id"] == body["event"]["account_id"]


def test_bind_account_checks_registered_fields(sandbox):
    from .helpers import FIELDS, field

    token = tenant_token(sandbox)
    post(
        sandbox,
        FIELDS,
        {"scope": 1, "custom_field_list": [field("token"), field("note", required=False)]},
        token,
    )
    with pytest.raises(SandboxError, match="required custom field 'token'"):
        sandbox.bind_account(scope=1, custom_field_list=[{"key": "note", "value": "x"}])
    with pytest.raises(SandboxError, match="no custom field 'other'"):
        sandbox.bind_account(
            scope=1, custom_field_list=[{"key": "token", "value": "x"}, {"key": "other", "value": 1}]
        )
    with pytest.raises(SandboxError):
        sandbox.bind_account(scope=3)
    ok = sandbox.bind_account(
        scope=1, account_id="6931286400470354183", custom_field_list=[{"key": "token", "value": "x"}]
    )
    assert ok["event"]["account_id"] == "6931286400470354183"


def test_app_ticket_at_startup_and_hourly(webhook_receiver, settings):
    server = SandboxServer(
        app_id=settings.FEISHU_APP_ID,
        app_secret="s",
        webhook_url=webhook_receiver.url,
        verification_token=VTOKEN,
        app_ticket_interval=0.3,
    ).start()
    try:
        reqs = webhook_receiver.wait_for(3)
    finally:
        server.stop()
    tickets = [r.json() for r in reqs]
    assert all(t["event"]["type"] == "app_ticket" and t["token"] == VTOKEN for t in tickets)
    assert len({t["uuid"] for t in tickets}) == 3
    assert len({t["event"]["app_ticket"] for t in tickets}) == 3
