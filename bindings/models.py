"""Vendor side: custom-field definitions published to Feishu, vendor customers, and the
eco-account bindings that Feishu's ``hire.eco_account.created_v1`` events create."""

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils.translation import gettext_lazy as _

from hireops.core.messages import MessageField
from hireops.core.models import FeishuCall

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise


class Scope(models.IntegerChoices):
    BACKGROUND_CHECK = 1, _("Background check (背调)")
    EXAM = 2, _("Exam (笔试)")


class Usage(models.IntegerChoices):
    EXPERIENCED = 1, _("Experienced hire (社招)")
    CAMPUS = 2, _("Campus hire (校招)")


field_key_validator = RegexValidator(
    r"^[A-Za-z][A-Za-z0-9_]{0,63}\Z",
    _("Use 1–64 letters, digits or underscores, starting with a letter."),
)


class CustomFieldDefinition(models.Model):
    """A field customers fill in when they add the vendor's account in Feishu Hire.

    A field with no tenant is every tenant's. A store app may give one tenant its own version
    (``tenant_key`` set): one with the key of a shared field replaces that field in this
    tenant's Feishu (an inactive one removes it there), one with a new key adds a field there
    only (``selectors.fields_for``)."""

    scope = models.PositiveSmallIntegerField(_("scope"), choices=Scope.choices)
    tenant_key = models.CharField(
        _("tenant"),
        max_length=128,
        blank=True,
        help_text=_(
            "Empty: every tenant. A tenant: this customer's own version, replacing the field of the "
            "same key (inactive: removing it) or adding a field for this customer only."
        ),
    )
    key = models.CharField(
        _("key"),
        max_length=64,
        validators=[field_key_validator],
        help_text=_("Sent to Feishu as the field's key; unique within the scope."),
    )
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    is_required = models.BooleanField(_("required"), default=False)
    description_zh = models.CharField(_("description (Chinese)"), max_length=500, blank=True)
    description_en = models.CharField(_("description (English)"), max_length=500, blank=True)
    display_order = models.PositiveIntegerField(_("display order"), default=0)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Only active fields are published.")
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        ordering = ["scope", "display_order", "key"]
        constraints = [
            models.UniqueConstraint(fields=["scope", "tenant_key", "key"], name="field_key_unique_in_scope"),
            models.CheckConstraint(condition=~Q(name_zh="", name_en=""), name="field_has_a_name"),
        ]

    def __str__(self):
        own = f" · {self.tenant_key}" if self.tenant_key else ""
        return f"{self.get_scope_display()} · {self.key}{own}"

    def clean(self):
        # The field_has_a_name constraint's own error would name the constraint, on no field.
        if not (self.name_zh or "").strip() and not (self.name_en or "").strip():
            raise ValidationError({"name_zh": _("Give the field a name in Chinese or in English.")})

    def one_language_texts(self) -> "list[tuple[StrOrPromise, StrOrPromise]]":
        """(text, language) of each text filled in one language only: Feishu shows that one
        language to every reader (docs/feishu.md §2), and sends no empty other one."""
        found: list[tuple[StrOrPromise, StrOrPromise]] = []
        for text, zh, en in (
            (_("name"), self.name_zh, self.name_en),
            (_("hint"), self.description_zh, self.description_en),
        ):
            zh, en = (zh or "").strip(), (en or "").strip()
            if zh and not en:
                found.append((text, _("Chinese")))
            elif en and not zh:
                found.append((text, _("English")))
        return found


class FieldScope(models.Model):
    """Per scope: a revision bumped by every edit of its custom fields, and the revision of
    the last edit of the shared ones (every tenant needs at least that). What each tenant's
    Feishu was last sent, and its own fields' last edit, live in ``TenantFieldScope``."""

    scope = models.PositiveSmallIntegerField(_("scope"), choices=Scope.choices, primary_key=True)
    revision = models.PositiveIntegerField(_("revision"), default=0)
    shared_revision = models.PositiveIntegerField(_("revision of the shared fields"), default=0)

    class Meta:
        verbose_name = _("field scope")
        verbose_name_plural = _("field scopes")
        permissions = [("publish_fieldscope", _("Can publish custom fields to Feishu"))]

    def __str__(self):
        return self.get_scope_display()


