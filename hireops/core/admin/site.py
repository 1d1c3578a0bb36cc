"""The project's admin site (``admin.site``): every ModelAdmin registered on it, the apps'
and the libraries' alike, gets the personal-data guard in front of it
(``hireops.core.admin.personal_guard``), so a new admin or a new personal field cannot forget it,
the check of the lookups Django passes on unchecked (``hireops.core.admin.lookups``),
and delete confirmations without many-to-many link rows (``LinkRowsUnlisted``)."""

from functools import cache

from django.apps import apps
from django.contrib import admin
from django.contrib.contenttypes import views as contenttype_views
from django.contrib.contenttypes.models import ContentType
from django.http import Http404
from django.urls import get_script_prefix, path
from django.utils import translation
from django.utils.text import capfirst

from ..mixin_bases import AdminMixin
from .lookups import WellFormedLookups
from .personal_guard import PersonalDataGuard


class LinkRowsUnlisted(AdminMixin):
    """A delete confirmation lists what goes with the object, but not the rows of a
    many-to-many's own table: Django names them after the two models in the language active
    when it started ("Group-permission relationship: Group_permissions object (12)", on a
    Chinese page too), and they only say again what the object's own page shows."""

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        links = [m._meta for m in apps.get_models(include_auto_created=True) if m._meta.auto_created]
        prefixes = tuple(f"{capfirst(opts.verbose_name)}: " for opts in links)
        plurals = {str(opts.verbose_name_plural) for opts in links}
        counts = {name: n for name, n in counts.items() if str(name) not in plurals}
        return _unlisted(deleted, prefixes), counts, perms_needed, protected


def _unlisted(items: list, prefixes: tuple[str, ...]) -> list:
    kept = []
    for item in items:
        if isinstance(item, list):
            if nested := _unlisted(item, prefixes):
                kept.append(nested)
        elif not str(item).startswith(prefixes):
            kept.append(item)
    return kept


@cache
def guarded(admin_class):
    """``admin_class`` with the guards first in its method resolution order."""
    if issubclass(admin_class, PersonalDataGuard):
        return admin_class
    attrs = {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__}
    return type(
        admin_class.__name__,
        (PersonalDataGuard, WellFormedLookups, LinkRowsUnlisted, admin_class),
        attrs,
    )


def view_on_site(request, content_type_id, object_id):
    """Django's "View on site" redirect (``/admin/r/<content type>/<object>/``), for a model
    with a page on a site only. Django's own reads the object first and asks after: for a
    content type whose model has a table but no page it read a row for nothing, and for one
    with no table at all (``StaffAccess``, which holds permissions) it failed with a 500. No
    hireops model has such a page, so every such path is a 404 and nothing is read."""
    try:
        model = ContentType.objects.get_for_id(int(content_type_id)).model_class()
    except (ValueError, ContentType.DoesNotExist):
        raise Http404 from None
    if model is None or not hasattr(model, "get_absolute_url"):
        raise Http404
    return contenttype_views.shortcut(request, content_type_id, object_id)


def trend_export(request, name, fmt):
    from ..trends.charts import export

    return export(request, name, fmt)


class AdminSite(admin.AdminSite):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._app_lists: dict[tuple, list] = {}

    def get_urls(self):
        urls = super().get_urls()
        for i, pattern in enumerate(urls):
            if getattr(pattern, "name", None) == "view_on_site":
                urls[i] = path(str(pattern.pattern), self.admin_view(view_on_site), name="view_on_site")
        # The dashboards' trend figures as CSV or Excel (each chart checks who may see it).
        export = path("trends/<slug:name>.<slug:fmt>", self.admin_view(trend_export), name="trend_export")
        return [export, *urls]

    def register(self, model_or_iterable, admin_class=None, **options):
        super().register(model_or_iterable, guarded(admin_class or admin.ModelAdmin), **options)
        self.forget_app_lists()

    def unregister(self, model_or_iterable):
        super().unregister(model_or_iterable)
        self.forget_app_lists()

    def forget_app_lists(self):
        """The next page builds its list of apps and models anew (``get_app_list``)."""
        self._app_lists.clear()

    def get_app_list(self, request, app_label=None):
        """The apps and models the user may reach (the index, and the sidebar of every page),
        built once for each set of permissions.

        A build asks each of some fifty admins for the user's module and model permissions and
        reverses two URLs for each: a few milliseconds on every page. What it holds follows
        from the user's permissions alone, as every admin's ``has_*_permission(request)``
        without an object asks only them (tests/test_admin_site.py compares each role's list
        with a fresh build), so it is kept per process for each permission set, with the
        language (the order follows the names) and the URL prefix. An admin whose list entry
        should depend on anything else must not be cached this way."""
        user = request.user
        key = (
            app_label,
            user.is_active,
            user.is_superuser,
            frozenset(user.get_all_permissions()),
            translation.get_language(),
            get_script_prefix(),
        )
        if key not in self._app_lists:
            if len(self._app_lists) >= _APP_LISTS_KEPT:
                self.forget_app_lists()
            self._app_lists[key] = super().get_app_list(request, app_label)
        return self._app_lists[key]


# Permission sets × languages × apps: a few dozen in practice; the bound only stops growth.
_APP_LISTS_KEPT = 512
