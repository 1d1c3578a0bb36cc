"""Leavers: employees who left (Feishu's directory events), matched to their account, which is
paid out (at once, or by the next payout run) and deactivated by ``REFERRAL_LEAVER_POLICY``.
Stands on the accounts and the withdrawals, whose signals tell it how they went. Its public
side: ``services`` and ``models``."""
