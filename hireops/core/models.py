"""Model building blocks shared by the apps, and the change history's proxy."""

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db import models
from django.utils.translation import gettext_lazy as _

from .messages import MessageTextField
from .privacy import personal


class StaffRequest(models.Model):
    """Work someone asked for and the system carries out: who asked, when, and when it
    finished (publishes, withdrawals, reconciliation runs, background jobs). Empty
    ``requested_by``: a schedule asked, or the person's user was deleted since."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("requested by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    requested_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        abstract = True


class CallStatus(models.TextChoices):
    QUEUED = "queued", _("In progress")  # waiting to be sent, being sent, or to be sent again
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")


class FeishuCall(StaffRequest):
    """Work done by calling Feishu (a publish, a withdrawal, a reconciliation run, …): where it
    stands and Feishu's last answer. A retry keeps the row (and any idempotency key on it);
    ``error`` says, in the reader's language, what went wrong and whether it is retried
    (hireops.feishu_calls.failures). ``hireops.outbound`` sends such rows: the lease
    (``leased_until``) keeps two workers from sending one row at once, and ``maybe_applied``
    remembers that an earlier attempt got no answer and may have reached Feishu."""

    status = models.CharField(
        _("status"), max_length=16, choices=CallStatus.choices, default=CallStatus.QUEUED, db_index=True
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    error_code = models.BigIntegerField(_("error code"), null=True, blank=True)
    error = MessageTextField(_("error"), blank=True)
    log_id = models.CharField(_("X-Tt-Logid"), max_length=128, blank=True)
    # An earlier attempt's outcome is unknown (a timeout): Feishu may already have it.
    maybe_applied = models.BooleanField(_("may have reached Feishu"), default=False)
    leased_until = models.DateTimeField(_("being sent until"), null=True, blank=True)

    class Meta:
        abstract = True


def failed_index(name: str) -> models.Index:
    """For a large table of calls: its failed rows by when they closed, for the status page's
    "failed in the last 24 hours" (hireops.ops.health), which would otherwise read every
    failure the table ever had. Partial: failures are few, so the index stays small."""
    return models.Index(fields=["finished_at"], name=name, condition=models.Q(status=CallStatus.FAILED))


class StaffAccess(models.Model):
    """Permissions that belong to no one model (Django keeps permissions on models). No table
    is ever created for it."""

    class Meta:
        managed = False
        default_permissions = ()
        verbose_name = _("staff access")
        permissions = [("view_personal_data", _("Can see mobile numbers and emails unmasked"))]

    def __str__(self):
        return str(self._meta.verbose_name)


def _described(entry, typed: str | None) -> str:
    from .audit import describe

    return describe(entry, typed)


class ChangeHistoryEntry(LogEntry):
    """Django's admin log, listed for staff as the change history (see hireops.core.audit)."""

    # A reason typed with an action (a rejection, a deletion) is free text: hidden whole.
    personal_fields = {"change_message": personal.FreeText(text=_described)}

    def __str__(self):  # LogEntry's adds the message, unmasked (the page's title)
        return f"{self.get_action_flag_display()}: {self.object_repr}"

    class Meta:
        proxy = True
        verbose_name = _("change history entry")
        verbose_name_plural = _("change history")


class ScheduleActionKind(models.TextChoices):
    CHANGED = "changed", _("changed the schedule")  # switched on or off, retimed
    RUN_NOW = "run_now", _("asked it to run now")


class ScheduleAction(models.Model):
    """A person's hand on a schedule (``hireops.core.schedules.registry``): a change of whether or when
    it runs, or "Run now". What a schedule prepares for a second person's approval (a payout
    run) names these people among those who caused it (``schedules.who_set_going``): a
    schedule is a way to start something, never a way around the four-eyes rule."""

    name = models.CharField(_("schedule"), max_length=200)  # PeriodicTask.name (declared: stable)
    kind = models.CharField(_("what"), max_length=16, choices=ScheduleActionKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    at = models.DateTimeField(_("at"), auto_now_add=True)

    class Meta:
        verbose_name = _("schedule action")
        verbose_name_plural = _("schedule actions")
        default_permissions = ()
        indexes = [models.Index(fields=["name", "kind", "-at"], name="schedule_action_last_idx")]

    def __str__(self):
        return f"{self.name}: {self.get_kind_display()}"


from .trends.models import TrendBackfill, TrendDirtyBucket, TrendRollup  # noqa: E402, F401  (the trends' tables are core's)
