"""The project's admin site (``admin.site``): every ModelAdmin registered on it, the apps'
and the libraries' alike, gets the personal-data guard in front of it
(``hireops.core.personal_guard``), so a new admin or a new personal field cannot forget it,
the check of the lookups Django passes on unchecked (``hireops.core.admin_lookups``), and
delete confirmations without many-to-many link rows (``LinkRowsUnlisted``)."""

from functools import cache

from django.apps import apps
from django.contrib import admin
from django.utils.text import capfirst

from .admin_lookups import WellFormedLookups
from .personal_guard import PersonalDataGuard


class LinkRowsUnlisted:
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
        admin_class.__name__, (PersonalDataGuard, WellFormedLookups, LinkRowsUnlisted, admin_class), attrs
    )


class AdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        super().register(model_or_iterable, guarded(admin_class or admin.ModelAdmin), **options)
