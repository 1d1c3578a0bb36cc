import json

from django.contrib import admin, messages
from django.db.models import Q
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext

from hireops.core import audit
from hireops.core.admin import SystemRecordAdmin
from hireops.core.masking import mask_personal
from hireops.core.personal import can_see_personal_data

from .models import FeishuEvent
from .services import events_reprocess

VENDOR_EVENTS = "hire.eco_"
HR_EVENTS = "hire.referral_account."
VIEW_PERMISSIONS = ("view_feishuevent", "view_vendor_feishuevent", "view_hr_feishuevent")
# Change-history message (hireops.core.audit), translated when read.
REPROCESSED = gettext_noop("Queued again for processing.")


def _pre(payload) -> str:
    text = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True)
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)


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

    def get_queryset(self, request):
        # Vendor operations see the eco-account events, HR the referral ones, auditors all.
        qs, user = super().get_queryset(request), request.user
        if user.has_perm("events.view_feishuevent"):
            return qs
        visible = Q(pk__in=[])
        if user.has_perm("events.view_vendor_feishuevent"):
            visible |= Q(event_type__startswith=VENDOR_EVENTS)
        if user.has_perm("events.view_hr_feishuevent"):
            visible |= Q(event_type__startswith=HR_EVENTS)
        return qs.filter(visible)

    def has_view_permission(self, request, obj=None):
        return any(request.user.has_perm(f"events.{p}") for p in VIEW_PERMISSIONS)

    def has_reprocess_permission(self, request):
        return request.user.has_perm("events.reprocess_feishuevent")

    def get_fields(self, request, obj=None):
        if can_see_personal_data(request.user):
            return [f if f != "payload_pretty" else "payload_full" for f in self.fields]
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    @admin.display(description=_("payload (personal data masked)"))
    def payload_pretty(self, obj):
        return _pre(mask_personal(obj.payload))

    @admin.display(description=_("payload"))
    def payload_full(self, obj):
        return _pre(obj.payload)

    @admin.action(description=_("Reprocess selected failed events"), permissions=["reprocess"])
    def reprocess(self, request, queryset):
        pks = events_reprocess(queryset)
        audit.record(request.user, FeishuEvent.objects.filter(pk__in=pks), REPROCESSED)
        n, skipped = len(pks), queryset.count() - len(pks)
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
