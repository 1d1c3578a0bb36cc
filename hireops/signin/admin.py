"""Staff users get two admin actions and two columns: whether each is linked to Feishu and has
a second factor; "Invite to sign in with Feishu" and "Reset two-factor authentication". Both
actions are written to the change history; a reset is mailed to the colleague.

allauth's own admin of authenticators is not offered: it shows each one's secret (an app's
TOTP key, the recovery codes' seed) and would let it be edited. Factors are seen in the
"second factor" column and reset by the action."""

from allauth.account.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from hireops.core.admin.base import SystemRecordAdmin, action_page
from hireops.core.admin.permissions import TranslatedPermissions

from .forms import InvitationForm, PasswordChangeForm
from .models import FeishuInvitation
from .second_factor import require_fresh
from .sessions import end_sessions

User = get_user_model()


class StaffUserAdmin(TranslatedPermissions, UserAdmin):
    list_display = [*UserAdmin.list_display, "feishu_linked", "second_factor"]
    change_password_form = PasswordChangeForm
    actions = ["invite_to_feishu", "reset_second_factor"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _feishu=Exists(SocialAccount.objects.filter(user=OuterRef("pk"), provider="feishu")),
                _mfa=Exists(
                    Authenticator.objects.filter(user=OuterRef("pk")).exclude(
                        type=Authenticator.Type.RECOVERY_CODES
                    )
                ),
            )
        )

    @admin.display(boolean=True, description=_("Feishu"), ordering="_feishu")
    def feishu_linked(self, obj):
        return obj._feishu

    @admin.display(boolean=True, description=_("second factor"), ordering="_mfa")
    def second_factor(self, obj):
        return obj._mfa

    @admin.action(description=_("Invite to sign in with Feishu…"), permissions=["change"])
    def invite_to_feishu(self, request, queryset):
        """An invitation names the colleague's Feishu account, so it is made for one colleague
        at a time: whoever else opens the link is refused (docs/feishu.md §16.6)."""
        users = list(queryset[:2])
        if len(users) != 1:
            self.message_user(
                request,
                _("Select one colleague: each invitation names their Feishu account."),
                messages.ERROR,
            )
            return None
        (user,) = users
        form = InvitationForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return action_page(
                self,
                request,
                "admin/signin/invite.html",
                _("Invite %(user)s to sign in with Feishu") % {"user": user.get_username()},
                form,
                invited=user,
                action="invite_to_feishu",
            )
        invitation, token = FeishuInvitation.issue(user, request.user, form.cleaned_data["feishu_person"])
        link = request.build_absolute_uri(reverse("signin_invitation", args=[token]))
        self.log_change(
            request, user, [{"added": {"name": str(_("Feishu sign-in invitation")), "object": ""}}]
        )
        self.message_user(
            request,
            _(
                "Invitation for %(user)s, for the Feishu account with that %(kind)s "
                "(send it to them; it works once): %(link)s"
            )
            % {"user": user.get_username(), "kind": invitation.get_person_kind_display(), "link": link},
            messages.SUCCESS,
        )
        return None

    @admin.action(description=_("Reset two-factor authentication"), permissions=["reset_second_factor"])
    def reset_second_factor(self, request, queryset):
        require_fresh(request)  # the admin's own factor, minutes ago (the rows check it too)
        reset = []
        for user in queryset:
            deleted = Authenticator.objects.filter(user=user).delete()[0]
            if deleted:
                reset.append(user.pk)
                self.log_change(request, user, str(_("Reset two-factor authentication")))
                get_adapter(request).send_notification_mail("signin/email/second_factor_reset", user)
        # Their sessions proved the factors just removed: they sign in again, and enrol.
        end_sessions([pk for pk in reset if pk != request.user.pk])
        n = len(reset)
        self.message_user(
            request,
            _("Second factors reset for %(n)d user(s): they set up a new one at their next sign-in.")
            % {"n": n},
            messages.SUCCESS,
        )

    def has_reset_second_factor_permission(self, request):
        return request.user.is_superuser  # a colleague's factors: superusers only


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
admin.site.unregister(Authenticator)


@admin.register(FeishuInvitation)
class FeishuInvitationAdmin(SystemRecordAdmin):
    list_display = ["user", "person_kind", "created_by", "created_at", "expires_at", "used_at"]
    list_select_related = ["user", "created_by"]
    search_fields = ["user__username"]
