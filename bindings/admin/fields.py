"""Custom-field definitions and publishing them to Feishu."""

import uuid
from typing import TYPE_CHECKING

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Count
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hireops.core.admin import SystemRecordAdmin
from hireops.core.display import local_time, pretty_json
from hireops.core.models import CallStatus
from hireops.tenants.columns import StoreColumns
from hireops.tenants.filters import StoreTenantFilter, TenantFilter
from hireops.tenants.forms import tenant_field
from hireops.tenants.mode import store_app
from hireops.tenants.scoping import with_tenant_name

from ..models import (
    CustomFieldDefinition,
    FieldPublish,
    FieldScope,
    Scope,
)
from ..publishing import PublishRefused, fields_publish_request, scope_state, scope_touch
from ..selectors import publish_targets, scopes_with_unpublished_changes, tenants_behind

if TYPE_CHECKING:
    pass

BEHIND_SHOWN = 5  # tenant keys named in the "tenants up to date" column; the rest counted


class CustomFieldForm(forms.ModelForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant_key"] = tenant_field(
            everyone=_("Every tenant"),
            current=self.instance.tenant_key,
            help_text=CustomFieldDefinition._meta.get_field("tenant_key").help_text,
        )


class FieldTenantFilter(StoreTenantFilter):
    """Shared fields, or one tenant's own (store apps)."""

    SHARED = "-"

    def lookups(self, request, model_admin):
        tenants = super().lookups(request, model_admin)
        return [(self.SHARED, _("Every tenant (shared)")), *tenants] if store_app() else []

    def queryset(self, request, queryset):
        if self.value() == self.SHARED:
            return queryset.filter(tenant_key="")
        return super().queryset(request, queryset)


def touched(definition: CustomFieldDefinition) -> tuple[int, str]:
    return definition.scope, definition.tenant_key


@admin.register(CustomFieldDefinition)
class CustomFieldDefinitionAdmin(StoreColumns, admin.ModelAdmin):
    form = CustomFieldForm
    store_columns = ("tenant",)
    save_as = True  # "Save as new": a tenant's own version starts as a copy of the shared field
    list_display = (
        "key",
        "scope",
        "tenant",
        "name_zh",
        "name_en",
        "languages",
        "is_required",
        "is_active",
        "display_order",
    )
    list_filter = ("scope", FieldTenantFilter, "is_active", "is_required")
    list_editable = ("display_order", "is_active")
    search_fields = ("key", "name_zh", "name_en")
    fieldsets = (
        (None, {"fields": ("scope", "tenant_key", "key", "is_active", "is_required", "display_order")}),
        (_("Label shown to the customer (at least one language)"), {"fields": ("name_zh", "name_en")}),
        (_("Hint"), {"fields": ("description_zh", "description_en")}),
        (None, {"fields": ("languages",)}),
    )
    readonly_fields = ("languages",)

    def get_queryset(self, request):
        return with_tenant_name(super().get_queryset(request))

    @admin.display(description=_("tenant"), ordering="tenant_key")
    def tenant(self, obj):
        if not obj.tenant_key:
            return _("Every tenant")
        return f"{obj.tenant_name} ({obj.tenant_key})" if obj.tenant_name else obj.tenant_key

    @admin.display(description=_("languages Feishu shows"))
    def languages(self, obj):
        """Beside a text in one language only: Feishu shows that language to everyone."""
        if obj is None or obj.pk is None:
            return _("A text filled in one language only is shown in that language to everyone.")
        single = obj.one_language_texts()
        if not single:
            return _("Chinese and English: each reader sees their own.")
        return format_html_join(
            " ",
            '<span class="warning">⚠ {}</span>',
            (
                (
                    _("The %(text)s is in %(language)s only: Feishu shows it in %(language)s to everyone.")
                    % {"text": text, "language": language},
                )
                for text, language in single
            ),
        )

    def save_model(self, request, obj, form, change):
        """Whoever sees the field, before and after the edit, is behind until published."""
        with transaction.atomic():
            if change and {"scope", "tenant_key"} & set(form.changed_data):
                scope_touch(form.initial["scope"], form.initial["tenant_key"])
            super().save_model(request, obj, form, change)
            scope_touch(*touched(obj))

    def delete_model(self, request, obj):
        with transaction.atomic():
            super().delete_model(request, obj)
            scope_touch(*touched(obj))

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            edited = set(queryset.values_list("scope", "tenant_key"))
            super().delete_queryset(request, queryset)
            for scope, tenant_key in sorted(edited):
                scope_touch(scope, tenant_key)

    def changelist_view(self, request, extra_context=None):
        for state, _tenants in scopes_with_unpublished_changes():
            url = reverse("admin:bindings_fieldscope_changelist")
            self.message_user(
                request,
                format_html(
                    str(
                        _(
                            "{scope}: unpublished changes. Feishu still shows the last published list. "
                            '<a href="{url}">Publish…</a>'
                        )
                    ),
                    scope=state.get_scope_display(),
                    url=url,
                ),
                messages.WARNING,
            )
        return super().changelist_view(request, extra_context)


