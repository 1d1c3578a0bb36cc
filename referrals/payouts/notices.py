"""Telling the approvers that a payout run waits: by e-mail, each approver at their address,
and in the Feishu group the alerts go to (its custom bot). What was not delivered is written
on the run (``notice_error``, a Message: it reads in the preparer's language, not the worker's),
where the preparer sees it and can send the notice again."""

import logging
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.mail import send_mail
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext

from hireops.core.messages import Message, joined
from hireops.ops import channels
from hireops.signin.identities import feishu_identities

from . import signals
from .amounts import cash_text
from .approval import caused_by_text, causers, own_lines
from .models import PayoutNews, PayoutRun, PayoutRunStatus

log = logging.getLogger(__name__)


def approvers(run: PayoutRun):
    """Active users who may decide the run: the permission, none of those who caused it, and
    none whose own referral account it pays (``may_decide`` refuses them: telling them the run
    waits for them would send them to a page that says no)."""
    perm = Permission.objects.get(content_type__app_label="referrals", codename="approve_payoutrun")
    users = get_user_model().objects.filter(
        Q(is_superuser=True) | Q(user_permissions=perm) | Q(groups__permissions=perm), is_active=True
    )
    users = users.exclude(pk__in=causers(run)).distinct().order_by("pk")
    paid = [user.pk for user in users if own_lines(run, user).exists()]  # a query per approver: a few
    return users.exclude(pk__in=paid)


def told_how(run: PayoutRun) -> tuple[list, list, list]:
    """Who is told the run waits, and how: (in Feishu, by e-mail, by neither), each a list of
    users, as ``payout_notify`` and the messages in Feishu (``chats``) tell them."""
    told = list(approvers(run))
    in_feishu = feishu_identities(u.pk for u in told)
    feishu = [u for u in told if u.pk in in_feishu]
    email = [u for u in told if u.pk not in in_feishu and u.email]
    neither = [u for u in told if u.pk not in in_feishu and not u.email]
    return feishu, email, neither


def _link(run: PayoutRun) -> str:
    return settings.ADMIN_BASE_URL.rstrip("/") + reverse("admin:referrals_payoutrun_decide", args=[run.pk])


def _text(run: PayoutRun) -> tuple[str, list[str]]:
    title = _("Payout run waits for approval: %(run)s") % {"run": run}
    lines = [
        ngettext(
            "%(count)s line, %(totals)s; %(who)s.", "%(count)s lines, %(totals)s; %(who)s.", run.line_count
        )
        % {"count": run.line_count, "totals": cash_text(run.totals), "who": caused_by_text(run)},
        _("Nothing is paid until a colleague approves it."),
    ]
    return title, lines


NO_ADDRESS = gettext_noop("no approver has an e-mail address")

# "Tell the approvers again" is a reminder, not a flood: at most once in this long per run.
AGAIN_AFTER = timedelta(minutes=5)


def told_again_from(run: PayoutRun):
    """When the approvers may be told about the run again (None: now)."""
    if run.notified_at is None or run.notified_at + AGAIN_AFTER <= timezone.now():
        return None
    return run.notified_at + AGAIN_AFTER


def payout_notify_again(run_pk: int) -> list[str] | None:
    """The preparer's reminder: None when the approvers were told less than AGAIN_AFTER ago
    (the time is taken in one update, so two presses at once send one reminder), else what
    failed (``payout_notify``)."""
    recent = Q(notified_at__isnull=False, notified_at__gt=timezone.now() - AGAIN_AFTER)
    taken = (
        PayoutRun.objects.filter(pk=run_pk, status=PayoutRunStatus.AWAITING_APPROVAL)
        .exclude(recent)
        .update(notified_at=timezone.now(), updated_at=timezone.now())
    )
    if not taken:
        return None
    signals.news(run_pk, PayoutNews.AWAITING)  # those linked to Feishu: a message again
    return payout_notify(run_pk)


def payout_notify(run_pk: int) -> list[str]:
    """Returns what failed (empty: everyone configured was told)."""
    run = PayoutRun.objects.select_related("prepared_by", "run_now_by", "schedule_changed_by").get(pk=run_pk)
    errors: list[str] = []
    with translation.override(settings.LANGUAGE_CODE):
        title, lines = _text(run)
        link = _link(run)
        told = list(approvers(run))
        # Those linked to Feishu are told in their chat with the app instead (``chats``).
        in_feishu = feishu_identities(u.pk for u in told)
        addresses = [u.email for u in told if u.email and u.pk not in in_feishu]
        if addresses:
            try:
                send_mail(title, "\n".join([*lines, "", link]), None, addresses)
            except Exception as exc:  # SMTP down, refused: said on the row
                errors.append(channels.failed(channels.EMAIL, type(exc).__name__))
        elif not in_feishu:
            errors.append(Message(NO_ADDRESS))
        if settings.ALERT_FEISHU_BOT_URL:
            alert = channels.Alert(
                title=title, lines=lines, url=link, severity="info", key=f"payout-run-{run.pk}"
            )
            errors += [
                channels.failed(r.channel, r.error)
                for r in channels.send_alert(alert, [channels.FEISHU_BOT])
                if not r.ok
            ]
    PayoutRun.objects.filter(pk=run.pk).update(
        notified_at=timezone.now(), notice_error=joined(errors), updated_at=timezone.now()
    )
    if errors:
        log.warning("payout run %s: approvers not all told: %s", run.pk, "; ".join(errors))
    return errors


def payout_notify_by_email(run_pk: int, user_pks: list[int]) -> list[str]:
    """The notice by e-mail to these approvers alone: those a message in Feishu did not reach
    (``chats``). Returns what failed (empty: sent, or nothing to tell: the run no longer waits,
    or none of them may decide it)."""
    run = PayoutRun.objects.select_related("prepared_by", "run_now_by", "schedule_changed_by").get(pk=run_pk)
    if run.status != PayoutRunStatus.AWAITING_APPROVAL:
        return []
    with translation.override(settings.LANGUAGE_CODE):
        title, lines = _text(run)
        chosen = list(approvers(run).filter(pk__in=user_pks))
        addresses = [u.email for u in chosen if u.email]
        if not addresses:
            return [_("no approver has an e-mail address")] if chosen else []
        try:
            send_mail(title, "\n".join([*lines, "", _link(run)]), None, addresses)
        except Exception as exc:  # SMTP down, refused: the caller keeps it
            return [f"{channels.EMAIL}: {type(exc).__name__}"]
    return []
