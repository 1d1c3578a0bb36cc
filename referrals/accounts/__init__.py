"""Accounts: referral reward accounts, registered with Feishu (one by one, from a CSV, or as
employees join), enabled and deactivated, and their balances from Feishu's events and the
scheduled pull. The bottom sub-package: it imports no other; the sub-packages above hear of it
through its ``signals``. Its public side: ``services`` and ``models``."""
