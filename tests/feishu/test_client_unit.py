"""Client behaviour against a scripted HTTP stub (the sandbox tests cover the real path)."""

import logging
import threading
import time
from decimal import Decimal
from urllib.parse import urlsplit

import pytest
import requests

from hireops.feishu import (
    FeishuAuthError,
    FeishuBusinessError,
    FeishuRateLimited,
    FeishuServerError,
    FeishuTransportError,
)
from hireops.feishu.auth import cache_ttl
from hireops.feishu.http import environment_session

from .stubs import TOKEN_PATH, DictCache, StubFeishu, make_client

P = "/open-apis/x"
ERR = {"code": 1002001, "msg": "system error"}


def test_token_fetched_once_and_sent_as_bearer(tmp_path):
    client, stub, _ = make_client(tmp_path)
    for _ in range(3):
        client.request("GET", P, endpoint="e")
    assert len(stub.calls_to(TOKEN_PATH)) == 1
    assert stub.calls_to(TOKEN_PATH)[0]["json"] == {"app_id": "cli_stub", "app_secret": "secret-stub"}
    assert "Authorization" not in stub.calls_to(TOKEN_PATH)[0]["headers"]
    assert {c["headers"]["Authorization"] for c in stub.calls_to(P)} == {"Bearer t-stub1"}
    assert all(c["timeout"] == 10 for c in stub.calls)


