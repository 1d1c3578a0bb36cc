"""A partner's webhook receiver, for people trying hireops (``./dev run``): ``POST
/partner/hooks`` takes hireops' deliveries, verifies each Standard Webhooks signature with the
secret it shares with the demo's endpoint (``SANDBOX_PARTNER_SECRET``) and keeps what arrived;
``GET /partner/`` lists it, newest first (``GET /partner/events``: the same as JSON).

It stands for the partner, not for Feishu: nothing of Feishu's behaviour is emulated here, and
like the rest of the sandbox it is never deployed. Verification is written out (HMAC-SHA256
over ``id.timestamp.body``, the timestamp within 5 minutes) so the receiver needs nothing the
runtime does not install; the tests check hireops' signatures with the specification's own
library as well.
"""

import base64
import hashlib
import hmac
import html
import json
import time
from collections import deque

TOLERANCE = 300  # seconds: older or newer timestamps are refused (replays)
KEPT = 500


class Receiver:
    def __init__(self, secret: str = ""):
        self.secret = secret
        self.received: deque = deque(maxlen=KEPT)

    def verified(self, headers, body: bytes) -> str:
        """ "" when the delivery is signed with our secret and fresh, else why not."""
        if not self.secret:
            return "no secret configured (SANDBOX_PARTNER_SECRET)"
        msg_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
        try:
            if abs(time.time() - int(stamp)) > TOLERANCE:
                return "timestamp outside 5 minutes"
        except ValueError:
            return "no timestamp"
        key = base64.b64decode(self.secret.removeprefix("whsec_"))
        expected = base64.b64encode(
            hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
        )
        for signature in headers.get("webhook-signature", "").split():
            version, _, value = signature.partition(",")
            if version == "v1" and hmac.compare_digest(value.encode(), expected):
                return ""
        return "no signature matches"

    def take(self, headers, body: bytes) -> int:
        problem = self.verified(headers, body)
        try:
            payload = json.loads(body)
        except ValueError:
            payload = None
        self.received.appendleft(
            {
                "received_at": time.time(),
                "webhook_id": headers.get("webhook-id", ""),
                "type": payload.get("type") if isinstance(payload, dict) else None,
                "verified": not problem,
                "problem": problem,
                "payload": payload,
            }
        )
        return 401 if problem else 204

    def page(self) -> str:
        rows = "".join(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>".format(
                time.strftime("%H:%M:%S", time.localtime(r["received_at"])),
                html.escape(str(r["type"])),
                html.escape(r["webhook_id"]),
                "✓ verified" if r["verified"] else "✗ " + html.escape(r["problem"]),
                html.escape(
                    json.dumps((r["payload"] or {}).get("data"), ensure_ascii=False, indent=1)[:2000]
                ),
            )
            for r in self.received
        )
        return (
            "<!doctype html><meta charset=utf-8><meta http-equiv=refresh content=3>"
            "<title>Demo partner: webhooks received</title>"
            "<h1>Demo partner: webhooks received from hireops</h1>"
            f"<p>{len(self.received)} kept (newest first; the page refreshes itself).</p>"
            "<table border=1 cellpadding=4><tr><th>at</th><th>type</th><th>webhook-id</th>"
            f"<th>signature</th><th>data</th></tr>{rows}</table>"
        )
