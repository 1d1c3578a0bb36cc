"""The vendor's catalogue, as each bound account's Feishu Hire shows it (docs/feishu.md §8.2,
§8.3, §9.1): background-check packages and additional items, the background-check order
form's fields, and exam papers.

Every entry belongs to one shared catalogue; ``only_for`` narrows an entry to some customers
(empty: every customer), which gives both a per-customer selection and per-customer extras.
What one account's Feishu was last sent is kept per account and catalogue
(``CatalogueSync.sent``), so a push sends only the difference Feishu's incremental APIs need
(``orders.catalogue.plans``). Each push is a ``CataloguePush`` row with every call and answer.
"""

from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from bindings.models import Scope, field_key_validator
from hireops.core.messages import MessageField
from hireops.core.models import CallStatus, FeishuCall, StaffRequest, failed_index


class Catalogue(models.TextChoices):
    PACKAGES = "packages", _("Background-check packages")
    FORM_FIELDS = "form_fields", _("Background-check order form")
    PAPERS = "papers", _("Exam papers")


# What an account of each scope is sent.
SCOPE_CATALOGUES = {
    Scope.BACKGROUND_CHECK: (Catalogue.PACKAGES, Catalogue.FORM_FIELDS),
    Scope.EXAM: (Catalogue.PAPERS,),
}
CATALOGUE_SCOPE: dict[str, int] = {
    c: scope for scope, catalogues in SCOPE_CATALOGUES.items() for c in catalogues
}

feishu_id_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]*\Z",
    _("Use letters, digits and _ . : - only, starting with a letter or digit."),
)


class CatalogueEntry(models.Model):
    only_for = models.ManyToManyField(
        "bindings.VendorCustomer",
        verbose_name=_("only for these customers"),
        blank=True,
        related_name="+",
        help_text=_("Empty: offered to every customer. Otherwise only these customers' accounts get it."),
    )
    is_active = models.BooleanField(_("active"), default=True, help_text=_("Only active entries are sent."))
    display_order = models.PositiveIntegerField(_("display order"), default=0)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        abstract = True


class Turnaround(models.Model):
    turnaround_days = models.PositiveSmallIntegerField(
        _("turnaround (days)"),
        default=7,
        validators=[MinValueValidator(1), MaxValueValidator(365)],
        help_text=_("An order open longer than this shows as overdue."),
    )

    class Meta:
        abstract = True


class Package(CatalogueEntry, Turnaround):
    code = models.CharField(
        _("id in Feishu"),
        max_length=36,  # Feishu: at most 36 characters
        unique=True,
        validators=[feishu_id_validator],
        help_text=_("Sent to Feishu and received back on each order; cannot change once saved."),
    )
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("background-check package")
        verbose_name_plural = _("background-check packages")
        ordering = ["display_order", "code"]
        permissions = [("push_catalogue", _("Can push catalogues to Feishu"))]

    def __str__(self):
        return f"{self.name} ({self.code})"


