"""Fault injection, request log, envelope and logid plumbing."""

import time

import pytest
import requests

from .helpers import ASSETS, AUTH, FIELDS, REFERRAL, call, create_account, creds, post, tenant_token


def test_5xx_fault_with_feishu_envelope_then_normal(sandbox):
    token = tenant_token(sandbox)
    sandbox.add_fault(REFERRAL, "5xx", count=2)
    for _ in range(2):
        resp = post(sandbox, REFERRAL, {"email": "na.li@demo.example"}, token)
        assert resp.status_code == 500
        assert resp.json() == {"code": 1002001, "msg": "system error", "data": {}}
        assert resp.headers["X-Tt-Logid"]
    assert post(sandbox, REFERRAL, {"email": "na.li@demo.example"}, token).json()["code"] == 0
    assert sandbox.faults() == []
    assert [(e["status"], e["fault"]) for e in sandbox.requests(REFERRAL)] == [
        (500, "5xx"),
        (500, "5xx"),
        (200, None),
    ]
    assert sandbox.state()["accounts"].__len__() == 1  # the faulted calls did nothing


def test_gateway_5xx_is_not_json(sandbox):
    sandbox.add_fault("/open-apis/hire/*", "5xx", status=502)
    resp = call(sandbox, "GET", ASSETS, tenant_token(sandbox), params={"referral_account_id": "1"})
    assert resp.status_code == 502
    assert resp.headers["Content-Type"].startswith("text/html")
    assert sandbox.requests(ASSETS)[0]["code"] is None


def test_slow_fault_answers_normally_after_the_delay(sandbox):
    sandbox.add_fault(AUTH + "/tenant_access_token/internal", "slow", delay=0.5)
    started = time.monotonic()
    body = post(sandbox, AUTH + "/tenant_access_token/internal", creds()).json()
    assert time.monotonic() - started >= 0.5
    assert body["code"] == 0 and body["tenant_access_token"].startswith("t-")


def test_ratelimit_fault(sandbox):
    token = tenant_token(sandbox)
    sandbox.add_fault(ASSETS, "ratelimit")
    resp = call(sandbox, "GET", ASSETS, token, params={"referral_account_id": "1"})
    assert resp.status_code == 429
    assert resp.json() == {"code": 99991400, "msg": "request trigger frequency limit"}
    assert resp.headers["x-ogw-ratelimit-limit"] == "10"
    assert resp.headers["x-ogw-ratelimit-reset"] == "1"


def test_drop_fault_closes_the_connection(sandbox):
    token = tenant_token(sandbox)
    sandbox.add_fault(REFERRAL, "drop")
    with pytest.raises(requests.ConnectionError):
        post(sandbox, REFERRAL, {"email": "na.li@demo.example"}, token)
    entry = sandbox.requests(REFERRAL)[0]
    assert (entry["status"], entry["fault"]) == (None, "drop")
    assert post(sandbox, REFERRAL, {"email": "na.li@demo.example"}, token).status_code == 200


def test_fault_validation(sandbox):
    from sandbox.control import SandboxError

    with pytest.raises(SandboxError):
        sandbox.add_fault(REFERRAL, "explode")
    with pytest.raises(SandboxError):
        sandbox.add_fault(REFERRAL, "5xx", count=0)


