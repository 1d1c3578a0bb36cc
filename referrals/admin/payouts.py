"""Payout runs as HR prepares them, a colleague approves them and finance takes them."""

from decimal import Decimal

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from hireops.core import display
from hireops.core.admin import SystemRecordAdmin, action_page
from hireops.core.admin.large import LargeTableAdmin
from hireops.core.display import from_ms
from hireops.core.messages import joined
from hireops.core.models import CallStatus
from hireops.core.search import name_search
from hireops.core.spreadsheets.export import csv_response, xlsx_response
from hireops.signin.second_factor import require_fresh
from hireops.tenants.filters import StoreTenantFilter

from ..forms import PayoutRejectForm, PayoutSelectionForm, PayoutTitleForm
from ..models import PayoutLine, PayoutRun, PayoutRunStatus, ReconciliationMismatch, ReconciliationRun
from ..payouts import services as payouts
from ..payouts.services import payroll

PREVIEW_LINES = 200  # lines shown on a run's page; the rest through "every line"


def _totals(cash) -> str:
    return payouts.cash_text(cash) if cash else "—"


def _told_how(run) -> str:
    """ "in Feishu: fang; by e-mail: bob", each part only when someone is told that way."""
    feishu, email, neither = payouts.told_how(run)
    parts = []
    for users, words in (
        (feishu, _("in Feishu: %(who)s")),
        (email, _("by e-mail: %(who)s")),
        (neither, _("not told (no e-mail address, not linked to Feishu): %(who)s")),
    ):
        if users:
            parts.append(words % {"who": ", ".join(u.get_username() for u in users)})
    return joined(parts) or str(_("nobody may decide it"))


