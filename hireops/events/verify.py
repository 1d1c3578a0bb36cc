"""Verify and parse one Feishu event delivery: raw bytes in, a trusted envelope out.

Pure functions, no database: the view stores what this returns. Every refusal is a
``Rejected`` with the HTTP status, a short reason for Feishu's delivery log, and a stable
``kind`` (a slug: metrics label, the rejected-deliveries log's filter and hint).

Choices where docs/feishu.md is silent or UNCONFIRMED:
- Timestamp window. Feishu retries a failed delivery after 15 s, 5 min, 1 h and 6 h
  (about 7 h after the first try), and whether a retry carries a fresh timestamp is
  not documented. We accept timestamps up to ``MAX_AGE`` (24 h) old and
  ``MAX_SKEW_AHEAD`` (15 min) in the future, so no Feishu retry is ever dropped;
  replays inside the window are stopped by the unique event_id instead. The unit is
  not documented either: 10-digit values are read as seconds, 13-digit as ms. A
  timestamp that is not a number is accepted (the signature still covers it), since
  refusing it could refuse a legitimate delivery.
- A plain (unencrypted) body while an Encrypt Key is configured is accepted like the
  official SDK does, but its signature is still required.
- JSON nested deeper than ``MAX_DEPTH`` is refused (``too_deep``), before or after
  decryption: Feishu's events nest a handful of levels, and a deeper body would only exhaust
  Python's recursion limit here or later (storing it, masking it on a page). Counting the
  brackets is the cheap check; only a body with more of them than ``MAX_DEPTH`` is walked.
- Over the long connection (``parse_long_connection``) there is no signature and no
  verification token check: Feishu authenticated the channel with the app secret when it
  was opened (docs/feishu.md §12.1), and whether its events carry the token is
  UNCONFIRMED, so checking it could refuse every event. An encrypted body is still
  decrypted, should Feishu ever send one.
"""

import hmac
import json
import time
from dataclasses import dataclass
from enum import StrEnum

from hireops.feishu import crypto

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 64
MAX_AGE = 24 * 3600
MAX_SKEW_AHEAD = 15 * 60

H_TIMESTAMP = "X-Lark-Request-Timestamp"
H_NONCE = "X-Lark-Request-Nonce"
H_SIGNATURE = "X-Lark-Signature"


class Kind(StrEnum):
    """What was wrong with a refused delivery. The reasons' texts are what Feishu's delivery
    log shows and may be reworded; these values may not (they label metrics and stored rows)."""

    EMPTY_BODY = "empty_body"
    TOO_LARGE = "too_large"
    BAD_JSON = "bad_json"
    TOO_DEEP = "too_deep"
    NO_ENCRYPT_KEY = "no_encrypt_key"
    DECRYPT_FAILED = "decrypt_failed"
    TOKEN_MISMATCH = "token_mismatch"  # noqa: S105  (a slug, not a password)
    CHALLENGE_MISSING = "challenge_missing"
    SIGNATURE_MISSING = "signature_missing"
    SIGNATURE_MISMATCH = "signature_mismatch"
    TIMESTAMP_WINDOW = "timestamp_window"
    NOT_AN_EVENT = "not_an_event"
    BAD_EVENT_ID = "bad_event_id"
    BAD_EVENT_TYPE = "bad_event_type"
    METHOD_NOT_ALLOWED = "method_not_allowed"  # refused by the transport, before parse()


class Rejected(Exception):
    def __init__(self, status: int, reason: str, kind: Kind):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.kind = kind


@dataclass(frozen=True)
class Challenge:
    challenge: str


@dataclass(frozen=True)
class Envelope:
    event_id: str
    schema: str
    event_type: str
    app_id: str
    tenant_key: str
    create_time: str
    payload: dict
    # The JSON text ``payload`` was parsed from (the decrypted plaintext, or the plain body),
    # when known: stored as it is instead of serialized again.
    text: str = ""

    @property
    def event(self) -> dict:
        event = self.payload.get("event")
        return event if isinstance(event, dict) else {}


def _too_deep(raw: bytes | str, data) -> bool:
    """Whether ``data`` (parsed from ``raw``) nests deeper than ``MAX_DEPTH``."""
    opening = (b"[", b"{") if isinstance(raw, bytes) else ("[", "{")
    if raw.count(opening[0]) + raw.count(opening[1]) <= MAX_DEPTH:  # type: ignore[arg-type]  # both bytes or both str
        return False  # too few brackets to nest that deep (the usual event: no walk at all)
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        for child in value.values() if isinstance(value, dict) else value:
            if isinstance(child, dict | list):
                stack.append((child, depth + 1))
    return False


def _loads(raw: bytes | str, what: str, kind: Kind) -> dict:
    try:
        data = json.loads(raw)
    except RecursionError as exc:  # the parser gave up first ("[" × 100,000)
        raise _nests_too_deep(what) from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise Rejected(400, f"{what} is not valid JSON", kind) from exc
    if not isinstance(data, dict):
        raise Rejected(400, f"{what} is not a JSON object", kind)
    if _too_deep(raw, data):
        raise _nests_too_deep(what)
    return data


def _nests_too_deep(what: str) -> Rejected:
    return Rejected(400, f"{what} nests deeper than {MAX_DEPTH} levels", Kind.TOO_DEEP)


