"""The monthly usage export (orders.usage): reached from both order lists, for whoever may
view either; it counts the kinds of order the person may view."""

from datetime import date, timedelta

from django import forms
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hireops.core.admin import action_page
from hireops.core.spreadsheets.export import Column, csv_response, xlsx_response

from ..usage import counted_figures, monthly_usage

HEADERS = {
    "checks_created": gettext_lazy("background checks received"),
    "checks_completed": gettext_lazy("background checks completed"),
    "checks_canceled": gettext_lazy("background checks canceled or terminated"),
    "exams_created": gettext_lazy("exams received"),
    "exams_scored": gettext_lazy("exams scored"),
}


class UsageForm(forms.Form):
    month = forms.RegexField(
        label=gettext_lazy("month"),
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        widget=forms.DateInput(attrs={"type": "month"}),
        error_messages={"invalid": gettext_lazy("Give the month as YYYY-MM.")},
    )
    format = forms.ChoiceField(
        label=gettext_lazy("format"), choices=[("xlsx", "Excel (.xlsx)"), ("csv", "CSV")], initial="xlsx"
    )

    def cleaned_month(self) -> date:
        year, month = self.cleaned_data["month"].split("-")
        return date(int(year), int(month), 1)


def usage_view(model_admin, request):
    # Each kind of order is counted only for a person who may view it (orders.usage).
    checks = request.user.has_perm("orders.view_backgroundcheck")
    exams = request.user.has_perm("orders.view_exam")
    if not (checks or exams):
        raise PermissionDenied
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    form = UsageForm(request.GET or None, initial={"month": last_month})
    if form.is_valid():
        figures = counted_figures(checks=checks, exams=exams)
        columns: list[Column] = [
            (_("month"), lambda r: r.month),
            (_("customer"), lambda r: r.customer or _("(no customer yet)")),
            *[(HEADERS[name], lambda r, name=name: r.figures[name]) for name in figures],
        ]
        rows = monthly_usage(form.cleaned_month(), checks=checks, exams=exams)
        name = f"usage-{form.cleaned_data['month']}"
        respond = xlsx_response if form.cleaned_data["format"] == "xlsx" else csv_response
        return respond(name, columns, rows)
    return action_page(model_admin, request, "admin/orders/usage.html", _("Monthly usage per customer"), form)
