from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referral reward accounts")

    def ready(self):
        from hireops.core import roles
        from hireops.events.registry import register_event
        from hireops.signin.second_factor import require_second_factor

        register_event(
            "hire.referral_account.assets_update_v1",
            handler="referrals.handlers.assets_updated",
            visible_with="referrals.view_feishu_events",
        )
        perms = roles.model_permissions
        roles.grant(
            roles.HR,
            *perms("referrals.referralaccount", "view", "add", "change"),
            *perms("referrals.accountcash", "view"),
            *perms("referrals.balancechange", "view"),
            *perms("referrals.withdrawal", "view"),
            *perms("referrals.reconciliationrun", "view", "add"),
            *perms("referrals.reconciliationmismatch", "view"),
            "referrals.view_feishu_events",
            "events.reprocess_feishuevent",
            # The balance pull and the daily reconciliation are HR's schedules.
            *perms("django_celery_beat.periodictask", "view", "change"),
            *perms("django_celery_beat.intervalschedule", "view", "add", "change"),
            *perms("django_celery_beat.crontabschedule", "view", "add", "change"),
        )
        roles.grant(roles.HR_WITHDRAWALS, "referrals.withdraw_referralaccount")
        # Whoever can request or retry a withdrawal moves employees' money: a second factor.
        require_second_factor("referrals.withdraw_referralaccount")
        roles.audit("referrals")
