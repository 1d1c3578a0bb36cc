"""Webhook pushes the way Feishu sends them (docs/feishu.md §5.2).

One background thread delivers events in due-time order. Each attempt has 3 s
to get an HTTP 200; anything else is retried after ``retry_delays`` (Feishu:
15 s, 5 min, 1 h, 6 h, so at most 4 retries) with the same event_id / uuid.
Every attempt lands in ``deliveries``. With an encrypt key the body is
``{"encrypt": ...}`` and signed with X-Lark-* headers (crypto.encrypt/sign),
re-encrypted per attempt with a fresh timestamp and nonce.

``delivery`` picks the channel: the webhook, the long connection (docs/feishu.md §12: plain
JSON handed to ``long_connection``, the hub of longconn.py, which answers through a callback so
the thread never waits for an acknowledgement), or both (a test aid: a receiver running both
transports must dedupe). A failed attempt is retried on the channel it failed on.
"""

import heapq
import itertools
import json
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict

import requests

from hireops.feishu import crypto
from hireops.feishu.longconn.protocol import ACK_TIMEOUT, ClientConfig

DEFAULT_RETRY_DELAYS = (15, 300, 3600, 21600)
PUSH_TIMEOUT = 3.0
APP_TICKET_INTERVAL = 3600.0  # Feishu pushes app_ticket every hour


