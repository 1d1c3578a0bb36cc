"""pytest plugin: the Feishu sandbox and a scriptable webhook receiver.

- ``sandbox_server`` (session): a SandboxServer on a free port, app_id/secret from
  Django settings, short retry delays so retried pushes finish within a test.
- ``sandbox`` (function): resets the server, points ``settings.FEISHU_BASE_URL``
  at it, clears the lark-oapi SDK's process-wide token cache (its tokens die
  with the reset) and returns a SandboxControl with ``.url`` and ``.server``. The Hire
  app may sign users in (web login) with the redirect URI ``LOGIN_CALLBACK``.
- ``webhook_receiver`` (function): a tiny HTTP server recording every POST.
  Script answers with ``receiver.statuses = [500, 503]`` (then 200) or
  ``receiver.handler = fn(recorded) -> (status, body) | status``. ``recorded`` has
  ``uri``, ``headers`` (dict, names as sent), ``body`` (raw bytes) and ``json()``.
"""

import json
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

import pytest

from sandbox.control import SandboxControl
from sandbox.server import QuietHTTPServer, SandboxServer

TEST_RETRY_DELAYS = (0.2, 0.5, 1, 2)
LOGIN_CALLBACK = "http://testserver/accounts/feishu/login/callback/"


@pytest.fixture(scope="session")
def sandbox_server():
    from django.conf import settings

    server = SandboxServer(
        "127.0.0.1",
        0,
        app_id=settings.FEISHU_APP_ID,
        app_secret=settings.FEISHU_APP_SECRET,
        retry_delays=TEST_RETRY_DELAYS,
        ticket_resend_delay=0.0,  # tests that need Feishu's delay set it (configure)
        ws_port=0,  # the long connection on any free port
        # Web login: allauth's callback as Django's test client builds it (http://testserver).
        login_redirect_uris=(LOGIN_CALLBACK,),
    ).start()
    yield server
    server.stop()


def _clear_sdk_token_cache() -> None:
    """Only where a test imported the SDK: importing it loads 11,000 modules (5 s of CPU), and
    a process that never did holds no token of it."""
    if "lark_oapi" not in sys.modules:
        return
    from lark_oapi.core.token.manager import TokenManager

    cache = getattr(TokenManager.cache, "cache", None)
    if isinstance(cache, dict):
        cache.clear()


@pytest.fixture
def sandbox(sandbox_server, settings):
    sandbox_server.reset()
    _clear_sdk_token_cache()
    settings.FEISHU_BASE_URL = sandbox_server.url
    control = SandboxControl(sandbox_server.url)
    control.server = sandbox_server
    yield control
    # Stop scheduled retries from reaching receivers of the next test.
    sandbox_server.reset()


@dataclass
class RecordedRequest:
    method: str
    uri: str
    headers: dict
    body: bytes
    time: float = field(default_factory=time.time)

    def json(self):
        return json.loads(self.body)


class WebhookReceiver:
    def __init__(self):
        self.requests: list[RecordedRequest] = []
        self.statuses: list[int] = []
        self.handler = None
        self._cv = threading.Condition()
        receiver = self

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                rec = RecordedRequest("POST", self.path, dict(self.headers.items()), raw)
                status, body = receiver._answer(rec)
                data = body if isinstance(body, bytes) else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                with receiver._cv:
                    receiver.requests.append(rec)
                    receiver._cv.notify_all()

        self._httpd = QuietHTTPServer(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}/feishu/events/"

    def _answer(self, rec):
        if self.handler is not None:
            result = self.handler(rec)
            # A handler may return just a status, or (status, body).
            return (result, {"msg": "ok"}) if isinstance(result, int) else result
        with self._cv:
            status = self.statuses.pop(0) if self.statuses else 200
        return status, {"msg": "ok" if status == 200 else "scripted failure"}

    def wait_for(self, n: int, timeout: float = 10.0) -> list[RecordedRequest]:
        deadline = time.monotonic() + timeout
        with self._cv:
            while len(self.requests) < n:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {n} webhook requests, got {len(self.requests)}")
                self._cv.wait(left)
            return list(self.requests)

    def close(self):
        self._httpd.shutdown()
        self._httpd.server_close()


@pytest.fixture
def webhook_receiver():
    receiver = WebhookReceiver()
    yield receiver
    receiver.close()