def test_request_log_records_every_openapi_call(sandbox):
    token = tenant_token(sandbox)
    aid = create_account(sandbox, token, mobile={"number": "13800001002"})["account_id"]
    call(sandbox, "GET", ASSETS, token, params={"referral_account_id": aid, "user_id_type": "user_id"})
    sandbox.state()  # control calls are not logged
    log = sandbox.requests()
    assert [(e["method"], e["path"], e["status"], e["code"]) for e in log] == [
        ("POST", AUTH + "/tenant_access_token/internal", 200, 0),
        ("POST", REFERRAL, 200, 0),
        ("GET", ASSETS, 200, 0),
    ]
    assert log[0]["json"] == {"app_id": creds()["app_id"], "app_secret": "***"}  # redacted
    assert log[1]["json"] == {"mobile": {"number": "13800001002"}}
    assert log[1]["headers"]["Authorization"] == f"Bearer {token}"
    assert log[2]["query"] == {"referral_account_id": aid, "user_id_type": "user_id"}
    assert log[2]["json"] is None
    assert all(isinstance(e["time"], float) for e in log)
    assert len({e["logid"] for e in log}) == 3
    assert sandbox.requests(ASSETS) == [log[2]]
    sandbox.clear_requests()
    assert sandbox.requests() == []


def test_logid_unique_and_matches_log(sandbox):
    token = tenant_token(sandbox)
    ids = {post(sandbox, REFERRAL, {"email": "ghost@x"}, token).headers["X-Tt-Logid"] for _ in range(5)}
    assert len(ids) == 5
    assert ids == {e["logid"] for e in sandbox.requests(REFERRAL)}


def test_unknown_api_and_bad_json(sandbox):
    token = tenant_token(sandbox)
    missing = call(sandbox, "GET", "/open-apis/hire/v1/nope", token)
    assert missing.status_code == 404 and missing.headers["X-Tt-Logid"]
    wrong_method = call(sandbox, "GET", FIELDS, token)
    assert wrong_method.status_code == 404
    bad = requests.post(
        sandbox.url + REFERRAL,
        data=b"{not json",
        timeout=5,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert (bad.status_code, bad.json()["code"]) == (400, 1002002)
    bad_auth = requests.post(sandbox.url + AUTH + "/tenant_access_token/internal", data=b"[1]", timeout=5)
    assert bad_auth.json()["code"] == 10003


def test_reset_restores_seed_state(sandbox):
    token = tenant_token(sandbox)
    create_account(sandbox, token, email="na.li@demo.example")
    sandbox.add_fault(REFERRAL, "5xx")
    sandbox.add_employee(name="临时", email="tmp@demo.example")
    sandbox.configure(webhook_url="http://127.0.0.1:9/", encrypt_key="k")
    sandbox.set_token_ttl(5)
    sandbox.advance_clock(3600)
    sandbox.reset()
    state = sandbox.state()
    assert state["accounts"] == [] and state["token_ttl"] == 7200
    assert sandbox.clock()["offset"] == 0  # so a test's clock never leaks into the next one
    assert not any(e["email"] == "tmp@demo.example" for e in state["employees"])
    assert sandbox.faults() == [] and sandbox.requests() == [] and sandbox.deliveries() == []
    assert sandbox.config()["webhook_url"] is None and sandbox.config()["encrypt_key"] == ""
    assert call(sandbox, "GET", ASSETS, token, params={"referral_account_id": "1"}).json()["code"] == 99991663


def test_a_caller_that_hangs_up_before_its_answer_costs_no_traceback(sandbox, capfd):
    """As Feishu's gateway, the sandbox drops a connection whose caller has gone: no
    traceback on stderr for each (a client's timeout, a test ending mid-call)."""
    import socket
    import struct

    host, port = sandbox.url.removeprefix("http://").split(":")
    body = b'{"app_id": "x", "app_secret": "y"}'
    request = (
        f"POST {AUTH}/tenant_access_token/internal HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    sandbox.add_fault(AUTH + "/tenant_access_token/internal", "slow", delay=0.2, count=5)
    for _ in range(5):
        with socket.create_connection((host, int(port))) as conn:
            conn.sendall(request)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # a reset
    deadline = time.monotonic() + 5
    while len(sandbox.requests(AUTH + "/tenant_access_token/internal")) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the last answers written into the closed connections
    assert len(sandbox.requests(AUTH + "/tenant_access_token/internal")) == 5
    assert "Traceback" not in capfd.readouterr().err
