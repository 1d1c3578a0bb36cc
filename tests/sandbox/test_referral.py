"""Referral accounts (docs/feishu.md §4) over real HTTP."""

import time

import pytest

from .helpers import ASSETS, REFERRAL, call, create_account, post, tenant_token


@pytest.fixture
def token(sandbox):
    return tenant_token(sandbox)


def assets(sandbox, token, account_id, **params):
    return call(sandbox, "GET", ASSETS, token, params={"referral_account_id": account_id, **params})


def withdraw(sandbox, token, account_id, types, order_id):
    return post(
        sandbox,
        f"{REFERRAL}/{account_id}/withdraw",
        {"withdraw_bonus_type": types, "external_order_id": order_id},
        token,
    )


def test_create_by_mobile_and_email_same_person_same_account(sandbox, token):
    by_mobile = create_account(sandbox, token, mobile={"code": "86", "number": "13800001002"})
    assert by_mobile["status"] == 1
    assert by_mobile["assets"] == {"confirmed_bonus": {"point_bonus": 0, "cash_bonus": []}}
    assert by_mobile["referrer"] == {
        "id": "ou_demo1002",
        "name": {"zh_cn": "李娜", "en_us": "Na Li"},
        "email": "na.li@demo.example",
        "mobile": "+8613800001002",
    }
    assert len(by_mobile["account_id"]) == 19 and by_mobile["account_id"].isdigit()
    by_email = create_account(sandbox, token, email="NA.LI@demo.example")
    by_default_code = create_account(sandbox, token, mobile={"number": "13800001002"})
    assert by_email["account_id"] == by_mobile["account_id"] == by_default_code["account_id"]
    assert len(sandbox.state()["accounts"]) == 1


def test_create_errors(sandbox, token):
    nobody = post(sandbox, REFERRAL, {"email": "ghost@demo.example"}, token)
    assert (nobody.status_code, nobody.json()["code"]) == (400, 1002551)
    wrong_code = post(sandbox, REFERRAL, {"mobile": {"code": "1", "number": "13800001002"}}, token)
    assert wrong_code.json()["code"] == 1002551
    dup_mobile = post(sandbox, REFERRAL, {"mobile": {"number": "13900009999"}}, token)  # 张伟 and 张薇
    assert (dup_mobile.status_code, dup_mobile.json()["code"]) == (400, 1002552)
    dup_email = post(sandbox, REFERRAL, {"email": "recruiting@demo.example"}, token)
    assert dup_email.json()["code"] == 1002552
    two_people = post(
        sandbox, REFERRAL, {"email": "fang.wang@demo.example", "mobile": {"number": "13800001003"}}, token
    )
    assert two_people.json()["code"] == 1002552
    for body in ({}, {"mobile": {"code": "86"}}, {"mobile": {}, "email": ""}, {"email": 5}):
        resp = post(sandbox, REFERRAL, body, token)
        assert (resp.status_code, resp.json()["code"]) == (400, 1002002), body
    assert "mobile.number" in post(sandbox, REFERRAL, {"mobile": {"code": "86"}}, token).json()["msg"]
    assert (
        post(
            sandbox, REFERRAL, {"email": "na.li@demo.example"}, token, params={"user_id_type": "emp_id"}
        ).json()["code"]
        == 1002002
    )
    assert sandbox.state()["accounts"] == []


def test_added_employee_can_register(sandbox, token):
    sandbox.add_employee(name="新同事", email="new@demo.example", mobile="13511112222")
    acc = create_account(sandbox, token, mobile={"number": "13511112222"})
    assert acc["referrer"]["name"] == {"zh_cn": "新同事", "en_us": "新同事"}


