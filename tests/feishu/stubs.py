"""Test doubles for unit tests of the client only: an in-memory cache and a requests
adapter that plays Feishu from a script (integration tests use the real sandbox)."""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict

import requests
from requests.adapters import BaseAdapter

from hireops.feishu import FeishuClient, FileCoordinator

BASE = "https://feishu.stub"
TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token/internal"


class DictCache:
    """get/set/delete with expiry, the subset of Django's cache API the client uses."""

    def __init__(self):
        self._data: dict = {}
        self._lock = threading.Lock()

    def get(self, key, default=None):
        with self._lock:
            value, until = self._data.get(key, (default, None))
            if until is not None and until <= time.monotonic():
                del self._data[key]
                return default
            return value

    def set(self, key, value, timeout=None):
        with self._lock:
            self._data[key] = (value, None if timeout is None else time.monotonic() + timeout)

    def delete(self, key):
        with self._lock:
            self._data.pop(key, None)


class StubFeishu(BaseAdapter):
    """Answers per path from a queue of scripted replies; falls back to ``default``.

    A reply is ``(status, body, headers)`` where body is a dict (sent as JSON) or bytes,
    or an exception instance to raise (a transport failure).
    """

    def __init__(self, token_delay: float = 0.0):
        super().__init__()
        self.calls: list[dict] = []
        self.script: dict[str, list] = defaultdict(list)
        self.token_delay = token_delay
        self._tokens = 0
        self._lock = threading.Lock()

    def add(self, path: str, *replies) -> None:
        self.script[path].extend(replies)

    def calls_to(self, path: str) -> list[dict]:
        return [c for c in self.calls if c["path"] == path]

    def send(self, request, **kwargs):
        path = request.path_url.split("?")[0]
        body = json.loads(request.body) if request.body else None
        with self._lock:
            self.calls.append(
                {
                    "method": request.method,
                    "path": path,
                    "headers": dict(request.headers),
                    "json": body,
                    "timeout": kwargs.get("timeout"),
                    "time": time.monotonic(),
                }
            )
            reply = self.script[path].pop(0) if self.script[path] else None
        if reply is None:
            reply = self._default(path)
        if isinstance(reply, Exception):
            raise reply
        status, payload, headers = reply
        resp = requests.Response()
        resp.status_code = status
        resp._content = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        resp.headers.update(
            {"Content-Type": "application/json", "X-Tt-Logid": f"log-{len(self.calls)}", **(headers or {})}
        )
        resp.request, resp.url = request, request.url
        return resp

    def _default(self, path):
        if path == TOKEN_PATH:
            if self.token_delay:
                time.sleep(self.token_delay)
            with self._lock:
                self._tokens += 1
                n = self._tokens
            return 200, {"code": 0, "msg": "ok", "tenant_access_token": f"t-stub{n}", "expire": 7200}, None
        return 200, {"code": 0, "msg": "ok", "data": {"echo": path}}, None

    def close(self):
        pass


def make_client(
    tmp_path, stub: StubFeishu | None = None, cache=None, **kw
) -> tuple[FeishuClient, StubFeishu, list]:
    stub = stub or StubFeishu()
    session = requests.Session()
    session.mount(BASE, stub)
    sleeps: list[float] = []
    client = FeishuClient(
        BASE,
        "cli_stub",
        "secret-stub",
        "self_built",
        cache=cache or DictCache(),
        coordinator=FileCoordinator(tmp_path / "coord"),
        session=session,
        sleep=sleeps.append,
        **kw,
    )
    return client, stub, sleeps