def _trim(log: list, cap: int = 50_000) -> None:
    # A long-running dev sandbox must not grow forever.
    if len(log) > cap:
        del log[: cap // 10]


# How long Feishu takes to push the app_ticket after app_ticket/resend. Its page says
# "immediately" and gives no figure (docs/feishu.md §7.6); after a restart it has been seen
# to take about two minutes, which is what a client must survive. Tests shorten it.
TICKET_RESEND_DELAY = 120.0

WEBHOOK, LONG_CONNECTION, BOTH = "webhook", "long_connection", "both"
DELIVERY_MODES = (WEBHOOK, LONG_CONNECTION, BOTH)
FRAGMENT_BYTES = 32768  # CHOICE: Feishu's fragment size is unknown; tests shrink it to force splits


def client_config_of(value) -> ClientConfig:
    """A ClientConfig from one or a dict of its four fields (missing ones: the SDK's defaults);
    strict, because the SDK sleeps on these numbers (docs/feishu.md §12.2)."""
    if isinstance(value, ClientConfig) or value is None:
        return value or ClientConfig()
    if not isinstance(value, dict):
        raise ValueError("client_config must be an object")
    fields = asdict(ClientConfig())
    unknown = set(value) - set(fields)
    if unknown:
        raise ValueError(f"unknown client_config field(s): {', '.join(sorted(unknown))}")
    for name, number in value.items():
        lowest = -1 if name == "ReconnectCount" else 0
        if not isinstance(number, int) or isinstance(number, bool) or number < lowest:
            raise ValueError(f"client_config.{name} must be an integer >= {lowest}")
    return ClientConfig(**{**fields, **value})


class PushConfig:
    def __init__(
        self,
        webhook_url=None,
        encrypt_key="",
        verification_token="",
        retry_delays=DEFAULT_RETRY_DELAYS,
        ticket_resend_delay=TICKET_RESEND_DELAY,
        delivery=WEBHOOK,
        ack_timeout=ACK_TIMEOUT,
        fragment_bytes=FRAGMENT_BYTES,
        client_config=None,
        max_in_flight=None,
    ):
        self.webhook_url = webhook_url or None
        self.encrypt_key = encrypt_key or ""
        self.verification_token = verification_token or ""
        self.retry_delays = tuple(float(d) for d in retry_delays)
        self.ticket_resend_delay = max(0.0, float(ticket_resend_delay))
        if delivery not in DELIVERY_MODES:
            raise ValueError(f"delivery must be one of {', '.join(DELIVERY_MODES)}")
        self.delivery = delivery
        self.ack_timeout = float(ack_timeout)
        if self.ack_timeout <= 0:
            raise ValueError("ack_timeout must be positive")
        self.fragment_bytes = int(fragment_bytes)
        if self.fragment_bytes < 1:
            raise ValueError("fragment_bytes must be at least 1")
        self.client_config = client_config_of(client_config)
        # A closed loop (benchmarks): at most this many long-connection attempts awaiting their
        # acknowledgement; the next waits for an ack or its deadline. Feishu documents no such
        # window, so unbounded (None) unless set.
        self.max_in_flight = None if max_in_flight in (None, 0) else int(max_in_flight)
        if self.max_in_flight is not None and self.max_in_flight < 1:
            raise ValueError("max_in_flight must be a positive number of attempts (0: unbounded)")

    def window_full(self, in_flight: int) -> bool:
        return self.max_in_flight is not None and in_flight >= self.max_in_flight

    def as_dict(self) -> dict:
        return {
            "webhook_url": self.webhook_url,
            "encrypt_key": self.encrypt_key,
            "verification_token": self.verification_token,
            "retry_delays": list(self.retry_delays),
            "ticket_resend_delay": self.ticket_resend_delay,
            "delivery": self.delivery,
            "ack_timeout": self.ack_timeout,
            "fragment_bytes": self.fragment_bytes,
            "client_config": asdict(self.client_config),
            "max_in_flight": self.max_in_flight or 0,
        }

    def transports(self, pinned: str | None) -> tuple[str, ...]:
        """Where an attempt goes: a retry stays on the channel that failed while that channel
        is still in use; a first attempt goes wherever ``delivery`` says."""
        wanted = (WEBHOOK, LONG_CONNECTION) if self.delivery == BOTH else (self.delivery,)
        return (pinned,) if pinned in wanted else wanted  # type: ignore[return-value]  # pinned: one of them


def envelope_v2(
    event_type: str, event: dict, *, app_id: str, tenant_key: str, token: str, now: float
) -> dict:
    """``now`` is Feishu's time (the sandbox clock), stamped as create_time."""
    return {
        "schema": "2.0",
        "header": {
            "event_id": uuid.uuid4().hex,
            "event_type": event_type,
            "create_time": str(int(now * 1000)),
            "token": token,
            "app_id": app_id,
            "tenant_key": tenant_key,
        },
        "event": event,
    }


def app_ticket_v1(app_id: str, ticket: str, token: str, *, now: float) -> dict:
    # Schema 1.0 (docs/feishu.md §1.2): no header, token at top level, type inside event.
    return {
        "ts": f"{now:.6f}",
        "uuid": uuid.uuid4().hex,
        "token": token,
        "type": "event_callback",
        "event": {"app_id": app_id, "app_ticket": ticket, "type": "app_ticket"},
    }


def lifecycle_v1(
    app_id: str, tenant_key: str, kind: str, token: str, *, now: float, status: str = ""
) -> dict:
    """A store app's tenant lifecycle event (docs/feishu-api-2.md §1.1): schema 1.0, like app_ticket."""
    event: dict = {"app_id": app_id, "tenant_key": tenant_key, "type": kind}
    if kind == "app_open":
        event["applicants"] = [{"open_id": "ou_sandbox_applicant"}]
        event["installer"] = {"open_id": "ou_sandbox_admin"}
    elif kind == "app_status_change":
        event["status"] = status
        if status == "start_by_tenant":
            event["operator"] = {"open_id": "ou_sandbox_admin", "union_id": "on_sandbox_admin"}
    return {
        "ts": f"{now:.6f}",
        "uuid": uuid.uuid4().hex,
        "token": token,
        "type": "event_callback",
        "event": event,
    }


def event_id_of(payload: dict) -> str:
    return payload.get("header", {}).get("event_id") or payload.get("uuid", "")


def event_type_of(payload: dict) -> str:
    return payload.get("header", {}).get("event_type") or payload.get("event", {}).get("type", "")


class EventPusher:
    def __init__(self, config: PushConfig, on_tick=None, tick_interval=APP_TICKET_INTERVAL):
        self.config = config
        self.on_tick = on_tick  # called every tick_interval (hourly app_ticket)
        self.tick_interval = tick_interval
        # deliver(body, *, ack_timeout, fragment_bytes, on_done): the long connection (longconn.py)
        self.long_connection: Callable[..., None] | None = None
        self._cv = threading.Condition()
        self._queue: list = []  # heap of (due, seq, generation, payload, attempt, transport)
        self._seq = itertools.count()
        self._generation = 0
        self._next_tick = time.monotonic() + tick_interval
        self.deliveries: list[dict] = []
        self.events: list[dict] = []
        self._stopped = False
        self._busy = False
        self._in_flight: set = set()  # long-connection attempts waiting for their acknowledgement
        self._thread = threading.Thread(target=self._run, name="feishu-sandbox-pusher", daemon=True)
        self._session = requests.Session()  # keep-alive to the webhook, used by the pusher thread only
        self._session_generation = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        with self._cv:
            self._stopped = True
            self._cv.notify_all()
        self._thread.join(timeout=PUSH_TIMEOUT + 2)
        self._session.close()  # let the webhook's server end its keep-alive connection

    def reset(self, config: PushConfig) -> None:
        with self._cv:
            self.config = config
            self._queue.clear()
            self._generation += 1  # an attempt in flight from before the reset is not logged
            self._in_flight.clear()
            self.deliveries.clear()
            self.events.clear()
            self._cv.notify_all()

    def push(self, payload: dict, delay: float = 0.0) -> dict:
        """Deliver ``payload`` now, or ``delay`` seconds from now."""
        with self._cv:
            self.events.append(payload)
            _trim(self.events)
            due = time.monotonic() + delay
            heapq.heappush(self._queue, (due, next(self._seq), self._generation, payload, 1, None))
            self._cv.notify_all()
        return payload

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once nothing is due now or in flight (scheduled retries may remain)."""
        deadline = time.monotonic() + timeout
        with self._cv:
            while (self._queue and self._queue[0][0] <= time.monotonic()) or self._busy or self._in_flight:
                if time.monotonic() > deadline:
                    return False
                self._cv.wait(0.05)
            return True

    def _run(self) -> None:
        while True:
            with self._cv:
                while not self._stopped:
                    now = time.monotonic()
                    if now >= self._next_tick:
                        break
                    if self._queue and self._queue[0][0] <= now:
                        if not self.config.window_full(len(self._in_flight)):
                            break
                        self._cv.wait(max(0.0, self._next_tick - now))  # an ack wakes it
                        continue
                    wake = self._next_tick
                    if self._queue:
                        wake = min(wake, self._queue[0][0])
                    self._cv.wait(max(0.0, wake - now))
                if self._stopped:
                    return
                item = None
                if time.monotonic() >= self._next_tick:
                    self._next_tick = time.monotonic() + self.tick_interval
                else:
                    item = heapq.heappop(self._queue)
                    self._busy = True
                config = self.config
            if item is None:
                if self.on_tick:
                    self.on_tick()
                continue
            try:
                if item[2] != self._session_generation:  # a reset: the webhook may be another server
                    self._session.close()
                    self._session_generation = item[2]
                self._attempt(config, *item)
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()

    def _attempt(self, config: PushConfig, _due, _seq, generation, payload, attempt, pinned) -> None:
        for transport in config.transports(pinned):
            record = {
                "event_id": event_id_of(payload),
                "event_type": event_type_of(payload),
                "attempt": attempt,
                "transport": transport,
                "url": None,
                "connection": None,
                "status": None,
                "error": None,
                "time": time.time(),
            }
            if transport == WEBHOOK:
                self._post(config, payload, record)
                self._settle(record, config, generation, payload)
            else:
                self._hand_over(config, generation, payload, record)

    def _post(self, config: PushConfig, payload: dict, record: dict) -> None:
        record["url"] = config.webhook_url
        if not config.webhook_url:
            record["error"] = "no webhook_url configured"
            return
        body, headers = self._encode(payload, config)
        try:
            resp = self._session.post(config.webhook_url, data=body, headers=headers, timeout=PUSH_TIMEOUT)
            record["status"] = resp.status_code
            if resp.status_code != 200:
                record["error"] = f"HTTP {resp.status_code}"
        except requests.RequestException as exc:
            record["error"] = f"{type(exc).__name__}: {exc}"

    def _hand_over(self, config: PushConfig, generation, payload: dict, record: dict) -> None:
        """Give the attempt to the long connection and return: its outcome comes back on the
        hub's thread, which settles it like a webhook attempt."""
        if self.long_connection is None:
            record["error"] = "no long connection"
            self._settle(record, config, generation, payload)
            return
        token = object()
        with self._cv:
            self._in_flight.add(token)

        def done(outcome: dict) -> None:
            record.update(outcome)
            try:
                self._settle(record, config, generation, payload)
            finally:
                with self._cv:
                    window_was_full = self.config.window_full(len(self._in_flight))
                    self._in_flight.discard(token)
                    # What wait_idle and a full window wait for; waking the pusher thread at
                    # every other ack would cost it as much as a push.
                    if not self._in_flight or window_was_full:
                        self._cv.notify_all()

        # Plain JSON, never the encrypt wrapper: the channel was authenticated at connect time.
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.long_connection(
            body, ack_timeout=config.ack_timeout, fragment_bytes=config.fragment_bytes, on_done=done
        )

    def _settle(self, record: dict, config: PushConfig, generation, payload: dict) -> None:
        """Log the attempt and schedule its retry per Feishu's schedule when it failed."""
        with self._cv:
            if generation != self._generation:
                return
            self.deliveries.append(record)
            _trim(self.deliveries)
            # Nothing to retry against without a URL; otherwise retry per Feishu's schedule.
            reachable = record["transport"] == LONG_CONNECTION or config.webhook_url
            attempt = record["attempt"]
            if record["error"] and reachable and attempt <= len(config.retry_delays):
                due = time.monotonic() + config.retry_delays[attempt - 1]
                heapq.heappush(
                    self._queue,
                    (due, next(self._seq), generation, payload, attempt + 1, record["transport"]),
                )
                self._cv.notify_all()

    @staticmethod
    def _encode(payload: dict, config: PushConfig) -> tuple[bytes, dict]:
        plain = json.dumps(payload, ensure_ascii=False)
        # X-Request-Id: the SDKs log it; whether Feishu always sends it is UNCONFIRMED (docs/feishu.md §1.3).
        headers = {"Content-Type": "application/json; charset=utf-8", "X-Request-Id": uuid.uuid4().hex}
        if not config.encrypt_key:
            return plain.encode("utf-8"), headers
        body = json.dumps({"encrypt": crypto.encrypt(plain, config.encrypt_key)}).encode("utf-8")
        # Real time, not the sandbox clock: the receiver checks it against its own clock.
        ts, nonce = str(int(time.time())), secrets.token_hex(8)
        headers.update(
            {
                "X-Lark-Request-Timestamp": ts,
                "X-Lark-Request-Nonce": nonce,
                "X-Lark-Signature": crypto.sign(ts, nonce, config.encrypt_key, body),
            }
        )
        return body, headers