@admin.register(PayoutRun)
class PayoutRunAdmin(LargeTableAdmin, admin.ModelAdmin):
    list_display = (
        "__str__",
        "status",
        "line_count",
        "totals_shown",
        "prepared_by",
        "prepared_at",
        "decided_by",
    )
    list_filter = ("status", "scheduled")
    list_select_related = ("prepared_by", "decided_by")
    change_form_template = "admin/referrals/payoutrun/change_form.html"

    @admin.display(description=_("totals"))
    def totals_shown(self, obj):
        return _totals(obj.totals)

    # --- permissions: a run changes only through its pages' buttons ----------------------------

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def may_approve(self, request) -> bool:
        return request.user.has_perm(payouts.APPROVE)

    # --- pages ----------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("<int:pk>/decide/", view(self.decide_view), name="referrals_payoutrun_decide"),
            path("<int:pk>/cancel/", view(self.cancel_view), name="referrals_payoutrun_cancel"),
            path("<int:pk>/notify/", view(self.notify_view), name="referrals_payoutrun_notify"),
            path("<int:pk>/payroll.<str:kind>", view(self.payroll_view), name="referrals_payoutrun_payroll"),
            *super().get_urls(),
        ]

    def add_view(self, request, form_url="", extra_context=None):
        """Choose the accounts, see what the run would pay, then prepare it (nothing moves)."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PayoutSelectionForm(request.POST or None)
        context = {}
        if request.method == "POST" and form.is_valid():
            if "prepare" in request.POST:
                return self._prepare(request, form.cleaned_data["title"], **form.selection())
            context["preview"] = payouts.preview(payouts.select_accounts(**form.selection()))
        return action_page(
            self,
            request,
            "admin/referrals/payoutrun/prepare.html",
            _("Prepare a payout run"),
            form,
            **context,
        )

    def _prepare(self, request, title, **selection):
        try:
            run = payouts.payout_prepare(request.user, title=title, **selection)
        except payouts.PayoutRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        self.log_addition(request, run, [{"added": {}}])
        if run.status == PayoutRunStatus.PREPARING:
            done = _(
                "%(run)s is being prepared in the background: this page shows its progress. "
                "It then waits for a colleague's approval."
            ) % {"run": run}
        else:
            done = ngettext(
                "%(run)s prepared: %(count)s line, %(totals)s. It waits for a colleague's approval.",
                "%(run)s prepared: %(count)s lines, %(totals)s. It waits for a colleague's approval.",
                run.line_count,
            ) % {
                "run": run,
                "count": run.line_count,
                "totals": _totals(run.totals),
            }
        self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:referrals_payoutrun_change", args=[run.pk]))

    def change_view(self, request, object_id, form_url="", extra_context=None):
        run = self.get_object(request, object_id)
        if run is None:
            # Django's own answer to a missing object (its private name, absent from its stub).
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)  # type: ignore[attr-defined]
        if not self.has_view_permission(request, run):
            raise PermissionDenied
        return action_page(
            self,
            request,
            "admin/referrals/payoutrun/change_form.html",
            str(run),
            **self._run_context(request, run),
        )

    def _run_context(self, request, run):
        lines = run.lines.select_related("account").order_by("pk")
        waiting = run.status == PayoutRunStatus.AWAITING_APPROVAL
        preparing = run.status == PayoutRunStatus.PREPARING
        return {
            "run": run,
            "original": run,
            "progress": payouts.run_progress(run),
            "paid_totals": _totals(payouts.paid_totals(run)),
            "totals": _totals(run.totals),
            "lines": [self._line_row(line) for line in lines[:PREVIEW_LINES]],
            "more_lines": max(0, run.line_count - PREVIEW_LINES),
            "needing": [
                self._line_row(line)
                for line in payouts.lines_needing_a_person(run).select_related("account")[:50]
            ],
            "reconciliation": reconciliation_of(run),
            "lines_url": reverse("admin:referrals_payoutline_changelist") + f"?run__id__exact={run.pk}",
            "causes": payouts.causes(run),
            "caused_alone": run.scheduled and not payouts.causers(run),
            "can_decide": waiting and payouts.may_decide(run, request.user),
            "is_causer": request.user.pk in payouts.causers(run),
            "preparing": preparing,
            "can_cancel": (waiting or preparing) and self.has_add_permission(request),
            "can_notify": waiting and self.has_add_permission(request),
            "told_again_from": payouts.told_again_from(run),
            "told_how": _told_how(run) if waiting else "",
            "can_release": payouts.may_decide(run, request.user),
        }

    @staticmethod
    def _line_row(line) -> dict:
        return {
            "line": line,
            "url": reverse("admin:referrals_payoutline_change", args=[line.pk]),
            "amount": payouts.cash_text(line.cash),
            "paid": payouts.cash_text(line.withdrawn_cash) if line.withdrawn_cash is not None else "",
            "time": from_ms(line.trans_time) if line.trans_time else "",
            "outcome": line_outcome(line),
        }

    def decide_view(self, request, pk):
        """Approve (second factor proven minutes ago) or reject (with a reason)."""
        run = get_object_or_404(PayoutRun, pk=pk)
        if not self.may_approve(request):
            raise PermissionDenied
        reject_form = PayoutRejectForm(request.POST if "reject" in request.POST else None)
        if request.method == "POST":
            try:
                if "approve" in request.POST:
                    payouts.check_approver(run, request.user)
                    require_fresh(request)  # allauth asks for the code, then replays this POST
                    payouts.payout_approve(run.pk, request.user, seen=request.POST.get("seen", ""))
                    self.message_user(request, _("Approved: the run is being paid."), messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:referrals_payoutrun_change", args=[run.pk]))
                if "reject" in request.POST and reject_form.is_valid():
                    reason = reject_form.cleaned_data["reason"]
                    payouts.payout_reject(run.pk, request.user, reason)
                    self.message_user(request, _("Rejected: nothing is paid."), messages.SUCCESS)
                    return HttpResponseRedirect(reverse("admin:referrals_payoutrun_change", args=[run.pk]))
            except payouts.LinesChanged as exc:  # shown again, as they are now
                self.message_user(request, str(exc), messages.WARNING)
                return HttpResponseRedirect(reverse("admin:referrals_payoutrun_decide", args=[run.pk]))
            except payouts.PayoutRefused as exc:
                self.message_user(request, str(exc), messages.ERROR)
                return HttpResponseRedirect(reverse("admin:referrals_payoutrun_change", args=[run.pk]))
        seen = ""
        if run.status == PayoutRunStatus.AWAITING_APPROVAL and payouts.may_decide(run, request.user):
            with transaction.atomic():  # the lines as the accounts hold them now: what is approved
                seen = payouts.payout_refresh(run)
        return action_page(
            self,
            request,
            "admin/referrals/payoutrun/decide.html",
            _("Approve or reject %(run)s") % {"run": run},
            reject_form,
            seen=seen,
            **self._run_context(request, run),
        )

    def cancel_view(self, request, pk):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        run = get_object_or_404(PayoutRun, pk=pk)
        try:
            payouts.payout_cancel(run.pk, request.user)
        except payouts.PayoutRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, _("Cancelled: nothing is paid."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:referrals_payoutrun_change", args=[run.pk]))

    def notify_view(self, request, pk):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.has_add_permission(request):
            raise PermissionDenied
        run = get_object_or_404(PayoutRun, pk=pk, status=PayoutRunStatus.AWAITING_APPROVAL)
        errors = payouts.payout_notify_again(run.pk)
        if errors is None:
            run.refresh_from_db()
            self.message_user(
                request,
                _("The approvers were told at %(told)s: they can be told again from %(again)s.")
                % {
                    "told": display.local_time(run.notified_at),
                    "again": display.local_time(payouts.told_again_from(run)),
                },
                messages.WARNING,
            )
        elif errors:
            run.refresh_from_db(fields=["notice_error"])  # as stored: in this reader's language
            told = _("Not everyone was told: %(errors)s") % {"errors": run.notice_error}
            self.message_user(request, told, messages.WARNING)
        else:
            self.message_user(request, _("The approvers were told again."), messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:referrals_payoutrun_change", args=[run.pk]))

    def payroll_view(self, request, pk, kind):
        """The payroll file: one row per line and currency, as Feishu paid it."""
        run = get_object_or_404(PayoutRun.objects.select_related("prepared_by", "decided_by"), pk=pk)
        if not self.has_view_permission(request, run) or kind not in ("csv", "xlsx"):
            raise PermissionDenied
        respond = csv_response if kind == "csv" else xlsx_response
        return respond(f"payroll-run-{run.pk}", payroll_columns(run, kind), payroll_rows(run))


def prepare_from_accounts(account_admin, request, queryset):
    """The account list's action: a preview of the chosen accounts, then the run."""
    pks = list(queryset.values_list("pk", flat=True))
    accounts = payouts.select_accounts(pks=pks)
    if "prepare" in request.POST:
        run_admin = account_admin.admin_site.get_model_admin(PayoutRun)
        return run_admin._prepare(request, request.POST.get("title", "")[:120], pks=pks)
    return action_page(
        account_admin,
        request,
        "admin/referrals/payoutrun/prepare_chosen.html",
        _("Prepare a payout run"),
        PayoutTitleForm(),
        preview=payouts.preview(accounts),
        chosen_count=len(pks),
        # "Select all": the filters in the page's address choose the rows again, not a list of ids.
        chosen=[] if request.POST.get("select_across") == "1" else pks,
    )


