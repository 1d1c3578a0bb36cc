"""Partners' endpoints, the events hireops tells them (the outbox), each delivery and its attempts."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hireops.core.messages import MessageField, MessageTextField
from hireops.core.models import CallStatus


class WebhookEndpoint(models.Model):
    """Where a partner's system hears what happened: the events it wants (``event_types``,
    empty: all), of the tenants it may know (``tenants``, empty: all), its data as a key with
    ``scopes`` would read it. The signing secret is sealed at rest (it must be read to sign);
    after a rotation the previous one signs beside it until ``previous_until``.

    It belongs to whoever made it: the API key in ``owner_key`` (the only key that reaches it
    through the API; revoking or expiring that key disables it), or, when that is empty, the
    staff member in ``created_by`` (staff with the endpoint permission manage every endpoint
    in the admin)."""

    url = models.URLField(_("URL"), max_length=2000)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(
        _("event types"), default=list, blank=True, help_text=_("Empty: every event.")
    )
    tenants = models.JSONField(_("tenants"), default=list, blank=True, help_text=_("Empty: every tenant."))
    scopes = models.JSONField(_("scopes"), default=list, blank=True)
    enabled = models.BooleanField(_("enabled"), default=True)
    disabled_reason = MessageTextField(_("why disabled"), blank=True)
    secret = models.TextField(editable=False)  # sealed (hireops.core.secrets.sealing)
    previous_secret = models.TextField(blank=True, editable=False)  # sealed; signs until previous_until
    previous_until = models.DateTimeField(null=True, blank=True, editable=False)
    # The first failed attempt since the last success: failing for days disables the endpoint.
    failing_since = models.DateTimeField(_("failing since"), null=True, blank=True, editable=False)
    owner_key = models.ForeignKey(
        "api.ApiKey",
        verbose_name=_("owner (API key)"),
        # A key is never deleted (its change history names it); refusing here says so.
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="webhook_endpoints",
        help_text=_("The API key that made it and alone reaches it through the API; empty: made by staff."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        ordering = ["pk"]

    def __str__(self) -> str:
        return self.description or self.url

    def wants(self, event_type: str) -> bool:
        """Enabled and asking for this type (a ping, sent on request, goes whatever the filter)."""
        return self.enabled and (
            event_type == "ping" or not self.event_types or event_type in self.event_types
        )


class WebhookEvent(models.Model):
    """One thing that happened, written in the transaction of the change it reports (the
    outbox) when an endpoint hears it or a key could list it (``GET /events``). ``data`` is the
    object as a key for every tenant without personal-data scopes reads it; ``personal_data`` as
    one with them does, ``limited_data`` (an object spanning tenants) as one limited to tenants
    does (each null when the same as ``data``)."""

    uid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    type = models.CharField(_("type"), max_length=64)
    tenant_key = models.CharField(_("tenant"), max_length=128, blank=True)
    # An object spanning tenants (a payout run): ",t1,t2,", so a key limited to t1 finds it in
    # GET /events with a LIKE on either database; empty for the others.
    spans = models.TextField(blank=True, editable=False)
    data = models.JSONField(_("data"))
    personal_data = models.JSONField(null=True, editable=False)
    limited_data = models.JSONField(null=True, editable=False)  # spanning tenants: as a limited key reads it
    created_at = models.DateTimeField(_("created at"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        # GET /events: a key's types, newest first (a partner catching up walks back from now).
        indexes = [models.Index(fields=["type", "-created_at", "-id"], name="webhook_event_feed_idx")]

    def __str__(self) -> str:
        return f"{self.type} {self.webhook_id}"

    @property
    def webhook_id(self) -> str:
        """The ``webhook-id`` header: the same for every attempt and endpoint (the receiver's
        idempotency key)."""
        return f"msg_{self.uid.hex}"


class WebhookDelivery(models.Model):
    """One event to one endpoint, sent by the outbound engine (``hireops.webhooks.delivery``):
    the same status, attempts, lease and error columns as a call to Feishu, plus when the
    next attempt is due and whether it waits for a free slot of its endpoint."""

    event = models.ForeignKey(
        WebhookEvent, verbose_name=_("event"), on_delete=models.CASCADE, related_name="deliveries"
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint, verbose_name=_("endpoint"), on_delete=models.CASCADE, related_name="deliveries"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=CallStatus.choices, default=CallStatus.QUEUED
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error = MessageTextField(_("error"), blank=True)
    last_status_code = models.PositiveSmallIntegerField(_("last answer's status"), null=True, blank=True)
    maybe_applied = models.BooleanField(default=False, editable=False)  # the engine's column; unused here
    leased_until = models.DateTimeField(_("being sent until"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    waiting_for_slot = models.BooleanField(default=False, editable=False)
    # When a task message for it was last queued (none: nothing queued, the sweep sends it when
    # due): the sweep sends again only what has waited in the broker past LOST_AFTER.
    queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        indexes = [
            models.Index(
                fields=["endpoint", "status", "-requested_at"], name="webhook_delivery_endpoint_idx"
            ),
            # An endpoint's delivery log, newest first, whatever their status.
            models.Index(fields=["endpoint", "-requested_at", "-id"], name="webhook_delivery_log_idx"),
            # The sweep: queued rows by when they are due (few: most are sent at once).
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_due_idx",
                condition=models.Q(status=CallStatus.QUEUED),
            ),
            # A claim counts the endpoint's deliveries in flight (leased): a range of this
            # index, however many wait behind a partner that is down.
            models.Index(
                fields=["endpoint", "leased_until"],
                name="webhook_delivery_leased_idx",
                condition=models.Q(status=CallStatus.QUEUED),
            ),
            # A finished delivery looks for the one waiting longest for its slot.
            models.Index(
                fields=["endpoint", "id"],
                name="webhook_delivery_waiting_idx",
                condition=models.Q(status=CallStatus.QUEUED, waiting_for_slot=True),
            ),
            models.Index(
                fields=["finished_at"],
                name="webhook_delivery_failed_idx",
                condition=models.Q(status=CallStatus.FAILED),
            ),
        ]
        constraints = [models.UniqueConstraint(fields=["event", "endpoint"], name="webhook_delivery_once")]

    def __str__(self) -> str:
        return f"{self.event} → {self.endpoint}"


class DeliveryAttempt(models.Model):
    """One try of a delivery: when, how long, the answer's status (none: no answer) and its
    first characters, or why nothing was sent."""

    delivery = models.ForeignKey(
        WebhookDelivery, verbose_name=_("delivery"), on_delete=models.CASCADE, related_name="attempt_log"
    )
    at = models.DateTimeField(_("at"), default=timezone.now)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    error = MessageField(_("error"), max_length=500, blank=True)
    response = models.TextField(_("answer (first part)"), blank=True)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["pk"]

    def __str__(self) -> str:
        return f"{self.delivery_id} @ {self.at:%Y-%m-%d %H:%M:%S}"
