"""Model building blocks shared by the apps, and the change history's proxy."""

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.db import models
from django.utils.translation import gettext_lazy as _


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


class ChangeHistoryEntry(LogEntry):
    """Django's admin log, listed for staff as the change history (see hireops.core.audit)."""

    class Meta:
        proxy = True
        verbose_name = _("change history entry")
        verbose_name_plural = _("change history")