# A line's outcome: a fixed key (what the payroll CSV says, docs/payroll.md) and staff's words.
outcome_key = payroll.outcome_key
OUTCOMES = {
    "paid": _("Paid"),
    "held": _("Held: balance changed"),
    "not_paid": _("Not paid"),
    "waiting_for_approval": _("Waiting for approval"),
    "to_pay": _("To pay"),
}


def line_outcome(line) -> str:
    return str(OUTCOMES[outcome_key(line)])


# The payroll file's columns. Payroll systems read the CSV's columns by name, so its header,
# its outcomes and its times are fixed, whoever downloads it (a contract: docs/payroll.md).
# People read the Excel file: the same columns under labels, and values, in their language.
PAYROLL_COLUMNS = (
    ("employee_id", _("employee id")),
    ("employee_name", _("employee name")),
    ("feishu_account_id", _("Feishu account id")),
    ("amount", _("amount")),
    ("currency", _("currency")),
    ("outcome", _("outcome")),
    ("external_order_id", _("Feishu withdrawal id (external order id)")),
    ("transaction_time", _("Feishu transaction time")),
    ("prepared_by", _("prepared by")),
    ("approved_by", _("approved by")),
)


def payroll_columns(run: PayoutRun, kind: str):
    """The columns of the ``kind`` file ("csv" or "xlsx") of rows (line, currency, amount):
    the CSV says what ``referrals.payouts.payroll`` says (and the API with it), the workbook in words."""
    fixed = kind == "csv"
    prepared = payroll.prepared_by(run) or ("" if fixed else str(_("the schedule")))
    approved_by = payroll.approved_by(run)
    value = {
        "employee_id": lambda r: payroll.employee_id(r[0]),
        "employee_name": lambda r: r[0].account.name,
        "feishu_account_id": lambda r: r[0].account.account_id,
        "amount": lambda r: Decimal(r[2]),
        "currency": lambda r: r[1],
        "outcome": (lambda r: outcome_key(r[0])) if fixed else (lambda r: line_outcome(r[0])),
        "external_order_id": lambda r: r[0].external_order_id,
        "transaction_time": lambda r: _transaction_time(r[0], fixed),
        "prepared_by": lambda r: prepared,
        "approved_by": lambda r: approved_by,
    }
    return [(key if fixed else label, value[key]) for key, label in PAYROLL_COLUMNS]


