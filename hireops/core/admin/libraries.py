"""Libraries' admins made to follow the house rule for actions (hireops.core.admin.actions):
each of their actions that changes something is gated and recorded, or not offered.

Keep this in step with the libraries when upgrading them; ``manage.py check`` names any new
action that slips through (hireops.E035).
"""

from allauth.account import admin as account_admin  # registers allauth's admins first
from allauth.account.models import EmailAddress
from axes import admin as axes_admin
from axes.models import AccessAttempt
from django.contrib import admin
from django.utils.translation import gettext_noop

from .. import audit

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

    actions = []


for model, model_admin in ((EmailAddress, EmailAddressAdmin), (AccessAttempt, AccessAttemptAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
        admin.site.register(model, model_admin)
