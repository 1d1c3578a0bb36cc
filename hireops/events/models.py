"""The inbox: one row per Feishu event delivery that passed verification."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hireops.core.messages import MessageTextField


class EventStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSED = "processed", _("Processed")
    FAILED = "failed", _("Failed")
    IGNORED = "ignored", _("Ignored (no handler)")


class FeishuEvent(models.Model):
    # header.event_id for schema 2.0, uuid for schema 1.0: Feishu's own dedupe keys.
    event_id = models.CharField(_("event id"), max_length=128, unique=True)
    schema = models.CharField(_("schema"), max_length=8)
    event_type = models.CharField(_("event type"), max_length=128, db_index=True)
    app_id = models.CharField(_("app id"), max_length=64, blank=True)
    tenant_key = models.CharField(_("tenant"), max_length=128, blank=True, db_index=True)
    # The unit of header.create_time is UNCONFIRMED (ms on the hire pages, µs in an
    # overview example): keep Feishu's string as sent; nothing depends on it.
    create_time = models.CharField(_("create time (as sent)"), max_length=32, blank=True)
    account_id = models.CharField(_("account id"), max_length=128, blank=True, db_index=True)
    payload = models.JSONField(_("payload"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True, db_index=True)
    status = models.CharField(
        _("status"), max_length=16, choices=EventStatus.choices, default=EventStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = MessageTextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    # How many times the sweep queued it while pending: it waits one more backoff step each
    # time, so a backlog is not queued again every sweep (hireops.events.services).
    sweeps = models.PositiveSmallIntegerField(_("queued by the sweep"), default=0, db_default=0)
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    duplicate_count = models.PositiveIntegerField(_("duplicate deliveries"), default=0)
    last_duplicate_at = models.DateTimeField(_("last duplicate at"), null=True, blank=True)

    class Meta:
        verbose_name = _("Feishu event")
        verbose_name_plural = _("Feishu events")
        ordering = ["-received_at"]
        # Who sees which events besides the model's own view permission: each app's
        # registration (hireops.events.registry).
        permissions = [("reprocess_feishuevent", _("Can reprocess failed events"))]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="event_due_idx"),
            # The event log's newest-first pages: filtered by status, and by a role's types.
            models.Index(fields=["status", "-received_at"], name="event_status_recent_idx"),
            models.Index(fields=["event_type", "-received_at"], name="event_type_recent_idx"),
            # Failed events, by type: the roles' "failed" filter and the dashboard count. Only
            # failed rows are in it, so it costs the webhook's inserts nothing.
            models.Index(
                fields=["event_type", "-received_at"], name="event_failed_idx", condition=Q(status="failed")
            ),
        ]

    def __str__(self):
        return f"{self.event_type} {self.event_id}"
