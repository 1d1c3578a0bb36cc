"""Background checks and exams: the lists staff work from, and the pages that send a stage,
a result, a termination, an exam's login or score to Feishu."""

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Model, OuterRef, Q, Subquery
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from hireops.core.admin import ChangedThroughActions, ReadOnlyInline, action_page
from hireops.core.admin.large import LargeTableAdmin
from hireops.core.privacy import personal
from hireops.core.search import name_search
from hireops.jobs.admin import CsvImportAdmin
from hireops.tenants.columns import StoreColumns
from hireops.tenants.filters import TenantFilter
from hireops.tenants.scoping import with_tenant_name

from .. import bulk, reports, sending, writes
from ..catalogue.models import AdditionalItem, ExamPaper, Package
from ..forms import ConfirmForm, LoginForm, ResultForm, ScoreForm, StageForm
from ..models import BackgroundCheck, Exam, ExamState, OrderWrite, ReportFile
from .filters import AgeFilter, CustomerFilter, OverdueFilter, PackageFilter, PaperFilter, PurgedFilter
from .usage import usage_view

if TYPE_CHECKING:
    from django.core.files.uploadedfile import UploadedFile
    from django.http import QueryDict
    from django.utils.datastructures import MultiValueDict
    from django_stubs_ext import StrOrPromise

log = logging.getLogger(__name__)


def _posted(request: HttpRequest) -> "tuple[QueryDict | None, MultiValueDict[str, UploadedFile] | None]":
    """(data, files) for a form: bound on POST even when nothing was ticked (an empty POST)."""
    return (request.POST, request.FILES) if request.method == "POST" else (None, None)


class WritesInline(ReadOnlyInline):
    model = OrderWrite
    fields = ("requested_at", "kind", "stage_name", "result", "status", "error", "requested_by")
    readonly_fields = fields
    verbose_name_plural = _("sent to Feishu")
    show_change_link = True


class ReportsInline(ReadOnlyInline):
    model = ReportFile
    # A report's name heads its row (Django shows each row's object there): a column of it too
    # named every report twice.
    fields = ("file_or_link", "uploaded_by", "uploaded_at")
    readonly_fields = fields
    verbose_name_plural = _("reports")
    # report -> URL, set per request by OrderAdmin for users who may download
    download_url: Callable[[ReportFile], str] | None = None

    @admin.display(description=_("file or link"))
    def file_or_link(self, obj):
        if obj.preview_url:
            return obj.preview_url
        if self.download_url is None:
            return _("PDF kept by hireops (downloading it needs the permission to see personal data)")
        link = '<a href="{}" class="button report-download">{}</a>'
        return format_html(link, self.download_url(obj), _("Download the PDF"))


