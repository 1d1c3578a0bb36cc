"""Telling people of a payout run in Feishu: a message from the app in each person's own chat
with it, carrying the run's card (``cards``), sent by the outbound engine (``MESSAGE``, the
``referrals.payout_message`` kind).

- **Who.** When a run waits for a decision (prepared, or "Tell the approvers again"): each
  approver who may decide it (``notices.approvers``: the permission, none of its causes)
  and is linked to Feishu (``hireops.signin.identities``); the others are e-mailed as before
  (``notices``). When it is approved, rejected or paid: those who caused it, if linked.
- **When.** The rows are written in the transaction of the change (``signals.run_news``), each
  with its own ``uuid``, and sent once it commits. A message about a waiting run that was
  decided before it went out is not sent (closed, and no failure).
- **Once.** Every attempt of a row sends its uuid, and Feishu delivers one message per uuid in an
  hour, so a retry after a lost answer, a resumed row or a replayed task reaches the person
  once. A row that may have reached Feishu is not sent again after ``REPEAT_WINDOW`` (Feishu
  no longer knows its uuid then): it closes, said so.
- **Language.** The card is written in the recipient's language (the one they last used hireops
  in), else the site's default, when first sent, and kept on the row: a retry sends it
  unchanged.
- **Nothing lost.** A waiting run's message that fails for good (the person outside the app's
  availability scope, the bot switched off, retries used up) e-mails that approver instead.
"""

import logging
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from hireops import outbound
from hireops.core.messages import Message, stored_as
from hireops.core.models import CallStatus
from hireops.feishu import get_client, im
from hireops.feishu_calls.callee import FEISHU, FeishuKind
from hireops.signin import identities

from . import cards
from .approval import causers
from .models import PayoutMessage, PayoutNews, PayoutRun, PayoutRunStatus
from .notices import approvers, payout_notify_by_email

log = logging.getLogger(__name__)

# Feishu delivers one message per uuid within an hour; after this a repeat could be a second one.
REPEAT_WINDOW = timedelta(minutes=50)

DECIDED_MEANWHILE = gettext_noop("Not sent: the run was decided before the message went out.")
TOO_LATE = gettext_noop(
    "Not sent again: an earlier attempt may have delivered it, and it is too late to repeat it "
    "without a second message."
)


def recipients(run: PayoutRun, news: str) -> list[int]:
    """Who hears ``news`` of ``run``, whether linked to Feishu or not: its approvers while it
    waits, those who caused it after."""
    if news == PayoutNews.AWAITING:
        return list(approvers(run).values_list("pk", flat=True))
    if news == PayoutNews.CANCELLED:  # those told it waits (if they were), and no one else
        return list(approvers(run).values_list("pk", flat=True)) if run.notified_at else []
    active = get_user_model().objects.filter(pk__in=causers(run), is_active=True)
    return sorted(active.values_list("pk", flat=True))


def payout_run_news(run_pk: int, news: str) -> list[int]:
    """The messages telling ``news`` of the run to the recipients linked to Feishu, written in
    the caller's transaction and sent once it commits. Returns their primary keys."""
    run = PayoutRun.objects.select_related("prepared_by", "run_now_by", "schedule_changed_by").get(pk=run_pk)
    told = recipients(run, news)
    linked = identities.feishu_identities(told)
    if news != PayoutNews.AWAITING:  # (told it waits, the approvers not linked: ``notices``)
        unlinked = [pk for pk in told if pk not in linked]
        if unlinked:
            transaction.on_commit(lambda: _news_by_email(run_pk, news, unlinked))
    if not linked:
        return []
    languages = identities.languages(linked)
    rows = PayoutMessage.objects.bulk_create(
        PayoutMessage(
            run=run,
            news=news,
            recipient_id=user_pk,
            open_id=identity.open_id,
            tenant_key=identity.tenant_key,
            uuid=uuid.uuid4().hex,
            language=languages[user_pk],
        )
        for user_pk, identity in sorted(linked.items())
    )
    pks = [row.pk for row in rows]
    transaction.on_commit(lambda: MESSAGE.send_many(pks))
    return pks


# --- the kind --------------------------------------------------------------------------------