def _check_token(expected: str, sent) -> None:
    if not expected:
        return
    if not isinstance(sent, str) or not hmac.compare_digest(expected.encode(), sent.encode()):
        raise Rejected(403, "verification token does not match", Kind.TOKEN_MISMATCH)


def _check_signature(headers, raw: bytes, encrypt_key: str, now: float) -> None:
    ts, nonce, sig = (headers.get(h) for h in (H_TIMESTAMP, H_NONCE, H_SIGNATURE))
    if not (ts and nonce and sig):
        raise Rejected(401, "signature headers missing", Kind.SIGNATURE_MISSING)
    if not crypto.verify_signature(ts, nonce, encrypt_key, raw, sig):
        raise Rejected(401, "signature does not match", Kind.SIGNATURE_MISMATCH)
    if ts.isdigit():
        seconds = int(ts) / 1000 if len(ts) >= 13 else int(ts)
        if seconds < now - MAX_AGE or seconds > now + MAX_SKEW_AHEAD:
            raise Rejected(401, "timestamp outside the accepted window", Kind.TIMESTAMP_WINDOW)


def _decrypted(outer: dict, raw: bytes, encrypt_key: str) -> tuple[dict, str | bytes]:
    """The event and the JSON text it was parsed from."""
    if "encrypt" not in outer:
        return outer, raw
    if not encrypt_key:
        raise Rejected(400, "encrypted body but no encrypt key is configured", Kind.NO_ENCRYPT_KEY)
    if not isinstance(outer["encrypt"], str):
        raise Rejected(400, "encrypt is not a string", Kind.DECRYPT_FAILED)
    try:
        plain = crypto.decrypt(outer["encrypt"], encrypt_key)
    except crypto.DecryptError as exc:
        raise Rejected(400, f"body does not decrypt: {exc}", Kind.DECRYPT_FAILED) from exc
    # Bytes that unpad but are not JSON: a wrong key too, however rarely.
    return _loads(plain, "decrypted body", Kind.DECRYPT_FAILED), plain


def parse(raw: bytes, headers, *, encrypt_key: str, verification_token: str, now: float | None = None):
    """Return a ``Challenge`` or an ``Envelope``; raise ``Rejected`` otherwise."""
    now = time.time() if now is None else now
    if not raw:
        raise Rejected(400, "empty body", Kind.EMPTY_BODY)
    if len(raw) > MAX_BODY_BYTES:
        raise Rejected(413, "body too large", Kind.TOO_LARGE)
    data, text = _decrypted(_loads(raw, "body", Kind.BAD_JSON), raw, encrypt_key)
    if data.get("type") == "url_verification":
        # Feishu does not sign the URL check; the token is all there is to verify.
        _check_token(verification_token, data.get("token"))
        if not isinstance(data.get("challenge"), str):
            raise Rejected(400, "challenge missing", Kind.CHALLENGE_MISSING)
        return Challenge(data["challenge"])

    if encrypt_key:
        _check_signature(headers, raw, encrypt_key, now)
    return _envelope(data, verification_token, text)


def parse_long_connection(raw: bytes, *, encrypt_key: str) -> "Envelope":
    """An event received over the long connection; raise ``Rejected`` if it is not one."""
    if not raw:
        raise Rejected(400, "empty body", Kind.EMPTY_BODY)
    data, text = _decrypted(_loads(raw, "body", Kind.BAD_JSON), raw, encrypt_key)
    return _envelope(data, "", text)


def _envelope(data: dict, verification_token: str, text: str | bytes = "") -> Envelope:
    if data.get("schema") == "2.0":
        header = data.get("header")
        if not isinstance(header, dict):
            raise Rejected(400, "schema 2.0 event without header", Kind.NOT_AN_EVENT)
        _check_token(verification_token, header.get("token"))
        event_id, event_type = header.get("event_id"), header.get("event_type")
        app_id, tenant_key = header.get("app_id"), header.get("tenant_key")
        create_time, schema = header.get("create_time"), "2.0"
    elif "uuid" in data:
        _check_token(verification_token, data.get("token"))
        event: dict = data.get("event") if isinstance(data.get("event"), dict) else {}  # type: ignore[assignment]
        event_id, event_type = data.get("uuid"), event.get("type")
        app_id, tenant_key = event.get("app_id"), event.get("tenant_key")
        create_time, schema = data.get("ts"), "1.0"
    else:
        raise Rejected(400, "not a Feishu event: no schema 2.0 header and no uuid", Kind.NOT_AN_EVENT)
    if not (isinstance(event_id, str) and event_id and len(event_id) <= 128):
        raise Rejected(400, "event id missing or invalid", Kind.BAD_EVENT_ID)
    if not (isinstance(event_type, str) and event_type and len(event_type) <= 128):
        raise Rejected(400, "event type missing or invalid", Kind.BAD_EVENT_TYPE)
    return Envelope(
        event_id=event_id,
        schema=schema,
        event_type=event_type,
        app_id=str(app_id or "")[:64],
        tenant_key=str(tenant_key or "")[:128],
        create_time=str(create_time or "")[:32],
        payload=data,
        text=text.decode() if isinstance(text, bytes) else text,  # valid UTF-8: json.loads read it
    )
