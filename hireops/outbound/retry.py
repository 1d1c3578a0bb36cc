"""Retrying outbound calls from Celery tasks: the one retry budget.

A service raises ``TryLater`` when Feishu could not answer (a 5xx or its internal error
1002001 with a 5xx, a timeout, a lost connection, a rate limit it kept answering); the task
retries it with capped exponential backoff, then hands it to ``give_up``, which writes a
message a person can act on.

These tries are the only repeats of a failed call: the Feishu client adds none (it waits
out a 429 for Feishu's reset and replaces a rejected token, neither of which Feishu acted
on). So a call that fails the same way every time reaches Feishu ``ATTEMPTS`` times in all
(6), spread over about 15 minutes by default: 30 s, 1, 2, 4 and 8 min. For 1,000 tenants in
a Feishu incident that is 6,000 calls at most, against 24,000 when the client retried too.
A try after one whose outcome is unknown (``maybe_applied``) sends the same body and
idempotency key, or asks Feishu first where the kind knows how (docs/feishu.md, "The retry
budget").
"""

from collections.abc import Callable
from typing import Any

from celery import Task
from django.conf import settings
from django.utils.translation import gettext_noop

MAX_RETRIES = 5
ATTEMPTS = MAX_RETRIES + 1  # the first try and its retries: every call Feishu may see
BACKOFF_CAP = 1800  # seconds
# What a row says when its call was given up on (a ``Message`` with the last reason).
GAVE_UP = gettext_noop("Feishu could not be reached after several tries: %(reason)s")


class TryLater(Exception):
    """Try again later: after ``after`` seconds when the caller knows (a kind's own retry
    schedule), else after ``backoff``. ``parked``: no task is queued for it; the row waits for
    its kind's sweep to send it when due (a wait of hours has no place in a broker)."""

    def __init__(self, reason: str, after: float | None = None, parked: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.after = after
        self.parked = parked


def backoff(retries: int) -> float:
    """Seconds before retry number ``retries + 1``: ``FEISHU_RETRY_BACKOFF`` (30 s) doubled
    each time, at most half an hour."""
    delay: float = settings.FEISHU_RETRY_BACKOFF * 2**retries
    return min(delay, BACKOFF_CAP)


def run_retrying(
    task: "Task[Any, Any]",
    func: Callable[[int], object],
    pk: int,
    give_up: Callable[[int, str], object],
    max_retries: int | None = MAX_RETRIES,
) -> object:
    """``max_retries`` None: retried for as long as ``func`` asks (its kind decides when to stop)."""
    try:
        return func(pk)
    except TryLater as exc:
        if exc.parked:
            return None
        if max_retries is not None and task.request.retries >= max_retries:
            return give_up(pk, exc.reason)
        countdown = exc.after if exc.after is not None else backoff(task.request.retries)
        raise task.retry(countdown=countdown, exc=exc, max_retries=max_retries) from exc