def _prepare(row: PayoutMessage):
    if row.news == PayoutNews.AWAITING and row.run.status != PayoutRunStatus.AWAITING_APPROVAL:
        outbound.close(MESSAGE, row, CallStatus.FAILED, error=Message(DECIDED_MEANWHILE))
        return None
    if row.maybe_applied and row.requested_at < timezone.now() - REPEAT_WINDOW:
        outbound.close(MESSAGE, row, CallStatus.FAILED, error=Message(TOO_LATE))
        return None
    if row.card is None:  # the first attempt: the card as the run is now, in its reader's language
        with translation.override(row.language or settings.LANGUAGE_CODE):
            row.card = cards.card(row.run, row.news)
        PayoutMessage.objects.filter(pk=row.pk).update(card=row.card)
    return row.card


def _call(row: PayoutMessage, card: dict) -> im.SentMessage:
    return im.send_message(
        get_client(), receive_id=row.open_id, content=card, uuid=row.uuid, tenant_key=row.tenant_key or None
    )


def _answer(row: PayoutMessage, card: dict, sent: im.SentMessage) -> dict:
    return {"message_id": sent.message_id}


def _closed(row: PayoutMessage) -> None:
    """A waiting run's message that failed for good: its approver is e-mailed instead, once
    the close is committed (nobody is e-mailed for a run decided meanwhile). The e-mail is owed
    from the close on (``email_owed_at``, in its transaction): sent after the commit, or by the
    sync pass (``send_owed_emails``) when the worker died before it could."""
    if row.status != CallStatus.FAILED or row.news != PayoutNews.AWAITING or row.recipient_id is None:
        return
    if getattr(row.error, "msgid", "") == DECIDED_MEANWHILE:
        return
    PayoutMessage.objects.filter(pk=row.pk).update(email_owed_at=timezone.now())
    transaction.on_commit(lambda: _by_email(row.pk))


def _news_by_email(run_pk: int, news: str, user_pks: list[int]) -> None:
    """The news of a decided or paid run for those who caused it and are not linked to Feishu:
    the card's words by e-mail, each in their own language."""
    run = PayoutRun.objects.select_related(
        "prepared_by", "run_now_by", "schedule_changed_by", "decided_by"
    ).get(pk=run_pk)
    users = get_user_model().objects.filter(pk__in=user_pks, is_active=True).exclude(email="")
    languages = identities.languages(user_pks)
    for user in users:
        with translation.override(languages.get(user.pk) or settings.LANGUAGE_CODE):
            subject, body = cards.as_email(cards.card(run, news))
        try:
            send_mail(subject, body, None, [user.email])
        except Exception as exc:  # SMTP down, refused: the run's page still says what happened
            log.warning("payout run %s: its %s news not e-mailed: %s", run_pk, news, type(exc).__name__)


def _by_email(pk: int) -> None:
    """The owed e-mail of message ``pk``, once: the row stays locked while it is sent, so a
    sweep meanwhile passes it by, and is no longer owed after."""
    with transaction.atomic():
        owed = (
            PayoutMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, email_owed_at__isnull=False)
            .values_list("run_id", "recipient_id")
            .first()
        )
        if owed is None:  # sent already, or being sent
            return
        run_pk, user_pk = owed
        errors = payout_notify_by_email(run_pk, [user_pk]) if user_pk is not None else []
        sent = {} if errors else {"emailed_at": timezone.now()}
        PayoutMessage.objects.filter(pk=pk).update(email_owed_at=None, **sent)
    if errors:
        log.warning("payout message %s: its approver not e-mailed either: %s", pk, "; ".join(errors))


# An owed e-mail older than this is the sync pass's: the worker that owed it is gone.
OWED_GRACE = timedelta(minutes=2)


def send_owed_emails() -> int:
    """The e-mails owed by a worker that died after a message's close and before its e-mail
    (run by the sync pass, ``referrals.sync``); how many were owed."""
    owed = PayoutMessage.objects.filter(email_owed_at__lte=timezone.now() - OWED_GRACE)
    pks = list(owed.order_by("pk").values_list("pk", flat=True)[:500])
    for pk in pks:
        _by_email(pk)
    return len(pks)


MESSAGE: FeishuKind[PayoutMessage, dict[str, Any], im.SentMessage] = outbound.register(
    outbound.Outbound(
        name="referrals.payout_message",
        model=PayoutMessage,
        related=("run", "run__prepared_by", "run__run_now_by", "run__schedule_changed_by", "run__decided_by"),
        prepare=_prepare,
        call=_call,
        callee=FEISHU,
        answer=_answer,
        closed=_closed,
        # The sync pass (referrals.sync) sends what is still queued, and the e-mails owed.
        swept_by="referrals.sync_pending",
        watch=outbound.Watch(
            # A message about a run decided before it went out was not needed: no failure.
            failures=~stored_as("error", DECIDED_MEANWHILE),
        ),
    )
)
