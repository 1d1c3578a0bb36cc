import json

from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hireops.core.admin import SystemRecordAdmin
from hireops.core.masking import mask_personal

from .models import FeishuEvent
from .services import events_reprocess


@admin.register(FeishuEvent)
class FeishuEventAdmin(SystemRecordAdmin):
    list_display = (
        "received_at",
        "event_type",
        "status",
        "tenant_key",
        "account_id",
        "attempts",
        "duplicate_count",
    )
    list_filter = ("status", "event_type", "schema", "tenant_key")
    search_fields = ("=event_id", "=account_id")
    date_hierarchy = "received_at"
    actions = ["reprocess"]
    fields = (
        "event_id",
        "schema",
        "event_type",
        "status",
        "app_id",
        "tenant_key",
        "account_id",
        "create_time",
        "received_at",
        "attempts",
        "next_attempt_at",
        "processed_at",
        "last_error",
        "duplicate_count",
        "last_duplicate_at",
        "payload_pretty",
    )
    readonly_fields = fields

    @admin.display(description=_("payload (personal data masked)"))
    def payload_pretty(self, obj):
        text = json.dumps(mask_personal(obj.payload), ensure_ascii=False, indent=2, sort_keys=True)
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    @admin.action(description=_("Reprocess selected failed events"))
    def reprocess(self, request, queryset):
        n = events_reprocess(queryset)
        skipped = queryset.count() - n
        self.message_user(
            request,
            ngettext("%(n)d event queued for reprocessing.", "%(n)d events queued for reprocessing.", n)
            % {"n": n},
            messages.SUCCESS if n else messages.WARNING,
        )
        if skipped:
            self.message_user(
                request,
                _("%(n)d selected events were not failed and were left alone.") % {"n": skipped},
                messages.INFO,
            )