class TenantFieldScope(models.Model):
    """One scope in one tenant's Feishu: the last revision it accepted, and the lease of the
    publish being sent to it, so two publishes of one scope never overlap in one tenant
    (bindings.publishing). Tenant "" is a self-built app's own."""

    scope = models.PositiveSmallIntegerField(_("scope"), choices=Scope.choices)
    tenant_key = models.CharField(_("tenant"), max_length=128, blank=True)
    published_revision = models.PositiveIntegerField(_("published revision"), default=0)
    # The scope's revision at the last edit of this tenant's own fields: the tenant is behind
    # while published_revision is below it or below the scope's shared_revision.
    own_revision = models.PositiveIntegerField(_("revision of its own fields"), default=0)
    sending = models.ForeignKey(
        "FieldPublish",
        verbose_name=_("being sent"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    leased_until = models.DateTimeField(_("lease until"), null=True, blank=True)

    class Meta:
        verbose_name = _("scope in a tenant")
        verbose_name_plural = _("scopes in tenants")
        constraints = [
            models.UniqueConstraint(fields=["scope", "tenant_key"], name="one_state_per_scope_tenant")
        ]

    def __str__(self):
        return f"{self.get_scope_display()} · {self.tenant_key or '—'}"


class FieldPublish(FeishuCall):
    scope = models.PositiveSmallIntegerField(_("scope"), choices=Scope.choices)
    # The tenant this publish goes to ("" for a self-built app's own), and the request it is
    # part of: one request publishes to every installed tenant, each as its own row.
    tenant_key = models.CharField(_("tenant"), max_length=128, blank=True, db_index=True)
    batch = models.UUIDField(_("request"), null=True, blank=True, db_index=True, editable=False)
    revision = models.PositiveIntegerField(_("revision sent"), null=True, blank=True)
    payload = models.JSONField(_("payload sent"), null=True, blank=True)
    response = models.JSONField(_("Feishu's answer"), null=True, blank=True)

    class Meta:
        verbose_name = _("custom-field publish")
        verbose_name_plural = _("custom-field publishes")
        ordering = ["-requested_at"]

    def __str__(self):
        return f"{self.get_scope_display()} #{self.pk}"


class VendorCustomer(models.Model):
    name = models.CharField(_("name"), max_length=200)
    contact = models.CharField(_("contact"), max_length=200, blank=True)
    notes = models.TextField(_("notes"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # Kept by every writer (a full save(): the admin saves the customer with its identifiers'
    # inline, the API's customers service likewise): partners sync with ``updated_after``.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("vendor customer")
        verbose_name_plural = _("vendor customers")
        ordering = ["name"]
        indexes = [models.Index(fields=["updated_at", "id"], name="customer_sync_idx")]  # the API's order

    def __str__(self):
        return self.name


class CustomerIdentifier(models.Model):
    customer = models.ForeignKey(
        VendorCustomer, verbose_name=_("customer"), related_name="identifiers", on_delete=models.CASCADE
    )
    key = models.CharField(_("key"), max_length=64, validators=[field_key_validator])
    value = models.CharField(_("value"), max_length=500)

    class Meta:
        verbose_name = _("customer identifier")
        verbose_name_plural = _("customer identifiers")
        constraints = [models.UniqueConstraint(fields=["key", "value"], name="identifier_unique")]

    def __str__(self):
        return f"{self.key} = {self.value}"


class MatchingRule(models.Model):
    scope = models.PositiveSmallIntegerField(_("scope"), choices=Scope.choices, unique=True)
    keys = models.JSONField(
        _("identifying keys"),
        default=list,
        help_text=_("Custom-field keys whose values identify a customer."),
    )

    class Meta:
        verbose_name = _("matching rule")
        verbose_name_plural = _("matching rules")

    def __str__(self):
        return f"{self.get_scope_display()}: {', '.join(self.keys)}"


class BindingStatus(models.TextChoices):
    BOUND = "bound", _("Bound")
    NEEDS_REVIEW = "needs_review", _("Needs review")
    REJECTED = "rejected", _("Rejected")


def status_label(status: str) -> "StrOrPromise":
    """A binding status as staff read it ("—" for none, e.g. before the first match)."""
    return BindingStatus(status).label if status in BindingStatus.values else status or "—"


# needs_review sorts first, everything else after: the review queue's order (and its index).
REVIEW_QUEUE_FIRST = Case(
    When(status="needs_review", then=Value(0)), default=Value(1), output_field=models.IntegerField()
)


class EcoAccountBinding(models.Model):
    app_id = models.CharField(_("app id"), max_length=64)
    tenant_key = models.CharField(_("tenant"), max_length=128)
    account_id = models.CharField(_("account id"), max_length=128)
    scope = models.PositiveSmallIntegerField(_("scope"), choices=Scope.choices)
    account_name = models.CharField(_("account name"), max_length=200, blank=True)
    usage_list = models.JSONField(_("usage"), default=list)
    usage_text = models.CharField(max_length=32, blank=True, editable=False)  # ",1,2," for filtering
    custom_field_values = models.JSONField(_("custom-field values"), default=list)
    # Flattened "key=value" lines so the admin can search values on any database.
    field_values_text = models.TextField(_("field values"), blank=True, editable=False)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=BindingStatus.choices,
        default=BindingStatus.NEEDS_REVIEW,
        db_index=True,
    )
    customer = models.ForeignKey(
        VendorCustomer,
        verbose_name=_("customer"),
        related_name="bindings",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    review_reason = MessageField(_("why"), max_length=500, blank=True)
    decided_manually = models.BooleanField(_("decided by staff"), default=False)
    source_event_id = models.CharField(_("last event"), max_length=128, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("eco-account binding")
        verbose_name_plural = _("eco-account bindings")
        ordering = ["status", "-updated_at"]
        permissions = [("view_feishu_events", _("Can view the vendor side's Feishu events"))]
        constraints = [
            models.UniqueConstraint(
                fields=["app_id", "tenant_key", "account_id"], name="one_binding_per_account"
            ),
        ]
        indexes = [
            # The review queue's order (the admin list): needs review first, newest first.
            models.Index(REVIEW_QUEUE_FIRST, F("updated_at").desc(), name="binding_review_queue_idx"),
            models.Index(fields=["account_id"], name="binding_account_idx"),
            models.Index(
                fields=["tenant_key", "-updated_at"], name="binding_tenant_idx"
            ),  # the tenant filter
            # The API's order (updated_at, id), alone and under its status filter.
            models.Index(fields=["updated_at", "id"], name="binding_sync_idx"),
            models.Index(fields=["status", "updated_at", "id"], name="binding_status_sync_idx"),
        ]

    def __str__(self):
        return f"{self.account_name or self.account_id}"

    @property
    def values(self) -> dict[str, str]:
        return {
            str(i.get("key")): str(i.get("value", ""))
            for i in self.custom_field_values
            if isinstance(i, dict)
        }


class BindingStatusChange(models.Model):
    binding = models.ForeignKey(EcoAccountBinding, related_name="history", on_delete=models.CASCADE)
    from_status = models.CharField(_("from"), max_length=16, blank=True)
    to_status = models.CharField(_("to"), max_length=16)
    customer = models.ForeignKey(
        VendorCustomer, verbose_name=_("customer"), null=True, blank=True, on_delete=models.SET_NULL
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        help_text=_("Empty: automatic matching."),
    )
    reason = MessageField(_("why"), max_length=500)
    at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("binding status change")
        verbose_name_plural = _("binding status changes")
        ordering = ["-at"]

    def __str__(self):
        return f"{status_label(self.from_status)} → {status_label(self.to_status)}"
