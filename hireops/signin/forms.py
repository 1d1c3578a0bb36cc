from django import forms
from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AdminPasswordChangeForm, SetUnusablePasswordMixin
from django.core.exceptions import ValidationError
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _

from .models import feishu_person
from .refusals import MESSAGES, Reason, note_refusal


def password_login_allowed(user) -> bool:
    """PASSWORD_LOGIN=0 leaves the password to the break-glass superusers only."""
    if settings.PASSWORD_LOGIN:
        return True
    return user.is_superuser and user.get_username() in settings.PASSWORD_LOGIN_BREAK_GLASS


class AdminLoginForm(AdminAuthenticationForm):
    """The admin's password form, with the PASSWORD_LOGIN rule."""

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not password_login_allowed(user):
            note_refusal(Reason.PASSWORD_OFF, user_id=user.pk)
            raise ValidationError(MESSAGES[Reason.PASSWORD_OFF], code=Reason.PASSWORD_OFF.value)


class PasswordChangeForm(AdminPasswordChangeForm):
    """A colleague's password page, its help in the reader's language. Django joins this help
    text to its warning when the module is imported, which turns it into plain text in whatever
    language was active then (the English page showed it in Chinese), and leaves the warning
    untranslated."""

    usable_password_help_text = format_lazy(  # type: ignore[assignment]  # lazy: the reader's language
        '{}<ul id="id_unusable_warning" class="messagelist"><li class="warning">{}</li></ul>',
        SetUnusablePasswordMixin.usable_password_help_text,
        _("If disabled, the current password for this user will be lost."),
    )


class InvitationForm(forms.Form):
    """Who the colleague is in Feishu: only that Feishu account can use the invitation."""

    feishu_person = forms.CharField(
        label=_("Their Feishu account"),
        max_length=254,
        help_text=_(
            "Their company mailbox in Feishu (name@company), or their Feishu user ID (Feishu admin "
            "console → Members → the member → User ID). Only the Feishu account with this mailbox or "
            "user ID can use the invitation: whoever else opens the link is refused."
        ),
    )

    def clean_feishu_person(self):
        value = self.cleaned_data["feishu_person"]
        feishu_person(value)  # ValidationError for anything else
        return value.strip()
