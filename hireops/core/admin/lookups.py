"""Lookups in an admin list's URL that Django passes on unchecked.

Django's changelist splits ``__in`` values at commas but hands a ``__range`` value to the
query as one string: ``?name__range=a,b`` becomes ``BETWEEN 'a' AND ','`` (or too many
parameters), and ``?name__range=a`` an ``IndexError``, each found only when the page renders,
as a 500. Here a range is two comma-separated values, and the list's SQL is made before the
page renders (a value its field cannot take fails there, e.g. an IP address on PostgreSQL), or
the list answers as it does to any other malformed lookup (``IncorrectLookupParameters``: the
list without the filter, "?e=1").

A regular expression from a URL is refused outright (400): PostgreSQL and Python disagree on
what is valid (a pattern one refuses is a 500), and a crafted one can keep the database busy
over a million rows. No list needs one; the search box matches parts of a text.
``hireops.core.admin.site`` puts this in front of every ModelAdmin.
"""

from collections.abc import Callable
from typing import cast

from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import ValidationError
from django.db.models.constants import LOOKUP_SEP
from django.utils.inspect import func_supports_parameter

from ..mixin_bases import AdminMixin, ChangeListMixin
from .changelist import with_mixin

REFUSED_LOOKUPS = frozenset({"regex", "iregex"})


class WellFormedChangeList(ChangeListMixin):
    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        # A value the field cannot take (?ip_address=a on PostgreSQL) fails only when the SQL
        # is made, while the page renders: make it now, so it answers as a malformed lookup.
        try:
            queryset.query.get_compiler(using=queryset.db).as_sql()
        except (ValueError, TypeError, IndexError, ValidationError) as exc:
            raise IncorrectLookupParameters(exc) from exc
        except Exception:  # noqa: S110 - anything else (an empty IN) is the query's own to handle
            pass
        return queryset

    def get_filters(self, request):
        specs, has_filters, remaining, duplicates, active = super().get_filters(request)
        # Each lookup's values, a list since Django 5.0 (the stub still says one value); a
        # range's, once read here, each a list of its two bounds.
        lookups = cast("dict[str, list[str | list[str]]]", remaining)
        for key, values in lookups.items():
            if key.endswith("__range"):
                lookups[key] = [_bounds(value) for value in values]
        return specs, has_filters, remaining, duplicates, active


def _bounds(value: str | list[str]) -> list[str]:
    bounds = value.split(",") if isinstance(value, str) else value
    if len(bounds) != 2:
        raise IncorrectLookupParameters(f"a range takes two values, not {len(bounds)}")
    return bounds


class WellFormedLookups(AdminMixin):
    """ModelAdmin mixin: its list checks the lookups Django does not (see the module)."""

    def lookup_allowed(self, lookup, value, request=None):
        if lookup.rsplit(LOOKUP_SEP, 1)[-1] in REFUSED_LOOKUPS:
            return False
        # An admin written before Django 5.0 overrides it without ``request``.
        allowed: Callable[..., bool] = super().lookup_allowed
        if func_supports_parameter(allowed, "request"):
            return allowed(lookup, value, request)
        return allowed(lookup, value)  # an admin written before Django 5.0

    def get_changelist(self, request, **kwargs):
        return with_mixin(WellFormedChangeList, super().get_changelist(request, **kwargs))
