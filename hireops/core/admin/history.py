"""The change history: Django's admin log as a read-only list, each role seeing its own part."""

from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_permission_codename, get_user_model
from django.contrib.contenttypes.models import ContentType
from django.db.models import BigIntegerField, Exists, OuterRef, Q
from django.db.models.functions import Cast
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from ..models import ChangeHistoryEntry
from .base import SystemRecordAdmin
from .large import LargeTableAdmin


def _type_name(content_type) -> str:
    model = content_type.model_class() if content_type else None
    return capfirst(model._meta.verbose_name) if model else (content_type.name if content_type else "—")


def titled(list_filter, title):
    """``list_filter`` under our own title instead of the field's (Django's "action flag")."""

    class Titled(list_filter):  # type: ignore[misc, valid-type]  # a base chosen at run time
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


class TypeFilter(admin.SimpleListFilter):
    """The kinds of record the user may see, by their names (not "app | model"), from the
    admin's registry rather than a DISTINCT over the whole history."""

    title = _("type")
    parameter_name = "content_type__id__exact"

    def lookups(self, request, model_admin):
        types = ContentType.objects.get_for_models(
            *model_admin.viewable_models(request), for_concrete_models=False
        )
        return sorted(((t.pk, str(_type_name(t))) for t in types.values()), key=lambda choice: choice[1])

    def queryset(self, request, queryset):
        return queryset.filter(content_type_id=self.value()) if self.value() else queryset


class StaffFilter(admin.SimpleListFilter):
    """Who did it: the staff users (a short list), not a DISTINCT over the whole history."""

    title = _("by")
    parameter_name = "user__id__exact"

    def lookups(self, request, model_admin):
        users = get_user_model().objects.filter(is_staff=True).order_by("username")
        return [(u.pk, u.get_username()) for u in users.only("pk", "username")]

    def queryset(self, request, queryset):
        return queryset.filter(user_id=self.value()) if self.value() else queryset


@admin.register(ChangeHistoryEntry)
class ChangeHistoryAdmin(LargeTableAdmin, SystemRecordAdmin):
    # The message is shown (masked or in full) by the admin's personal-data guard.
    list_display = ("when", "who", "record_type", "object_link", "action", "change_message")
    list_display_links = None
    list_filter = (
        StaffFilter,
        TypeFilter,
        ("action_flag", titled(admin.ChoicesFieldListFilter, _("action"))),
        ("action_time", titled(admin.DateFieldListFilter, _("date"))),
    )
    search_fields = ("object_repr", "=object_id", "user__username", "change_message")
    list_select_related = ("user", "content_type")
    ordering = ("-action_time", "-id")
    fields = readonly_fields = ("when", "who", "record_type", "object_link", "action", "change_message")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(self.visible_entries(request))

    def viewable_models(self, request) -> list:
        site = self.admin_site
        return [
            model
            for model in apps.get_models()
            if model is not ChangeHistoryEntry
            and site.is_registered(model)
            and site.get_model_admin(model).has_view_permission(request)
        ]

    def visible_entries(self, request) -> Q:
        """Entries about the models the user may view, and within them the rows they may see."""
        user = request.user
        if user.is_superuser:
            return Q()
        whole, partly = [], Q(pk__in=[])
        for model in self.viewable_models(request):
            content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
            opts = model._meta
            if user.has_perm(f"{opts.app_label}.{get_permission_codename('view', opts)}"):
                whole.append(content_type.pk)
            else:  # the role sees part of the rows (the event log, by event type): only theirs
                # Every model here has an integer key: the entry's object_id is looked up by it,
                # through the key's index, for the few entries of this type only.
                rows = self.admin_site.get_model_admin(model).get_queryset(request)
                seen = rows.filter(pk=Cast(OuterRef("object_id"), BigIntegerField()))
                partly |= Q(content_type=content_type) & Q(Exists(seen))
        return Q(content_type_id__in=whole) | partly

    @admin.display(description=_("when"), ordering="action_time")
    def when(self, entry):
        return entry.action_time

    @admin.display(description=_("by"), ordering="user__username")
    def who(self, entry):
        full_name = entry.user.get_full_name()
        return f"{entry.user.get_username()} ({full_name})" if full_name else entry.user.get_username()

    @admin.display(description=_("type"))
    def record_type(self, entry):
        return _type_name(entry.content_type)

    @admin.display(description=_("object"))
    def object_link(self, entry):
        url = None if entry.is_deletion() else entry.get_admin_url()
        return format_html('<a href="{}">{}</a>', url, entry.object_repr) if url else entry.object_repr

    @admin.display(description=_("action"), ordering="action_flag")
    def action(self, entry):
        return entry.get_action_flag_display()
