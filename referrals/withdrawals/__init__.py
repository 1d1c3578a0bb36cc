"""Withdrawals: full-balance withdrawals of an account, and the daily reconciliation of what was
withdrawn. Stands on the accounts; a sub-package above says whether an account's cash is
promised elsewhere through a guard the app registers (``guards``), and hears how a withdrawal
ended through its ``signals``. Its public side: ``services`` and ``models``."""
