from django.contrib.admin.models import LogEntry
from django.utils.translation import gettext_lazy as _


class ChangeHistoryEntry(LogEntry):
    """Django's admin log, listed for staff as the change history (see hireops.core.audit)."""

    class Meta:
        proxy = True
        verbose_name = _("change history entry")
        verbose_name_plural = _("change history")
