"""The HR side's scopes: reading the referral accounts and rewards, their personal data
unmasked, importing and deleting rewards (money), and reading the payout runs."""

from django.utils.translation import gettext_lazy as _

from hireops.api.scopes import declare
from hireops.core.privacy import personal

from ..rewards import services as rewards

READ, PERSONAL, WRITE, PAYOUTS = "referrals:read", "referrals:personal_data", "rewards:write", "payouts:read"
declare(
    READ,
    _("See referral accounts (balances, how fresh, status) and external rewards"),
    permission="referrals.view_referralaccount",
)
declare(
    PERSONAL,
    _("See referrers' mobile numbers and emails, and rewards' free text, unmasked"),
    permission=personal.PERMISSION,
)
declare(
    WRITE,
    _("Import external referral rewards and delete them in Feishu (moves money)"),
    permission=rewards.ADD_PERMISSION,
)
declare(
    PAYOUTS, _("See payout runs and their lines (the payroll file)"), permission="referrals.view_payoutrun"
)
