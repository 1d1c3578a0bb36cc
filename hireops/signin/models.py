"""Invitations to link a staff user to their Feishu identity (sign-in with Feishu)."""

import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def digest(token: str) -> str:
    """Only the digest is stored: the database never holds a usable invitation link."""
    return hashlib.sha256(token.encode()).hexdigest()


class FeishuInvitationQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(used_at=None, expires_at__gt=timezone.now())


class FeishuInvitation(models.Model):
    """A one-time link an admin gives a colleague: signing in with Feishu through it links
    the Feishu identity to ``user``. Valid FEISHU_LOGIN_INVITATION_DAYS, used once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("staff user"), on_delete=models.CASCADE, related_name="+"
    )
    token_digest = models.CharField(max_length=64, unique=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    objects = FeishuInvitationQuerySet.as_manager()

    class Meta:
        verbose_name = _("Feishu sign-in invitation")
        verbose_name_plural = _("Feishu sign-in invitations")
        ordering = ["-created_at"]

    def __str__(self):
        return str(self.user)

    @classmethod
    def issue(cls, user, created_by) -> tuple["FeishuInvitation", str]:
        """A new invitation and its token (shown once, in the link)."""
        token = secrets.token_urlsafe(32)
        days = settings.FEISHU_LOGIN_INVITATION_DAYS
        invitation = cls.objects.create(
            user=user,
            token_digest=digest(token),
            created_by=created_by,
            expires_at=timezone.now() + timezone.timedelta(days=days),
        )
        return invitation, token