def test_body_is_utf8_json_with_charset_and_fractions_parse_as_decimal(tmp_path):
    client, stub, _ = make_client(tmp_path)
    stub.add(P, (200, {"code": 0, "msg": "ok", "data": {"amount": 12.30}}, None))
    resp = client.request("POST", P, endpoint="e", json={"name": "王芳"})
    call = stub.calls_to(P)[0]
    assert call["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert call["json"] == {"name": "王芳"}
    assert resp.data == {"amount": Decimal("12.3")} and isinstance(resp.data["amount"], Decimal)
    assert resp.log_id == "log-2" and resp.http_status == 200


@pytest.mark.parametrize(("expire", "ttl"), [(7200, 6600), (100, 75), (4, 3), (1, 1)])
def test_cache_lifetime_keeps_a_margin(expire, ttl):
    assert cache_ttl(expire) == ttl


def test_token_freshness_follows_the_injected_clock(tmp_path):
    now = [1000.0]
    cache = DictCache()
    client, stub, _ = make_client(tmp_path, cache=cache, clock=lambda: now[0])
    first = client.tokens.tenant_token()
    value, until = cache._data[client.tokens._key("tenant_token")]
    assert value == (first, 1000.0 + 6600)  # refreshed 6600 s after fetching, on that clock
    assert 6590 < until - time.monotonic() <= 6600  # and the cache drops it after as many real seconds
    now[0] += 6599
    assert client.tokens.tenant_token() == first
    now[0] += 1
    assert client.tokens.tenant_token() != first
    assert len(stub.calls_to(TOKEN_PATH)) == 2


def test_rejected_token_is_replaced_once(tmp_path):
    client, stub, _ = make_client(tmp_path)
    client.request("GET", P, endpoint="e")
    stub.add(P, (400, {"code": 99991663, "msg": "token expired"}, None))
    client.request("GET", P, endpoint="e")  # a new token: Feishu did nothing with the old one
    assert [c["headers"]["Authorization"] for c in stub.calls_to(P)] == [
        "Bearer t-stub1",
        "Bearer t-stub1",
        "Bearer t-stub2",
    ]
    stub.add(P, *[(400, {"code": 99991663, "msg": "token expired"}, None)] * 2)
    with pytest.raises(FeishuAuthError) as exc:
        client.request("GET", P, endpoint="e")
    assert exc.value.code == 99991663 and len(stub.calls_to(TOKEN_PATH)) == 3


def test_a_stale_invalidation_does_not_drop_a_fresh_token(tmp_path):
    client, stub, _ = make_client(tmp_path)
    old = client.tokens.tenant_token()
    client.tokens.invalidate(token=old)
    new = client.tokens.tenant_token()
    client.tokens.invalidate(token=old)  # another process still holding the old one
    assert client.tokens.tenant_token() == new != old
    assert len(stub.calls_to(TOKEN_PATH)) == 2


def test_concurrent_threads_make_one_token_call(tmp_path):
    stub = StubFeishu(token_delay=0.3)
    cache = DictCache()
    clients = [make_client(tmp_path, stub, cache)[0] for _ in range(4)]  # separate clients, shared cache
    kwargs = {"endpoint": "e"}
    threads = [
        threading.Thread(target=c.request, args=("GET", P), kwargs=kwargs) for c in clients for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(stub.calls_to(TOKEN_PATH)) == 1
    assert len(stub.calls_to(P)) == 8


def test_429_waits_for_reset_header_and_pushes_back_the_shared_limiter(tmp_path):
    client, stub, sleeps = make_client(tmp_path)
    endpoint = "hire.referral_account.get_account_assets"
    limited = {"code": 99991400, "msg": "request trigger frequency limit"}
    stub.add(P, (429, limited, {"x-ogw-ratelimit-reset": "2"}))
    assert client.request("GET", P, endpoint=endpoint).data == {"echo": P}
    assert len(stub.calls_to(P)) == 2
    assert sleeps and max(sleeps) >= 2.0
    # Another process (another client on the same coordinator) now waits too.
    assert client.limiter.acquire("cli_stub", None, endpoint) >= 1.9


def test_429_without_header_backs_off_and_gives_up_after_the_bound(tmp_path):
    client, stub, sleeps = make_client(tmp_path, max_ratelimit_retries=2)
    stub.add(P, *[(429, {"code": 99991400, "msg": "limit"}, None)] * 3)
    with pytest.raises(FeishuRateLimited) as exc:
        client.request("GET", P, endpoint="e")
    assert exc.value.http_status == 429 and len(stub.calls_to(P)) == 3 and len(sleeps) == 2


def test_reset_header_is_capped(tmp_path):
    client, stub, sleeps = make_client(tmp_path)
    stub.add(P, (429, {"code": 99991400, "msg": "limit"}, {"x-ogw-ratelimit-reset": "86400"}))
    client.request("GET", P, endpoint="e")
    assert sleeps == [60.0]


def test_a_5xx_is_raised_at_once_for_the_task_to_retry(tmp_path):
    """The task's retries are the whole budget (hireops.outbound.retry): the client adds none."""
    client, stub, sleeps = make_client(tmp_path)
    stub.add(P, (500, ERR, None))
    with pytest.raises(FeishuServerError) as exc:
        client.request("POST", P, endpoint="e", json={})
    err = exc.value
    assert (err.code, err.http_status, err.log_id) == (1002001, 500, f"log-{len(stub.calls)}")
    assert err.retryable and len(stub.calls_to(P)) == 1 and sleeps == []


@pytest.mark.parametrize(
    ("failure", "maybe_applied"),
    [
        (requests.ConnectionError("reset by peer"), True),  # the request may have arrived
        (requests.ReadTimeout("slow"), True),
        (requests.ConnectTimeout("no route"), False),  # never reached Feishu
    ],
)
def test_a_lost_connection_is_raised_at_once_saying_whether_feishu_may_have_acted(
    tmp_path, failure, maybe_applied
):
    client, stub, sleeps = make_client(tmp_path)
    stub.add(P, failure)
    with pytest.raises(FeishuTransportError) as exc:
        client.request("POST", P, endpoint="e", json={})
    assert exc.value.code is None and exc.value.retryable
    assert exc.value.maybe_applied is maybe_applied
    assert len(stub.calls_to(P)) == 1 and sleeps == []


def test_non_json_502_and_business_errors_are_typed(tmp_path):
    client, stub, _ = make_client(tmp_path)
    stub.add(P, (502, b"<html>Bad Gateway</html>", {"Content-Type": "text/html", "X-Tt-Logid": "gw-1"}))
    with pytest.raises(FeishuServerError) as exc:
        client.request("GET", P, endpoint="e")
    assert (exc.value.code, exc.value.http_status, exc.value.log_id) == (None, 502, "gw-1")
    assert "non-JSON" in exc.value.msg
    stub.add(P, (400, {"code": 1002551, "msg": "user does not exist"}, None))
    with pytest.raises(FeishuBusinessError) as exc:
        client.request("GET", P, endpoint="e")
    assert (exc.value.code, exc.value.msg, exc.value.http_status) == (1002551, "user does not exist", 400)
    assert len(stub.calls_to(P)) == 2  # neither was retried


def test_a_full_local_queue_is_a_retryable_rate_limit(tmp_path):
    client, _, _ = make_client(tmp_path, max_rate_wait=1.0)
    endpoint = "hire.referral_account.create"  # 0.6 s spacing: the third caller would wait > 1 s
    client.request("GET", P, endpoint=endpoint)
    client.request("GET", P, endpoint=endpoint)
    with pytest.raises(FeishuRateLimited) as exc:
        client.request("GET", P, endpoint=endpoint)
    assert exc.value.retryable and exc.value.reset_after > 1.0


def test_logs_never_carry_tokens_secrets_or_bodies(tmp_path, caplog):
    client, stub, _ = make_client(tmp_path)
    stub.add(P, (400, {"code": 1002551, "msg": "user does not exist"}, None))
    caplog.set_level(logging.DEBUG, logger="hireops.feishu")
    with pytest.raises(FeishuBusinessError) as exc:
        client.request("POST", P, endpoint="e", json={"email": "fang.wang@demo.example"})
    text = caplog.text + str(exc.value) + repr(client)
    assert "status=400 code=1002551 log_id=log-2" in caplog.text
    for secret in ("t-stub1", "secret-stub", "fang.wang"):
        assert secret not in text


class VirtualClock:
    """Time that moves only when the code under test sleeps: a call takes no time, however
    loaded the machine, so the waits asserted are exact. Stands in for the ``time`` module of
    the client and of its coordinator (their wall and monotonic clocks are one here)."""

    def __init__(self):
        self.now = 1_800_000_000.0

    def time(self) -> float:
        return self.now

    monotonic = time

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_call_sent_late_moves_the_next_slots_by_as_much(tmp_path, monkeypatch):
    """A worker thread that wakes 50 ms after its slot (a busy machine): the next call keeps
    its full spacing from when that one really left, so no window of Feishu's counts one call
    too many (10/s: the slack per window is 31 ms)."""
    clock = VirtualClock()
    monkeypatch.setattr("hireops.feishu.http.time", clock)
    monkeypatch.setattr("hireops.feishu.coordination.time", clock)
    client, _stub, _ = make_client(tmp_path)
    waits = []

    def oversleeping(seconds):
        waits.append(seconds)
        clock.sleep(seconds + (0.05 if len(waits) == 1 else 0))

    client._sleep = oversleeping
    endpoint = "hire.referral_account.get_account_assets"  # 10/s: a slot every 103 ms
    for _ in range(3):
        client.request("GET", P, endpoint=endpoint)
    assert waits[0] == pytest.approx(0.103, abs=0.001)  # the second call, sent 50 ms late
    assert waits[1] == pytest.approx(0.103, abs=0.001)  # 53 ms had it not moved the slots


# --- The environment's proxy and CA bundle, read once ----------------------------------------


@pytest.fixture
def no_proxy_set(monkeypatch):
    for name in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)


def targets(receiver) -> list[str]:
    """The request line's target of the one request the receiver got (it records it after
    answering): an absolute URL when the client came through it as its proxy, a path when it
    came direct."""
    return [r.uri for r in receiver.wait_for(1)]


def test_the_environments_proxy_is_used_as_read_when_the_client_was_made(
    no_proxy_set, webhook_receiver, monkeypatch
):
    proxy = urlsplit(webhook_receiver.url)
    monkeypatch.setenv("HTTP_PROXY", f"http://{proxy.netloc}")
    session = environment_session("http://feishu.example")
    monkeypatch.delenv("HTTP_PROXY")  # not read again per request
    assert session.post("http://feishu.example/open-apis/x", timeout=5).status_code == 200
    assert targets(webhook_receiver) == ["http://feishu.example/open-apis/x"]  # through the proxy


def test_no_proxy_sends_the_client_direct(no_proxy_set, webhook_receiver, monkeypatch):
    here = urlsplit(webhook_receiver.url)
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # nothing listens there
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    session = environment_session(f"http://{here.netloc}")
    assert session.post(webhook_receiver.url, timeout=5).status_code == 200
    assert targets(webhook_receiver) == [here.path]


def test_the_environments_ca_bundle_verifies_the_client(monkeypatch, tmp_path):
    bundle = tmp_path / "ca.pem"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(bundle))
    assert environment_session("https://open.feishu.cn").verify == str(bundle)
    monkeypatch.delenv("REQUESTS_CA_BUNDLE")
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    assert environment_session("https://open.feishu.cn").verify is True
