"""The settable sandbox clock: control API, what follows it and what does not."""

import time

import pytest

from sandbox.clock import Clock
from sandbox.control import SandboxError

from .helpers import ASSETS, AUTH, REFERRAL, call, create_account, creds, post, tenant_token

DAY = 86400


def near(value: float, expected: float, slack: float = 5.0) -> bool:
    return abs(value - expected) <= slack


def test_clock_starts_at_real_time_and_moves_forward(sandbox):
    start = sandbox.clock()
    assert start["offset"] == 0 and near(start["now"], time.time())
    moved = sandbox.advance_clock(3600)
    assert moved["offset"] == 3600 and near(moved["now"], time.time() + 3600)
    assert sandbox.advance_clock(0.5)["offset"] == 3600.5  # advances add up
    assert sandbox.clock()["offset"] == 3600.5


@pytest.mark.parametrize("advance", [-1, "soon", True, None])
def test_clock_only_moves_forward_by_a_number(sandbox, advance):
    sandbox.advance_clock(10)
    with pytest.raises(SandboxError, match="HTTP 400"):
        sandbox.advance_clock(advance)
    assert sandbox.clock()["offset"] == 10


def test_advancing_the_clock_expires_a_token(sandbox):
    token = tenant_token(sandbox)
    code = call(sandbox, "GET", ASSETS, token, params={"referral_account_id": "x"}).json()["code"]
    assert code == 1002553  # accepted (no such account)
    sandbox.advance_clock(7200)
    resp = call(sandbox, "GET", ASSETS, token, params={"referral_account_id": "x"})
    assert (resp.status_code, resp.json()["code"]) == (400, 99991663)
    fresh = post(sandbox, AUTH + "/tenant_access_token/internal", creds()).json()
    assert fresh["tenant_access_token"] != token and fresh["expire"] == 7200


def test_app_ticket_lives_twelve_hours_of_sandbox_time(sandbox):
    post(sandbox, AUTH + "/app_ticket/resend", creds())
    ticket = sandbox.state()["tickets"][-1]["app_ticket"]
    sandbox.advance_clock(12 * 3600 - 60)
    assert post(sandbox, AUTH + "/app_access_token", creds(app_ticket=ticket)).json()["code"] == 0
    sandbox.advance_clock(120)
    assert post(sandbox, AUTH + "/app_access_token", creds(app_ticket=ticket)).json()["code"] == 10012


def test_reset_puts_the_clock_back_to_real_time(sandbox):
    sandbox.advance_clock(DAY)
    sandbox.reset()
    assert sandbox.clock()["offset"] == 0 and near(sandbox.clock()["now"], time.time())
    # What the state decides after the reset runs on real time again.
    sandbox.push_app_ticket()
    assert near(sandbox.state()["tickets"][-1]["expires_at"], time.time() + 12 * 3600)


def test_feishu_timestamps_follow_the_clock(sandbox):
    account_id = create_account(sandbox, tenant_token(sandbox), email="na.li@demo.example")["account_id"]
    sandbox.advance_clock(DAY)
    later_ms = (time.time() + DAY) * 1000
    event = sandbox.grant_bonus(account_id, point_bonus=5)["event"]
    assert near(int(event["event"]["modify_time"]), later_ms, 5000)
    assert near(int(event["header"]["create_time"]), later_ms, 5000)
    assert near(float(sandbox.push_app_ticket()["ts"]), later_ms / 1000)
    token = tenant_token(sandbox)  # the old one expired a day ago
    body = {"withdraw_bonus_type": [1], "external_order_id": "o-1"}
    done = post(sandbox, f"{REFERRAL}/{account_id}/withdraw", body, token).json()
    assert near(int(done["data"]["trans_time"]), later_ms, 5000)


def test_rate_limits_stay_on_real_time(sandbox):
    token = tenant_token(sandbox)
    params = {"referral_account_id": "x"}
    codes = [call(sandbox, "GET", ASSETS, token, params=params).json()["code"] for _ in range(10)]
    assert codes == [1002553] * 10  # get_account_assets: 10 per second
    sandbox.advance_clock(60)  # a minute of sandbox time is not a second of real time
    resp = call(sandbox, "GET", ASSETS, token, params=params)
    assert (resp.status_code, resp.json()["code"]) == (429, 99991400)


def test_clock_adds_the_offset_to_real_time():
    real = [1000.0]
    clock = Clock(real=lambda: real[0])
    assert (clock.time(), clock.offset) == (1000.0, 0)
    clock.advance(7200)
    real[0] = 1000.5  # real time keeps running under the offset
    assert (clock.time(), clock.ms(), clock.offset) == (8200.5, 8_200_500, 7200)
    for bad in (-0.001, float("nan"), float("inf")):
        with pytest.raises(ValueError):
            clock.advance(bad)
    clock.reset()
    assert clock.time() == 1000.5
