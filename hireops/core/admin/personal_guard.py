"""The guard in front of every ModelAdmin (``hireops.core.admin.site`` puts it there): a user
who may not see personal data (``hireops.core.privacy.personal``) learns nothing about it from any
admin page.

Django's admin lets a list's URL filter on any of the model's own fields with any lookup
(``?mobile_number__startswith=138``), searches what ``search_fields`` name, sorts by what a
column names, and fills a popup with what ``_to_field`` names: each of these answers a
question about a value the page masks, one request at a time. For such a user the guard

- refuses (400) a URL lookup whose path reaches a personal field, on the model or through a
  relation, whatever the lookup (``lookup_allowed``), and a ``_to_field`` naming one;
- leaves the personal fields out of the search (``get_search_fields``) and of the list's
  filters (``get_list_filter``), and ignores sorting by them (``o=``, a column's
  ``ordering``, a filter's ``order_by``);
- and, whatever the admin's own code does (a custom ``get_search_results``, a
  ``SimpleListFilter``), refuses (400) a list whose query filters on a personal column more
  than the admin's own ``get_queryset`` does: the last line, which a new admin cannot forget;
- shows personal fields masked (free text hidden whole) on lists and pages, and read-only on a
  change page.

Users with ``core.view_personal_data`` (and superusers) are not restricted: they keep exact
search by mobile and email, and see the fields in full.
"""

from collections import Counter
from collections.abc import Callable

from django.contrib.admin.exceptions import DisallowedModelAdminLookup
from django.core.exceptions import FieldDoesNotExist
from django.db.models import F, Model
from django.db.models.constants import LOOKUP_SEP
from django.db.models.expressions import Col
from django.db.models.lookups import Lookup
from django.db.models.sql.query import Query
from django.db.models.sql.where import WhereNode
from django.utils.html import format_html
from django.utils.inspect import func_supports_parameter
from django.utils.text import capfirst

from ..mixin_bases import AdminMixin, ChangeListMixin
from ..privacy import personal
from .changelist import with_mixin

EMPTY = "—"


def personal_columns(node) -> list[str]:
    """Every personal column the WHERE clause of a query (or expression) reads, subqueries
    included, as "app.Model.field" (once per use)."""
    found: list[str] = []
    _walk(node, found)
    return found


def _walk(node, found: list) -> None:
    if isinstance(node, Query):
        _walk(node.where, found)
    elif isinstance(node, Col):
        field = node.target
        if field.name in personal.fields_of(field.model):
            found.append(f"{field.model._meta.label}.{field.name}")
    elif isinstance(node, WhereNode):
        for child in node.children:
            _walk(child, found)
    elif isinstance(node, Lookup):
        _walk(node.lhs, found)
        _walk(node.rhs, found)
    else:
        inner = getattr(node, "query", None)  # Exists, Subquery
        if isinstance(inner, Query):
            _walk(inner, found)
        if hasattr(node, "get_source_expressions"):
            for expression in node.get_source_expressions():
                _walk(expression, found)


def refuse_new_personal_filters(before, after) -> None:
    """Raise (a 400) when ``after`` filters on personal columns that ``before`` did not."""
    added = Counter(personal_columns(after.query)) - Counter(personal_columns(before.query))
    if added:
        raise DisallowedModelAdminLookup(f"Filtering by {', '.join(sorted(added))} not allowed")


def orders_by_personal(model, order) -> bool:
    """Whether an ordering item (a name or path, "-name", F(), an expression) reads a personal field."""
    if order is None:
        return False
    if isinstance(order, str):
        return personal.reaches(model, order)
    names = [e.name for e in getattr(order, "flatten", lambda: [order])() if isinstance(e, F)]  # type: ignore[attr-defined]  # F.name: the stub lacks it
    return any(personal.reaches(model, name) for name in names)


def ordering_of(model_admin, entry):
    """What a list column sorts by (ChangeList.get_ordering_field, without a ChangeList)."""
    if callable(entry):
        return getattr(entry, "admin_order_field", None)
    try:
        return model_admin.model._meta.get_field(entry).name
    except FieldDoesNotExist:
        attr = getattr(model_admin, entry, None) or getattr(model_admin.model, entry, None)
        if isinstance(attr, property):
            attr = attr.fget
        if attr is None:
            return entry if LOOKUP_SEP in entry else None
        return getattr(attr, "admin_order_field", None)


def _display(model, path: str, full: bool):
    """A column or read-only field showing the personal field at ``path`` in full or masked."""
    names = path.split(LOOKUP_SEP)
    _model, name, kind = personal.resolve(model, path)

    def show(obj):
        for part in names[:-1]:
            obj = getattr(obj, part, None)
            if obj is None:
                return EMPTY
        text = personal.shown(None, obj, name, full=full)
        if not text:
            return EMPTY
        if isinstance(getattr(obj, name), dict | list):
            return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)
        if isinstance(kind, personal.FreeText | personal.MaskedText):  # keeps its lines; a long id wraps
            return format_html('<span style="white-space: pre-wrap; overflow-wrap: anywhere">{}</span>', text)
        return text

    show.__name__ = path
    # The admin reads a column's header and sort key off its function.
    show.short_description = capfirst(_model._meta.get_field(name).verbose_name)  # type: ignore[attr-defined]
    if full:
        show.admin_order_field = path  # type: ignore[attr-defined]
    return show


