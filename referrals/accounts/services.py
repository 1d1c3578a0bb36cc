"""What the other sub-packages, the app's shared modules (admin, API, bulk operations, tasks, event
handlers) and the tests use of the accounts: registering an account, enabling or
deactivating it, its balance from Feishu's events and pulls, the directory's employees."""

from . import announce
from .balances import (
    NOT_REGISTERED_YET,
    BalanceRefused,
    Snapshot,
    assets_event_apply,
    balance_apply,
    balance_pull,
    balance_pull_give_up,
    balance_pull_request,
    balance_pull_run,
    balance_refusal,
    balances_apply,
    balances_pull_all,
    cash_dict,
)
from .directory import DirectoryUser, accounts_of, resigned, user_of
from .identity import Person, person
from .joiners import joiner_register
from .pulls import pull_batch, pulls_schedule
from .registration import REGISTER, AlreadyRegistered, account_import, account_register, registration_retry
from .status import CHANGE, StatusChangeRefused, account_status_request

__all__ = [
    "CHANGE",
    "NOT_REGISTERED_YET",
    "REGISTER",
    "AlreadyRegistered",
    "BalanceRefused",
    "DirectoryUser",
    "Person",
    "Snapshot",
    "StatusChangeRefused",
    "account_import",
    "account_register",
    "account_status_request",
    "accounts_of",
    "announce",
    "assets_event_apply",
    "balance_apply",
    "balance_pull",
    "balance_pull_give_up",
    "balance_pull_request",
    "balance_pull_run",
    "balance_refusal",
    "balances_apply",
    "balances_pull_all",
    "cash_dict",
    "joiner_register",
    "person",
    "pull_batch",
    "pulls_schedule",
    "registration_retry",
    "resigned",
    "user_of",
]
