"""Payout runs: many full-cash withdrawals, prepared by one person and approved by another, paid
line by line within each tenant's quota. The top room: it stands on the accounts, the
withdrawals and the leavers. Its public side: ``services`` and ``models``."""
