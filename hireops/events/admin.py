import json

from django.contrib import admin, messages
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hireops.core import display
from hireops.core.admin import SystemRecordAdmin
from hireops.core.admin.large import LargeTableAdmin, exact_search
from hireops.tenants.filters import TenantFilter

from . import registry, types
from .models import EventStatus, FeishuEvent, RejectedDelivery
from .services import events_reprocess

FULL_VIEW = "events.view_feishuevent"


def _pre(payload) -> str:
    text = json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True)
    return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)


class EventTypeFilter(admin.SimpleListFilter):
    """The types staff can name, from the code: no DISTINCT over the whole event log."""

    title = _("event type")
    parameter_name = "event_type"

    def lookups(self, request, model_admin):
        user = request.user
        shown = types.known_types() if user.has_perm(FULL_VIEW) else registry.types_visible_to(user)
        return [(t, types.label(t)) for t in shown]

    def queryset(self, request, queryset):
        return queryset.filter(event_type=self.value()) if self.value() else queryset


@admin.register(FeishuEvent)
class FeishuEventAdmin(LargeTableAdmin, SystemRecordAdmin):
    list_display = (
        "received_at",
        "type_label",
        "status",
        "tenant_key",
        "account_id",
        "attempts",
        "duplicate_count",
    )
    list_filter = ("status", EventTypeFilter, ("received_at", admin.DateFieldListFilter), TenantFilter)
    search_fields = ("=event_id", "=account_id")  # exact, through their indexes (get_search_results)
    actions = ["reprocess"]
    fields = (
        "event_id",
        "schema",
        "type_label",
        "status",
        "app_id",
        "tenant_key",
        "account_id",
        "create_time",
        "received_at",
        "attempts",
        "next_attempt",
        "processed_at",
        "last_error",
        "duplicate_count",
        "last_duplicate_at",
        "payload",  # masked or in full by the admin's personal-data guard
    )
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        return exact_search(queryset, search_term, ("event_id", "account_id")), False

    def get_queryset(self, request):
        # Whoever may view the model sees every event; others see the types whose
        # registration names a permission they have (each app says who sees its events).
        qs, user = super().get_queryset(request), request.user
        if user.has_perm(FULL_VIEW):
            return qs
        return qs.filter(event_type__in=registry.types_visible_to(user))

    def has_view_permission(self, request, obj=None):
        user = request.user
        return user.has_perm(FULL_VIEW) or any(user.has_perm(p) for p in registry.visibility())

    def has_reprocess_permission(self, request):
        return request.user.has_perm("events.reprocess_feishuevent")

    @admin.display(description=_("event type"), ordering="event_type")
    def type_label(self, obj):
        name = types.label(obj.event_type)
        return name if name == obj.event_type else display.with_code(name, obj.event_type)

    @admin.display(description=_("next attempt at"))
    def next_attempt(self, obj):
        """When the event is tried again; after the last retry, that it is not, and what to do."""
        if obj.next_attempt_at is not None:
            return formats.localize(timezone.localtime(obj.next_attempt_at))
        if obj.status != EventStatus.FAILED:
            return "—"
        return _(
            "None: after %(n)d attempts it is not retried automatically. Once the cause is "
            "fixed, select it in the list and run “Reprocess selected failed or ignored events”."
        ) % {"n": obj.attempts}

    @admin.action(description=_("Reprocess selected failed or ignored events"), permissions=["reprocess"])
    def reprocess(self, request, queryset):
        selected = queryset.count()  # before: the list's filter (failed, say) no longer holds after
        pks = events_reprocess(queryset, request.user)
        n, skipped = len(pks), selected - len(pks)
        self.message_user(
            request,
            ngettext("%(n)d event queued for reprocessing.", "%(n)d events queued for reprocessing.", n)
            % {"n": n},
            messages.SUCCESS if n else messages.WARNING,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(n)d selected event was not queued: only failed events, and ignored events "
                    "whose type now has a handler, are processed again.",
                    "%(n)d selected events were not queued: only failed events, and ignored events "
                    "whose type now has a handler, are processed again.",
                    skipped,
                )
                % {"n": skipped},
                messages.WARNING,
            )


@admin.register(RejectedDelivery)
class RejectedDeliveryAdmin(LargeTableAdmin, SystemRecordAdmin):
    """Read-only; whoever has ``events.view_rejecteddelivery`` (auditors) reads it, and only
    superusers may delete rows (the cap and pruning keep it small anyway)."""

    list_display = ("received_at", "kind", "status", "remote_addr", "forwarded_for", "suppressed_before")
    list_filter = ("kind", "status")  # from the choices: no DISTINCT over the table
    fields = (
        "received_at",
        "kind",
        "hint",
        "reason",
        "status",
        "remote_addr",
        "forwarded_for",
        "headers_pretty",
        "body_size",
        "body_excerpt",  # hidden or in full (masked when kept) by the admin's personal-data guard
        "suppressed_before",
    )
    readonly_fields = fields

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    @admin.display(description=_("what to check"))
    def hint(self, obj):
        return obj.hint

    @admin.display(description=_("headers (harmless ones only)"))
    def headers_pretty(self, obj):
        return _pre(obj.headers)
