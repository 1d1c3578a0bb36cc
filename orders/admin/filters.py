"""List filters of the order lists: by the catalogue's entries (named, from the catalogue's
few rows, never a DISTINCT over the orders), by age, and overdue."""

from datetime import timedelta

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from bindings.models import VendorCustomer
from hireops.core.search import name_search

from .. import selectors
from ..catalogue.models import ExamPaper, Package


class CatalogueEntryFilter(admin.SimpleListFilter):
    entry_model: type[Package | ExamPaper] = Package
    field = "package_id"

    def lookups(self, request, model_admin):
        return [
            (code, f"{name} ({code})") for code, name in self.entry_model.objects.values_list("code", "name")
        ]

    def queryset(self, request, queryset):
        return queryset.filter(**{self.field: self.value()}) if self.value() else queryset


class PackageFilter(CatalogueEntryFilter):
    title = _("package")
    parameter_name = "package_id"


class PaperFilter(CatalogueEntryFilter):
    title = _("paper")
    parameter_name = "paper_id"
    entry_model = ExamPaper
    field = "paper_id"


AGES = {
    "day": (None, 1, _("Less than a day")),
    "week": (1, 7, _("1 to 7 days")),
    "month": (7, 30, _("7 to 30 days")),
    "older": (30, None, _("More than 30 days")),
}


class AgeFilter(admin.SimpleListFilter):
    """How long ago Feishu sent the order."""

    title = _("age")
    parameter_name = "age"

    def lookups(self, request, model_admin):
        return [(key, label) for key, (_after, _before, label) in AGES.items()]

    def queryset(self, request, queryset):
        value = self.value()
        if value not in AGES:
            return queryset
        now = timezone.now()
        older_than, younger_than, _label = AGES[value]
        if older_than is not None:
            queryset = queryset.filter(received_at__lte=now - timedelta(days=older_than))
        if younger_than is not None:
            queryset = queryset.filter(received_at__gt=now - timedelta(days=younger_than))
        return queryset


class OverdueFilter(admin.SimpleListFilter):
    """Open longer than the package's or paper's turnaround (orders.selectors)."""

    title = _("overdue")
    parameter_name = "overdue"

    def lookups(self, request, model_admin):
        return [("yes", _("Overdue"))]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        overdue = (
            selectors.overdue_checks
            if queryset.model._meta.model_name == "backgroundcheck"
            else selectors.overdue_exams
        )
        return queryset & overdue()


class PurgedFilter(admin.SimpleListFilter):
    """Orders whose candidate's data was purged (orders.purge)."""

    title = _("personal data")
    parameter_name = "purged"

    def lookups(self, request, model_admin):
        return [("yes", _("Purged")), ("no", _("Kept"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(purged_at__isnull=self.value() == "no")
        return queryset


class CustomerFilter(admin.SimpleListFilter):
    """A part of the customer's name, typed in: a list of 20,000 customers to pick from would
    cost more than the page (and nobody scrolls it)."""

    title = _("customer")
    parameter_name = "customer"
    template = "admin/orders/input_filter.html"

    def lookups(self, request, model_admin):
        return [("", "")]  # the filter shows whenever it has lookups; the box is the template's

    def choices(self, changelist):
        kept = []
        for name, values in changelist.params.items():
            if name in (self.parameter_name, "p"):
                continue
            for value in values if isinstance(values, list) else [values]:
                kept.append((name, value))
        yield {"kept": kept, "value": self.value() or "", "parameter": self.parameter_name}

    def queryset(self, request, queryset):
        term = (self.value() or "").strip()
        if not term:
            return queryset
        # The customers' ids first: a list lets the database use the orders' customer index.
        named = VendorCustomer.objects.filter(name_search.contains("name", term)).values_list("pk", flat=True)
        return queryset.filter(customer__in=list(named[:1000]))
