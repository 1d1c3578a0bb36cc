"""The HR side's events for partners' webhooks (hireops.webhooks): ``data`` is the object as
``GET /api/v1/referral-accounts/{id}``, ``/payout-runs/{id}`` (without its lines) or
``/referral-rewards/{id}`` answers it; personal data only to an endpoint with
``referrals:personal_data``. A payout run spans tenants: an endpoint limited to some hears of a
run paying one of theirs, and reads it as a key limited to tenants does (no totals)."""

from django.utils import translation
from django.utils.translation import gettext_lazy as _

from hireops.webhooks.events import EventType, declare

from .api.schemas import AccountOut, PayoutRunOut, RewardOut, _account, _reward, _run
from .api.scopes import PAYOUTS, PERSONAL, READ
from .models import PayoutLine


def _account_data(account, personal: bool, whole: bool) -> AccountOut:
    with translation.override("en"):
        return _account(account, personal)


def _run_data(run, personal: bool, whole: bool) -> PayoutRunOut:
    with translation.override("en"):
        return PayoutRunOut(**_run(run, whole=whole))


def _run_tenants(run) -> set[str]:
    return set(PayoutLine.objects.filter(run=run).values_list("tenant_key", flat=True).distinct())


def _reward_data(reward, personal: bool, whole: bool) -> RewardOut:
    with translation.override("en"):
        return _reward(reward, personal)


for name, description in (
    (
        "referral_account.balance_changed",
        _("An employee's referral reward balance changed in Feishu (points or cash)."),
    ),
    (
        "referral_account.deactivated",
        _("An employee's referral account was deactivated (in Feishu, or by a leaver's flow)."),
    ),
):
    declare(
        EventType(
            name, description, scope=READ, personal_scope=PERSONAL, schema=AccountOut, render=_account_data
        )
    )

for name, description in (
    ("payout_run.awaiting_approval", _("A payout run is prepared and waits for a second person's approval.")),
    ("payout_run.approved", _("A payout run was approved: its lines are being paid.")),
    ("payout_run.paid", _("Every line of a payout run is closed: paid, or failed for a person to look at.")),
):
    declare(
        EventType(
            name, description, scope=PAYOUTS, schema=PayoutRunOut, render=_run_data, tenants=_run_tenants
        )
    )

declare(
    EventType(
        "referral_reward.failed",
        _("A reward from outside could not be given in Feishu: its error says why."),
        scope=READ,
        personal_scope=PERSONAL,
        schema=RewardOut,
        render=_reward_data,
    )
)
