from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Why an account's cash may not be withdrawn now: in a payout run's unpaid line. Named by its
# path, imported when the first withdrawal asks (the ingest server runs ready() too and must
# not load the app's code).
PAYOUT_GUARD = "referrals.payouts.services.cash_promised"


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referral reward accounts")

    def ready(self):
        from django.utils.translation import gettext_noop

        from hireops.core.auth import roles
        from hireops.core.schedules.registry import register_schedule
        from hireops.events.registry import register_event
        from hireops.signin.second_factor import require_second_factor

        from . import (
            checks,  # noqa: F401  (registered on import)
            leaver_trends,  # noqa: F401  (registers the leavers' trend and its chart)
            owed,  # noqa: F401  (registers what the accounts hold: its trend and its charts)
            trends,  # noqa: F401  (registers HR's trends and their charts)
        )

        register_event(
            "hire.referral_account.assets_update_v1",
            handler="referrals.handlers.assets_updated",
            visible_with="referrals.view_feishu_events",
            label=_("Referral balance changed"),
        )
        # Feishu's directory: who leaves (deleted, or updated to resigned) and who joins.
        for event_type, handler, label in (
            ("contact.user.deleted_v3", "user_deleted", _("Employee left")),
            ("contact.user.updated_v3", "user_updated", _("Employee changed")),
            ("contact.user.created_v3", "user_created", _("Employee joined")),
        ):
            register_event(
                event_type,
                handler=f"referrals.handlers.{handler}",
                visible_with="referrals.view_feishu_events",
                label=label,
            )
        perms = roles.model_permissions
        roles.grant(
            roles.HR,
            *perms("referrals.referralaccount", "view", "add", "change"),
            *perms("referrals.accountcash", "view"),
            *perms("referrals.balancechange", "view"),
            *perms("referrals.withdrawal", "view"),
            *perms("referrals.accountregistration", "view"),
            *perms("referrals.accountstatuschange", "view"),
            *perms("referrals.reconciliationrun", "view", "add"),
            *perms("referrals.reconciliationmismatch", "view"),
            *perms("referrals.payoutrun", "view", "add"),
            *perms("referrals.payoutline", "view"),
            *perms("referrals.payoutmessage", "view"),
            # External rewards: view, add (form and import) and delete in Feishu; the row stays.
            *perms("referrals.externalreferralreward", "view", "add"),
            *perms("referrals.externalrewarddeletion", "view"),
            "referrals.delete_in_feishu_externalreferralreward",
            *perms("referrals.leaver", "view", "change"),
            "referrals.view_feishu_events",
            "events.reprocess_feishuevent",
            # The balance pull, the retries and the daily reconciliation are HR's schedules.
            "referrals.manage_schedules",
        )
        roles.grant(roles.HR_WITHDRAWALS, "referrals.withdraw_referralaccount")
        # Approving a payout run is a second person's decision (never the preparer's).
        roles.grant(roles.HR_PAYOUT_APPROVALS, "referrals.approve_payoutrun")
        # Whoever can request or retry a withdrawal, approve a run, or add rewards to (or take
        # them from) referrers' accounts moves employees' money: a second factor, and until
        # they have one these permissions do nothing (hireops.signin.second_factor).
        require_second_factor(
            "referrals.withdraw_referralaccount",
            "referrals.approve_payoutrun",
            "referrals.add_externalreferralreward",
            "referrals.delete_in_feishu_externalreferralreward",
            money=True,
        )
        roles.audit("referrals")
        for name, task, timing in (
            (
                gettext_noop("Referrals: retry pending registrations, withdrawals, status changes"),
                "referrals.sync_pending",
                {"every": (5, "minutes")},
            ),
            (
                gettext_noop("Referrals: pull balances from Feishu"),
                "referrals.pull_balances",
                {"every": (1, "minutes")},
            ),
            (
                gettext_noop("Referrals: finish leavers (ask again for refused deactivations)"),
                "referrals.leavers_sweep",
                {"every": (10, "minutes")},
            ),
            (
                gettext_noop("Referrals: reconcile yesterday's withdrawals"),
                "referrals.reconcile_yesterday",
                {"crontab": "30 2 * * *"},
            ),
            (
                gettext_noop("Referrals: pay approved payout runs"),
                "referrals.payout_dispatch",
                {"every": (1, "minutes")},
            ),
            # Off until HR switches it on: a run waiting each month for someone to approve it.
            (
                gettext_noop("Referrals: prepare the monthly payout run (waits for approval)"),
                "referrals.payout_prepare_scheduled",
                {"crontab": "0 9 25 * *", "enabled": False},
            ),
        ):
            register_schedule(name, task=task, managed_with="referrals.manage_schedules", **timing)

        # A payout run's unpaid line holds its account's cash: every withdrawal asks the payouts
        # first, by a plain call through the guards the withdrawals keep (the withdrawals may
        # not import the payouts). Checked at start: referrals.checks.
        from .withdrawals import guards

        guards.register_cash_guard(PAYOUT_GUARD)

        # A sub-package below tells those above what happened through its signals, never by
        # importing them: the leavers follow their accounts' deactivations and payouts.
        from .accounts import signals as accounts
        from .withdrawals import signals as withdrawals

        accounts.account_deactivated.connect(_deactivated, dispatch_uid="referrals.leavers.deactivated")
        accounts.deactivation_refused.connect(_refused, dispatch_uid="referrals.leavers.refused")
        withdrawals.cash_paid_out.connect(_paid_out, dispatch_uid="referrals.leavers.paid_out")
        withdrawals.withdrawal_failed.connect(_failed, dispatch_uid="referrals.leavers.failed")
        # A payout run's news reaches people in Feishu (the payouts' own modules that make the
        # news cannot import the one that tells it: it reads them).
        from .payouts import signals as payouts

        payouts.run_news.connect(_run_news, dispatch_uid="referrals.payouts.chats")


# The receivers import their sub-package when a signal comes, not at start-up: the ingest server runs
# ready() too and must not load the app's code.


def _deactivated(sender, account_pk, **kwargs) -> None:
    from .leavers.services import account_deactivated

    account_deactivated(account_pk)  # a leaver waiting for it is done


def _refused(sender, account_pk, reason, **kwargs) -> None:
    from .leavers.services import deactivation_refused

    deactivation_refused(account_pk, reason)  # shown on the leaver, asked again


def _paid_out(sender, account_pk, **kwargs) -> None:
    from .leavers.services import account_paid_out

    account_paid_out(account_pk)  # a leaver waiting for it moves on to the deactivation


def _failed(sender, withdrawal_pk, **kwargs) -> None:
    from .leavers.services import withdrawal_failed

    withdrawal_failed(withdrawal_pk)  # a person decides what the leaver gets


def _run_news(sender, run_pk, news, **kwargs):
    from .payouts.chats import payout_run_news

    payout_run_news(run_pk, news)  # the messages in Feishu, written in the change's transaction
