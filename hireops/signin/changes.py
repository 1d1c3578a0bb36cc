"""What changes how someone signs in: authenticators, the password, the email address.

Four rules, decided here once for every page that makes such a change (allauth's, the admin's,
and any added later):

- it needs the second factor proven minutes ago by whoever makes it, if they have a factor
  (``second_factor.require_fresh``): checked on the rows themselves, so no page can forget it.
  allauth's pages also ask before showing anything (``AccountAdapter.is_reauthentication_required``);
- a first factor needs the enrolment's proof (a Feishu sign-in or an enrolment link, never a
  password: ``enrolment.require_proof``), checked on the rows too;
- removing a factor (the owner's, or an administrator's reset) is told to the operators
  (``notices``), once the change is committed;
- it is written to the change history of the user concerned. Pages of a ModelAdmin log their
  own changes (the admin's user form, a colleague's password), the factors' reset is logged by
  its service (``second_factor.reset``); what allauth's pages change is logged here;
- the user concerned is told by mail (allauth's security notifications, where mail is set up):
  allauth's second-factor pages send their own; password and email changes are mailed here.

Outside a request (a management command, a test's setup) nobody signed in is making the
change: none of this applies.
"""

from allauth.account.adapter import get_adapter
from allauth.core import context
from allauth.mfa import signals as mfa_signals
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_delete, pre_save
from django.dispatch import receiver
from django.utils.translation import gettext_noop

from hireops.core import audit

from . import enrolment, notices, second_factor

User = get_user_model()

ADDED = {
    Authenticator.Type.TOTP: gettext_noop("Set up an authenticator app"),
    Authenticator.Type.WEBAUTHN: gettext_noop("Added a security key"),
    Authenticator.Type.RECOVERY_CODES: gettext_noop("Generated recovery codes"),
}
REMOVED = {
    Authenticator.Type.TOTP: gettext_noop("Removed the authenticator app"),
    Authenticator.Type.WEBAUTHN: gettext_noop("Removed a security key"),
    Authenticator.Type.RECOVERY_CODES: gettext_noop("Removed the recovery codes"),
}
RECOVERY_CODES_REPLACED = gettext_noop("Generated new recovery codes")
PASSWORD_CHANGED = gettext_noop("Changed the password")
EMAIL_CHANGED = gettext_noop("Changed the email address")


def _signed_in_request():
    request = context.request
    user = getattr(request, "user", None)
    return request if user is not None and user.is_authenticated else None


def _through_a_model_admin(request) -> bool:
    """The page is a ModelAdmin's (Django's ``wrap`` marks its views): it logs its changes."""
    match = getattr(request, "resolver_match", None)
    return match is not None and hasattr(match.func, "model_admin")


def _needs_fresh_factor() -> None:
    request = _signed_in_request()
    if request is not None:
        second_factor.require_fresh(request)


# --- authenticators -----------------------------------------------------------------------------


@receiver(pre_save, sender=Authenticator)
def _adding_a_factor(sender, instance, **kwargs):
    request = _signed_in_request()
    if not instance._state.adding or request is None:
        return
    if not Authenticator.objects.filter(user_id=instance.user_id).exists():
        # A first factor, of any kind (recovery codes alone would be one too).
        enrolment.require_proof(request, instance.user_id)
    elif instance.type != Authenticator.Type.RECOVERY_CODES:
        # Recovery codes come with a first factor, or after deleting the old ones (checked below).
        second_factor.require_fresh(request)


@receiver(pre_delete, sender=Authenticator)
def _removing_a_factor(sender, instance, **kwargs):
    _needs_fresh_factor()


@receiver(post_delete, sender=Authenticator)
def _factor_removed_told(sender, instance, **kwargs):
    if instance.type != Authenticator.Type.RECOVERY_CODES:  # they go with the factor they back
        request = _signed_in_request()
        if request is not None:
            notices.factor_removed(request, instance)


def _record(request, user, message: str) -> None:
    if request is not None and not _through_a_model_admin(request):
        audit.record(request.user, [user], message)


@receiver(mfa_signals.authenticator_added)
def _factor_added(sender, request, user, authenticator, **kwargs):
    _record(request, user, ADDED[authenticator.type])


@receiver(mfa_signals.authenticator_reset)
def _recovery_codes_replaced(sender, request, user, authenticator, **kwargs):
    _record(request, user, RECOVERY_CODES_REPLACED)


@receiver(mfa_signals.authenticator_removed)
def _factor_removed(sender, request, user, authenticator, **kwargs):
    _record(request, user, REMOVED[authenticator.type])
    if request is not None and request.user == user and not second_factor.enrolled(user):
        second_factor.forget_proof(request)


# --- password and email ---------------------------------------------------------------------------


@receiver(pre_save, sender=User)
def _changing_how_one_signs_in(sender, instance, update_fields=None, **kwargs):
    instance._sign_in_changes = []
    if instance._state.adding or _signed_in_request() is None:
        return
    # set_password() leaves the new password in _password until the save (a hasher's upgrade
    # of the same password does not).
    if instance._password is not None:
        instance._sign_in_changes.append(("password", None))
    if update_fields is None or "email" in update_fields:
        before = sender._default_manager.filter(pk=instance.pk).values_list("email", flat=True).first()
        if before is not None and before.strip().lower() != (instance.email or "").strip().lower():
            instance._sign_in_changes.append(("email", before))
    if instance._sign_in_changes:
        _needs_fresh_factor()


@receiver(post_save, sender=User)
def _told_and_recorded(sender, instance, created, **kwargs):
    changes, instance._sign_in_changes = getattr(instance, "_sign_in_changes", []), []
    request = _signed_in_request()
    if created or not changes or request is None:
        return
    adapter = get_adapter(request)
    for what, before in changes:
        if what == "password":
            _record(request, instance, PASSWORD_CHANGED)
            _mail_once_saved(adapter, "account/email/password_changed", instance)
        else:
            _record(request, instance, EMAIL_CHANGED)
            if before:  # the old address: its owner learns the account moved away
                addresses = {"from_email": before, "to_email": instance.email}
                _mail_once_saved(adapter, "account/email/email_changed", instance, addresses, email=before)


def _mail_once_saved(adapter, template_prefix, user, extra=None, email=None) -> None:
    """After the commit, as allauth mails its own: a change rolled back is not announced."""
    transaction.on_commit(lambda: adapter.send_notification_mail(template_prefix, user, extra, email))
