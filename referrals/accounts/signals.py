"""What the sub-packages above may react to in an account's life without the accounts naming them
(connected from ``ReferralsConfig.ready()``: the leavers follow their accounts)."""

from django.dispatch import Signal

# Feishu's answer to a status change says the account is deactivated, inside the transaction
# that records it: sender=AccountStatusChange, account_pk.
account_deactivated = Signal()

# Feishu refused a deactivation, inside the transaction that records it:
# sender=AccountStatusChange, account_pk, reason (the stored, translatable failure).
deactivation_refused = Signal()
