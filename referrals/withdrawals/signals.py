"""What the sub-packages above hear of a withdrawal without the withdrawals naming them
(connected from ``ReferralsConfig.ready()``: the leavers). Whether a withdrawal may start at all
is no signal: it is asked of the guards the app registers (``guards``)."""

from django.dispatch import Signal

# A full-cash withdrawal of the account succeeded, inside the transaction that records it:
# sender=Withdrawal, account_pk.
cash_paid_out = Signal()

# Feishu refused a withdrawal (it failed for good): sender=Withdrawal, withdrawal_pk.
withdrawal_failed = Signal()
