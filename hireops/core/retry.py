"""Retrying outbound calls from Celery tasks.

A service raises ``TryLater`` when Feishu could not answer (rate limit, 5xx, timeout);
the task retries it with capped exponential backoff, then hands it to ``give_up``,
which writes a message a person can act on.
"""

from django.utils.translation import gettext_noop

MAX_RETRIES = 5
# What a row says when its call was given up on (a ``Message`` with the last reason).
GAVE_UP = gettext_noop("Feishu could not be reached after several tries: %(reason)s")


class TryLater(Exception):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def backoff(retries: int) -> int:
    return min(30 * 2**retries, 1800)


def run_retrying(task, func, pk, give_up):
    try:
        return func(pk)
    except TryLater as exc:
        if task.request.retries >= MAX_RETRIES:
            return give_up(pk, exc.reason)
        raise task.retry(countdown=backoff(task.request.retries), exc=exc, max_retries=MAX_RETRIES) from exc
