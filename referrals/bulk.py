"""HR operations over many accounts: inline for a few, a background job for more (hireops.jobs).
Each item goes through its service, which records the change in the change history."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext_lazy

from hireops.core.privacy.masking import mask_email, mask_mobile
from hireops.jobs.imports import CsvImport
from hireops.jobs.operations import Operation, register

from .accounts.services import (
    AlreadyRegistered,
    StatusChangeRefused,
    account_import,
    account_status_request,
    balance_pull_request,
    person,
    registration_retry,
)
from .leavers import services as leavers
from .models import ExternalReferralReward, Leaver, ReferralAccount, StatusAction, Withdrawal
from .rewards import services as rewards
from .withdrawals.services import WithdrawalRefused, withdrawal_request, withdrawal_retry


class Refused(Exception):
    pass


def _withdraw(account, params, user):
    order = withdrawal_request(account, params["bonus_types"], user).external_order_id
    return _("Withdrawal requested (order %(order)s).") % {"order": order}


def _status_change(action):
    def run(account, params, user):
        account_status_request(account, action, user)
        return _("Change sent to Feishu.")

    return run


def _retry_registration(account, params, user):
    if not registration_retry(account, user):
        raise Refused(_("Only a failed registration can be retried."))
    return _("Registration queued again.")


def _pull_balance(account, params, user):
    if not account.account_id:
        raise Refused(_("Not registered with Feishu yet."))
    balance_pull_request(account, user)
    return _("Pull queued: the balance updates in a moment.")


def _retry_withdrawal(withdrawal, params, user):
    withdrawal_retry(withdrawal, user)
    return _("Queued again with the same order id.")


def _on_accounts(kind: str, title, run, *refusals: type[Exception]) -> Operation:
    return register(Operation(kind, title, run, model=ReferralAccount, refusals=refusals))


withdraw = _on_accounts(
    "referrals.withdraw", gettext_lazy("Withdraw full balance"), _withdraw, WithdrawalRefused
)
enable = _on_accounts(
    "referrals.enable",
    gettext_lazy("Enable accounts"),
    _status_change(StatusAction.ENABLE),
    StatusChangeRefused,
)
deactivate = _on_accounts(
    "referrals.deactivate",
    gettext_lazy("Deactivate accounts"),
    _status_change(StatusAction.DEACTIVATE),
    StatusChangeRefused,
)
retry_registration = _on_accounts(
    "referrals.retry_registration", gettext_lazy("Retry registrations"), _retry_registration, Refused
)
pull_balance = _on_accounts(
    "referrals.pull_balance", gettext_lazy("Pull balances from Feishu"), _pull_balance, Refused
)
retry_withdrawal = register(
    Operation(
        "referrals.retry_withdrawal",
        gettext_lazy("Retry withdrawals now"),
        _retry_withdrawal,
        model=Withdrawal,
        refusals=(WithdrawalRefused,),
        tenant_field="account__tenant_key",
    )
)


# --- external rewards --------------------------------------------------------------------------


def _delete_reward(reward, params, user):
    rewards.reward_delete_request(reward, params["reason"], user)
    return _("Deletion sent to Feishu.")


delete_rewards = register(
    Operation(
        "referrals.delete_external_rewards",
        gettext_lazy("Delete external rewards in Feishu"),
        _delete_reward,
        model=ExternalReferralReward,
        refusals=(rewards.RewardRefused,),
    )
)


# --- imports (hireops.jobs.imports): each row checked and applied on its own ------------------


def _account_row(row, params, user):
    who = person(row["name"], row["mobile_code"], row["mobile"], row["email"])  # or ValidationError
    account = account_import(who, user, params.get("tenant_key", ""))
    return _("Queued for registration (#%(pk)s).") % {"pk": account.pk}


def _account_label(row: dict) -> str:
    """A row as the report shows it: line number and who, masked."""
    mobile = mask_mobile(row["mobile"]) if row.get("mobile") else ""
    email = mask_email(row["email"]) if row.get("email") else ""
    who = ", ".join(filter(None, [row.get("name"), mobile, email]))
    return _("line %(line)s: %(who)s") % {"line": row["line"], "who": who or "—"}


import_accounts = register(
    CsvImport(
        "referrals.import",
        gettext_lazy("Import referral accounts from CSV"),
        _account_row,
        refusals=(ValidationError, AlreadyRegistered),
        label=_account_label,
        columns=("name", "mobile_code", "mobile", "email"),
        one_of=("mobile", "email"),
        first_line=gettext_lazy(
            "The first line must name the columns: mobile and/or email, optionally name and mobile_code."
        ),
        help_text=gettext_lazy(
            "Columns: <code>mobile</code> and/or <code>email</code>, optionally <code>name</code> and "
            "<code>mobile_code</code> (default 86). UTF-8 or GB18030."
        ),
        summary=ngettext_lazy(
            "%(ok)s row queued for registration", "%(ok)s rows queued for registration", "ok"
        ),
        item_header=gettext_lazy("employee"),
        permission="referrals.add_referralaccount",
        per_tenant=True,
    )
)


def _reward_row(row, params, user):
    """A row whose external id was imported before changes nothing: a file can be imported again."""
    given = rewards.RewardInput.from_text(row, params.get("tenant_key", ""))  # or ValidationError
    reward, created = rewards.reward_add(given, user)
    if not created:
        return _("Imported before (#%(pk)s, %(status)s): nothing changed.") % {
            "pk": reward.pk,
            "status": reward.get_status_display(),
        }
    return _("Sent to Feishu (#%(pk)s).") % {"pk": reward.pk}


def _reward_label(row: dict) -> str:
    """A row as the report shows it: its line and external id (no personal data)."""
    return _("line %(line)s: %(id)s") % {"line": row["line"], "id": row.get("external_id") or "—"}


import_rewards = register(
    CsvImport(
        "referrals.import_external_rewards",
        gettext_lazy("Import external referral rewards from CSV"),
        _reward_row,
        refusals=(ValidationError, rewards.RewardRefused),
        label=_reward_label,
        columns=rewards.COLUMNS,
        required=("external_id", "employee_id"),
        first_line=gettext_lazy(
            "The first line must name the columns, at least external_id and employee_id."
        ),
        help_text=gettext_lazy(
            "Columns: <code>external_id</code>, <code>employee_id</code> (the referrer's Feishu user id), "
            "<code>application_id</code> and/or <code>talent_id</code>, <code>rule_type</code> (1–5), "
            "<code>stage</code> (1 to be confirmed, 2 confirmed, 3 paid), <code>points</code> or "
            "<code>amount</code> with <code>currency</code>; optionally <code>name</code>, "
            "<code>job_id</code>, <code>reason</code>, <code>comment</code> and the dates (YYYY-MM-DD). "
            "UTF-8 or GB18030."
        ),
        summary=ngettext_lazy(
            "%(ok)s row kept (sent to Feishu, or imported before)",
            "%(ok)s rows kept (sent to Feishu, or imported before)",
            "ok",
        ),
        permission="referrals.add_externalreferralreward",
        per_tenant=True,
    )
)


# --- leavers (referrals.leavers) ---------------------------------------------------------------


def _leaver_outcome(leaver) -> str:
    return _("Now: %(state)s.") % {"state": leaver.get_state_display()}


def _leaver_apply(leaver, params, user):
    leaver = leavers.leaver_apply_now(leaver, user)
    return _leaver_outcome(leaver)


def _leaver_match(leaver, params, user):
    account = ReferralAccount.objects.filter(pk=params["account"]).first()
    if account is None:
        raise leavers.LeaverRefused(_("That account no longer exists."))
    leaver = leavers.leaver_match_by_hand(leaver, account, user)
    return _leaver_outcome(leaver)


def _leaver_no_account(leaver, params, user):
    leaver = leavers.leaver_no_account(leaver, user)
    return _leaver_outcome(leaver)


def _leaver_handled(leaver, params, user):
    leaver = leavers.leaver_mark_handled(leaver, user)
    return _leaver_outcome(leaver)


def _on_leavers(kind: str, title, run) -> Operation:
    return register(Operation(kind, title, run, model=Leaver, refusals=(leavers.LeaverRefused,)))


leaver_apply = _on_leavers(
    "referrals.leaver_apply", gettext_lazy("Apply the leaver policy now"), _leaver_apply
)
leaver_match = _on_leavers(
    "referrals.leaver_match", gettext_lazy("Match leavers to an account"), _leaver_match
)
leaver_no_account = _on_leavers(
    "referrals.leaver_no_account",
    gettext_lazy("Confirm leavers have no referral account"),
    _leaver_no_account,
)
leaver_handled = _on_leavers(
    "referrals.leaver_handled", gettext_lazy("Mark leavers as handled"), _leaver_handled
)