@admin.register(FieldScope)
class FieldScopeAdmin(SystemRecordAdmin):
    list_display = ("scope", "published", "up_to_date", "active_fields", "last_publish")
    actions = ["publish", "publish_behind"]

    def changelist_view(self, request, extra_context=None):
        for scope in Scope.values:
            scope_state(scope)
        return super().changelist_view(request, extra_context)

    @staticmethod
    def behind(obj) -> list[str]:
        """The tenants behind on this scope, asked once per row for both columns."""
        if not hasattr(obj, "_behind"):
            obj._behind = tenants_behind(obj)
        return obj._behind

    # Green when Feishu shows every change: a column of "unpublished changes" showed its good
    # news, "none", as a red cross.
    @admin.display(description=_("all published"), boolean=True)
    def published(self, obj):
        return not self.behind(obj)

    @admin.display(description=_("tenants up to date"))
    def up_to_date(self, obj):
        if not obj.revision:
            return "—"  # never defined: there is nothing to be up to date with
        behind = self.behind(obj)
        url = reverse("admin:bindings_fieldpublish_changelist") + f"?scope__exact={obj.scope}"
        if not store_app():
            # One tenant, the company's own Feishu (recorded as ""): no count, no list of keys.
            if not behind:
                return _("up to date")
            return format_html('<a href="{}">{}</a>', url, _("not yet: Feishu shows the last published list"))
        targets = len(publish_targets())
        text = _("%(current)s of %(targets)s") % {"current": targets - len(behind), "targets": targets}
        if not behind:
            return text
        more = len(behind) - BEHIND_SHOWN
        named = ", ".join(behind[:BEHIND_SHOWN])
        if more > 0:
            more_text = ngettext("and %(n)s more tenant", "and %(n)s more tenants", more) % {"n": more}
            named = f"{named} {more_text}"
        return format_html('{} · <a href="{}">{}</a>', text, url, _("behind: ") + named)

    @admin.display(description=_("active fields"))
    def active_fields(self, obj):
        active = CustomFieldDefinition.objects.filter(scope=obj.scope, is_active=True)
        shared = active.filter(tenant_key="").count()
        own = active.exclude(tenant_key="").values("tenant_key").distinct().count() if store_app() else 0
        if not own:
            return shared
        url = reverse("admin:bindings_customfielddefinition_changelist") + f"?scope__exact={obj.scope}"
        return format_html(
            '{} · <a href="{}">{}</a>',
            shared,
            url,
            ngettext("%(n)s tenant with fields of its own", "%(n)s tenants with fields of their own", own)
            % {"n": own},
        )

    @admin.display(description=_("last publish"))
    def last_publish(self, obj):
        last = FieldPublish.objects.filter(scope=obj.scope).first()
        if last is None:
            return "—"
        url = reverse("admin:bindings_fieldpublish_change", args=[last.pk])
        return format_html(
            '<a href="{}">{} · {}</a>', url, last.get_status_display(), local_time(last.requested_at)
        )

    def has_publish_permission(self, request):
        return request.user.has_perm("bindings.publish_fieldscope")

    @admin.action(
        description=_("Publish the active fields of the selected scopes to Feishu"), permissions=["publish"]
    )
    def publish(self, request, queryset):
        self._publish(request, queryset, behind_only=False)

    @admin.action(
        description=_("Publish to the tenants that are behind (e.g. after failed publishes)"),
        permissions=["publish"],
    )
    def publish_behind(self, request, queryset):
        self._publish(request, queryset, behind_only=True)

    def _publish(self, request, queryset, behind_only: bool):
        for state in queryset:
            tenant_keys = tenants_behind(state) if behind_only else None
            if behind_only and not tenant_keys:
                text = _("%(scope)s: every tenant is up to date.") % {"scope": state.get_scope_display()}
                self.message_user(request, text, messages.INFO)
                continue
            try:
                publishes = fields_publish_request(state.scope, request.user, tenant_keys)
            except PublishRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            first = publishes[0]
            if len(publishes) == 1:
                url = reverse("admin:bindings_fieldpublish_change", args=[first.pk])
                text = _('{scope}: publish queued. <a href="{url}">Follow it</a>.')  # type: ignore[assignment]
            else:
                url = reverse("admin:bindings_fieldpublish_changelist") + f"?batch={first.batch}"
                text = _('{scope}: a publish to each of {n} tenants queued. <a href="{url}">Follow them</a>.')  # type: ignore[assignment]
            self.message_user(
                request,
                format_html(text, scope=state.get_scope_display(), url=url, n=len(publishes)),
                messages.SUCCESS,
            )


