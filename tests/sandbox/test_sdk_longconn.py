"""The official SDK's long-connection client (``lark_oapi.ws.Client``, unmodified) against the
sandbox: it discovers, connects, gets fragmented events, acknowledges them, and reconnects
after a drop. ``start()`` blocks for good on a module-level loop, so it runs in a subprocess."""

import os
import subprocess
import sys
import threading
import time
from importlib.util import find_spec

import pytest
from django.conf import settings

# The SDK is imported by the child alone: in this process it would load 11,000 modules for nothing.
pytestmark = pytest.mark.skipif(find_spec("lark_oapi") is None, reason="the official SDK is not installed")

SCRIPT = """
import os
import lark_oapi as lark


def on_account(data):
    print("EVENT", data.header.event_id, data.event.account_id, flush=True)


handler = (
    lark.EventDispatcherHandler.builder("", "")
    .register_p2_hire_eco_account_created_v1(on_account)
    .build()
)
client = lark.ws.Client(
    os.environ["APP_ID"],
    os.environ["APP_SECRET"],
    event_handler=handler,
    domain=os.environ["DOMAIN"],
    log_level=lark.LogLevel.ERROR,
)
print("READY", flush=True)  # imported (seconds of CPU: longer on a loaded machine) and built
client.start()
"""


class SdkProcess:
    def __init__(self, sandbox, tmp_path):
        script = tmp_path / "ws_client.py"
        script.write_text(SCRIPT)
        env = {
            **os.environ,
            "APP_ID": settings.FEISHU_APP_ID,
            "APP_SECRET": settings.FEISHU_APP_SECRET,  # the environment, not argv: ps shows argv
            "DOMAIN": sandbox.url,
        }
        self.proc = subprocess.Popen(
            [sys.executable, str(script)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._err: str | None = None
        self._cv = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            with self._cv:
                self.lines.append(line.strip())
                self._cv.notify_all()

    def wait_ready(self, timeout: float = 180.0) -> None:
        """Until the SDK is imported and its client built: lark_oapi's import alone takes 6 s
        of CPU, three times that on a loaded 2-core machine. The bound is for a hang, not a
        pace; a process that ends meanwhile fails at once, with what it wrote."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while "READY" not in self.lines:
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    break
                self._cv.wait(0.2)
            else:
                return
        raise AssertionError(f"the SDK never got ready: {self.lines} {self.kill()}")

    def wait_event(self, event_id: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        with self._cv:
            while True:
                for line in self.lines:
                    if line.startswith(f"EVENT {event_id} "):
                        return line
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    raise AssertionError(f"the SDK did not handle {event_id}: {self.lines}")
                self._cv.wait(min(left, 0.2))

    def kill(self) -> str:
        """Its end, and what it wrote to stderr (once; again gives the same)."""
        if self._err is None:
            self.proc.kill()
            self._err = self.proc.communicate(timeout=10)[1]
        return self._err


def wait_for_connection(sandbox, not_device=None, timeout=20.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connections = sandbox.longconn_connections()
        if len(connections) == 1 and connections[0]["device_id"] != not_device:
            return connections[0]
        time.sleep(0.05)
    raise AssertionError(f"no (new) SDK connection: {sandbox.longconn_connections()}")


@pytest.mark.processes
def test_the_official_ws_client_receives_acks_and_reconnects(sandbox, tmp_path):
    sandbox.configure(
        delivery="long_connection",
        fragment_bytes=64,  # the SDK must reassemble
        client_config={"ReconnectNonce": 1, "ReconnectInterval": 1, "ReconnectCount": -1},
    )
    sdk = SdkProcess(sandbox, tmp_path)
    try:
        sdk.wait_ready()
        first = wait_for_connection(sandbox)  # discovery and a WebSocket handshake
        event = sandbox.bind_account()
        line = sdk.wait_event(event["header"]["event_id"])
        assert line.endswith(event["event"]["account_id"])
        assert sandbox.server.pusher.wait_idle()
        (record,) = sandbox.deliveries()
        assert (record["transport"], record["connection"], record["status"], record["error"]) == (
            "long_connection",
            first["device_id"],
            200,
            None,
        )
        listed = sandbox.longconn_connections()[0]
        assert listed["pings"] >= 1 and listed["acked"] == 1  # the SDK pings as soon as it connects
        assert len(sandbox.requests("/callback/ws/endpoint")) == 1

        assert sandbox.longconn_drop() == {"dropped": 1}
        wait_for_connection(sandbox, not_device=first["device_id"])  # rediscovered and reconnected
        assert len(sandbox.requests("/callback/ws/endpoint")) == 2
        again = sandbox.bind_account()
        sdk.wait_event(again["header"]["event_id"])
        assert sandbox.server.pusher.wait_idle()
        assert [d["status"] for d in sandbox.deliveries()] == [200, 200]
    finally:
        err = sdk.kill()
    assert "Traceback" not in err, err
