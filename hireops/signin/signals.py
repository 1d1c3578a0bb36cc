"""Steps of a sign-in that allauth does not see, noted the way it notes its own."""

from allauth.account.signals import user_logged_in as allauth_logged_in
from allauth.mfa.signals import authenticator_added
from allauth.socialaccount.models import SocialAccount
from django.contrib.auth.signals import user_logged_in
from django.db.models.signals import pre_save
from django.dispatch import receiver
from django.urls import reverse

from . import identities, second_factor
from .refusals import note_signed_in


@receiver(user_logged_in)
def _password_sign_in(sender, request, user, **kwargs):
    """The admin's own password form, noted as a step of this session's sign-in. Never as a
    confirmation ("reauthenticated"): a password typed minutes ago is what a thief has, and
    adds no factor and changes none (hireops.signin.enrolment, second_factor.fresh)."""
    if request is not None and request.path_info == reverse("admin:login"):
        second_factor.record(request, user, "password", username=user.get_username())
        note_signed_in("password")


@receiver(user_logged_in, dispatch_uid="hireops.signin.language")
def _language(sender, request, user, **kwargs):
    """Every sign-in (the password form, Feishu's) notes the language the person reads hireops
    in: what the app's messages to them in Feishu are written in."""
    language = getattr(request, "LANGUAGE_CODE", "") if request is not None else ""
    if language:
        identities.remember_language(user, language)


@receiver(allauth_logged_in)
def _feishu_sign_in(sender, request, user, sociallogin=None, **kwargs):
    """A sign-in with Feishu: Feishu proved the person, so for ENROLMENT_PROOF_MINUTES this
    session may add a first second factor (hireops.signin.enrolment reads this step); after
    that, the guide offers signing in with Feishu again."""
    if request is not None and sociallogin is not None:
        second_factor.record(
            request,
            user,
            "socialaccount",
            provider=sociallogin.account.provider,
            uid=sociallogin.account.uid,
        )
        note_signed_in(sociallogin.account.provider)


@receiver(authenticator_added)
def _enrolled(sender, request, user, authenticator, **kwargs):
    """Adding a factor proves it (allauth checked a code from it): this session has its
    second factor, and the admin opens without asking for another code at once."""
    if request is not None and authenticator.type != authenticator.Type.RECOVERY_CODES:
        second_factor.record(request, user, "mfa", type=authenticator.type, id=authenticator.pk)


# What Feishu's user_info says that hireops never needs to keep: contact data is personal and
# staff's own records are the source for it. Sign-in reads it from the answer, in memory.
PERSONAL_FIELDS = ("email", "enterprise_email", "mobile", "employee_no")


@receiver(pre_save, sender=SocialAccount)
def _without_personal_data(sender, instance, **kwargs):
    if isinstance(instance.extra_data, dict):
        instance.extra_data = {k: v for k, v in instance.extra_data.items() if k not in PERSONAL_FIELDS}
