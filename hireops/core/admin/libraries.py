"""Libraries' admins made to follow the project's rule for actions (hireops.core.admin.actions):
each of their actions that changes something is gated and recorded, or not offered; and made
to read in the reader's language where the library names a column or a label in English only.

Keep this in step with the libraries when upgrading them; ``manage.py check`` names any new
action that slips through (hireops.E035).
"""

from allauth.account import admin as account_admin  # registers allauth's admins first
from allauth.account.models import EmailAddress
from allauth.socialaccount import admin as social_admin
from allauth.socialaccount.models import SocialAccount, SocialApp, SocialToken
from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth import admin as auth_admin
from django.contrib.auth.models import Group
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

from .. import audit
from .permissions import TranslatedPermissions

VERIFIED = gettext_noop("Email address marked as verified.")


class EmailAddressAdmin(account_admin.EmailAddressAdmin):
    @admin.action(
        description=account_admin.EmailAddressAdmin.make_verified.short_description, permissions=["change"]
    )
    def make_verified(self, request, queryset):
        unverified = list(queryset.filter(verified=False).values_list("pk", flat=True))
        super().make_verified(request, queryset)
        audit.record(request.user, EmailAddress.objects.filter(pk__in=unverified, verified=True), VERIFIED)


class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
    """Without "Clean up expired attempts", which deleted every expired attempt (not the
    selection) unrecorded; axes removes them itself at each sign-in, and a lockout is lifted by
    deleting its attempt, which the admin records."""

    actions: list[str] = []
    # The sign-in page each attempt used is in the filter panel already: without its column the
    # list fits beside the filters on a 1366 px screen.
    list_display = [c for c in axes_admin.AccessAttemptAdmin.list_display if c != "path_info"]

    @admin.display(description=_("status"))
    def status(self, obj):
        return super().status(obj)


class GroupAdmin(TranslatedPermissions, auth_admin.GroupAdmin):
    pass


class SocialAccountAdmin(social_admin.SocialAccountAdmin):
    """A staff user's link to their Feishu account. allauth leaves the user column unnamed
    (shown as "User" in every language)."""

    list_display = ("staff_user", "uid", "provider")

    @admin.display(description=_("staff user"), ordering="user")
    def staff_user(self, account):
        return account.user

    def get_form(self, request, obj=None, **kwargs):
        return super().get_form(request, obj, labels={"user": _("staff user")}, **kwargs)


for model, model_admin in (
    (EmailAddress, EmailAddressAdmin),
    (AccessAttempt, AccessAttemptAdmin),
    (Group, GroupAdmin),
    (SocialAccount, SocialAccountAdmin),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
        admin.site.register(model, model_admin)

# The Feishu login app is configured in settings (SOCIALACCOUNT_PROVIDERS), where allauth
# refuses a second one from the database: a row added here would break "Sign in with Feishu"
# (MultipleObjectsReturned), and its page shows the app secret. Tokens are never stored
# (SOCIALACCOUNT_STORE_TOKENS is off), so their list stays empty.
for model in (SocialApp, SocialToken):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
