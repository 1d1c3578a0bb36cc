"""An HR team's payroll and HRIS talk to hireops (``/api/v1/``): referral accounts and their
balances, external rewards posted and deleted, and payout runs with their payroll lines.

Everything goes through what the admin uses: the rewards' service (a ``rewards.RewardInput``
built from the typed body, then ``rewards.reward_add``: the same checks and words as the import
and the add form, the same row, the same outbound call, the same change-history entry) and the
deletion's (``reward_delete_request``), the payroll file's own definitions
(``referrals.payouts.payroll``: the CSV's keys and outcomes), and the admin's masking
(``hireops.core.privacy.personal``) for keys without ``referrals:personal_data``.
No operation approves, rejects, releases or pays a payout run: money leaves with two people
and the second factor, in the admin.

**Money through a key.** Importing a reward and deleting one are money permissions
(``require_second_factor(..., money=True)``): ``rewards.reward_add`` and
``reward_delete_request`` ask ``second_factor.may_move_money`` of whoever calls them. A key's
own user (``ApiKey.actor``) is inactive and holds no permission, so the gate would refuse it,
rightly: it is not a person and has no second factor. Giving that user the permission, or
letting ``None`` (the system) through for keys, would open the gate to anything holding a key
and lose who stands behind it. Instead the API calls the services with an explicit
``rewards.KeyAuthority(actor=key's user, maker=who made the key)``: the row and the change
history name the key (``actor``), and the gate asks the *maker*, at every request, exactly
what it asks a person in the admin (the permission, and a second factor set up). So:

- a key gets ``rewards:write`` only from a person holding ``referrals.add_externalreferralreward``
  (the scope's ``permission``, checked when the key is made);
- it moves money only while its maker still may (losing the permission, being deactivated or
  having their factor reset stops the key at once); deleting also needs the maker to hold
  ``referrals.delete_in_feishu_externalreferralreward``;
- a key made by ``manage.py create_api_key`` has no person behind it and moves no money (403):
  a shell is not a second factor;
- nothing changes for people: the gate they pass is the same code, unchanged.

Posting a reward is idempotent on ``(tenant, external_id)``, with or without an
``Idempotency-Key``: the first post answers 201 with the new row (``queued``); the same
external id with the same values answers 200 with the row already kept (whatever its state)
and calls Feishu no more; with other values, 409, nothing changed. ``GET /referral-rewards``
lists them as the other lists do (by ``updated_at``, which every writer of a reward moves:
its call, its deletion's, ``rewards.services.touch``), filtered by ``external_id``, status,
tenant or referrer.

**Modules.** The operations by subject: ``accounts`` (the referral accounts and their balances),
``rewards`` (external rewards: posted, listed, deleted) and ``payout_runs`` (the runs and their
payroll lines); what they answer and take, and how a row becomes its answer, masked for the key
that reads it: ``schemas``; the scopes: ``scopes``. Each operations module mounts a router of
its own.
"""

from . import accounts, payout_runs, rewards  # noqa: F401  (their operations register as they are imported)
