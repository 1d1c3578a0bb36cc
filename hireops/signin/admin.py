"""Staff users get three admin actions and three columns: whether each is linked to Feishu, has
a second factor, and holds a permission that moves money (with a filter for those who hold one
without a factor); "Invite to sign in with Feishu", "Issue an enrolment link" and "Reset
two-factor authentication". Each action is written to the change history; a reset is mailed to
the colleague and told to the operators.

Granting a money permission to someone with no second factor (their roles or permissions, or
a role's permissions) says that it takes effect only once they enrol.

allauth's own admin of authenticators is not offered: it shows each one's secret (an app's
TOTP key, the recovery codes' seed) and would let it be edited. Factors are seen in the
"second factor" column and reset by the action."""

from allauth.account.adapter import get_adapter
from allauth.mfa.models import Authenticator
from allauth.socialaccount.models import SocialAccount
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin
from django.contrib.auth.models import Group
from django.db.models import BooleanField, Exists, ExpressionWrapper, OuterRef
from django.urls import reverse
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from hireops.core.admin.base import SystemRecordAdmin, action_page
from hireops.core.admin.libraries import GroupAdmin
from hireops.core.admin.permissions import TranslatedPermissions

from . import second_factor
from .forms import InvitationForm, PasswordChangeForm
from .models import EnrolmentLink, FeishuInvitation, SecurityNotice
from .second_factor import require_fresh
from .sessions import end_sessions

User = get_user_model()


def _person(user) -> str:
    """A colleague as people name them: their name, the username beside it. A message never
    starts with it: the admin capitalises a message's first letter ("Hr_approver")."""
    name = user.get_full_name()
    return f"{name} ({user.get_username()})" if name else user.get_username()


def _money_warning(who: str) -> str:
    return gettext(
        "A permission that moves money reaches %(who)s only once they have a second factor. "
        "They set one up after signing in with Feishu, or with an enrolment link (select them in "
        "Users and choose “Issue an enrolment link…”)."
    ) % {"who": who}


class MoneyWithoutFactorFilter(admin.SimpleListFilter):
    title = _("money permissions without a second factor")
    parameter_name = "money_without_factor"

    def lookups(self, request, model_admin):
        return [("1", _("Yes"))]

    def queryset(self, request, queryset):
        if self.value() == "1":
            return queryset.filter(second_factor.holds_money_permission(), ~second_factor.has_a_factor())
        return queryset