def _transaction_time(line, fixed: bool):
    """ISO 8601 to the second with TIME_ZONE's offset in the CSV; a date Excel sorts in the workbook."""
    moment = payroll.transaction_time(line)
    if moment is None:
        return ""
    return moment.isoformat(timespec="seconds") if fixed else moment


payroll_rows = payroll.payroll_rows


def reconciliation_of(run: PayoutRun) -> dict:
    """Feishu's reconciliation runs that cover the run's payments, and their mismatches on the
    run's accounts (Feishu reconciles points only: a cash payout shows as agreed)."""
    paid = run.lines.filter(status=CallStatus.SUCCEEDED, trans_time__isnull=False)
    covering = ReconciliationRun.objects.filter(
        status=CallStatus.SUCCEEDED,
        tenant_key=OuterRef("tenant_key"),
        start_ms__lte=OuterRef("trans_time"),
        end_ms__gte=OuterRef("trans_time"),
    )
    mismatched = ReconciliationMismatch.objects.filter(
        account_id=OuterRef("account__account_id"),
        run__status=CallStatus.SUCCEEDED,
        run__start_ms__lte=OuterRef("trans_time"),
        run__end_ms__gte=OuterRef("trans_time"),
    )
    return {
        "paid": paid.count(),
        "covered": paid.filter(Exists(covering)).count(),
        "mismatches": list(paid.filter(Exists(mismatched)).select_related("account")[:50]),
    }


@admin.register(PayoutLine)
class PayoutLineAdmin(LargeTableAdmin, SystemRecordAdmin):
    list_display = ("run", "account", "amount", "outcome", "paid", "employee", "transaction_time", "error")
    list_filter = ("status", "held", StoreTenantFilter)
    list_select_related = ("run", "account")
    search_fields = ("account__name", "external_order_id")
    actions = ["release"]
    readonly_fields = (
        "run",
        "account",
        "tenant_key",
        "external_order_id",
        "amount",
        "outcome",
        "feishu_cash",
        "paid",
        "employee",
        "transaction_time",
        "attempts",
        "withdraw_sent",
        "error_code",
        "error",
        "log_id",
        "requested_at",
        "finished_at",
    )
    fields = readonly_fields

    def get_search_results(self, request, queryset, search_term):
        """A part of the employee's name, or an exact order id."""
        term = search_term.strip()
        if not term:
            return queryset, False
        return queryset.filter(name_search.contains("account__name", term) | Q(external_order_id=term)), False

    @admin.display(description=_("amount"))
    def amount(self, obj):
        return payouts.cash_text(obj.cash)

    @admin.display(description=_("outcome"))
    def outcome(self, obj):
        return line_outcome(obj)

    @admin.display(description=_("cash withdrawn"))
    def paid(self, obj):
        return display.cash(obj.withdrawn_cash)

    @admin.display(description=_("Feishu transaction time"))
    def transaction_time(self, obj):
        return from_ms(obj.trans_time)

    @admin.display(description=_("employee id"))
    def employee(self, obj):
        """Feishu's answer names the employee paid; until then, the id the account holds."""
        return obj.employee_id or obj.account.employee_id or "—"

    def has_release_permission(self, request):
        return request.user.has_perm(payouts.APPROVE)

    @admin.action(description=_("Pay held lines at the balance Feishu holds now…"), permissions=["release"])
    def release(self, request, queryset):
        require_fresh(request)
        # The lines to release, known before: once released, a worker may have paid one already.
        held = list(queryset.filter(held=True, status=CallStatus.FAILED).values_list("pk", flat=True))
        try:
            n = payouts.payout_release(held, request.user)
        except payouts.PayoutRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        self.message_user(
            request,
            ngettext("%(n)d held line released for payment.", "%(n)d held lines released for payment.", n)
            % {"n": n},
            messages.SUCCESS,
        )
        return None
