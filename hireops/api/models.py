"""API keys and the answers kept for ``Idempotency-Key``."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """A partner system's key: only its SHA-256 is stored; ``prefix`` (its first characters)
    stays in clear so people can tell keys apart and a leaked key is recognisable."""

    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True, editable=False)
    secret_hash = models.CharField(max_length=64, unique=True, editable=False)
    scopes = models.JSONField(_("scopes"), default=list)
    tenant_keys = models.JSONField(
        _("tenants"), default=list, blank=True, help_text=_("Empty: every tenant.")
    )
    # The change history names the key through this user: inactive, no password, never signs in.
    actor = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="api_key", editable=False
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
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("revoked by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
    )

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def usable(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > timezone.now())

    def allows_tenant(self, tenant_key: str) -> bool:
        return not self.tenant_keys or tenant_key in self.tenant_keys


class IdempotentRequest(models.Model):
    """The first answer to a write sent with an ``Idempotency-Key``, per API key.

    Written in the write's own transaction, so it exists only once the write has committed
    (``hireops.api.idempotency``: the key's lock says a request with it still runs). A row
    with no answer is one an earlier version committed before its write, left by a process
    that died: the next request with the key runs the write and keeps its answer on it."""

    api_key = models.ForeignKey(ApiKey, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("answer kept for an Idempotency-Key")
        verbose_name_plural = _("answers kept for Idempotency-Keys")
        constraints = [models.UniqueConstraint(fields=["api_key", "key"], name="api_idempotency_key_once")]

    def __str__(self) -> str:
        return self.key


class RequestCount(models.Model):
    """How many API requests of a key (its prefix; empty: no key, or one that is unknown,
    revoked or expired) were answered one way in an hour: counted in Redis as they come, and
    written here once the hour is over (``hireops.api.counting``). ``batch`` names the Redis
    hash the figures were moved from: flushing it again after a crash adds nothing twice."""

    hour = models.DateTimeField(_("hour"))
    key_prefix = models.CharField(_("key"), max_length=16, blank=True)
    outcome = models.CharField(_("outcome"), max_length=16)
    count = models.BigIntegerField(_("requests"))
    batch = models.CharField(_("batch"), max_length=100)

    class Meta:
        verbose_name = _("API requests counted")
        verbose_name_plural = _("API requests counted")
        default_permissions = ()  # read through the trends' charts
        indexes = [models.Index(fields=["hour"], name="api_request_count_hour")]
        constraints = [
            models.UniqueConstraint(fields=["batch", "key_prefix", "outcome"], name="api_request_count_once")
        ]

    def __str__(self) -> str:
        return f"{self.hour:%Y-%m-%d %H:%M} {self.key_prefix or '-'} {self.outcome} {self.count}"