class StaffUserAdmin(TranslatedPermissions, UserAdmin):
    list_display = [*UserAdmin.list_display, "feishu_linked", "second_factor", "money"]  # type: ignore[misc]
    list_filter = [*UserAdmin.list_filter, MoneyWithoutFactorFilter]
    change_password_form = PasswordChangeForm
    actions = ["invite_to_feishu", "issue_enrolment_link", "reset_second_factor"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _feishu=Exists(SocialAccount.objects.filter(user=OuterRef("pk"), provider="feishu")),
                _mfa=second_factor.has_a_factor(),
                _money=ExpressionWrapper(second_factor.holds_money_permission(), output_field=BooleanField()),
            )
        )

    @admin.display(boolean=True, description=_("Feishu"), ordering="_feishu")
    def feishu_linked(self, obj):
        return obj._feishu

    @admin.display(boolean=True, description=_("second factor"), ordering="_mfa")
    def second_factor(self, obj):
        return obj._mfa

    @admin.display(description=_("money permissions"), ordering="_money")
    def money(self, obj):
        if not obj._money:
            return "—"
        return _("yes") if obj._mfa else _("without a second factor")

    # --- what only a superuser changes ---------------------------------------------------------

    def get_readonly_fields(self, request, obj=None):
        """Someone who may change users but is no superuser cannot make anyone a superuser (their
        own account included), nor hand out permissions one by one past the roles."""
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.is_superuser:
            fields += ["is_superuser", "user_permissions"]
        return fields

    def has_change_permission(self, request, obj=None):
        """A superuser's account (its password, its factors' reset) is changed by superusers only."""
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    # --- a money permission granted to someone not enrolled ----------------------------------

    def save_model(self, request, obj, form, change):
        obj._money_before = second_factor.money_permissions_held(obj) if change else set()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        granted = second_factor.money_permissions_held(user) - getattr(user, "_money_before", set())
        if granted and not second_factor.enrolled(user):
            self.message_user(request, _money_warning(_person(user)), messages.WARNING)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            user = self.get_object(request, object_id)
            if (
                user is not None
                and second_factor.money_permissions_held(user)
                and not second_factor.enrolled(user)
            ):
                self.message_user(request, _money_warning(_person(user)), messages.WARNING)
        return super().change_view(request, object_id, form_url, extra_context)

    # --- actions ------------------------------------------------------------------------------

    def _one(self, request, queryset, why):
        users = list(queryset[:2])
        if len(users) != 1:
            self.message_user(request, why, messages.ERROR)
            return None
        return users[0]

    @admin.action(description=_("Invite to sign in with Feishu…"), permissions=["change"])
    def invite_to_feishu(self, request, queryset):
        """An invitation names the colleague's Feishu account, so it is made for one colleague
        at a time: whoever else opens the link is refused (docs/feishu.md §16.6)."""
        user = self._one(
            request, queryset, _("Select one colleague: each invitation names their Feishu account.")
        )
        if user is None:
            return None
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

    @admin.action(description=_("Issue an enrolment link…"), permissions=["reset_second_factor"])
    def issue_enrolment_link(self, request, queryset):
        """A one-time link that lets the colleague set up a first second factor without Feishu
        (hireops.signin.enrolment). Shown once, on the page that issues it: never stored in a
        message, a log or the database (only its digest)."""
        user = self._one(request, queryset, _("Select one colleague: each enrolment link is for one user."))
        if user is None:
            return None
        if second_factor.enrolled(user):
            self.message_user(
                request,
                _(
                    "%(user)s has a second factor already: an enrolment link is for setting up a first "
                    "one. If they lost it, reset their two-factor authentication first."
                )
                % {"user": user.get_username()},
                messages.ERROR,
            )
            return None
        context = {"colleague": user, "hours": settings.ENROLMENT_LINK_HOURS}
        title = _("Enrolment link for %(user)s") % {"user": user.get_username()}
        if "apply" not in request.POST:
            return action_page(self, request, "admin/signin/enrolment_link.html", title, **context)
        require_fresh(request)  # the admin's own factor, minutes ago
        _link, token = EnrolmentLink.issue(user, request.user)
        link = request.build_absolute_uri(reverse("signin_enrolment_link", args=[token]))
        return action_page(self, request, "admin/signin/enrolment_link.html", title, link=link, **context)

    @admin.action(description=_("Reset two-factor authentication"), permissions=["reset_second_factor"])
    def reset_second_factor(self, request, queryset):
        require_fresh(request)  # the admin's own factor, minutes ago (the rows check it too)
        reset = []
        for user in queryset:
            if second_factor.reset(user, by=request.user):
                reset.append(user)
                get_adapter(request).send_notification_mail("signin/email/second_factor_reset", user)
        # Their sessions proved the factors just removed: they sign in again, and enrol.
        end_sessions([user.pk for user in reset if user.pk != request.user.pk])
        self.message_user(
            request,
            ngettext(
                "Second factor reset for %(n)d user. They set up a new one after signing in with "
                "Feishu, or with an enrolment link from you.",
                "Second factors reset for %(n)d users. They set up a new one after signing in with "
                "Feishu, or with an enrolment link from you.",
                len(reset),
            )
            % {"n": len(reset)},
            messages.SUCCESS,
        )
        if len(reset) == 1:  # offer the link at once
            (user,) = reset
            title = _("Enrolment link for %(user)s") % {"user": user.get_username()}
            context = {"colleague": user, "hours": settings.ENROLMENT_LINK_HOURS, "after_reset": True}
            return action_page(self, request, "admin/signin/enrolment_link.html", title, **context)
        return None

    def has_reset_second_factor_permission(self, request):
        return request.user.is_superuser  # a colleague's factors: superusers only


class MoneyAwareGroupAdmin(GroupAdmin):
    """Giving a role a money permission says which of its members it does not reach yet."""

    def save_model(self, request, obj, form, change):
        obj._money_before = self._money(obj) if change else set()
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        group = form.instance
        if not self._money(group) - getattr(group, "_money_before", set()):
            return
        waiting = (
            User.objects.filter(groups=group, is_active=True)
            .exclude(Exists(Authenticator.objects.filter(user=OuterRef("pk"))))
            .order_by("username")
            .only("username", "first_name", "last_name")
        )
        names = [_person(user) for user in waiting[:21]]
        if names:
            who = ", ".join(names[:20]) + (" …" if len(names) > 20 else "")
            self.message_user(request, _money_warning(who), messages.WARNING)

    @staticmethod
    def _money(group) -> set[str]:
        held = group.permissions.values_list("content_type__app_label", "codename")
        return {f"{app}.{codename}" for app, codename in held} & second_factor.money_permissions()


admin.site.unregister(User)
admin.site.register(User, StaffUserAdmin)
admin.site.unregister(Group)
admin.site.register(Group, MoneyAwareGroupAdmin)
admin.site.unregister(Authenticator)


@admin.register(FeishuInvitation)
class FeishuInvitationAdmin(SystemRecordAdmin):
    list_display = ["user", "person_kind", "created_by", "created_at", "expires_at", "used_at"]
    list_select_related = ["user", "created_by"]
    search_fields = ["user__username"]


@admin.register(EnrolmentLink)
class EnrolmentLinkAdmin(SystemRecordAdmin):
    """Who was given a link, by whom (nobody: from the server's shell), and whether it was used.
    The links themselves are not kept."""

    list_display = ["user", "created_by", "created_at", "expires_at", "used_at"]
    list_select_related = ["user", "created_by"]
    search_fields = ["user__username"]


@admin.register(SecurityNotice)
class SecurityNoticeAdmin(SystemRecordAdmin):
    """What the operators were told of second factors removed, and what could not be sent."""

    list_display = ["at", "user_ref", "user", "change", "factors", "actor", "told", "sent_at", "error"]
    list_select_related = ["user", "actor"]
    list_filter = ["change"]