class AdditionalItem(CatalogueEntry):
    code = models.CharField(_("id in Feishu"), max_length=36, unique=True, validators=[feishu_id_validator])
    name = models.CharField(_("name"), max_length=100)
    description = models.TextField(_("description"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("additional background-check item")
        verbose_name_plural = _("additional background-check items")
        ordering = ["display_order", "code"]

    def __str__(self):
        return f"{self.name} ({self.code})"


class FieldType(models.TextChoices):
    TEXT = "text", _("Single line (≤ 100 characters)")
    TEXTAREA = "textarea", _("Multi-line text (≤ 200 characters)")
    NUMBER = "number", _("Number")
    BOOLEAN = "boolean", _("Yes / no")
    SELECT = "select", _("Single choice")
    MULTISELECT = "multiselect", _("Multiple choice")
    DATE = "date", _("Date")
    FILE = "file", _("Attachment")
    RESUME = "resume", _("Candidate's résumé")


WITH_OPTIONS = (FieldType.SELECT, FieldType.MULTISELECT)
WITH_HINT = (FieldType.TEXT, FieldType.TEXTAREA)


class FormField(CatalogueEntry):
    """A field the customer fills when arranging a background check (not the account's fields,
    which live in bindings)."""

    key = models.CharField(
        _("key"),
        max_length=64,
        unique=True,
        validators=[field_key_validator],
        help_text=_(
            "Received back on each order. A key once removed from an account cannot be used again there."
        ),
    )
    type = models.CharField(_("type"), max_length=16, choices=FieldType.choices)
    name_zh = models.CharField(_("name (Chinese)"), max_length=100, blank=True)
    name_en = models.CharField(_("name (English)"), max_length=100, blank=True)
    is_required = models.BooleanField(_("required"), default=False)
    description_zh = models.CharField(_("hint (Chinese)"), max_length=200, blank=True)
    description_en = models.CharField(_("hint (English)"), max_length=200, blank=True)
    # [{"key", "name_zh", "name_en"}], for single and multiple choice.
    options = models.JSONField(_("options"), default=list, blank=True)

    class Meta:
        verbose_name = _("background-check form field")
        verbose_name_plural = _("background-check form fields")
        ordering = ["display_order", "key"]
        constraints = [
            models.CheckConstraint(condition=~Q(name_zh="", name_en=""), name="form_field_has_a_name")
        ]

    def __str__(self):
        return f"{self.name_zh or self.name_en} ({self.key})"


class ExamPaper(CatalogueEntry, Turnaround):
    code = models.CharField(
        _("id in Feishu"),
        max_length=255,  # Feishu truncates longer ids: refused here instead
        unique=True,
        validators=[feishu_id_validator],
        help_text=_("Sent to Feishu and received back on each exam; cannot change once saved."),
    )
    name = models.CharField(_("name"), max_length=255)
    duration_minutes = models.PositiveIntegerField(_("duration (minutes)"), null=True, blank=True)
    question_count = models.PositiveIntegerField(_("questions"), null=True, blank=True)
    starts_at = models.DateTimeField(_("opens at"), null=True, blank=True)
    ends_at = models.DateTimeField(_("closes at"), null=True, blank=True)

    class Meta:
        verbose_name = _("exam paper")
        verbose_name_plural = _("exam papers")
        ordering = ["display_order", "code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(starts_at__isnull=True) | Q(ends_at__isnull=True) | Q(starts_at__lt=F("ends_at")),
                name="paper_opens_before_it_closes",
            )
        ]

    def __str__(self):
        return f"{self.name} ({self.code})"


CATALOGUE_MODELS = {
    Catalogue.PACKAGES: (Package, AdditionalItem),
    Catalogue.FORM_FIELDS: (FormField,),
    Catalogue.PAPERS: (ExamPaper,),
}


class CatalogueSync(models.Model):
    """One catalogue in one account's Feishu: what it was last sent (the base of the next
    difference), and the lease of the push being sent, so two never overlap."""

    binding = models.ForeignKey(
        "bindings.EcoAccountBinding", verbose_name=_("account"), on_delete=models.CASCADE, related_name="+"
    )
    catalogue = models.CharField(_("catalogue"), max_length=16, choices=Catalogue.choices)
    sent = models.JSONField(_("what Feishu has"), default=dict, blank=True)
    # Ids a call that may or may not have reached Feishu touched: {"packages": {id: entry},
    # "items": {...}}; the next push asks Feishu before relying on them (plans.probe).
    uncertain = models.JSONField(default=dict, blank=True)
    # Form-field keys deleted from the account: Feishu never takes them again.
    retired_keys = models.JSONField(_("retired keys"), default=list, blank=True)
    sending = models.ForeignKey(
        "CataloguePush", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    leased_until = models.DateTimeField(null=True, blank=True)
    pushed_at = models.DateTimeField(_("last pushed"), null=True, blank=True)

    class Meta:
        verbose_name = _("catalogue in an account")
        verbose_name_plural = _("catalogues in accounts")
        constraints = [
            models.UniqueConstraint(fields=["binding", "catalogue"], name="one_sync_per_account_catalogue")
        ]

    def __str__(self):
        return f"{self.get_catalogue_display()} · {self.binding_id}"


class PushReason(models.TextChoices):
    BOUND = "bound", _("The account was bound")
    CHANGED = "changed", _("The catalogue changed")
    STAFF = "staff", _("Requested by staff")


class CataloguePush(FeishuCall):
    binding = models.ForeignKey(
        "bindings.EcoAccountBinding", verbose_name=_("account"), on_delete=models.CASCADE, related_name="+"
    )
    catalogue = models.CharField(_("catalogue"), max_length=16, choices=Catalogue.choices)
    tenant_key = models.CharField(_("tenant"), max_length=128, blank=True)
    reason = models.CharField(_("why"), max_length=16, choices=PushReason.choices)
    rollout = models.ForeignKey(
        "CatalogueRollout",
        verbose_name=_("rollout"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="pushes",
    )
    started_at = models.DateTimeField(_("first sent at"), null=True, blank=True)
    # Each call made: {"op", "body", "code", "msg", "log_id", "at"}.
    calls = models.JSONField(_("calls"), default=list, blank=True)
    note = MessageField(_("note"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("catalogue push")
        verbose_name_plural = _("catalogue pushes")
        ordering = ["-requested_at"]
        constraints = [
            # One push per account and catalogue waits to start: a second request joins it
            # (it is planned when it starts, from what is committed then).
            models.UniqueConstraint(
                fields=["binding", "catalogue"],
                condition=Q(status=CallStatus.QUEUED, started_at__isnull=True),
                name="one_waiting_push_per_account_catalogue",
            )
        ]
        indexes = [
            # A rollout's progress by status (the admin), and its pushes paged by id (the API),
            # whole, by status or by tenant: each an index range scan.
            models.Index(fields=["rollout", "status", "id"], name="push_rollout_idx"),
            models.Index(fields=["rollout", "id"], name="push_rollout_page_idx"),
            models.Index(fields=["rollout", "tenant_key", "id"], name="push_rollout_tenant_idx"),
            models.Index(fields=["status", "requested_at"], name="push_status_idx"),
            failed_index("push_failed_idx"),
            # The list, newest first (the admin adds the id): its first page read in order, each
            # row's binding looked up, instead of every push joined to every binding.
            models.Index(fields=["requested_at", "id"], name="catalogue_push_newest_idx"),
        ]

    def __str__(self):
        return f"{self.get_catalogue_display()} #{self.pk}"


class RolloutStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Finished")


class CatalogueRollout(StaffRequest):
    """A catalogue change going out to every bound account it concerns: each account whose
    Feishu differs from what it should have gets a push (the progress: accounts looked at,
    pushes queued, and the pushes' outcomes)."""

    catalogue = models.CharField(_("catalogue"), max_length=16, choices=Catalogue.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=RolloutStatus.choices, default=RolloutStatus.QUEUED
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    cursor = models.BigIntegerField(default=0)  # the last binding looked at: a resumed run goes on
    total = models.PositiveIntegerField(_("accounts"), default=0)
    considered = models.PositiveIntegerField(_("accounts looked at"), default=0)
    queued = models.PositiveIntegerField(_("pushes queued"), default=0)

    class Meta:
        verbose_name = _("catalogue rollout")
        verbose_name_plural = _("catalogue rollouts")
        ordering = ["-requested_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["catalogue"],
                condition=Q(status="queued"),
                name="one_queued_rollout_per_catalogue",
            )
        ]

    def __str__(self):
        return f"{self.get_catalogue_display()} #{self.pk}"


__all__ = [
    "AdditionalItem",
    "Catalogue",
    "CataloguePush",
    "CatalogueRollout",
    "CatalogueSync",
    "ExamPaper",
    "FieldType",
    "FormField",
    "Package",
    "PushReason",
    "RolloutStatus",
]
