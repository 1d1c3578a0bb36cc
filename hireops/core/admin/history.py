"""The change history: Django's admin log as a read-only list, each role seeing its own part."""

from django.contrib import admin
from django.contrib.auth import get_permission_codename
from django.contrib.contenttypes.models import ContentType
from django.db.models import Q, TextField
from django.db.models.functions import Cast
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from .. import audit
from ..models import ChangeHistoryEntry
from .base import SystemRecordAdmin


def _type_name(content_type) -> str:
    model = content_type.model_class() if content_type else None
    return capfirst(model._meta.verbose_name) if model else (content_type.name if content_type else "—")


def titled(list_filter, title):
    """``list_filter`` under our own title instead of the field's (Django's "action flag")."""

    class Titled(list_filter):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.title = title

    return Titled


class TypeFilter(admin.RelatedOnlyFieldListFilter):
    """The kinds of record in the list, by their names (not "app | model")."""

    include_empty_choice = False

    def field_choices(self, field, request, model_admin):
        chosen = [pk for pk, _label in super().field_choices(field, request, model_admin)]
        types = ContentType.objects.filter(pk__in=chosen)
        return sorted(((t.pk, str(_type_name(t))) for t in types), key=lambda choice: choice[1])


@admin.register(ChangeHistoryEntry)
class ChangeHistoryAdmin(SystemRecordAdmin):
    list_display = ("when", "who", "record_type", "object_link", "action", "details")
    list_display_links = None
    list_filter = (
        ("user", admin.RelatedOnlyFieldListFilter),
        ("content_type", titled(TypeFilter, _("type"))),
        ("action_flag", titled(admin.ChoicesFieldListFilter, _("action"))),
        ("action_time", titled(admin.DateFieldListFilter, _("date"))),
    )
    search_fields = ("object_repr", "=object_id", "user__username", "change_message")
    list_select_related = ("user", "content_type")
    ordering = ("-action_time", "-id")
    fields = readonly_fields = ("when", "who", "record_type", "object_link", "action", "details")

    def get_queryset(self, request):
        return super().get_queryset(request).filter(self.visible_entries(request))

    def visible_entries(self, request) -> Q:
        """Entries about the models the user may view, and within them the rows they may see."""
        user = request.user
        if user.is_superuser:
            return Q()
        visible = Q(pk__in=[])
        for model, model_admin in self.admin_site._registry.items():
            if model is ChangeHistoryEntry or not model_admin.has_view_permission(request):
                continue
            content_type = ContentType.objects.get_for_model(model, for_concrete_model=False)
            opts = model._meta
            if user.has_perm(f"{opts.app_label}.{get_permission_codename('view', opts)}"):
                visible |= Q(content_type=content_type)
            else:  # the role sees part of the rows (the event log, by event type): only theirs
                ids = model_admin.get_queryset(request).values(id_text=Cast("pk", TextField()))
                visible |= Q(content_type=content_type, object_id__in=ids)
        return visible

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

    @admin.display(description=_("details"))
    def details(self, entry):
        # Order ids are one long word: let them wrap instead of widening the table.
        return format_html('<span style="overflow-wrap: anywhere">{}</span>', audit.describe(entry))