def test_get_account_assets_and_user_id_type(sandbox, token):
    acc = create_account(sandbox, token, email="jing.chen@demo.example")
    sandbox.grant_bonus(acc["account_id"], point_bonus=30, cash=[{"currency_type": "CNY", "amount": "12.50"}])
    body = assets(sandbox, token, acc["account_id"]).json()
    assert body["code"] == 0
    got = body["data"]["account"]
    assert got["assets"]["confirmed_bonus"] == {
        "point_bonus": 30,
        "cash_bonus": [{"currency_type": "CNY", "amount": 12.5}],
    }
    assert got["referrer"]["id"] == "ou_demo1003"
    assert (
        assets(sandbox, token, acc["account_id"], user_id_type="user_id").json()["data"]["account"][
            "referrer"
        ]["id"]
        == "u1003"
    )
    assert (
        assets(sandbox, token, acc["account_id"], user_id_type="union_id").json()["data"]["account"][
            "referrer"
        ]["id"]
        == "on_demo1003"
    )
    unknown = assets(sandbox, token, "6942778198054125570")
    assert (unknown.status_code, unknown.json()["code"]) == (400, 1002553)
    assert call(sandbox, "GET", ASSETS, token).json()["code"] == 1002002


def test_withdraw_empties_balance_and_is_idempotent(sandbox, token):
    acc = create_account(sandbox, token, email="fang.wang@demo.example")
    aid = acc["account_id"]
    sandbox.grant_bonus(
        aid,
        point_bonus=100,
        cash=[{"currency_type": "CNY", "amount": "12.50"}, {"currency_type": "USD", "amount": 3}],
    )
    sandbox.grant_bonus(aid, point_bonus=20, cash=[{"currency_type": "CNY", "amount": "0.25"}])
    before = int(time.time() * 1000)
    first = withdraw(sandbox, token, aid, [1], "order-1").json()
    assert first["code"] == 0
    assert first["data"]["external_order_id"] == "order-1"
    assert first["data"]["withdrawal_details"] == {"point_bonus": 120, "cash_bonus": []}
    assert isinstance(first["data"]["trans_time"], str) and int(first["data"]["trans_time"]) >= before
    left = assets(sandbox, token, aid).json()["data"]["account"]["assets"]["confirmed_bonus"]
    assert left == {
        "point_bonus": 0,
        "cash_bonus": [{"currency_type": "CNY", "amount": 12.75}, {"currency_type": "USD", "amount": 3.0}],
    }

    sandbox.grant_bonus(aid, point_bonus=5)
    again = withdraw(sandbox, token, aid, [1, 2], "order-1").json()
    assert again == first  # the original answer; nothing withdrawn
    assert (
        assets(sandbox, token, aid).json()["data"]["account"]["assets"]["confirmed_bonus"]["point_bonus"] == 5
    )

    both = withdraw(sandbox, token, aid, [1, 2], "order-2").json()["data"]["withdrawal_details"]
    assert both == {
        "point_bonus": 5,
        "cash_bonus": [{"currency_type": "CNY", "amount": 12.75}, {"currency_type": "USD", "amount": 3.0}],
    }
    empty = assets(sandbox, token, aid).json()["data"]["account"]["assets"]["confirmed_bonus"]
    assert empty == {"point_bonus": 0, "cash_bonus": []}


@pytest.mark.parametrize(
    "body",
    [
        {"external_order_id": "o"},
        {"withdraw_bonus_type": [], "external_order_id": "o"},
        {"withdraw_bonus_type": [3], "external_order_id": "o"},
        {"withdraw_bonus_type": [1]},
        {"withdraw_bonus_type": [1], "external_order_id": ""},
    ],
)
def test_withdraw_validation(sandbox, token, body):
    aid = create_account(sandbox, token, email="fang.wang@demo.example")["account_id"]
    resp = post(sandbox, f"{REFERRAL}/{aid}/withdraw", body, token)
    assert (resp.status_code, resp.json()["code"]) == (400, 1002002)


def test_withdraw_unknown_and_deactivated(sandbox, token):
    assert withdraw(sandbox, token, "6942778198054125570", [1], "o-x").json()["code"] == 1002553
    aid = create_account(sandbox, token, email="fang.wang@demo.example")["account_id"]
    sandbox.grant_bonus(aid, point_bonus=10)
    assert withdraw(sandbox, token, aid, [1], "o-before").json()["code"] == 0
    deact = post(sandbox, f"{REFERRAL}/{aid}/deactivate", None, token).json()
    assert deact["code"] == 0 and deact["data"]["account"]["status"] == 2
    refused = withdraw(sandbox, token, aid, [1], "o-after")
    assert (refused.status_code, refused.json()["code"]) == (400, 1002555)
    # A retry of an order that succeeded before the deactivation still gets its original answer.
    assert withdraw(sandbox, token, aid, [1], "o-before").json()["code"] == 0


