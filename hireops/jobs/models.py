"""Bulk work staff start from the admin (an action on many rows, a CSV import), done in
Celery item by item, with its progress and each item's outcome visible while it runs."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from hireops.core.messages import MessageField
from hireops.core.models import StaffRequest
from hireops.core.privacy import personal


class JobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Finished")


class ItemStatus(models.TextChoices):
    PENDING = "pending", _("Waiting")
    SUCCEEDED = "succeeded", _("Done")
    FAILED = "failed", _("Failed")


class BulkJob(StaffRequest):
    # An operation of hireops.jobs.operations, "app_label.name" (e.g. "exams.cancel").
    kind = models.CharField(_("operation"), max_length=64)
    # The operation's options, never personal data (it is shown and kept).
    params = models.JSONField(_("options"), default=dict, blank=True)
    # The requester's language: item outcomes are written in it, by a worker with no request.
    language = models.CharField(_("language"), max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED, db_index=True
    )
    # The one tenant whose rows the job acts on ("" for a self-built app's own): a selection
    # spanning tenants becomes one job per tenant, so no job crosses tenants.
    tenant_key = models.CharField(_("tenant"), max_length=128, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)

    class Meta:
        verbose_name = _("background job")
        verbose_name_plural = _("background jobs")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["-requested_at"], name="job_recent_idx")]

    def __str__(self):
        from .operations import operation

        return f"#{self.pk} {operation(self.kind).title}"


class BulkJobItem(models.Model):
    job = models.ForeignKey(BulkJob, verbose_name=_("job"), related_name="items", on_delete=models.CASCADE)
    position = models.PositiveIntegerField(_("#"))
    # The row acted on (its primary key), or None for an item that carries its own data.
    object_id = models.CharField(_("object"), max_length=64, blank=True)
    label = models.CharField(_("item"), max_length=300)  # as staff may see it: masked
    # An import row's fields (personal data): removed as soon as the item is done.
    data = models.JSONField(null=True, blank=True, editable=False)
    personal_fields = {"data": personal.FREE_TEXT}
    status = models.CharField(
        _("status"), max_length=16, choices=ItemStatus.choices, default=ItemStatus.PENDING
    )
    message = models.CharField(_("outcome"), max_length=500, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("job item")
        verbose_name_plural = _("job items")
        ordering = ["job", "position"]
        constraints = [models.UniqueConstraint(fields=["job", "position"], name="one_item_per_position")]
        indexes = [models.Index(fields=["job", "status"], name="job_item_status_idx")]

    def __str__(self):
        return self.label


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    DONE = "done", _("Ready to download")
    FAILED = "failed", _("Failed")


class ExportFormat(models.TextChoices):
    CSV = "csv", "CSV"
    XLSX = "xlsx", "Excel (.xlsx)"


class ExportJob(StaffRequest):
    """A large export written by a worker to a file only its requester may download.

    Not a BulkJob: a bulk job is one transaction per item, resumed item by item, while an
    export is one file written in one pass (a workbook cannot be appended to by a later run),
    so a lost export is written again from the start. It lives beside the bulk jobs (same
    admin section, resume schedule and status check).
    """

    # The admin whose list was exported: "app_label.model_name".
    source = models.CharField(_("list"), max_length=100)
    file_format = models.CharField(_("format"), max_length=8, choices=ExportFormat.choices)
    # The list's query string as the action saw it (filters, search, ordering), evaluated
    # again as the requester by the worker; sealed (hireops.core.secrets.sealing), since a search term
    # may be an email: like an exam's sealed password, no lookup on it can tell anything.
    sealed_query = models.TextField(blank=True, editable=False)
    # The rows ticked on the page (primary keys), or None when the action was applied to
    # every row the list's query matches ("select all").
    selected = models.JSONField(null=True, blank=True, editable=False)
    language = models.CharField(_("language"), max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED, db_index=True
    )
    rows_total = models.PositiveIntegerField(_("rows"), null=True, blank=True)
    rows_written = models.PositiveIntegerField(_("rows written"), default=0)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # The run that holds the job (a random token) and its last sign of life: a run whose
    # heartbeat stopped is taken over (hireops.jobs.exports.exports_resume).
    run_token = models.CharField(max_length=32, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    error = MessageField(_("error"), max_length=500, blank=True)
    # Where the finished file is in the exports storage, and the name it downloads as.
    file_name = models.CharField(max_length=200, blank=True, editable=False)
    download_name = models.CharField(_("file"), max_length=200, blank=True)
    expires_at = models.DateTimeField(_("expires at"), db_index=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["requested_by", "-requested_at"], name="export_mine_idx")]

    def __str__(self):
        return f"#{self.pk} {self.download_name}"
