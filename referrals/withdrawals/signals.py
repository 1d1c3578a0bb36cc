"""What the sub-packages above may say about, or react to, a withdrawal without the withdrawals
naming them (connected from ``ReferralsConfig.ready()``: payout runs, leavers)."""

from django.dispatch import Signal

# Asked before a withdrawal is queued: sender=ReferralAccount, account. A receiver answers why
# the account's cash may not be withdrawn now (promised elsewhere: a payout run's unpaid line),
# as text for the person asking, or None.
cash_promised = Signal()

# A full-cash withdrawal of the account succeeded, inside the transaction that records it:
# sender=Withdrawal, account_pk.
cash_paid_out = Signal()

# Feishu refused a withdrawal (it failed for good): sender=Withdrawal, withdrawal_pk.
withdrawal_failed = Signal()
