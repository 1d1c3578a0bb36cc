"""A payout run's news, for what follows it without the modules that make the news naming it:
the messages in Feishu (``chats``) read who may decide a run and who caused it from the very
modules that prepare and decide runs, so those cannot import them back. Connected from
``ReferralsConfig.ready()``, which imports ``chats`` only when the news comes."""

from django.dispatch import Signal

from .models import PayoutRun

# A run waits for a decision (prepared, or its approvers reminded), was approved, rejected,
# paid or cancelled; sent in the transaction of the change: sender=PayoutRun, run_pk, news (a PayoutNews).
run_news = Signal()


def news(run_pk: int, what: str) -> None:
    run_news.send(sender=PayoutRun, run_pk=run_pk, news=what)
