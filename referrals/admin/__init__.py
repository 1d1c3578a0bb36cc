"""The HR side in the admin: accounts, the withdrawals and reconciliation runs they lead to,
and rewards imported from outside."""

from . import accounts, calls, leavers, operations, payouts, rewards  # noqa: F401  (registered on import)