class BatchFilter(admin.SimpleListFilter):
    """The publishes of one request (to every tenant): reached from the request's message."""

    title = _("request")
    parameter_name = "batch"

    def lookups(self, request, model_admin):
        value = request.GET.get(self.parameter_name)
        return [(value, _("this request"))] if value else []

    def queryset(self, request, queryset):
        try:
            return queryset.filter(batch=uuid.UUID(self.value())) if self.value() else queryset
        except ValueError:
            return queryset.none()


@admin.register(FieldPublish)
class FieldPublishAdmin(SystemRecordAdmin):
    list_display = (
        "id",
        "scope",
        "tenant_key",
        "status",
        "requested_by",
        "requested_at",
        "finished_at",
        "error_code",
        "log_id",
    )
    list_filter = ("scope", "status", TenantFilter, BatchFilter)
    fields = (
        "scope",
        "tenant_key",
        "status",
        "requested_by",
        "requested_at",
        "finished_at",
        "revision",
        "error_code",
        "error",
        "log_id",
        "payload_pretty",
        "response_pretty",
    )
    readonly_fields = fields

    def changelist_view(self, request, extra_context=None):
        batch = request.GET.get("batch")
        if batch:
            try:
                publishes = FieldPublish.objects.filter(batch=uuid.UUID(batch))
            except ValueError:
                publishes = FieldPublish.objects.none()
            by_status = dict(publishes.values_list("status").annotate(n=Count("pk")).order_by())
            self.message_user(
                request,
                ngettext(
                    "This request: %(done)s of %(total)s tenant sent, %(failed)s failed, "
                    "%(waiting)s waiting.",
                    "This request: %(done)s of %(total)s tenants sent, %(failed)s failed, "
                    "%(waiting)s waiting.",
                    sum(by_status.values()),
                )
                % {
                    "done": by_status.get(CallStatus.SUCCEEDED, 0),
                    "total": sum(by_status.values()),
                    "failed": by_status.get(CallStatus.FAILED, 0),
                    "waiting": by_status.get(CallStatus.QUEUED, 0),
                },
                messages.INFO,
            )
        return super().changelist_view(request, extra_context)

    @admin.display(description=_("payload sent"))
    def payload_pretty(self, obj):
        return pretty_json(obj.payload)

    @admin.display(description=_("Feishu's answer"))
    def response_pretty(self, obj):
        return pretty_json(obj.response)
