"""The HR side's part of the admin index's "Needs attention" box."""

from django.utils.translation import gettext as _

from hireops.core import dashboard
from hireops.core.models import CallStatus

from . import selectors
from .models import AccountStatus, ReconciliationRun, ReferralAccount, Withdrawal


@dashboard.contribute
def hr_work(request):
    user, url = request.user, dashboard.changelist_url
    if dashboard.can_view(user, ReferralAccount):
        for status, label in [
            (AccountStatus.FAILED, _("Registrations failed")),
            (AccountStatus.PENDING, _("Registrations waiting for Feishu")),
        ]:
            link = url(ReferralAccount, status__exact=status)
            yield dashboard.Item(label, selectors.accounts_in(status), link)
        yield dashboard.Item(
            _("Balances not confirmed by Feishu for over 24 hours"),
            selectors.stale_balances(),
            url(ReferralAccount, balance_age="stale"),
        )
        yield dashboard.Item(
            _("Enable/deactivate waiting for Feishu"),
            selectors.status_changes_waiting(),
            url(ReferralAccount, pending_action__gt=""),
        )
    if dashboard.can_view(user, Withdrawal):
        yield dashboard.Item(
            _("Withdrawals in progress"),
            selectors.withdrawals_in(CallStatus.QUEUED),
            url(Withdrawal, status__exact=CallStatus.QUEUED),
        )
        yield dashboard.Item(
            _("Withdrawals failed (7 days)"),
            selectors.withdrawals_in(CallStatus.FAILED, days=7),
            url(Withdrawal, status__exact=CallStatus.FAILED),
        )


@dashboard.contribute
def hr_figures(request):
    user = request.user
    if dashboard.can_view(user, ReferralAccount):
        yield dashboard.Fact(_("Last balance update"), selectors.last_balance_update())
        yield dashboard.Fact(_("Oldest balance last confirmed"), selectors.oldest_confirmed_balance())
        yield dashboard.Fact(_("Points held by active accounts"), selectors.points_held())
        for cash in selectors.cash_held():
            label = _("Cash held by active accounts (%(currency)s)") % {"currency": cash["currency"]}
            yield dashboard.Fact(label, f"{cash['total']:.2f}")
    if dashboard.can_view(user, ReconciliationRun):
        yield dashboard.Fact(_("Last successful reconciliation"), selectors.last_successful_reconciliation())
