"""Refuse to start with a leaver policy no code knows (docs/deployment.md, "Leavers and joiners"),
or with withdrawals that would not ask the payouts whether an account's cash is promised."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def leaver_policy(app_configs=None, **kwargs):
    from .models import LeaverPolicy

    value = getattr(settings, "REFERRAL_LEAVER_POLICY", LeaverPolicy.NEXT_RUN)
    if value in LeaverPolicy.values:
        return []
    return [
        Error(
            f"REFERRAL_LEAVER_POLICY is {value!r}.",
            hint=f"Use one of {', '.join(LeaverPolicy.values)}.",
            id="referrals.E001",
        )
    ]


@register()
def withdrawals_ask_the_payouts(app_configs=None, **kwargs):
    """A withdrawal of an account whose cash a payout run promised would hold the run's line:
    every withdrawal asks the payouts' guard, which the app registers with the withdrawals
    (``referrals.withdrawals.guards``). Without it nothing may start; a guard that cannot be
    imported would fail every withdrawal, so it is refused at start too. (The payouts are
    imported here, when the checks run, not at start-up: the ingest server must not load them.)"""
    from .payouts.services import cash_promised
    from .withdrawals import guards

    errors, asked = [], []
    for path in guards.cash_guards():
        try:
            asked.append(guards.import_guard(path))
        except ImportError as exc:
            errors.append(
                Error(f"The withdrawals' cash guard {path} cannot be imported: {exc}", id="referrals.E003")
            )
    if cash_promised not in asked:
        errors.append(
            Error(
                "The payouts' guard (referrals.payouts.services.cash_promised) is not registered with "
                "the withdrawals: a withdrawal would not see that a payout run promised the account's cash.",
                hint="ReferralsConfig.ready() registers it: guards.register_cash_guard(PAYOUT_GUARD).",
                id="referrals.E002",
            )
        )
    return errors