def test_enable_deactivate_round_trip(sandbox, token):
    aid = create_account(sandbox, token, email="fang.wang@demo.example")["account_id"]
    off = post(
        sandbox, f"{REFERRAL}/{aid}/deactivate", None, token, params={"user_id_type": "user_id"}
    ).json()
    assert off["data"]["account"]["status"] == 2 and off["data"]["account"]["referrer"]["id"] == "u1001"
    assert assets(sandbox, token, aid).json()["data"]["account"]["status"] == 2
    assert create_account(sandbox, token, email="fang.wang@demo.example")["status"] == 2  # same account
    on = post(sandbox, REFERRAL + "/enable", {"referral_account_id": aid}, token).json()
    assert on["code"] == 0 and on["data"]["account"]["status"] == 1
    assert assets(sandbox, token, aid).json()["data"]["account"]["status"] == 1
    assert post(sandbox, REFERRAL + "/enable", {}, token).json()["code"] == 1002002
    assert (
        post(sandbox, REFERRAL + "/enable", {"referral_account_id": "404"}, token).json()["code"] == 1002553
    )
    assert post(sandbox, f"{REFERRAL}/404/deactivate", None, token).json()["code"] == 1002553


def test_reconciliation_reports_only_mismatches(sandbox, token):
    a = create_account(sandbox, token, email="fang.wang@demo.example")["account_id"]
    b = create_account(sandbox, token, email="na.li@demo.example")["account_id"]
    c = create_account(sandbox, token, email="jing.chen@demo.example")["account_id"]
    d = create_account(sandbox, token, email="wei.zhang@demo.example")["account_id"]
    start = int(time.time() * 1000)
    for aid, points in ((a, 100), (b, 50), (d, 7)):
        sandbox.grant_bonus(aid, point_bonus=points)
        assert withdraw(sandbox, token, aid, [1], f"o-{aid}").json()["code"] == 0
    end = int(time.time() * 1000)
    body = {
        "start_trans_time": str(start),
        "end_trans_time": str(end),
        "trade_details": [
            {"account_id": a, "total_recharge_reward_info": {"point_bonus": 100}},  # matches
            {"account_id": b, "total_recharge_reward_info": {"point_bonus": 40}},  # short by 10
            {"account_id": c, "total_recharge_reward_info": {"point_bonus": 5}},  # nothing withdrawn
        ],  # d is missing on the caller's side
    }
    resp = post(sandbox, REFERRAL + "/reconciliation", body, token).json()
    assert resp["code"] == 0
    failed = {f["account_id"]: f for f in resp["data"]["check_failed_list"]}
    assert set(failed) == {b, c, d}
    assert failed[b] == {
        "account_id": b,
        "total_withdraw_reward_info": {"point_bonus": 50},
        "total_recharge_reward_info": {"point_bonus": 40},
    }
    assert failed[c] == {"account_id": c, "total_recharge_reward_info": {"point_bonus": 5}}
    assert failed[d] == {"account_id": d, "total_withdraw_reward_info": {"point_bonus": 7}}

    outside = {**body, "start_trans_time": str(end + 1), "end_trans_time": str(end + 10_000)}
    resp = post(sandbox, REFERRAL + "/reconciliation", outside, token).json()
    assert {f["account_id"] for f in resp["data"]["check_failed_list"]} == {a, b, c}

    for bad in (
        {"end_trans_time": str(end)},
        {"start_trans_time": "x", "end_trans_time": "1"},
        {"start_trans_time": "5", "end_trans_time": "1"},
    ):
        assert post(sandbox, REFERRAL + "/reconciliation", bad, token).json()["code"] == 1002002
    unknown = {
        **body,
        "trade_details": [{"account_id": "404", "total_recharge_reward_info": {"point_bonus": 1}}],
    }
    assert post(sandbox, REFERRAL + "/reconciliation", unknown, token).json()["code"] == 1002553