class GuardedChangeList(ChangeListMixin):
    """Mixed in front of the admin's ChangeList (``PersonalDataGuard.get_changelist``)."""

    def __init__(self, request, *args, **kwargs):
        self.personal_hidden = not personal.can_see_personal_data(request.user)
        super().__init__(request, *args, **kwargs)

    def get_ordering_field(self, field_name):
        order = super().get_ordering_field(field_name)
        if self.personal_hidden and orders_by_personal(self.model, order):
            return None
        return order

    def get_ordering(self, request, queryset):
        ordering = super().get_ordering(request, queryset)
        if not self.personal_hidden:
            return ordering
        kept = [order for order in ordering if not orders_by_personal(self.model, order)]
        if len(kept) < len(ordering) and not {"pk", "-pk"} & {o for o in kept if isinstance(o, str)}:
            kept.append("-pk")  # what was dropped may have been the one total order
        return kept

    def get_queryset(self, request, exclude_parameters=None):
        queryset = super().get_queryset(request, exclude_parameters)
        if self.personal_hidden:
            refuse_new_personal_filters(self.root_queryset, queryset)
        return queryset


class PersonalDataGuard(AdminMixin):
    """ModelAdmin mixin; see the module. Only personal fields change: everything else is the
    admin's own."""

    model: type[Model]  # the ModelAdmin's

    def personal_hidden(self, request) -> bool:
        return request is None or not personal.can_see_personal_data(request.user)

    def _reaches(self, path) -> bool:
        return isinstance(path, str) and personal.reaches(self.model, path)

    # What a request may ask about.

    def lookup_allowed(self, lookup, value, request=None):
        if self.personal_hidden(request) and self._reaches(lookup):
            return False
        # An admin written before Django 5.0 overrides it without ``request``.
        allowed: Callable[..., bool] = super().lookup_allowed
        if func_supports_parameter(allowed, "request"):
            return allowed(lookup, value, request)
        return allowed(lookup, value)  # an admin written before Django 5.0

    def to_field_allowed(self, request, to_field):
        if self.personal_hidden(request) and self._reaches(to_field):
            return False
        return super().to_field_allowed(request, to_field)

    def get_search_fields(self, request):
        fields = super().get_search_fields(request)
        if not self.personal_hidden(request):
            return fields
        return tuple(f for f in fields if not self._reaches(f))

    def get_search_results(self, request, queryset, search_term):
        if not search_term:  # as Django's own: no term, no search (a careless one filters on "")
            return queryset, False
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if self.personal_hidden(request):
            refuse_new_personal_filters(queryset, found)
        return found, may_have_duplicates

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        if not self.personal_hidden(request):
            return filters
        return [f for f in filters if not self._reaches(f[0] if isinstance(f, list | tuple) else f)]

    def get_sortable_by(self, request):
        sortable = super().get_sortable_by(request)
        if not self.personal_hidden(request):
            return sortable
        return [e for e in sortable if not orders_by_personal(self.model, ordering_of(self, e))]

    def get_changelist(self, request, **kwargs):
        return with_mixin(GuardedChangeList, super().get_changelist(request, **kwargs))

    # What pages show.

    def _shown(self, entry, full: bool):
        """``entry`` (a column or field) itself, or, for a personal field, its display."""
        if not isinstance(entry, str):
            return entry
        found = personal.resolve(self.model, entry)
        if found is None or entry.split(LOOKUP_SEP)[-1] != found[1]:
            return entry
        displays = self.__dict__.setdefault("_personal_displays", {})
        if (entry, full) not in displays:
            displays[entry, full] = _display(self.model, entry, full)
        return displays[entry, full]

    def _shown_all(self, request, entries) -> list:
        full = not self.personal_hidden(request)
        shown = []
        for entry in entries:
            if isinstance(entry, list | tuple):  # fields shown on one line
                shown.append(tuple(self._shown(e, full) for e in entry))
            elif (item := self._shown(entry, full)) not in shown:
                shown.append(item)
        return shown

    def get_list_display(self, request):
        return self._shown_all(request, super().get_list_display(request))

    def get_fields(self, request, obj=None):
        fields = super().get_fields(request, obj)
        return fields if obj is None else self._shown_all(request, fields)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None:
            return fieldsets
        return [
            (name, {**opts, "fields": self._shown_all(request, opts["fields"])}) for name, opts in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        """On a change page every personal field is read-only: out of the form (whose inputs
        would carry the value), shown through its display instead."""
        readonly = super().get_readonly_fields(request, obj)
        if obj is None:
            return readonly
        full = not self.personal_hidden(request)
        names = list(personal.fields_of(self.model))
        return [*self._shown_all(request, readonly), *names, *(self._shown(n, full) for n in names)]
