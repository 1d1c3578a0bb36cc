"""The customer tenants that installed the app (store apps), or the one tenant of a self-built app."""

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hireops.core.models import FeishuCall


class TenantStatus(models.TextChoices):
    INSTALLED = "installed", _("Installed")
    SUSPENDED = "suspended", _("Suspended")
    UNINSTALLED = "uninstalled", _("Uninstalled")


class Tenant(models.Model):
    """One installation of the app in a customer's Feishu. Created by the tenant's first event
    (any event carries its tenant_key) or by the store app's lifecycle events, which also
    move its status."""

    tenant_key = models.CharField(_("tenant key"), max_length=128, unique=True)
    name = models.CharField(
        _("name"),
        max_length=200,
        blank=True,
        help_text=_(
            "The name this customer goes by here. Left empty, it is the company's name in Feishu, "
            "asked when the tenant enables the app; a name typed here is never replaced."
        ),
    )
    # What Feishu's tenant info API last said (hireops.tenants.naming). ``name`` follows it
    # while ``name_from_feishu``: staff typing a name turns that off for good.
    # Defaults in the database too: the inbox writer inserts tenants with SQL of its own.
    feishu_name = models.CharField(_("name in Feishu"), max_length=200, blank=True, default="", db_default="")
    feishu_display_id = models.CharField(
        _("company number in Feishu"), max_length=64, blank=True, default="", db_default=""
    )
    name_from_feishu = models.BooleanField(_("name from Feishu"), default=False, db_default=False)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=TenantStatus.choices,
        default=TenantStatus.INSTALLED,
        db_index=True,
    )
    # Feishu's time (ms) of the lifecycle event that set the status: an older one that
    # arrives later (a retried delivery) is kept in the history but changes nothing.
    status_since_ms = models.BigIntegerField(_("status since (Feishu time, ms)"), null=True, blank=True)
    first_seen = models.DateTimeField(_("first seen"), default=timezone.now)
    last_seen = models.DateTimeField(_("last event"), default=timezone.now)
    # When the name or status last changed (the API's updated_after; last_seen moves on every
    # event and is not a change). Set by every writer: save() with update_fields and
    # queryset updates do not touch an auto_now field.
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, db_default=Now())

    class Meta:
        verbose_name = _("tenant")
        verbose_name_plural = _("tenants")
        ordering = ["name", "tenant_key"]
        indexes = [models.Index(fields=["updated_at", "id"], name="tenant_updated_idx")]

    def __str__(self):
        return f"{self.name} ({self.tenant_key})" if self.name else self.tenant_key


class TenantStatusChange(models.Model):
    """Each lifecycle event a tenant went through, applied or not (``applied`` false: it was
    older than the status already recorded)."""

    tenant = models.ForeignKey(Tenant, related_name="history", on_delete=models.CASCADE)
    event_id = models.CharField(_("event"), max_length=128, unique=True)
    event_type = models.CharField(_("event type"), max_length=64)
    feishu_status = models.CharField(
        _("as Feishu says it"), max_length=32, blank=True, help_text=_("app_status_change's status")
    )
    from_status = models.CharField(_("from"), max_length=16, choices=TenantStatus.choices, blank=True)
    to_status = models.CharField(_("to"), max_length=16, choices=TenantStatus.choices)
    feishu_time_ms = models.BigIntegerField(_("Feishu time (ms)"), null=True, blank=True)
    applied = models.BooleanField(_("applied"), default=True)
    at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("tenant status change")
        verbose_name_plural = _("tenant status changes")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.tenant} → {self.get_to_status_display()}"


class TenantNameLookup(FeishuCall):
    """One ask of Feishu's tenant info API for a tenant's company name (hireops.tenants.naming):
    committed before the call, with Feishu's answer or refusal on it."""

    tenant = models.ForeignKey(
        Tenant, verbose_name=_("tenant"), related_name="name_lookups", on_delete=models.CASCADE
    )
    name = models.CharField(_("name in Feishu"), max_length=200, blank=True)
    display_id = models.CharField(_("company number in Feishu"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("tenant name lookup")
        verbose_name_plural = _("tenant name lookups")
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"{self.tenant} #{self.pk}"
