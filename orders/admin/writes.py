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


def _work_permission(write: OrderWrite) -> str:
    """Whoever may send to Feishu about the write's order may send the write again."""
    return "orders.work_backgroundcheck" if write.background_check_id else "orders.work_exam"


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

    def has_resend_permission(self, request):
        return request.user.has_perm("orders.work_backgroundcheck") or request.user.has_perm(
            "orders.work_exam"
        )

    @admin.action(description=_("Send again, unchanged"), permissions=["resend"])
    def send_again(self, request, queryset):
        sent = 0
        for write in queryset.filter(status=CallStatus.FAILED):
            if not request.user.has_perm(_work_permission(write)):
                self.message_user(
                    request, _("%(write)s: not yours to send.") % {"write": write}, messages.ERROR
                )
                continue
            try:
                writes.write_retry(write, request.user)
            except writes.WriteRefused as exc:
                self.message_user(request, f"{write}: {exc}", messages.ERROR)
                continue
            sent += 1
        self.message_user(request, ngettext("%d write queued again.", "%d writes queued again.", sent) % sent)
