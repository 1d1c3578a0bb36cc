"""Invitations to link a staff user to their Feishu identity (sign-in with Feishu), enrolment
links (a first second factor without Feishu), and the notices operators get when someone's
second factors are removed."""

import hashlib
import re
import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop, ngettext_lazy

from hireops.core import audit
from hireops.core.messages import Message, MessageTextField, upgraded

# Change-history messages (hireops.core.audit), on the staff user concerned, translated when read.
INVITED = gettext_noop("Added a Feishu sign-in invitation")
LINK_ISSUED = ngettext_lazy(
    "Issued an enrolment link, valid %(hours)s hour",
    "Issued an enrolment link, valid %(hours)s hours",
    "hours",
)
# History written before the count had its plural forms reads with them.
upgraded("Issued an enrolment link, valid %(hours)s hours", lambda params: Message(LINK_ISSUED, **params))


def digest(token: str) -> str:
    """Only the digest is stored: the database never holds a usable invitation link."""
    return hashlib.sha256(token.encode()).hexdigest()


class FeishuPerson(models.TextChoices):
    """How an invitation names the Feishu person it is for: by what the company's Feishu admins
    assign and user_info reports, never by what the employee types in (docs/feishu.md §16.6)."""

    COMPANY_MAILBOX = "enterprise_email", _("company mailbox")
    USER_ID = "user_id", _("Feishu user ID")


_USER_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def feishu_person(value: str) -> tuple[str, str]:
    """The kind and normalised value of what an admin typed to name a Feishu person: a company
    mailbox (it has an @) or a Feishu user ID. ValidationError for anything else."""
    value = (value or "").strip()
    if "@" in value:
        try:
            validate_email(value)
        except ValidationError as exc:
            raise ValidationError(_("This is not a valid email address."), code="invalid") from exc
        return FeishuPerson.COMPANY_MAILBOX, value.lower()
    if not _USER_ID.fullmatch(value):
        raise ValidationError(
            _("Give their company mailbox (name@company) or their Feishu user ID (letters, digits, _ . -)."),
            code="invalid",
        )
    return FeishuPerson.USER_ID, value


