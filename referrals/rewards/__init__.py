"""Rewards: rewards earned outside Hire imported into referral accounts, and their deletion in
Feishu. Stands on the accounts. Its public side: ``services`` and ``models``."""
