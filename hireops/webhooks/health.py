"""Partners' webhooks that need a person (hireops.ops.status: the status page, the metrics and
the alerts, once per incident). Deliveries stuck and failed are watched by the platform from
the outbound registry (``webhooks.deliver.stuck`` / ``.failed``)."""

from collections.abc import Iterator

from django.utils.translation import gettext_lazy as _

from hireops.core.messages import stored_as
from hireops.core.models import CallStatus
from hireops.ops import status

from .delivery import FAILING_REASON, GONE_REASON
from .models import WebhookDelivery, WebhookEndpoint


@status.check
def webhook_endpoints() -> Iterator[status.Finding]:
    from hireops.core.admin.dashboard import capped_count, changelist_url

    # Disabled by what its receiver did: a person looks at it. One disabled on request, or
    # because its API key was revoked or expired, is what someone chose, not an incident.
    by_failures = stored_as("disabled_reason", GONE_REASON, FAILING_REASON)
    disabled = capped_count(WebhookEndpoint.objects.filter(by_failures, enabled=False))
    yield status.Finding(
        "webhooks.endpoints.disabled",
        _("Webhook endpoints disabled (410 Gone, or failing for days)"),
        disabled,
        disabled == 0,
        changelist_url(WebhookEndpoint, enabled__exact=0),
    )
    failing = capped_count(WebhookEndpoint.objects.filter(enabled=True, failing_since__isnull=False))
    yield status.Finding(
        "webhooks.endpoints.failing",
        _("Webhook endpoints whose last attempts failed"),
        failing,
        True,  # retried on the schedule; disabled (a finding above) only after days
        changelist_url(WebhookEndpoint, enabled__exact=1),
    )
    waiting = capped_count(WebhookDelivery.objects.filter(status=CallStatus.QUEUED))
    yield status.Finding(
        "webhooks.deliveries.waiting",
        _("Webhook deliveries waiting (to be sent, or to be tried again)"),
        waiting,
        True,
        changelist_url(WebhookDelivery, status__exact=CallStatus.QUEUED),
    )
