"""The HR side in the admin: accounts, and the withdrawals and reconciliation runs they lead to."""

from . import accounts, leavers, operations  # noqa: F401  (registered on import)
