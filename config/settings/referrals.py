"""Referral accounts: what happens when an employee leaves or joins (referrals.leavers)."""

from .base import env

# What an employee who leaves gets (docs/deployment.md, "Leavers and joiners"):
# next_run: the cash is paid in the next payout run, then the account is deactivated;
# at_once: a full-cash withdrawal now, then the account is deactivated;
# deactivate: the account is deactivated at once, its balance at that moment recorded.
REFERRAL_LEAVER_POLICY = env.str("REFERRAL_LEAVER_POLICY", default="next_run")
# A new employee (contact.user.created_v3) gets a referral account registered by their
# email or mobile, when Feishu sends one.
REFERRAL_REGISTER_JOINERS = env.bool("REFERRAL_REGISTER_JOINERS", default=False)
# A payout run of more payable accounts than this is prepared by a worker (its page shows the
# progress) instead of in the request (2,000 accounts: well under a second; 200,000: ~35 s).
PAYOUT_PREPARE_INLINE_MAX = env.int("PAYOUT_PREPARE_INLINE_MAX", default=2000)
