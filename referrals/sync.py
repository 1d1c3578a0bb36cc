"""One pass over every outbound job still waiting, run in-process (cron users, the periodic sweep).

Only call rows waiting longer than ``grace`` and not leased by a worker are taken
(``outbound.stale``): a row queued a moment ago is most likely still in the broker, and
running it here too would call Feishu twice (harmless for a withdrawal, which carries its
idempotency key, but a second registration call is not known to be deduplicated by Feishu).
"""

from datetime import timedelta
from functools import partial

from hireops import outbound
from hireops.outbound.retry import TryLater

from .accounts import services as accounts
from .payouts import services as payouts
from .rewards import services as rewards
from .withdrawals import services as withdrawals


def _each(pks, func) -> tuple[int, int]:
    done = later = 0
    for pk in pks:
        try:
            func(pk)
            done += 1
        except TryLater:
            later += 1
    return done, later


GRACE = timedelta(minutes=2)


def sync_pending(pull: bool = True, grace: timedelta = GRACE) -> dict[str, tuple[int, int]]:
    report: dict[str, tuple[int, int]] = {}
    waiting_kinds: list[tuple[str, outbound.AnyKind]] = [
        ("registrations", accounts.REGISTER),
        ("withdrawals", withdrawals.WITHDRAW),
        ("status_changes", accounts.CHANGE),
        # A create repeats its external id (Feishu's idempotency key), never after rewards.REPEAT_WINDOW.
        ("external_rewards", rewards.CREATE),
        ("external_reward_deletions", rewards.DELETE),
        # A message in Feishu repeats its uuid, never after chats.REPEAT_WINDOW.
        ("payout_messages", payouts.MESSAGE),
    ]
    for name, kind in waiting_kinds:
        # The kind's queued rows that no worker holds (their task lost, or out of retries).
        waiting = outbound.stale(kind, grace).order_by("pk").values_list("pk", flat=True)
        report[name] = _each(waiting, partial(outbound.run, kind))
    # A payout message's e-mail owed by a worker that died after the message's close.
    report["payout_emails_owed"] = (payouts.send_owed_emails(), 0)
    if pull:
        report["balances"] = accounts.balances_pull_all()
    return report
