"""An endpoint made through the API stops with its key: revoking the key disables its endpoints
at once (``hireops.api.keys.retired``), a key past its expiry has them disabled by the next
sweep (``send_due``, every few seconds), and a delivery claimed meanwhile checks the key itself,
so nothing queued for such an endpoint is sent once its key stopped working, whichever of these
comes first. Each says why on the endpoint (``disabled_reason``)."""

import logging

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext_noop

from hireops.api.models import ApiKey
from hireops.core.messages import Message

from .models import WebhookEndpoint

log = logging.getLogger(__name__)

log = logging.getLogger(__name__)

KEY_REVOKED = gettext_noop("its API key %(prefix)s… was revoked")
KEY_EXPIRED = gettext_noop("its API key %(prefix)s… expired")


def why_stopped(key: ApiKey) -> Message | None:
    """Why this key's endpoints may no longer be sent to (None: it still works)."""
    if key.revoked_at is not None:
        return Message(KEY_REVOKED, prefix=key.prefix)
    if key.expires_at is not None and key.expires_at <= timezone.now():
        return Message(KEY_EXPIRED, prefix=key.prefix)
    return None


def endpoints_of(key: ApiKey) -> int:
    """Disable the enabled endpoints of a key that stopped working; how many."""
    reason = why_stopped(key)
    if reason is None:
        return 0
    done = key.webhook_endpoints.filter(enabled=True).update(
        enabled=False, disabled_reason=reason, updated_at=timezone.now()
    )
    if done:
        log.warning(
            "%s webhook endpoint(s) of API key %s… disabled: %s",
            done,
            key.prefix,
            reason.msgid % reason.params,
        )
    return done


def on_key_retired(sender: object, key: ApiKey, **kwargs: object) -> None:
    endpoints_of(key)


def expired_keys() -> int:
    """The sweep's part: disable the endpoints of keys that expired since; how many."""
    has_enabled = Exists(WebhookEndpoint.objects.filter(owner_key=OuterRef("pk"), enabled=True))
    expired = ApiKey.objects.filter(has_enabled, expires_at__lte=timezone.now())
    return sum(endpoints_of(key) for key in expired)