class OrderAdmin(LargeTableAdmin, StoreColumns, ChangedThroughActions, admin.ModelAdmin):
    store_columns = ("tenant",)
    inlines = [WritesInline, ReportsInline]
    list_select_related = ("customer",)
    work_permission = ""
    buttons: "tuple[tuple[str, StrOrPromise], ...]" = ()  # (url name suffix, label)
    # The catalogue's model and the order's field naming its entry (a package, a paper).
    catalogue_entry: tuple[type[Model], str]
    id_field: str  # Feishu's id of the order (its column), searched exactly

    def get_queryset(self, request):
        """Each row with its tenant's name and its catalogue entry's name, in the list's one
        query (never a query per row)."""
        entry_model, field = self.catalogue_entry
        entry_name = entry_model._default_manager.filter(code=OuterRef(field)).values("name")[:1]
        return with_tenant_name(super().get_queryset(request)).annotate(entry_name=Subquery(entry_name))

    def entry(self, obj) -> str:
        """The package or paper as the catalogue names it, with its id; an id the catalogue
        no longer has (the order keeps what it was ordered with) shows alone."""
        code = getattr(obj, self.catalogue_entry[1])
        if not code:
            return self.get_empty_value_display()
        name = getattr(obj, "entry_name", None)
        return f"{name} ({code})" if name else code

    @admin.display(description=_("tenant"), ordering="tenant_key")
    def tenant(self, obj):
        name = getattr(obj, "tenant_name", None)
        return f"{name} ({obj.tenant_key})" if name else obj.tenant_key

    # The candidate's (and the contact's) personal fields are shown masked or in full by the
    # admin's personal-data guard, from the models' declarations.
    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request):
        return False  # orders come from Feishu

    def has_delete_permission(self, request, obj=None):
        return False

    search_help_text = _("Feishu's order id or account id, exactly; or a part of the candidate's name.")

    def get_search_results(self, request, queryset, search_term):
        """Ids exactly, through their indexes (Django's ``=field`` compares UPPER(), which no
        index serves), or a part of the candidate's name (trigram and bigram indexes on PostgreSQL)."""
        term = search_term.strip()
        if not term:
            return queryset, False
        query = Q(**{self.id_field: term}) | Q(account_id=term) | name_search.contains("candidate_name", term)
        return queryset.filter(query), False

    def can_work(self, request) -> bool:
        return request.user.has_perm(self.work_permission)

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        return (
            [
                path(
                    f"<int:pk>/{name}/",
                    self.admin_site.admin_view(getattr(self, f"{name}_view")),
                    name=f"{info[0]}_{info[1]}_{name}",
                )
                for name, _label in self.buttons
            ]
            + [
                path(
                    "<int:pk>/reports/<int:report_pk>/",
                    self.admin_site.admin_view(self.report_view),
                    name=f"{info[0]}_{info[1]}_report",
                )
            ]
            + [
                path(
                    "usage/",
                    self.admin_site.admin_view(lambda request: usage_view(self, request)),
                    name="orders_usage",
                )
            ]
            * (self.model is BackgroundCheck)
            + super().get_urls()
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        """The order's page offers the writes this user may send (the order as loaded for the
        page: no second read)."""
        info = self.model._meta.app_label, self.model._meta.model_name
        buttons = []
        if obj is not None and self.can_work(request):
            buttons = [
                (reverse(f"admin:{info[0]}_{info[1]}_{name}", args=[obj.pk]), label)
                for name, label in self.buttons
                if self.offers(obj, name)
            ]
        context["order_buttons"] = buttons
        return super().render_change_form(request, context, add, change, form_url, obj)

    def offers(self, order, name: str) -> bool:
        return True

    def may_download_reports(self, request) -> bool:
        """A report is the candidate's personal data (purged with it): whoever may view the
        order and see personal data unmasked may download it."""
        return self.has_view_permission(request) and personal.can_see_personal_data(request.user)

    def get_inline_instances(self, request, obj=None):
        inlines = super().get_inline_instances(request, obj)  # new instances for each request
        if obj is not None and self.may_download_reports(request):
            name = f"admin:{self.model._meta.app_label}_{self.model._meta.model_name}_report"
            for inline in inlines:
                if isinstance(inline, ReportsInline):
                    inline.download_url = lambda report: reverse(name, args=[obj.pk, report.pk])
        return inlines

    def report_view(self, request, pk, report_pk):
        """One of the order's report files, to a signed-in user who may see it (the signed
        links Feishu gets are not handed to staff: they would outlive the session)."""
        if not self.may_download_reports(request):
            raise PermissionDenied
        field = "background_check" if self.model is BackgroundCheck else "exam"
        report = get_object_or_404(ReportFile.objects.exclude(file=""), pk=report_pk, **{f"{field}_id": pk})
        log.info("report file %s of %s %s downloaded by user %s", report.pk, field, pk, request.user.pk)
        return reports.serve(report)

    def _order(self, request, pk):
        if not self.can_work(request):
            raise PermissionDenied
        return get_object_or_404(self.model, pk=pk)

    def _done(self, request, order, message):
        self.message_user(request, message, messages.SUCCESS)
        info = self.model._meta.app_label, self.model._meta.model_name
        return HttpResponseRedirect(reverse(f"admin:{info[0]}_{info[1]}_change", args=[order.pk]))

    def _form_page(self, request, order, form, title, send):
        """Validate, then ``send(form)`` in one transaction (a refusal undoes an upload too);
        ``send`` queues the writes (their service records the change history) and returns what
        to tell the user."""
        if request.method == "POST" and form.is_valid():
            try:
                with transaction.atomic():
                    message = send(form)
            except writes.WriteRefused as exc:
                form.add_error(None, str(exc))
            else:
                return self._done(request, order, message)
        heading = f"{order} · {order.candidate_name}" if order.candidate_name else str(order)
        adminform = helpers.AdminForm(form, [(heading, {"fields": list(form.fields)})], {}, model_admin=self)
        return action_page(
            self, request, "admin/orders/order_form.html", title, form, order=order, adminform=adminform
        )


@admin.register(BackgroundCheck)
class BackgroundCheckAdmin(OrderAdmin):
    list_display = (
        "background_check_id",
        "state",
        "candidate_name",
        "customer",
        "package",
        "tenant",
        "received_at",
    )
    list_filter = (
        "state",
        OverdueFilter,
        AgeFilter,
        TenantFilter,
        CustomerFilter,
        PackageFilter,
        PurgedFilter,
    )
    search_fields = ("background_check_id", "account_id", "candidate_name")  # see get_search_results
    id_field = "background_check_id"
    catalogue_entry = (Package, "package_id")
    work_permission = "orders.work_backgroundcheck"
    buttons = (
        ("stage", _("Add a progress stage")),
        ("result", _("Send the result")),
        ("terminate", _("Terminate")),
    )

    def get_urls(self):
        # The monthly usage export covers both kinds of order; the exam list links here too.
        usage = path("usage/", self.admin_site.admin_view(self.usage_view), name="orders_usage")
        return [usage, *super().get_urls()]

    def usage_view(self, request):
        return usage_view(self, request)

    fields = (
        "background_check_id",
        "state",
        "customer",
        "binding",
        "package",
        "additional_items",
        "custom_field_values",
        "comment",
        "candidate_name",
        "candidate_first_name",
        "candidate_last_name",
        "candidate_mobile",
        "candidate_email",
        "contact_name",
        "contact_mobile",
        "contact_email",
        "result",
        "cancel_reason",
        "account_id",
        "tenant_key",
        "received_at",
        "ended_at",
        "purged_at",
        "source_event_id",
    )

    @admin.display(description=_("package"), ordering="package_id")
    def package(self, obj):
        return self.entry(obj)

    @admin.display(description=_("additional items"))
    def additional_items(self, obj):
        codes = [str(code) for code in obj.additional_item_ids or []]
        if not codes:
            return self.get_empty_value_display()
        names = dict(AdditionalItem.objects.filter(code__in=codes).values_list("code", "name"))
        return ", ".join(f"{names[code]} ({code})" if code in names else code for code in codes)

    def offers(self, order, name):
        # A completed order takes no more stages or results (Feishu answers 1002858), nor a cancel.
        return not order.ended

    def stage_view(self, request, pk):
        check = self._order(request, pk)
        form = StageForm(*_posted(request), order_field="background_check", order=check)

        def send(form):
            sending.send_stage(check, form, request.user)
            return _("The stage is being sent to Feishu.")

        return self._form_page(request, check, form, _("Add a progress stage"), send)

    def result_view(self, request, pk):
        check = self._order(request, pk)
        form = ResultForm(*_posted(request), order_field="background_check", order=check)

        def send(form):
            sending.send_result(check, form, request.user)
            return _("The result is being sent to Feishu.")

        return self._form_page(request, check, form, _("Send the result"), send)

    def terminate_view(self, request, pk):
        check = self._order(request, pk)
        form = ConfirmForm(*_posted(request)[:1])

        def send(form):
            writes.cancel_request(check, user=request.user)
            return _("A “terminated” stage, then the termination, are being sent to Feishu.")

        title = _("Terminate the background check")
        return self._form_page(request, check, form, title, send)


@admin.register(Exam)
class ExamAdmin(CsvImportAdmin, OrderAdmin):
    list_display = (
        "exam_id",
        "state",
        "candidate_name",
        "customer",
        "paper",
        "score",
        "tenant",
        "received_at",
    )
    list_filter = ("state", OverdueFilter, AgeFilter, TenantFilter, CustomerFilter, PaperFilter, PurgedFilter)
    search_fields = ("exam_id", "account_id", "candidate_name")  # see get_search_results
    id_field = "exam_id"
    catalogue_entry = (ExamPaper, "paper_id")
    work_permission = "orders.work_exam"
    buttons = (("login", _("Send the login")), ("score", _("Send the score")))
    csv_import, csv_import_path, csv_import_url_name = (
        bulk.import_logins,
        "import-logins/",
        "orders_import_logins",
    )

    fields = (
        "exam_id",
        "state",
        "customer",
        "binding",
        "paper",
        "candidate_name",
        "candidate_mobile",
        "candidate_email",
        "exam_url",
        "exam_username",
        "password",
        "score",
        "account_id",
        "tenant_key",
        "talent_id",
        "application_id",
        "received_at",
        "ended_at",
        "purged_at",
        "source_event_id",
    )

    @admin.display(description=_("paper"), ordering="paper_id")
    def paper(self, obj):
        return self.entry(obj)

    @admin.display(description=_("exam password"))
    def password(self, obj):
        return "••••••" if obj.exam_password else "—"

    def offers(self, order, name):
        return order.state != ExamState.GRADED

    def login_view(self, request, pk):
        exam = self._order(request, pk)
        # The login sent before, unless it holds personal data the user may not see (a masked
        # value would be sent back as it shows).
        fields = {"exam_url": "exam_url", "username": "exam_username"}
        initial = {
            name: getattr(exam, field)
            for name, field in fields.items()
            if personal.shown(request.user, exam, field) == getattr(exam, field)
        }
        form = LoginForm(*_posted(request)[:1], initial=initial)

        def send(form):
            sending.send_login(exam, form, request.user)
            return _("The login is being sent to Feishu.")

        return self._form_page(request, exam, form, _("Send the exam login"), send)

    def score_view(self, request, pk):
        exam = self._order(request, pk)
        form = ScoreForm(*_posted(request), order_field="exam", order=exam)

        def send(form):
            sending.send_score(exam, form, request.user)
            return _("The score is being sent to Feishu.")

        return self._form_page(request, exam, form, _("Send the exam score"), send)
