"""Standard Webhooks v1 signatures, and the endpoints' signing secrets.

``webhook-signature`` is ``v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`` with the
secret's bytes (``whsec_`` + base64 of 32 random bytes); during a rotation's overlap the old
secret signs too, the signatures space-separated, so a receiver still holding the old secret
verifies every delivery. Signed with the standard library: the specification's ``standardwebhooks``
package verifies each delivery unchanged in the tests.
"""

import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils import timezone

from hireops.core.secrets.sealing import seal, unseal

if TYPE_CHECKING:
    from .models import WebhookEndpoint

PREFIX = "whsec_"
SECRET_BYTES = 32  # the specification: 24 to 64


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def _key(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(PREFIX))


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(_key(secret), signed, hashlib.sha256).digest()).decode()


def headers(signing_secrets: list[str], msg_id: str, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": " ".join(signature(s, msg_id, timestamp, body) for s in signing_secrets),
    }


# --- an endpoint's secrets ------------------------------------------------------------------


def set_new_secret(endpoint: "WebhookEndpoint") -> str:
    """Give a new endpoint its secret (not saved here); returns it."""
    secret = new_secret()
    endpoint.secret = seal(secret)
    return secret


def current_secret(endpoint: "WebhookEndpoint") -> str:
    return unseal(endpoint.secret)


def signing_secrets(endpoint: "WebhookEndpoint", now: datetime | None = None) -> list[str]:
    """The secrets that sign a delivery now: the current one, and the previous one during its overlap."""
    now = now or timezone.now()
    found = [unseal(endpoint.secret)]
    if endpoint.previous_secret and endpoint.previous_until and endpoint.previous_until > now:
        found.append(unseal(endpoint.previous_secret))
    return found


def rotate(endpoint: "WebhookEndpoint") -> str:
    """A new secret; the current one keeps signing beside it for the overlap. Saved; returns it."""
    secret = new_secret()
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_until = timezone.now() + timedelta(hours=settings.WEBHOOK_SECRET_OVERLAP_HOURS)
    endpoint.secret = seal(secret)
    endpoint.save(update_fields=["secret", "previous_secret", "previous_until", "updated_at"])
    return secret
