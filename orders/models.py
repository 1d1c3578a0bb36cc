"""Vendor orders from Feishu Hire: background checks and exams, and every write sent back.

An order is created by Feishu's event (``hire.eco_background_check.created_v1``,
``hire.eco_exam.created_v1``) and belongs to the tenant and eco account it came from; it is
linked to that account's binding and customer when one exists. What staff send back to
Feishu (a progress stage, a result, a cancellation, an exam's login information or score)
is a write row (a ``FeishuCall``) committed before the call, sent in order per order
(``orders.writes``), with Feishu's answer recorded on it.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from hireops.core.messages import MessageField
from hireops.core.models import FeishuCall, failed_index
from hireops.core.privacy import personal

from .storage import report_storage


class CheckState(models.TextChoices):
    NEW = "new", _("New")
    IN_PROGRESS = "in_progress", _("In progress")
    COMPLETED = "completed", _("Completed")
    CANCELED = "canceled", _("Canceled by the customer")
    TERMINATED = "terminated", _("Terminated by us")


class ExamState(models.TextChoices):
    NEW = "new", _("New")
    ARRANGED = "arranged", _("Login sent")
    ANSWERED = "answered", _("Score sent")
    GRADED = "graded", _("Graded in Feishu")


ENDED_CHECK_STATES = (CheckState.COMPLETED, CheckState.CANCELED, CheckState.TERMINATED)
OPEN_CHECK_STATES = (CheckState.NEW, CheckState.IN_PROGRESS)
OPEN_EXAM_STATES = (ExamState.NEW, ExamState.ARRANGED)  # not answered yet


class EcoOrder(models.Model):
    """What both kinds of order share: where it came from and the candidate (personal data,
    masked on screens for staff without ``core.view_personal_data``, purged after the order
    ends)."""

    app_id = models.CharField(_("app id"), max_length=64)
    tenant_key = models.CharField(_("tenant"), max_length=128)
    account_id = models.CharField(_("account id"), max_length=128)
    binding = models.ForeignKey(
        "bindings.EcoAccountBinding",
        verbose_name=_("binding"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    customer = models.ForeignKey(
        "bindings.VendorCustomer",
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    candidate_name = models.CharField(_("candidate"), max_length=200, blank=True)
    candidate_mobile_code = models.CharField(_("country code"), max_length=6, blank=True)
    candidate_mobile = models.CharField(_("candidate mobile"), max_length=32, blank=True)
    candidate_email = models.CharField(_("candidate email"), max_length=254, blank=True)
    personal_fields = {
        "candidate_mobile": personal.Mobile(code="candidate_mobile_code"),
        "candidate_email": personal.EMAIL,
    }
    received_at = models.DateTimeField(_("received"), auto_now_add=True)
    ended_at = models.DateTimeField(_("ended"), null=True, blank=True)
    source_event_id = models.CharField(_("event"), max_length=128, blank=True)
    purged_at = models.DateTimeField(_("personal data purged"), null=True, blank=True)
    # What a partner syncing through the API walks by (``orders.api``): every writer of the order
    # or of its writes sets it (``touch``); save(update_fields=…) and update() would not.
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, db_default=Now())

    class Meta:
        abstract = True


class BackgroundCheck(EcoOrder):
    background_check_id = models.CharField(_("background check id"), max_length=128)
    package_id = models.CharField(_("package"), max_length=64, blank=True)
    additional_item_ids = models.JSONField(_("additional items"), default=list, blank=True)
    custom_field_values = models.JSONField(_("order form values"), default=list, blank=True)
    comment = models.TextField(_("customer's comment"), blank=True)
    candidate_first_name = models.CharField(_("first name"), max_length=100, blank=True)
    candidate_last_name = models.CharField(_("last name"), max_length=100, blank=True)
    contact_name = models.CharField(_("customer contact"), max_length=200, blank=True)
    contact_mobile_code = models.CharField(_("contact country code"), max_length=6, blank=True)
    contact_mobile = models.CharField(_("contact mobile"), max_length=32, blank=True)
    contact_email = models.CharField(_("contact email"), max_length=254, blank=True)
    personal_fields = {
        **EcoOrder.personal_fields,
        "contact_mobile": personal.Mobile(code="contact_mobile_code"),
        "contact_email": personal.EMAIL,
        # What the customer typed: the order form's values (each under its field's key, which
        # is the form's own and stays readable), a comment.
        "custom_field_values": personal.FreeText(keep=("key",)),
        "comment": personal.FREE_TEXT,
        # Why the customer canceled, in Feishu: readable, with a mobile or email in it masked.
        "cancel_reason": personal.MASKED_TEXT,
    }
    state = models.CharField(
        _("state"), max_length=16, choices=CheckState.choices, default=CheckState.NEW, db_index=True
    )
    cancel_reason = models.CharField(_("why canceled"), max_length=500, blank=True)
    result = models.CharField(_("result"), max_length=500, blank=True)
    last_stage_time = models.BigIntegerField(_("last stage time"), null=True, blank=True)

    class Meta:
        verbose_name = _("background check")
        verbose_name_plural = _("background checks")
        ordering = ["-received_at"]
        permissions = [
            ("work_backgroundcheck", _("Can send progress, results and cancellations to Feishu")),
            ("view_order_events", _("Can view the vendor orders' Feishu events")),
            (
                "manage_schedules",
                _("Can switch the vendor orders' schedules on and off, retime and run them"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["app_id", "tenant_key", "background_check_id"], name="one_row_per_background_check"
            )
        ]
        indexes = [
            models.Index(fields=["state", "-received_at"], name="check_queue_idx"),
            models.Index(fields=["tenant_key", "-received_at"], name="check_tenant_idx"),
            models.Index(fields=["account_id"], name="check_account_idx"),
            models.Index(fields=["package_id", "state"], name="check_package_idx"),
            models.Index(fields=["background_check_id"], name="check_id_idx"),  # the exact search
            models.Index(fields=["received_at"], name="check_received_idx"),  # usage, age
            models.Index(fields=["ended_at"], name="check_ended_idx"),  # usage, purge
            # The API's pages (orders.api): by (updated_at, id), within a tenant or a state.
            models.Index(fields=["updated_at", "id"], name="check_updated_idx"),
            models.Index(fields=["tenant_key", "updated_at", "id"], name="check_tenant_updated_idx"),
            models.Index(fields=["state", "updated_at", "id"], name="check_state_updated_idx"),
        ]

    def __str__(self):
        # The page's heading, breadcrumb and title, the forms and the writes list read it.
        return gettext("Background check %(id)s") % {"id": self.background_check_id}

    @property
    def ended(self) -> bool:
        return self.state in ENDED_CHECK_STATES


class Exam(EcoOrder):
    exam_id = models.CharField(_("exam id"), max_length=128)
    paper_id = models.CharField(_("paper"), max_length=255, blank=True)
    talent_id = models.CharField(_("talent id"), max_length=64, blank=True)
    application_id = models.CharField(_("application id"), max_length=64, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=ExamState.choices, default=ExamState.NEW, db_index=True
    )
    exam_url = models.URLField(_("exam link"), max_length=1000, blank=True)
    exam_username = models.CharField(_("exam user name"), max_length=200, blank=True)
    exam_password = models.TextField(_("exam password (encrypted)"), blank=True, editable=False)
    score = models.CharField(_("score"), max_length=64, blank=True)
    # The candidate's login is often their email or mobile.
    personal_fields = {
        **EcoOrder.personal_fields,
        "exam_url": personal.FREE_TEXT,
        "exam_username": personal.FREE_TEXT,
    }

    class Meta:
        verbose_name = _("exam")
        verbose_name_plural = _("exams")
        ordering = ["-received_at"]
        permissions = [("work_exam", _("Can send exam logins and scores to Feishu"))]
        constraints = [
            models.UniqueConstraint(fields=["app_id", "tenant_key", "exam_id"], name="one_row_per_exam")
        ]
        indexes = [
            models.Index(fields=["state", "-received_at"], name="exam_queue_idx"),
            models.Index(fields=["tenant_key", "-received_at"], name="exam_tenant_idx"),
            models.Index(fields=["account_id"], name="exam_account_idx"),
            models.Index(fields=["paper_id", "state"], name="exam_paper_idx"),  # scheduled.py
            models.Index(fields=["exam_id"], name="exam_id_idx"),  # the exact search
            models.Index(fields=["received_at"], name="exam_received_idx"),  # usage, age
            models.Index(fields=["ended_at"], name="exam_ended_idx"),  # usage, purge
            models.Index(fields=["updated_at", "id"], name="exam_updated_idx"),  # orders.api
            models.Index(fields=["tenant_key", "updated_at", "id"], name="exam_tenant_updated_idx"),
            models.Index(fields=["state", "updated_at", "id"], name="exam_state_updated_idx"),
        ]

    def __str__(self):
        return gettext("Exam %(id)s") % {"id": self.exam_id}

    @property
    def ended(self) -> bool:
        return self.state == ExamState.GRADED


class ReportFile(models.Model):
    """A report staff attach to a stage, a result or a score: a file hireops keeps (served
    to Feishu by an expiring signed link, ``orders.reports``) or a link to a page elsewhere."""

    background_check = models.ForeignKey(
        BackgroundCheck, null=True, blank=True, on_delete=models.CASCADE, related_name="reports"
    )
    exam = models.ForeignKey(Exam, null=True, blank=True, on_delete=models.CASCADE, related_name="reports")
    name = models.CharField(_("report name"), max_length=200)
    file = models.FileField(_("file"), upload_to="%Y/%m/", blank=True, storage=report_storage)
    preview_url = models.URLField(_("preview link"), max_length=1000, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, blank=True, on_delete=models.SET_NULL
    )
    uploaded_at = models.DateTimeField(_("uploaded"), auto_now_add=True)

    class Meta:
        verbose_name = _("report file")
        verbose_name_plural = _("report files")
        constraints = [
            models.CheckConstraint(
                condition=Q(background_check__isnull=False) | Q(exam__isnull=False),
                name="report_has_an_order",
            ),
            models.CheckConstraint(condition=~Q(file="", preview_url=""), name="report_has_a_file_or_link"),
        ]

    def __str__(self):
        return self.name


class WriteKind(models.TextChoices):
    PROGRESS = "progress", _("Progress stage")
    RESULT = "result", _("Result")
    CANCEL = "cancel", _("Cancellation")
    LOGIN = "login", _("Exam login")
    SCORE = "score", _("Exam score")


class OrderWrite(FeishuCall):
    """One thing sent to Feishu about an order. Its content (stage id and time, result, …)
    is fixed when staff ask, so every retry sends the same stage; ``payload`` is the body as
    last sent (an exam password shown as ***)."""

    kind = models.CharField(_("what"), max_length=16, choices=WriteKind.choices)
    background_check = models.ForeignKey(
        BackgroundCheck, null=True, blank=True, on_delete=models.CASCADE, related_name="writes"
    )
    exam = models.ForeignKey(Exam, null=True, blank=True, on_delete=models.CASCADE, related_name="writes")
    tenant_key = models.CharField(_("tenant"), max_length=128, blank=True, db_index=True)
    stage_id = models.CharField(_("stage id"), max_length=64, blank=True)
    stage_name = models.CharField(_("stage"), max_length=100, blank=True)
    stage_en_name = models.CharField(_("stage (English)"), max_length=100, blank=True)
    time_ms = models.BigIntegerField(_("time"), null=True, blank=True)
    result = models.CharField(_("result"), max_length=500, blank=True)
    details = models.JSONField(_("details"), default=list, blank=True)
    exam_url = models.URLField(_("exam link"), max_length=1000, blank=True)
    exam_username = models.CharField(_("exam user name"), max_length=200, blank=True)
    exam_password = models.TextField(_("exam password (encrypted)"), blank=True, editable=False)
    reports = models.ManyToManyField(ReportFile, verbose_name=_("reports"), blank=True, related_name="writes")
    payload = models.JSONField(_("payload sent"), null=True, blank=True)
    note = MessageField(_("note"), max_length=500, blank=True)
    # An exam's login (often the candidate's email or mobile), in its fields and the body sent.
    personal_fields = {
        "exam_url": personal.FREE_TEXT,
        "exam_username": personal.FREE_TEXT,
        "payload": personal.FREE_TEXT,
    }

    class Meta:
        verbose_name = _("order write")
        verbose_name_plural = _("order writes")
        ordering = ["-requested_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(background_check__isnull=False) | Q(exam__isnull=False), name="write_has_an_order"
            ),
            # Feishu: a stage id must not repeat within one order.
            models.UniqueConstraint(
                fields=["background_check", "stage_id"],
                condition=Q(kind="progress"),
                name="stage_id_unique_in_order",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "requested_at"], name="write_queue_idx"),
            failed_index("write_failed_idx"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def order(self):
        return self.background_check or self.exam


def touch(*, checks=(), exams=(), now=None) -> None:
    """The orders (primary keys) changed, or their writes did: their ``updated_at`` moves, so
    a partner syncing by ``updated_after`` reads them again (orders.api)."""
    now = now or timezone.now()
    checks, exams = [pk for pk in checks if pk], [pk for pk in exams if pk]
    if checks:
        BackgroundCheck.objects.filter(pk__in=checks).update(updated_at=now)
    if exams:
        Exam.objects.filter(pk__in=exams).update(updated_at=now)


def touch_write(write) -> None:
    """A write was queued or closed: its order shows it."""
    touch(checks=[write.background_check_id], exams=[write.exam_id])
