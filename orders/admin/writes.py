"""What was sent to Feishu about orders: each write, its answer, and "Send again"."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hireops.core.admin import SystemRecordAdmin
from hireops.core.admin.large import LargeTableAdmin
from hireops.core.models import CallStatus
from hireops.tenants.filters import TenantFilter

from .. import writes
from ..models import OrderWrite


@admin.register(OrderWrite)
class OrderWriteAdmin(LargeTableAdmin, SystemRecordAdmin):
    list_display = (
        "__str__",
        "kind",
        "order_link",
        "status",
        "error",
        "attempts",
        "requested_by",
        "requested_at",
    )
    list_filter = ("status", "kind", TenantFilter)
    list_select_related = ("background_check", "exam", "requested_by")
    search_fields = ("=background_check__background_check_id", "=exam__exam_id", "=stage_id")
    actions = ["send_again"]
    fields = (
        "kind",
        "status",
        "order_link",
        "stage_id",
        "stage_name",
        "stage_en_name",
        "time_ms",
        "result",
        "details",
        "exam_url",
        "exam_username",
        "maybe_applied",
        "attempts",
        "error",
        "error_code",
        "log_id",
        "note",
        "payload",
        "requested_by",
        "requested_at",
        "finished_at",
        "tenant_key",
    )
    readonly_fields = fields

    @admin.display(description=_("order"))
    def order_link(self, obj):
        return str(obj.order)

    @admin.action(description=_("Send again, unchanged"), permissions=["view"])
    def send_again(self, request, queryset):
        sent = 0
        for write in queryset.filter(status=CallStatus.FAILED):
            try:
                writes.write_retry(write, request.user)
                sent += 1
            except writes.WriteRefused as exc:
                self.message_user(request, f"{write}: {exc}", messages.ERROR)
        self.message_user(request, ngettext("%d write queued again.", "%d writes queued again.", sent) % sent)
