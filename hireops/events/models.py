"""The inbox: one row per Feishu event delivery that passed verification; and the log of
the deliveries refused."""

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hireops.core.display import local_time
from hireops.core.messages import MessageTextField
from hireops.core.privacy import personal

from .verify import Kind

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class EventStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    PROCESSED = "processed", _("Processed")
    FAILED = "failed", _("Failed")
    IGNORED = "ignored", _("Ignored (no handler)")


class FeishuEvent(models.Model):
    # header.event_id for schema 2.0, uuid for schema 1.0: Feishu's own dedupe keys.
    event_id = models.CharField(_("event id"), max_length=128, unique=True)
    schema = models.CharField(_("schema"), max_length=8)
    # No index of its own: event_type_recent_idx (event_type, -received_at) answers its equality,
    # IN and order; a second one (and PostgreSQL's _like twin) cost every insert (0009).
    event_type = models.CharField(_("event type"), max_length=128)
    app_id = models.CharField(_("app id"), max_length=64, blank=True)
    tenant_key = models.CharField(_("tenant"), max_length=128, blank=True, db_index=True)
    # The unit of header.create_time is UNCONFIRMED (ms on the hire pages, µs in an
    # overview example): keep Feishu's string as sent; nothing depends on it.
    create_time = models.CharField(_("create time (as sent)"), max_length=32, blank=True)
    account_id = models.CharField(_("account id"), max_length=128, blank=True, db_index=True)
    payload = models.JSONField(_("payload"))
    personal_fields = {"payload": personal.FREE_TEXT}  # candidates' and employees' data
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


class RejectionKind(models.TextChoices):
    """``verify.Kind``, with labels for the admin."""

    EMPTY_BODY = Kind.EMPTY_BODY, _("Empty body")
    TOO_LARGE = Kind.TOO_LARGE, _("Body too large")
    BAD_JSON = Kind.BAD_JSON, _("Not JSON")
    TOO_DEEP = Kind.TOO_DEEP, _("JSON nested too deeply")
    NO_ENCRYPT_KEY = Kind.NO_ENCRYPT_KEY, _("Encrypted, but no Encrypt Key configured")
    DECRYPT_FAILED = Kind.DECRYPT_FAILED, _("Does not decrypt")
    TOKEN_MISMATCH = Kind.TOKEN_MISMATCH, _("Verification Token does not match")
    CHALLENGE_MISSING = Kind.CHALLENGE_MISSING, _("URL check without a challenge")
    SIGNATURE_MISSING = Kind.SIGNATURE_MISSING, _("Signature missing")
    SIGNATURE_MISMATCH = Kind.SIGNATURE_MISMATCH, _("Signature does not match")
    TIMESTAMP_WINDOW = Kind.TIMESTAMP_WINDOW, _("Timestamp too old or in the future")
    NOT_AN_EVENT = Kind.NOT_AN_EVENT, _("Not a Feishu event")
    BAD_EVENT_ID = Kind.BAD_EVENT_ID, _("Event id missing or invalid")
    BAD_EVENT_TYPE = Kind.BAD_EVENT_TYPE, _("Event type missing or invalid")
    METHOD_NOT_ALLOWED = Kind.METHOD_NOT_ALLOWED, _("Not a POST")


