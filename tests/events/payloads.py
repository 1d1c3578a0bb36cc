"""Build Feishu deliveries the way Feishu does, independently of our own crypto module.

Encryption uses pycryptodome exactly as in the lark-oapi verification recipe
(docs/feishu.md §6.6), so a bug in hireops.feishu.crypto cannot hide itself.
"""

import base64
import hashlib
import json
import os
import time
import uuid

from Crypto.Cipher import AES
from Crypto.Util.Padding import pad

ENCRYPT_KEY = "test-encrypt-key"
TOKEN = "test-verification-token"


def lark_encrypt(plain: str, key: str = ENCRYPT_KEY) -> str:
    iv = os.urandom(16)
    cipher = AES.new(hashlib.sha256(key.encode()).digest(), AES.MODE_CBC, iv)
    return base64.b64encode(iv + cipher.encrypt(pad(plain.encode(), 16))).decode()


def lark_sign(ts: str, nonce: str, key: str, body: bytes) -> str:
    return hashlib.sha256((ts + nonce + key).encode("utf-8") + body).hexdigest()


def eco_account_event(event_id=None, token=TOKEN, **event):
    return {
        "schema": "2.0",
        "header": {
            "event_id": event_id or uuid.uuid4().hex,
            "event_type": "hire.eco_account.created_v1",
            "create_time": str(int(time.time() * 1000)),
            "token": token,
            "app_id": "cli_test",
            "tenant_key": "tenant-a",
        },
        "event": {
            "scope": 1,
            "account_id": "acc-1",
            "account_name": "背调账号",
            "usage_list": [1],
            "custom_field_list": [{"key": "account_token", "value": "ABC123"}],
            **event,
        },
    }


def app_ticket_event(ticket="ticket-1", app_id="cli_test", token=TOKEN):
    return {
        "ts": str(int(time.time())),
        "uuid": uuid.uuid4().hex,
        "token": token,
        "type": "event_callback",
        "event": {"app_id": app_id, "app_ticket": ticket, "type": "app_ticket"},
    }


def signed(payload: dict, *, key: str = ENCRYPT_KEY, encrypt: bool = True, ts: str | None = None):
    """Return (raw_body, headers) for a delivery signed like Feishu's."""
    body = json.dumps({"encrypt": lark_encrypt(json.dumps(payload), key)} if encrypt else payload).encode()
    ts = ts or str(int(time.time()))
    nonce = uuid.uuid4().hex
    headers = {
        "X-Lark-Request-Timestamp": ts,
        "X-Lark-Request-Nonce": nonce,
        "X-Lark-Signature": lark_sign(ts, nonce, key, body),
    }
    return body, headers


def post_delivery(client, body: bytes, headers: dict):
    """POST a delivery through the Django view, then wait for its processing to be queued
    (with eager Celery: to run). Processing happens after the answer, in the background."""
    from hireops.events.publisher import publisher

    resp = client.post("/feishu/events/", data=body, content_type="application/json", headers=headers)
    assert publisher.flush(), "the event publisher did not drain"
    return resp


def deliver_concurrently(url: str, body: bytes, headers: dict, n: int = 20) -> list[int]:
    """POST the same delivery n times at once (threads released together); the statuses."""
    import threading

    import requests

    barrier, statuses = threading.Barrier(n), []

    def deliver():
        barrier.wait()
        r = requests.post(url, data=body, timeout=10, headers={**headers, "Content-Type": "application/json"})
        statuses.append(r.status_code)

    threads = [threading.Thread(target=deliver) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return statuses
