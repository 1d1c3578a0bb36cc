"""API keys in the admin: made by someone holding "add API key", with a second factor proven
minutes ago, shown once on the page that makes them; revoked by an action. A key's scopes
never change (make a new key); it is never deleted (the change history names it)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hireops.core.admin.base import action_page
from hireops.signin.second_factor import require_fresh

from . import keys
from .forms import NewKeyForm
from .models import ApiKey

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

    ApiKeyModelAdmin = admin.ModelAdmin[ApiKey]
else:
    ApiKeyModelAdmin = admin.ModelAdmin  # generic for the type checker only


class StateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(
        self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]
    ) -> Iterable[tuple[str, StrOrPromise]]:
        return [("usable", _("Usable")), ("revoked", _("Revoked"))]

    def queryset(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> QuerySet[ApiKey]:
        if self.value() == "usable":
            return queryset.filter(revoked_at__isnull=True)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        return queryset


@admin.register(ApiKey)
class ApiKeyAdmin(ApiKeyModelAdmin):
    list_display = [
        "name",
        "prefix",
        "scope_list",
        "tenant_list",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    ]
    list_select_related = ["created_by"]
    list_filter = [StateFilter]
    search_fields = ["name", "prefix"]
    readonly_fields = [
        "name",
        "prefix",
        "scopes",
        "tenant_keys",
        "created_by",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
        "revoked_by",
    ]
    fields = readonly_fields  # type: ignore[assignment]  # list[str] is a field list; the stub's list is invariant
    actions = ["revoke"]

    @admin.display(description=_("scopes"))
    def scope_list(self, obj: ApiKey) -> str:
        return ", ".join(obj.scopes)

    @admin.display(description=_("tenants"))
    def tenant_list(self, obj: ApiKey) -> StrOrPromise:
        return ", ".join(obj.tenant_keys) or _("every tenant")

    def has_delete_permission(self, request: HttpRequest, obj: ApiKey | None = None) -> bool:
        return False

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        if request.method == "POST":
            raise PermissionDenied  # a key is changed only by revoking it (the action)
        extra_context = {**(extra_context or {}), "show_save": False, "show_save_and_continue": False}
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        title = _("New API key")
        form = NewKeyForm(request.POST or None, may_name_tenants=request.user.has_perm("tenants.view_tenant"))
        if request.method == "POST" and form.is_valid():
            require_fresh(request)  # a second factor proven minutes ago
            data = form.cleaned_data
            try:
                made = keys.create(
                    data["name"],
                    data["scopes"],
                    tenant_keys=data["tenants"],
                    expires_in_days=data["expires_in_days"],
                    by=cast("User", request.user),  # the admin lets only staff in
                )
            except keys.KeyRefused as exc:
                form.add_error(None, str(exc))
            else:
                # Shown on this page only: never in a message (a cookie or the session).
                return action_page(self, request, "admin/api/new_key.html", title, key=made.key, row=made.row)
        return action_page(self, request, "admin/api/new_key.html", title, form=form)

    @admin.action(description=_("Revoke the selected keys"), permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        require_fresh(request)
        done = [
            keys.revoke(row.prefix, by=cast("User", request.user))  # the admin lets only staff in
            for row in queryset
            if row.revoked_at is None
        ]
        self.message_user(
            request,
            ngettext(
                "%(n)d key revoked; it stops working at once.",
                "%(n)d keys revoked; they stop working at once.",
                len(done),
            )
            % {"n": len(done)},
            messages.SUCCESS,
        )