# Shown with each row: what to check first. A stranger is the usual cause of the kinds that
# a misconfigured hireops cannot produce.
HINTS: dict[str, "StrOrPromise"] = {
    Kind.EMPTY_BODY: _("An empty request: something other than Feishu (a health check, a scanner) sent it."),
    Kind.TOO_LARGE: _("Feishu's events are far smaller than 1 MB: something other than Feishu sent it."),
    Kind.BAD_JSON: _(
        "Feishu always sends JSON: something other than Feishu sent it, or a proxy in between changed "
        "the body."
    ),
    Kind.TOO_DEEP: _(
        "Feishu's events nest a few levels deep, never dozens: something other than Feishu sent it, "
        "probably to make the server fail."
    ),
    Kind.NO_ENCRYPT_KEY: _(
        "Feishu encrypts the events but hireops has no Encrypt Key: set FEISHU_ENCRYPT_KEY to the one on "
        "the Feishu app's Events and Callbacks page."
    ),
    Kind.DECRYPT_FAILED: _(
        "The Encrypt Key configured in hireops (FEISHU_ENCRYPT_KEY) differs from the one on the Feishu "
        "app's Events and Callbacks page."
    ),
    Kind.TOKEN_MISMATCH: _(
        "The Verification Token configured in hireops (FEISHU_VERIFICATION_TOKEN) differs from the one "
        "on the Feishu app's Events and Callbacks page."
    ),
    Kind.CHALLENGE_MISSING: _("A URL check without a challenge: something other than Feishu sent it."),
    Kind.SIGNATURE_MISSING: _(
        "No X-Lark-* signature headers: something other than Feishu sent it, or a proxy in between "
        "dropped the headers."
    ),
    Kind.SIGNATURE_MISMATCH: _(
        "The signature does not match the body: the Encrypt Key configured in hireops differs from the "
        "Feishu app's, or a proxy in between changed the body."
    ),
    Kind.TIMESTAMP_WINDOW: _(
        "Signed over a day ago or in the future: a replayed request, or this server's clock is wrong."
    ),
    Kind.NOT_AN_EVENT: _("JSON, but not a Feishu event: something other than Feishu sent it."),
    Kind.BAD_EVENT_ID: _("An event without a usable event id: something other than Feishu sent it."),
    Kind.BAD_EVENT_TYPE: _("An event without a usable event type: something other than Feishu sent it."),
    Kind.METHOD_NOT_ALLOWED: _(
        "Feishu only POSTs: a browser, a health check or a scanner opened this address."
    ),
}


class RefusalStatus(models.IntegerChoices):
    BAD_REQUEST = 400, _("400 Bad Request")
    UNAUTHORIZED = 401, _("401 Unauthorized")
    FORBIDDEN = 403, _("403 Forbidden")
    METHOD_NOT_ALLOWED = 405, _("405 Method Not Allowed")
    TOO_LARGE = 413, _("413 Content Too Large")


class RejectedDelivery(models.Model):
    """A delivery the webhook refused, kept so staff can tell why (a wrong key, a wrong token,
    a stranger). Written by ``rejection_recorder`` (rate-limited, capped), pruned daily; holds
    nothing secret or personal (``rejected_deliveries``)."""

    received_at = models.DateTimeField(_("received at"), db_index=True)
    kind = models.CharField(_("kind"), max_length=32, choices=RejectionKind.choices)
    reason = models.CharField(_("reason answered"), max_length=255)
    status = models.PositiveSmallIntegerField(_("status answered"), choices=RefusalStatus.choices)
    remote_addr = models.CharField(_("remote address"), max_length=64, blank=True)
    forwarded_for = models.CharField(_("forwarded for (as sent)"), max_length=255, blank=True)
    headers = models.JSONField(_("headers (harmless ones only)"), default=dict)
    body_size = models.PositiveBigIntegerField(_("body size (bytes)"), default=0)
    body_excerpt = models.TextField(_("start of the body (masked)"), blank=True)
    personal_fields = {"body_excerpt": personal.FREE_TEXT}  # masked when kept, by a pattern
    suppressed_before = models.PositiveIntegerField(
        _("refusals not recorded before this one"),
        default=0,
        help_text=_("Refused by the same server process since its previous record, but over the rate limit."),
    )

    class Meta:
        verbose_name = _("rejected delivery")
        verbose_name_plural = _("rejected deliveries")
        ordering = ["-id"]  # newest first, through the primary key

    def __str__(self):
        return f"{local_time(self.received_at, seconds=True)} {self.get_kind_display()}"

    @property
    def hint(self) -> "StrOrPromise":
        return HINTS.get(self.kind, "")
