from django.conf import settings
from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

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
