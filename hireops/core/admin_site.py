"""The project's admin site (``admin.site``): every ModelAdmin registered on it, the apps'
and the libraries' alike, gets the personal-data guard in front of it
(``hireops.core.personal_guard``), so a new admin or a new personal field cannot forget it,
and the check of the lookups Django passes on unchecked (``hireops.core.admin_lookups``)."""

from functools import cache

from django.contrib import admin

from .admin_lookups import WellFormedLookups
from .personal_guard import PersonalDataGuard


@cache
def guarded(admin_class):
    """``admin_class`` with the guards first in its method resolution order."""
    if issubclass(admin_class, PersonalDataGuard):
        return admin_class
    attrs = {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__}
    return type(admin_class.__name__, (PersonalDataGuard, WellFormedLookups, admin_class), attrs)


class AdminSite(admin.AdminSite):
    def register(self, model_or_iterable, admin_class=None, **options):
        super().register(model_or_iterable, guarded(admin_class or admin.ModelAdmin), **options)
