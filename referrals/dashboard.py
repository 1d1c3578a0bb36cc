"""The HR side's part of the admin index's "Needs attention" box."""

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from hireops.core.admin import dashboard
from hireops.core.models import CallStatus

from . import selectors
from .models import (
    AccountStatus,
    PayoutLine,
    PayoutRun,
    PayoutRunStatus,
    ReconciliationRun,
    ReferralAccount,
    Withdrawal,
)
from .payouts.services import APPROVE


@dashboard.contribute
def hr_work(request):
    """Counts to act on, then figures to know, for whoever works on referral accounts or
    withdrawals: all read in one query (hireops.core.admin.dashboard.figures)."""
    user, url = request.user, dashboard.changelist_url
    work: list[tuple[str, str, QuerySet[Any], str]] = []
    values: dict[str, QuerySet[Any]] = {}
    if dashboard.can_view(user, ReferralAccount):
        work += [
            ("failed", _("Registrations failed"), selectors.accounts_in(AccountStatus.FAILED),
             url(ReferralAccount, status__exact=AccountStatus.FAILED)),
            ("pending", _("Registrations waiting for Feishu"), selectors.accounts_in(AccountStatus.PENDING),
             url(ReferralAccount, status__exact=AccountStatus.PENDING)),
            ("stale", _("Balances not confirmed by Feishu for over 24 hours"), selectors.stale_balances(),
             url(ReferralAccount, balance_age="stale")),
            ("changes", _("Enable/deactivate waiting for Feishu"), selectors.status_changes_waiting(),
             url(ReferralAccount, pending_action__gt="")),
        ]  # fmt: skip
        values.update(last=selectors.last_confirmation(), oldest=selectors.oldest_confirmation())
    if dashboard.can_view(user, Withdrawal):
        failed_this_week = selectors.withdrawals_in(CallStatus.FAILED, days=7)
        work += [
            ("open", _("Withdrawals in progress"), selectors.withdrawals_in(CallStatus.QUEUED),
             url(Withdrawal, status__exact=CallStatus.QUEUED)),
            ("failed_w", _("Withdrawals failed (7 days)"), failed_this_week,
             url(Withdrawal, status__exact=CallStatus.FAILED)),
        ]  # fmt: skip
    if dashboard.can_view(user, ReconciliationRun):
        values["reconciled"] = selectors.last_successful_reconciliation()
    deciding = []
    if user.has_perm(APPROVE):  # told here too, whether or not mail and the bot reach them
        deciding = [
            ("to_decide", _("Payout runs waiting for your decision"), selectors.runs_to_decide(user),
             url(PayoutRun, status__exact=PayoutRunStatus.AWAITING_APPROVAL)),
            ("held", _("Payout lines held for an approver"), selectors.held_payout_lines(),
             url(PayoutLine, held__exact=1, status__exact=CallStatus.FAILED)),
        ]  # fmt: skip
    everything = [*work, *deciding]
    found = dashboard.figures(counts={key: qs for key, _label, qs, _url in everything}, values=values)
    for key, label, _qs, link in deciding:
        yield dashboard.Item(label, found[key], link)
    for key, label, qs, link in work:
        # A withdrawal's tenant is its account's.
        tenant_field = "account__tenant_key" if qs.model is Withdrawal else "tenant_key"
        yield dashboard.Item(label, found[key], link, per_tenant=qs, tenant_field=tenant_field)
    if "last" in found:
        yield dashboard.Fact(_("Last balance update"), found["last"])
        yield dashboard.Fact(_("Oldest balance last confirmed"), found["oldest"])
        held = selectors.held_totals()
        yield dashboard.Fact(_("Points held by active accounts"), held["points"])
        for cash in held["cash"]:
            label = _("Cash held by active accounts (%(currency)s)") % {"currency": cash["currency"]}
            yield dashboard.Fact(label, f"{cash['total']:.2f}")
        yield dashboard.Fact(_("Totals held counted at (every 5 minutes)"), held["as_of"])
    if "reconciled" in found:
        yield dashboard.Fact(_("Last successful reconciliation"), found["reconciled"])