def person_digest(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()


class OneTimeLinkQuerySet(models.QuerySet):
    def usable(self):
        return self.filter(used_at=None, expires_at__gt=timezone.now())


class OneTimeLink(models.Model):
    """A link a staff member is given once, for one ``user``: only its token's digest is kept
    (the database never holds a usable link), it expires, and it is used once."""

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

    objects = OneTimeLinkQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-created_at"]

    def __str__(self):
        return str(self.user)


class FeishuInvitationQuerySet(OneTimeLinkQuerySet):
    def usable(self):
        # An invitation that names nobody (made before invitations named their person) links nobody.
        return super().usable().exclude(person_digest="")


class FeishuInvitation(OneTimeLink):
    """A one-time link an admin gives a colleague: signing in through it with the Feishu
    account it names links that account to ``user``. Valid FEISHU_LOGIN_INVITATION_DAYS,
    used once. The person is kept as a digest: the mailbox is personal data hireops has no
    other use for."""

    person_kind = models.CharField(
        _("named by"), max_length=20, choices=FeishuPerson.choices, blank=True, editable=False
    )
    person_digest = models.CharField(max_length=64, blank=True, editable=False)

    objects = FeishuInvitationQuerySet.as_manager()  # type: ignore[misc]  # its own queryset's manager

    class Meta(OneTimeLink.Meta):
        verbose_name = _("Feishu sign-in invitation")
        verbose_name_plural = _("Feishu sign-in invitations")

    @classmethod
    def issue(cls, user, created_by, person: str) -> tuple["FeishuInvitation", str]:
        """A new invitation for the Feishu person ``person`` names (see ``feishu_person``),
        and its token (shown once, in the link); in ``user``'s change history."""
        kind, value = feishu_person(person)
        token = secrets.token_urlsafe(32)
        days = settings.FEISHU_LOGIN_INVITATION_DAYS
        with transaction.atomic():
            invitation = cls.objects.create(
                user=user,
                token_digest=digest(token),
                person_kind=kind,
                person_digest=person_digest(kind, value),
                created_by=created_by,
                expires_at=timezone.now() + timedelta(days=days),
            )
            audit.record(created_by, [user], INVITED)
        return invitation, token

    def names(self, user_info: dict) -> bool:
        """Whether Feishu's user_info is the person this invitation was made for. A field the
        login app may not read (no permission) is missing: that is no match either."""
        value = user_info.get(self.person_kind) if self.person_kind else None
        if not isinstance(value, str) or not value.strip():
            return False
        try:
            kind, value = feishu_person(value)
        except ValidationError:
            return False
        return kind == self.person_kind and secrets.compare_digest(
            person_digest(kind, value), self.person_digest
        )


class EnrolmentLink(OneTimeLink):
    """A one-time link an administrator gives a colleague with no second factor yet: opened in
    a session signed in as that colleague, it lets that session add one in the next
    ENROLMENT_PROOF_MINUTES (hireops.signin.enrolment). Valid ENROLMENT_LINK_HOURS, used once;
    a new link replaces the user's earlier ones not used yet. ``created_by`` empty: issued
    from the server's shell (manage.py enrolment_link)."""

    class Meta(OneTimeLink.Meta):
        verbose_name = _("enrolment link")
        verbose_name_plural = _("enrolment links")

    @classmethod
    def issue(cls, user, created_by=None) -> tuple["EnrolmentLink", str]:
        """A new link for ``user`` and its token (shown once, in the link); in ``user``'s change
        history when a person issued it (a command's link has nobody to record)."""
        token = secrets.token_urlsafe(32)
        now = timezone.now()
        with transaction.atomic():
            cls.objects.usable().filter(user=user).update(expires_at=now)
            link = cls.objects.create(
                user=user,
                token_digest=digest(token),
                created_by=created_by,
                expires_at=now + timedelta(hours=settings.ENROLMENT_LINK_HOURS),
            )
            audit.record(created_by, [user], LINK_ISSUED, {"hours": settings.ENROLMENT_LINK_HOURS})
        return link, token


class FactorChange(models.TextChoices):
    """What a security notice tells the operators of (hireops.signin.notices)."""

    REMOVED = "removed", _("removed a second factor")
    RESET = "reset", _("reset every second factor")


class SecurityNotice(models.Model):
    """Someone's second factors were removed or replaced: the operators are told once, through
    the alerts' channels (e-mail, the Feishu group's bot), after the change is committed. The
    row is written with the change, so a notice is never lost; what could not be delivered is
    kept on it (``error``) and tried again a few times."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff user"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    user_ref = models.PositiveIntegerField(_("user id"))  # kept when the user is deleted
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("changed by"),
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
    )
    change = models.CharField(_("change"), max_length=20, choices=FactorChange.choices)
    factors = models.CharField(_("factors"), max_length=100, blank=True)  # "totp,webauthn"
    at = models.DateTimeField(_("at"), auto_now_add=True)
    told = models.CharField(_("channels told"), max_length=100, blank=True)  # "email,feishu_bot"
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = MessageTextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("security notice")
        verbose_name_plural = _("security notices")
        ordering = ["-at"]

    def __str__(self):
        return f"#{self.user_ref}: {self.get_change_display()}"


class StaffLanguage(models.Model):
    """The language a staff user last used hireops in (at sign-in, or switched to): what the
    messages the app sends them in Feishu are written in (hireops.signin.identities)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff user"),
        primary_key=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    language = models.CharField(_("language"), max_length=16)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("staff member's language")
        verbose_name_plural = _("staff members' languages")
        default_permissions = ()

    def __str__(self):
        return f"#{self.user_id}: {self.language}"
