"""The listener's client (hireops.feishu.longconn.client) in this process, against the
sandbox's long connection, with an in-memory handler: the protocol's rules without a
database."""

import asyncio
import threading
import time

import pytest

from hireops.feishu.longconn.client import LongConnClient
from hireops.feishu.longconn.protocol import ClientConfig

FAST = {"PingInterval": 1, "ReconnectNonce": 0, "ReconnectInterval": 1, "ReconnectCount": -1}


class Running:
    """A client's ``run`` on its own event loop and thread; ``received`` holds the payloads."""

    def __init__(self, sandbox, handler=None, secret=None, **kwargs):
        from django.conf import settings

        self.received: list[bytes] = []
        self._handler = handler
        self.client = LongConnClient(
            sandbox.url,
            settings.FEISHU_APP_ID,
            secret or settings.FEISHU_APP_SECRET,
            self._handle,
            **kwargs,
        )
        self._ready = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._main(),), daemon=True)
        self._thread.start()
        self._ready.wait(5)

    async def _handle(self, kind, payload):
        self.received.append(payload)
        return await self._handler(payload) if self._handler else 200

    async def _main(self):
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        self._ready.set()
        await self.client.run(self._stop)

    def stop(self):
        if not self._thread.is_alive():
            return
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(15)
        assert not self._thread.is_alive()


@pytest.fixture
def running(sandbox):
    sandbox.configure(delivery="long_connection", ack_timeout=1.0, client_config=FAST)
    started = []

    def start(**kwargs) -> Running:
        started.append(Running(sandbox, **kwargs))
        return started[-1]

    yield start
    for r in started:
        r.stop()


def wait(condition, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached")


def test_retry_delays_honour_the_servers_reconnect_settings():
    client = LongConnClient("http://x", "a", "b", None)
    client.config = ClientConfig(ReconnectInterval=8, ReconnectCount=3)
    for failures, cap in ((1, 1), (2, 2), (3, 4)):
        delays = [client._retry_delay(failures, permanent=False) for _ in range(200)]
        assert all(0 <= d <= cap for d in delays) and len(set(delays)) > 100  # jittered
    assert client._retry_delay(4, permanent=False) == 8  # past ReconnectCount: the slow pace
    assert client._retry_delay(1, permanent=True) == 8  # refused for good: the slow pace
    client.config = ClientConfig(ReconnectInterval=8, ReconnectCount=-1)
    assert client._retry_delay(10, permanent=False) <= 8


def test_a_wrong_secret_is_said_and_retried_at_the_slow_pace(sandbox, running):
    r = running(secret="not-the-secret")
    wait(lambda: "code 514" in r.client.state.reason, what="refusal stated")
    assert not r.client.state.connected and sandbox.longconn_connections() == []


def test_a_busy_discovery_is_retried_until_it_connects(sandbox, running):
    sandbox.add_fault("/callback/ws/endpoint", "error", count=2, status=200, code=1, msg="system busy")
    r = running()
    wait(lambda: r.client.state.connected, what="connected")
    assert r.client.state.reconnects == 2


def test_too_many_connections_is_reported_then_retried(sandbox, running):
    sandbox.longconn_refuse(count=1, status=514, autherrcode=1000040350, msg="too many connections")
    r = running()
    wait(lambda: r.client.state.connected, what="connected after the refusal")
    assert r.client.state.reconnects == 1


def test_a_failing_handler_is_acknowledged_500_and_the_event_comes_again(sandbox, running):
    calls = []

    async def flaky(payload):
        calls.append(payload)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return 200

    r = running(handler=flaky)
    wait(lambda: r.client.state.connected, what="connected")
    event_id = sandbox.push_app_ticket()["uuid"]
    wait(lambda: len(calls) == 2, what="redelivered")

    def codes():
        return [d["status"] for d in sandbox.deliveries() if d["event_id"] == event_id]

    # The handler's 200 reaches the sandbox's log a moment after the handler returns it.
    wait(lambda: len(codes()) == 2, what="the second answer logged")
    assert codes() == [500, 200] and calls[0] == calls[1]


def test_the_pong_carries_new_settings_that_apply_at_once(sandbox, running):
    r = running()
    wait(lambda: r.client.state.connected, what="connected")
    assert r.client.config.PingInterval == 1
    sandbox.configure(client_config={**FAST, "PingInterval": 7})
    wait(lambda: r.client.config.PingInterval == 7, what="new ping interval applied")


def test_stop_closes_the_connection_cleanly(sandbox, running):
    r = running()
    wait(lambda: len(sandbox.longconn_connections()) == 1, what="connected")
    r.stop()
    wait(lambda: sandbox.longconn_connections() == [], what="closed")
    assert r.client.state.reason == "stopped"
