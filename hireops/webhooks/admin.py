"""Partners' webhook endpoints and their delivery log in the admin.

An endpoint is made on its own page, which shows its signing secret once; changing where it
points (or what it hears) needs a second factor proven minutes ago, as making an API key does,
and a new address gets a new secret, shown once on the page that saved it. The secret is shown
again, or rotated, only by an action with a fresh second factor. The delivery log lists every
delivery with its attempts; "Resend" sends chosen ones again.

Staff with the endpoint permission manage every endpoint, an API key's included, but nobody
acts on an endpoint sent more than they may read themselves (its scopes against their
permissions: ``endpoints.Reach``): such an endpoint is neither changed, nor pinged, nor sent
anything again, nor has its secret shown or rotated by them. A superuser may hand an endpoint
to another API key (its change history says so)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING, Any, cast

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hireops.core.admin.base import ReadOnlyInline, SystemRecordAdmin, action_page
from hireops.core.models import CallStatus
from hireops.core.privacy.masking import mask_personal_texts
from hireops.signin.second_factor import require_fresh

from . import delivery, endpoints, events, signing
from .forms import EndpointForm, ResendForm
from .models import DeliveryAttempt, WebhookDelivery, WebhookEndpoint, WebhookEvent

if TYPE_CHECKING:
    from django.contrib.admin.options import _FieldGroups as FieldGroups  # django-stubs' name
    from django.contrib.auth.models import User
    from django_stubs_ext import StrOrPromise

    EndpointModelAdmin = admin.ModelAdmin[WebhookEndpoint]
else:
    EndpointModelAdmin = admin.ModelAdmin  # generic for the type checker only

RATE_WINDOW = timedelta(hours=24)


def message_uid(term: str) -> uuid.UUID | None:
    """The event a ``webhook-id`` (``msg_<32 hex>``) names, if the search term is one."""
    term = term.strip()
    if not term.startswith("msg_"):
        return None
    try:
        return uuid.UUID(hex=term.removeprefix("msg_"))
    except ValueError:
        return None


def _staff(request: HttpRequest) -> User:
    return cast("User", request.user)  # the admin lets only staff in


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(EndpointModelAdmin):
    form = EndpointForm
    list_display = [
        "__str__",
        "url",
        "enabled",
        "event_list",
        "tenant_list",
        "failing_since",
        "waiting",
        "success_rate",
    ]
    list_filter = ["enabled"]
    search_fields = ["url", "description"]
    readonly_fields = [
        "enabled",
        "disabled_reason",
        "failing_since",
        "owner",
        "created_by",
        "created_at",
        "updated_at",
    ]
    list_select_related = ["owner_key"]
    actions = ["send_ping", "show_secret", "rotate_secret", "enable_again", "resend_failed"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEndpoint]:
        since = timezone.now() - RATE_WINDOW
        return (
            super()
            .get_queryset(request)
            .annotate(
                waiting_n=Count("deliveries", filter=Q(deliveries__status=CallStatus.QUEUED)),
                recent_n=Count(
                    "deliveries", filter=Q(deliveries__requested_at__gte=since, deliveries__attempts__gt=0)
                ),
                recent_ok=Count(
                    "deliveries",
                    filter=Q(deliveries__requested_at__gte=since, deliveries__status=CallStatus.SUCCEEDED),
                ),
            )
        )

    @admin.display(description=_("event types"))
    def event_list(self, obj: WebhookEndpoint) -> StrOrPromise:
        return ", ".join(obj.event_types) or _("every event")

    @admin.display(description=_("tenants"))
    def tenant_list(self, obj: WebhookEndpoint) -> StrOrPromise:
        return ", ".join(obj.tenants) or _("every tenant")

    @admin.display(description=_("belongs to"))
    def owner(self, obj: WebhookEndpoint) -> str:
        if obj.owner_key_id is not None:
            return _("API key %(key)s") % {"key": obj.owner_key}
        return _("staff (%(who)s)") % {"who": obj.created_by or "-"}

    @admin.display(description=_("waiting"))
    def waiting(self, obj: WebhookEndpoint) -> int | str:
        waiting: int | str = getattr(obj, "waiting_n", "")  # get_queryset's count
        return waiting

    @admin.display(description=_("delivered (24 h)"))
    def success_rate(self, obj: WebhookEndpoint) -> str:
        n: int = getattr(obj, "recent_n", 0)  # get_queryset's counts
        ok: int = getattr(obj, "recent_ok", 0)
        return f"{100 * ok / n:.0f}% ({ok}/{n})" if n else "-"

    def get_fields(self, request: HttpRequest, obj: WebhookEndpoint | None = None) -> FieldGroups:
        fields = super().get_fields(request, obj)
        if obj is None or not request.user.is_superuser:  # who owns it: a superuser's to change
            fields = [f for f in fields if f != "owner_key"]
        return fields

    def get_form(
        self, request: HttpRequest, obj: WebhookEndpoint | None = None, change: bool = False, **kwargs: Any
    ) -> type[ModelForm[WebhookEndpoint]]:
        form = super().get_form(request, obj, change=change, **kwargs)

        class WithUser(form):  # type: ignore[misc, valid-type]  # a base chosen at run time
            def __init__(self, *args: Any, **kw: Any) -> None:
                super().__init__(*args, user=_staff(request), **kw)

        return WithUser

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: ModelForm[WebhookEndpoint], change: bool
    ) -> None:
        require_fresh(request)  # where tenants' data goes: a second factor proven minutes ago
        data = form.cleaned_data
        asked = endpoints.Changes(
            url=data["url"],
            description=data["description"],
            event_types=data["event_types"],
            tenants=data["tenants"],
            scopes=data["scopes"],
        )
        with transaction.atomic():
            current = WebhookEndpoint.objects.select_for_update().get(pk=obj.pk)
            try:
                # For response_change, which shows a new secret on the page that saved it.
                request._new_webhook_secret = endpoints.change(  # type: ignore[attr-defined]
                    current, endpoints.Reach.of_person(request.user), asked
                )
                if "owner_key" in form.fields and data.get("owner_key") != current.owner_key:
                    endpoints.hand_over(current, data.get("owner_key"), by=_staff(request))
            except endpoints.EndpointRefused as exc:  # changed by someone else since the form was checked
                raise PermissionDenied(str(exc)) from exc
        obj.refresh_from_db()

    def response_change(self, request: HttpRequest, obj: WebhookEndpoint) -> HttpResponse:
        secret = getattr(request, "_new_webhook_secret", None)
        if secret:  # shown on this page only, as when it was made
            title = _("Signing secret")
            return action_page(
                self, request, "admin/webhooks/secret.html", title, secret=secret, row=obj, moved=True
            )
        return super().response_change(request, obj)

    def _within_reach(
        self, request: HttpRequest, queryset: Iterable[WebhookEndpoint]
    ) -> list[WebhookEndpoint]:
        """The chosen endpoints the person may act on; the others named in a warning."""
        reach = endpoints.Reach.of_person(request.user)
        chosen = list(queryset)
        beyond = [e for e in chosen if not reach.covers(e)]
        if beyond:
            self.message_user(
                request,
                _("Left alone: %(names)s, sent data you may not read (%(scopes)s).")
                % {
                    "names": ", ".join(str(e) for e in beyond),
                    "scopes": ", ".join(sorted({s for e in beyond for s in reach.lacks(e.scopes)})),
                },
                messages.WARNING,
            )
        return [e for e in chosen if e not in beyond]

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        if not self.has_add_permission(request):
            raise PermissionDenied
        title = _("New webhook endpoint")
        form = EndpointForm(request.POST or None, user=_staff(request))
        if request.method == "POST" and form.is_valid():
            require_fresh(request)
            data = form.cleaned_data
            try:
                endpoint, secret = endpoints.create(
                    url=data["url"],
                    description=data["description"],
                    event_types=data["event_types"],
                    tenants=data["tenants"],
                    scopes=data["scopes"],
                    by=_staff(request),
                )
            except endpoints.EndpointRefused as exc:
                form.add_error(None, str(exc))
            else:
                self.log_addition(request, endpoint, [{"added": {}}])
                return action_page(
                    self, request, "admin/webhooks/secret.html", title, secret=secret, row=endpoint
                )
        return action_page(self, request, "admin/webhooks/new_endpoint.html", title, form=form)

    def _one(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> WebhookEndpoint | None:
        if queryset.count() != 1:
            self.message_user(request, _("Choose one endpoint."), messages.WARNING)
            return None
        reachable = self._within_reach(request, queryset)
        return reachable[0] if reachable else None

    @admin.action(description=_("Send a test event (ping)"), permissions=["change"])
    def send_ping(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in self._within_reach(request, queryset):
            events.ping(endpoint, by=_staff(request))
        self.message_user(
            request, _("A ping is on its way; its delivery is in the delivery log."), messages.SUCCESS
        )

    @admin.action(description=_("Show the signing secret"), permissions=["change"])
    def show_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> HttpResponse | None:
        require_fresh(request)
        endpoint = self._one(request, queryset)
        if endpoint is not None:
            title = _("Signing secret")
            secret = signing.current_secret(endpoint)
            return action_page(
                self, request, "admin/webhooks/secret.html", title, secret=secret, row=endpoint
            )
        return None

    @admin.action(description=_("Rotate the signing secret"), permissions=["change"])
    def rotate_secret(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> HttpResponse | None:
        require_fresh(request)
        endpoint = self._one(request, queryset)
        if endpoint is not None:
            secret = signing.rotate(endpoint)
            self.log_change(request, endpoint, [{"changed": {"fields": ["secret"]}}])
            title = _("Signing secret")
            return action_page(
                self, request, "admin/webhooks/secret.html", title, secret=secret, row=endpoint, rotated=True
            )
        return None

    @admin.action(description=_("Enable again"), permissions=["change"])
    def enable_again(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        require_fresh(request)
        n = 0
        for endpoint in self._within_reach(request, queryset.filter(enabled=False)):
            try:
                endpoints.enable(endpoint)
            except endpoints.EndpointRefused as exc:
                self.message_user(request, f"{endpoint}: {exc}", messages.WARNING)
                continue
            endpoint.save()
            self.log_change(request, endpoint, [{"changed": {"fields": ["enabled"]}}])
            n += 1
        self.message_user(
            request,
            ngettext("%(n)d endpoint enabled.", "%(n)d endpoints enabled.", n) % {"n": n},
            messages.SUCCESS,
        )

    @admin.action(description=_("Resend failed deliveries since a time…"), permissions=["change"])
    def resend_failed(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> HttpResponse | None:
        form = ResendForm(request.POST if "since" in request.POST else None)
        if form.is_valid():
            since, n = form.cleaned_data["since"], 0
            for endpoint in self._within_reach(request, queryset):
                n += delivery.resend_failed_since(endpoint, since, by=_staff(request))
            self.message_user(
                request,
                ngettext("%(n)d delivery sent again.", "%(n)d deliveries sent again.", n) % {"n": n},
                messages.SUCCESS,
            )
            return None
        title = _("Resend failed deliveries")
        return action_page(self, request, "admin/webhooks/resend.html", title, form=form, queryset=queryset)


class AttemptInline(ReadOnlyInline):
    model = DeliveryAttempt
    fields = ["at", "duration_ms", "status_code", "error", "response"]
    readonly_fields = fields  # type: ignore[assignment]  # the stub's list type is invariant


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(SystemRecordAdmin):
    # The message ID (36 characters) is on each delivery's page, and found by the search.
    list_display = [
        "id",
        "event_type",
        "endpoint",
        "status",
        "attempts",
        "last_status_code",
        "next_attempt_at",
        "requested_at",
    ]
    list_select_related = ["event", "endpoint"]
    list_filter = ["status", "endpoint"]
    search_fields = ["=event__type"]
    search_help_text = _("An event type (order.created), or the message ID a partner quotes (msg_8a1f…).")
    readonly_fields = [
        "webhook_id",
        "event",
        "endpoint",
        "status",
        "attempts",
        "error",
        "last_status_code",
        "next_attempt_at",
        "requested_at",
        "finished_at",
    ]
    fields = readonly_fields  # type: ignore[assignment]  # the stub's list type is invariant
    inlines = [AttemptInline]
    actions = ["resend"]
    show_full_result_count = False

    @admin.display(description=_("type"))
    def event_type(self, obj: WebhookDelivery) -> str:
        return obj.event.type

    @admin.display(description=_("message ID"))
    def webhook_id(self, obj: WebhookDelivery) -> str:
        return obj.event.webhook_id

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[WebhookDelivery], search_term: str
    ) -> tuple[QuerySet[WebhookDelivery], bool]:
        uid = message_uid(search_term)
        if uid is not None:
            return queryset.filter(event__uid=uid), False
        return super().get_search_results(request, queryset, search_term)

    def has_change_permission(self, request: HttpRequest, obj: WebhookDelivery | None = None) -> bool:
        return request.user.has_perm("webhooks.change_webhookendpoint") if obj is None else False

    @admin.action(description=_("Send the selected deliveries again"), permissions=["change"])
    def resend(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        reach = endpoints.Reach.of_person(request.user)
        chosen = WebhookEndpoint.objects.filter(pk__in=queryset.values("endpoint"))
        beyond = [e.pk for e in chosen if not reach.covers(e)]
        if beyond:  # sent again, a delivery would tell its endpoint what this person may not read
            self.message_user(
                request,
                _("Left alone: deliveries to endpoints sent data you may not read."),
                messages.WARNING,
            )
            queryset = queryset.exclude(endpoint__in=beyond)
        n = delivery.resend(queryset, by=_staff(request))
        self.message_user(
            request,
            ngettext("%(n)d delivery sent again.", "%(n)d deliveries sent again.", n) % {"n": n},
            messages.SUCCESS,
        )


@admin.register(WebhookEvent)
class WebhookEventAdmin(SystemRecordAdmin):
    list_display = ["type", "message_id", "tenant_key", "created_at"]
    list_filter = ["type"]
    search_fields = ["=tenant_key"]
    search_help_text = _("A tenant key, or the message ID a partner quotes (msg_8a1f…).")
    fields = ["type", "message_id", "tenant_key", "created_at", "data_sent"]
    readonly_fields = fields  # type: ignore[assignment]  # the stub's list type is invariant
    show_full_result_count = False

    @admin.display(description=_("message ID"))
    def message_id(self, obj: WebhookEvent) -> str:
        return obj.webhook_id

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[WebhookEvent], search_term: str
    ) -> tuple[QuerySet[WebhookEvent], bool]:
        uid = message_uid(search_term)
        if uid is not None:
            return queryset.filter(uid=uid), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description=_("data"))
    def data_sent(self, obj: WebhookEvent) -> str:
        """As an endpoint without personal-data scopes receives it: masked, its free text hidden
        (``personal.HIDDEN``). Every text in it is masked as logs mask it, too: the row keeps
        what the renderer of its day wrote, and a pattern added since applies here all the same."""
        data = mask_personal_texts(obj.data)
        return format_html(
            '<pre style="white-space: pre-wrap">{}</pre>', json.dumps(data, ensure_ascii=False, indent=1)
        )
