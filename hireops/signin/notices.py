"""Telling the operators that someone's second factors were removed or replaced.

A removed factor is how a thief who got in once would stay in (their phone in place of the
owner's), and how an owner's lost phone shows: either way the people who run hireops hear of
it at once, through the alerts' channels (hireops.ops.channels: e-mail, the Feishu group's
bot), whoever made the change and through whichever page. A ``SecurityNotice`` row is written
in the change's transaction, and a task sends it once that commits (a change rolled back is
not announced). It carries who, what and when: a username and user id, never an address.

A channel that fails is tried again with the tasks' backoff (hireops.outbound.retry); what stays
undelivered is on the row (*Security notices*), in the log and in
``hireops_security_notices_total``.
"""

import logging

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from hireops.core.display import local_time
from hireops.core.messages import Message
from hireops.core.task_names import task_named
from hireops.ops import channels, metrics
from hireops.outbound.retry import TryLater

from .models import FactorChange, SecurityNotice

log = logging.getLogger("hireops.signin")


def factor_removed(request, authenticator) -> None:
    """One notice per user whose factors this request removes (a reset removes several)."""
    pending = getattr(request, "_security_notices", None)
    if pending is None:
        pending = request._security_notices = {}
    notice = pending.get(authenticator.user_id)
    if notice is not None:
        notice.factors = ",".join(sorted({*notice.factors.split(","), authenticator.type}))
        notice.save(update_fields=["factors"])
        return
    notice = pending[authenticator.user_id] = SecurityNotice.objects.create(
        user_id=authenticator.user_id,
        user_ref=authenticator.user_id,
        actor=request.user,
        change=FactorChange.REMOVED if request.user.pk == authenticator.user_id else FactorChange.RESET,
        factors=authenticator.type,
    )
    send_security_notice = task_named("signin.send_security_notice")

    transaction.on_commit(lambda: send_security_notice.delay(notice.pk))


def _who(user, pk) -> str:
    return f"{user.get_username()} (#{pk})" if user is not None else f"#{pk}"


def _factor_names(factors: str) -> str:
    from allauth.mfa.models import Authenticator

    names = {Authenticator.Type.TOTP: _("authenticator app"), Authenticator.Type.WEBAUTHN: _("security key")}
    return ", ".join(str(names.get(f, f)) for f in factors.split(",") if f)


def alert(notice: SecurityNotice) -> channels.Alert:
    """The notice's text, in the language the alerts speak (LANGUAGE_CODE)."""
    user, actor = _who(notice.user, notice.user_ref), _who(notice.actor, notice.actor_id)
    if notice.change == FactorChange.RESET:
        title = _("Second factors reset: %(user)s") % {"user": user}
        what = _("%(actor)s reset every second factor of %(user)s (%(factors)s).")
    else:
        title = _("Second factor removed: %(user)s") % {"user": user}
        what = _("%(actor)s removed their own %(factors)s.")
    lines = [
        what % {"actor": actor, "user": user, "factors": _factor_names(notice.factors)},
        _("At %(time)s.") % {"time": local_time(notice.at)},
        _(
            "They set up a new one after signing in with Feishu or with an enrolment link. If nobody "
            "expected this change, reset their factors and find out who made it."
        ),
    ]
    path = reverse("admin:auth_user_history", args=[notice.user_ref])
    return channels.Alert(
        title=title,
        lines=lines,
        url=settings.ADMIN_BASE_URL.rstrip("/") + path,
        severity="warning",
        key=f"security-notice-{notice.pk}",
    )


def send(notice_pk: int) -> None:
    """Send the notice through each configured channel that has not taken it yet; ``TryLater``
    while one fails (the task tries again)."""
    notice = SecurityNotice.objects.select_related("user", "actor").get(pk=notice_pk)
    if notice.sent_at is not None:
        return
    SecurityNotice.objects.filter(pk=notice.pk).update(attempts=F("attempts") + 1)
    configured = channels.configured()
    if not configured:
        SecurityNotice.objects.filter(pk=notice.pk).update(error=Message(channels.NO_CHANNEL))
        metrics.security_notices.labels("no_channel").inc()
        log.warning("security notice %s not sent: no alert channel is configured", notice.pk)
        return
    told = {c for c in notice.told.split(",") if c}
    with translation.override(settings.LANGUAGE_CODE):
        results = channels.send_alert(alert(notice), channels=[c for c in configured if c not in told])
    told |= {r.channel for r in results if r.ok}
    errors = channels.failures(results)
    SecurityNotice.objects.filter(pk=notice.pk).update(
        told=",".join(sorted(told)), error=errors, sent_at=None if errors else timezone.now()
    )
    if errors:
        metrics.security_notices.labels("retried").inc()
        raise TryLater(errors)
    metrics.security_notices.labels("sent").inc()


def give_up(notice_pk: int, reason: str) -> None:
    """Every try failed: the row keeps the error, the log and the counter say so."""
    metrics.security_notices.labels("failed").inc()
    log.error("security notice %s not delivered to every channel: %s", notice_pk, reason)
