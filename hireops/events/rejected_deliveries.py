"""What the log of refused deliveries keeps of one, and its upkeep (the cap, pruning).

A refused delivery is untrusted input from whoever reached the webhook, so only what helps
to diagnose the refusal is kept, and nothing secret or personal:
- headers: an allowlist of harmless ones, values truncated (never Authorization or cookies);
- the first ``BODY_BYTES`` of the body as text, never decrypted: every ``"token"`` value is
  blanked (one that did not match may still be a real token, of another app or environment),
  an ``"encrypt"`` value is cut to fewer characters than its IV (nothing decryptable is
  kept), configured secrets are cut out and mobiles and emails masked
  (``hireops.core.logs.errortracking.scrub_text``, the admin's masking).
"""

import re
from datetime import UTC, datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone

from hireops.core.privacy.scrubbing import scrub_text

from .models import RejectedDelivery

BODY_BYTES = 512
# Bytes of the body held per refusal until its row is built: masked as a whole, then cut to
# BODY_BYTES, so a mobile or an email across the cut is masked before it is cut.
WINDOW = 4096
HEADER_CHARS = 256
ALLOWED_HEADERS = frozenset(
    {
        "content-type",
        "content-length",
        "user-agent",
        "host",
        "x-lark-request-timestamp",
        "x-lark-request-nonce",
        "x-lark-signature",  # a digest of the body and the key: reveals neither
        "x-forwarded-for",
        "x-real-ip",
        "x-forwarded-proto",
        "x-request-id",
    }
)
FORWARDED = ("x-forwarded-for", "x-real-ip")

_TOKEN_VALUE = re.compile(r'("token"\s*:\s*")(?:[^"\\]|\\.)*', re.IGNORECASE)
_CIPHERTEXT = re.compile(r'("encrypt"\s*:\s*")([^"\\]{0,16})[^"\\]*', re.IGNORECASE)
# The word the window's edge cut through: possibly half an email (254 characters at most)
# or a mobile, which the masks would no longer recognise.
_CUT_WORD = re.compile(r"[^\s\"',:;{}\[\]]{1,254}\Z")


class Refusal(NamedTuple):
    """A refused delivery as the webhook saw it, until its row is built (off the request path)."""

    received_at: float  # time.time()
    kind: str
    reason: str
    status: int
    remote_addr: str
    headers: object  # the request's: ASGI (bytes, bytes) pairs, or a mapping of str
    body: bytes  # the first WINDOW bytes
    body_size: int  # received, or declared when refused before reading
    suppressed_before: int = 0


def _text(value) -> str:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return str(value).replace("\x00", "\ufffd")  # PostgreSQL's text cannot hold U+0000


def kept_headers(headers) -> dict[str, str]:
    """The allowlisted headers, lower-cased, each value truncated and scrubbed."""
    kept = {}
    for name, value in headers.items() if hasattr(headers, "items") else headers:
        name = _text(name).lower()
        if name in ALLOWED_HEADERS and name not in kept:
            kept[name] = scrub_text(_text(value)[:HEADER_CHARS])
    return kept


def body_excerpt(window: bytes, body_size: int) -> str:
    text = _text(window.decode("utf-8", errors="replace"))
    if body_size > len(window):
        text = _CUT_WORD.sub("", text)
    text = _TOKEN_VALUE.sub(r"\1", text)
    text = _CIPHERTEXT.sub(r"\1\2…", text)
    text = scrub_text(text)
    return text.encode()[:BODY_BYTES].decode("utf-8", errors="ignore")


def row_for(refusal: Refusal) -> RejectedDelivery:
    headers = kept_headers(refusal.headers)
    forwarded = next((headers[h] for h in FORWARDED if headers.get(h)), "")
    return RejectedDelivery(
        received_at=datetime.fromtimestamp(refusal.received_at, tz=UTC),
        kind=refusal.kind,
        reason=refusal.reason[:255],
        status=refusal.status,
        remote_addr=_text(refusal.remote_addr)[:64],
        forwarded_for=forwarded[:255],
        headers=headers,
        body_size=min(refusal.body_size, 2**62),
        body_excerpt=body_excerpt(refusal.body, refusal.body_size),
        suppressed_before=refusal.suppressed_before,
    )


def rejected_deliveries_store(refusals: list[Refusal]) -> None:
    """Insert the rows, then delete the oldest beyond ``REJECTED_DELIVERIES_KEPT``: whatever
    arrives, the table never holds more than that plus one batch."""
    rows = [row_for(r) for r in refusals]
    with transaction.atomic():
        RejectedDelivery.objects.bulk_create(rows)
        _keep_newest(settings.REJECTED_DELIVERIES_KEPT)


def _keep_newest(kept: int) -> None:
    # One DELETE, through the primary key: "id <= the id just past the newest ``kept``".
    # No row there (a table under the cap): id <= NULL deletes nothing.
    beyond = RejectedDelivery.objects.order_by("-id").values("id")[kept : kept + 1]
    RejectedDelivery.objects.filter(id__lte=Subquery(beyond)).delete()


def rejected_deliveries_prune(now=None) -> int:
    cutoff = (now or timezone.now()) - timedelta(days=settings.REJECTED_DELIVERIES_RETENTION_DAYS)
    deleted, _ = RejectedDelivery.objects.filter(received_at__lt=cutoff).delete()
    return deleted
