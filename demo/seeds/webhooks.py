"""The demo's partner endpoint (``./dev run``): the sandbox's receiver, hearing every event with
every data scope, signed with the secret the receiver holds (``SANDBOX_PARTNER_SECRET``, public
like the demo password). Nothing without ``DEMO_WEBHOOK_URL``: never in production."""

from django.conf import settings

from hireops.core.secrets.sealing import seal
from hireops.webhooks import endpoints
from hireops.webhooks.models import WebhookEndpoint

DESCRIPTION = "Demo partner (the sandbox's receiver)"


def seed() -> None:
    url, secret = settings.DEMO_WEBHOOK_URL, getattr(settings, "SANDBOX_PARTNER_SECRET", "")
    if not url or not secret:
        return
    endpoint, _ = WebhookEndpoint.objects.update_or_create(
        description=DESCRIPTION,
        defaults={"url": url, "scopes": endpoints.data_scopes(), "enabled": True, "disabled_reason": ""},
        create_defaults={"url": url, "scopes": endpoints.data_scopes(), "secret": seal(secret)},
    )
    endpoint.secret = seal(secret)  # the receiver's, even after a rotation in the admin
    endpoint.save(update_fields=["secret"])
