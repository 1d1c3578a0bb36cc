"""HR side: referral reward accounts (内推账户), their balances, withdrawals, payout runs,
external rewards and leavers.

Each sub-package of the app keeps its rows in its own ``models`` module (``referrals.accounts.models``,
``withdrawals``, ``payouts``, ``rewards``, ``leavers``); they are all the app's models
(label ``referrals``, their tables and migrations unchanged), named here so that Django finds
them. Code inside a sub-package imports the sub-packages' own modules, never this one."""

from .accounts.models import (
    STALE,
    TENANT_HELP,
    AccountCash,
    AccountRegistration,
    AccountStatus,
    AccountStatusChange,
    BalanceChange,
    BalanceSource,
    ReferralAccount,
    StatusAction,
)
from .leavers.models import Leaver, LeaverHow, LeaverMatch, LeaverPolicy, LeaverState
from .payouts.models import PAYOUT_OPEN, PayoutLine, PayoutMessage, PayoutNews, PayoutRun, PayoutRunStatus
from .rewards.models import (
    ExternalReferralReward,
    ExternalRewardDeletion,
    RewardBonusType,
    RewardRuleType,
    RewardStage,
)
from .withdrawals.models import ReconciliationMismatch, ReconciliationRun, Withdrawal

__all__ = [
    "PAYOUT_OPEN",
    "STALE",
    "TENANT_HELP",
    "AccountCash",
    "AccountRegistration",
    "AccountStatus",
    "AccountStatusChange",
    "BalanceChange",
    "BalanceSource",
    "ExternalReferralReward",
    "ExternalRewardDeletion",
    "Leaver",
    "LeaverHow",
    "LeaverMatch",
    "LeaverPolicy",
    "LeaverState",
    "PayoutLine",
    "PayoutMessage",
    "PayoutNews",
    "PayoutRun",
    "PayoutRunStatus",
    "ReconciliationMismatch",
    "ReconciliationRun",
    "ReferralAccount",
    "RewardBonusType",
    "RewardRuleType",
    "RewardStage",
    "StatusAction",
    "Withdrawal",
]
