"""HR side: referral reward accounts (内推账户), their balances, withdrawals, reconciliation."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now, Upper
from django.utils.translation import gettext_lazy as _

from hireops.core import personal
from hireops.core.messages import MessageField
from hireops.core.models import FeishuCall, failed_index
from hireops.feishu import hire


class AccountStatus(models.TextChoices):
    PENDING = "pending", _("Registering")
    ACTIVE = "active", _("Active")
    DEACTIVATED = "deactivated", _("Deactivated")
    FAILED = "failed", _("Registration failed")

    @classmethod
    def from_feishu(cls, status: int) -> "AccountStatus":
        """Feishu's account status (1 enabled, 2 deactivated; docs/feishu.md §4) as ours."""
        return cls.ACTIVE if status == hire.AccountStatus.ENABLED else cls.DEACTIVATED


# A balance Feishu has not confirmed for this long is shown as stale (the admin, the dashboard).
STALE = timedelta(hours=24)


class StatusAction(models.TextChoices):
    ENABLE = "enable", _("Enable")
    DEACTIVATE = "deactivate", _("Deactivate")


TENANT_HELP = _("The customer tenant (store apps); empty for a self-built app's own company.")


class ReferralAccount(models.Model):
    # Whose Feishu the account lives in: every call for it goes to this tenant, and only this
    # tenant's events touch it. "" is a self-built app's own (single) tenant.
    tenant_key = models.CharField(
        _("tenant"), max_length=128, blank=True, db_index=True, help_text=TENANT_HELP
    )
    name = models.CharField(_("employee name"), max_length=100, blank=True)
    mobile_code = models.CharField(_("country code"), max_length=6, blank=True)
    mobile_number = models.CharField(_("mobile"), max_length=20, blank=True)
    email = models.CharField(_("email"), max_length=254, blank=True)
    personal_fields = {"mobile_number": personal.Mobile(code="mobile_code"), "email": personal.EMAIL}
    account_id = models.CharField(_("Feishu account id"), max_length=128, null=True, blank=True, unique=True)
    # The employee's Feishu user_id (the referrer's id Feishu reports with user_id_type=user_id):
    # what payroll knows them by, and what directory events name them with.
    employee_id = models.CharField(_("employee id"), max_length=128, blank=True, db_index=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=AccountStatus.choices,
        default=AccountStatus.PENDING,
        db_index=True,
    )
    error_code = models.BigIntegerField(_("error code"), null=True, blank=True)
    error = MessageField(_("reason"), max_length=500, blank=True)
    attempts = models.PositiveIntegerField(_("registration attempts"), default=0)
    # An enable/deactivate asked for by staff and not yet confirmed by Feishu.
    pending_action = models.CharField(
        _("pending change"), max_length=16, choices=StatusAction.choices, blank=True
    )
    action_error = MessageField(_("last change error"), max_length=500, blank=True)
    points = models.BigIntegerField(_("points"), default=0)
    # Feishu's modify_time (ms) of the balance we hold; older data is never applied over it.
    assets_modify_time = models.BigIntegerField(_("balance as of (ms)"), null=True, blank=True)
    balance_synced_at = models.DateTimeField(_("balance updated"), null=True, blank=True)
    balance_error = MessageField(_("last balance pull error"), max_length=500, blank=True)
    # Claimed by a scheduled pull until then (referrals.pulls): nobody else pulls it meanwhile.
    pull_claimed_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    # When anything the API shows of the account last changed (its ``updated_after``): set by
    # every writer, since save(update_fields=...) and queryset.update() leave auto_now alone.
    # The scheduled pull's claim (``pull_claimed_until``) is a lease, not a change: it leaves it.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("referral account")
        verbose_name_plural = _("referral accounts")
        ordering = ["-created_at"]
        permissions = [
            ("withdraw_referralaccount", _("Can withdraw referral balances")),
            ("view_feishu_events", _("Can view the referral accounts' Feishu events")),
            ("manage_schedules", _("Can switch the referral schedules on and off, retime and run them")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(mobile_number="", email=""), name="account_has_mobile_or_email"
            ),
            # One account per person in each tenant (two companies may share nobody's inbox,
            # but nothing stops two tenants from reusing a test address).
            models.UniqueConstraint(
                fields=["tenant_key", "mobile_code", "mobile_number"],
                condition=~Q(mobile_number=""),
                name="one_account_per_mobile",
            ),
            models.UniqueConstraint(
                fields=["tenant_key", "email"], condition=~Q(email=""), name="one_account_per_email"
            ),
        ]
        indexes = [
            # The dashboard's count of old balances, the oldest and newest balance.
            models.Index(
                fields=["balance_synced_at"],
                name="account_balance_age_idx",
                condition=Q(account_id__isnull=False),
            ),
            # The pull's "stalest first" within each tenant (referrals.pulls).
            models.Index(
                fields=["tenant_key", "balance_synced_at", "id"],
                name="account_pull_order_idx",
                condition=Q(account_id__isnull=False),
            ),
            models.Index(fields=["-created_at"], name="account_recent_idx"),  # the list's order
            models.Index(  # the dashboard's "enable/deactivate waiting for Feishu"
                fields=["pending_action"], name="account_pending_change_idx", condition=~Q(pending_action="")
            ),
            # Searches: an exact email in any case, an exact mobile number.
            models.Index(Upper("email"), name="account_email_upper_idx"),
            models.Index(fields=["mobile_number"], name="account_mobile_idx"),
            # The API's pages (hireops.api.pagination): by (updated_at, id), whole or per status
            # or tenant, each one index range scan at 200,000 accounts.
            models.Index(fields=["updated_at", "id"], name="account_updated_idx"),
            models.Index(fields=["status", "updated_at", "id"], name="account_status_updated_idx"),
            models.Index(fields=["tenant_key", "updated_at", "id"], name="account_tenant_updated_idx"),
        ]

    def __str__(self):
        return self.name or self.account_id or f"#{self.pk}"

    @property
    def can_withdraw(self) -> bool:
        return self.status == AccountStatus.ACTIVE and bool(self.account_id)


class AccountCash(models.Model):
    account = models.ForeignKey(ReferralAccount, related_name="cash", on_delete=models.CASCADE)
    currency = models.CharField(_("currency"), max_length=8)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("cash balance")
        verbose_name_plural = _("cash balances")
        constraints = [
            models.UniqueConstraint(fields=["account", "currency"], name="one_cash_row_per_currency")
        ]

    def __str__(self):
        return f"{self.amount} {self.currency}"


class BalanceSource(models.TextChoices):
    EVENT = "event", _("Feishu event")
    PULL = "pull", _("Scheduled pull")
    REGISTRATION = "registration", _("Registration")
    WITHDRAWAL = "withdrawal", _("Withdrawal")


class BalanceChange(models.Model):
    account = models.ForeignKey(ReferralAccount, related_name="balance_history", on_delete=models.CASCADE)
    source = models.CharField(_("source"), max_length=16, choices=BalanceSource.choices)
    modify_time = models.BigIntegerField(_("as of (ms)"), null=True, blank=True)
    points = models.BigIntegerField(_("points"))
    cash = models.JSONField(_("cash"), default=dict, help_text=_("currency → amount"))
    reference = models.CharField(_("reference"), max_length=128, blank=True)
    at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("balance change")
        verbose_name_plural = _("balance history")
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.get_source_display()} {self.points}"


class Withdrawal(FeishuCall):
    account = models.ForeignKey(
        ReferralAccount, verbose_name=_("account"), related_name="withdrawals", on_delete=models.PROTECT
    )
    # Committed before the call and reused by every retry: Feishu's idempotency key.
    external_order_id = models.CharField(_("external order id"), max_length=64, unique=True)
    bonus_types = models.JSONField(_("withdrawn types"), help_text=_("1 points, 2 cash"))
    expected_points = models.BigIntegerField(_("points shown at confirmation"), default=0)
    expected_cash = models.JSONField(_("cash shown at confirmation"), default=dict)
    withdrawn_points = models.BigIntegerField(_("points withdrawn"), null=True, blank=True)
    withdrawn_cash = models.JSONField(_("cash withdrawn"), null=True, blank=True)
    trans_time = models.BigIntegerField(_("Feishu trans_time (ms)"), null=True, blank=True)

    class Meta:
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        ordering = ["-requested_at"]
        indexes = [
            models.Index(fields=["-requested_at"], name="withdrawal_recent_idx"),
            failed_index("withdrawal_failed_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(status="queued"), name="one_open_withdrawal_per_account"
            ),
        ]

    def __str__(self):
        return self.external_order_id


class AccountRegistration(FeishuCall):
    """One registration of an account with Feishu (``create_referral_account``), sent by the
    outbound engine (``referrals.registration``). The account shows where it stands; this row
    keeps the call: its attempts, lease, Feishu's last answer and log id. A registration that
    failed and is tried again by staff is a new row."""

    account = models.ForeignKey(
        ReferralAccount, verbose_name=_("account"), related_name="registrations", on_delete=models.CASCADE
    )

    class Meta:
        verbose_name = _("account registration")
        verbose_name_plural = _("account registrations")
        ordering = ["-requested_at", "-id"]
        indexes = [  # the sweep (referrals.sync) looks for queued rows nobody is sending
            models.Index(
                fields=["requested_at"], name="registration_queued_idx", condition=Q(status="queued")
            ),
            failed_index("registration_failed_idx"),
        ]

    def __str__(self):
        return f"#{self.pk}"


class AccountStatusChange(FeishuCall):
    """One enable or deactivate of an account sent to Feishu (``referrals.status``). The
    account's ``pending_action`` says a change waits; this row keeps the call."""

    account = models.ForeignKey(
        ReferralAccount, verbose_name=_("account"), related_name="status_changes", on_delete=models.CASCADE
    )
    action = models.CharField(_("change"), max_length=16, choices=StatusAction.choices)

    class Meta:
        verbose_name = _("account status change")
        verbose_name_plural = _("account status changes")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(
                fields=["requested_at"], name="status_change_queued_idx", condition=Q(status="queued")
            ),
            failed_index("status_change_failed_idx"),
        ]

    def __str__(self):
        return f"{self.get_action_display()} #{self.pk}"


class ReconciliationRun(FeishuCall):
    tenant_key = models.CharField(
        _("tenant"), max_length=128, blank=True, db_index=True, help_text=TENANT_HELP
    )
    start_ms = models.BigIntegerField(_("window start (ms)"))
    end_ms = models.BigIntegerField(_("window end (ms)"))
    trade_details = models.JSONField(_("our totals sent"), null=True, blank=True)
    mismatch_count = models.PositiveIntegerField(_("mismatches"), null=True, blank=True)

    class Meta:
        verbose_name = _("reconciliation run")
        verbose_name_plural = _("reconciliation runs")
        ordering = ["-requested_at"]

    def __str__(self):
        return f"#{self.pk}"


class ReconciliationMismatch(models.Model):
    run = models.ForeignKey(ReconciliationRun, related_name="mismatches", on_delete=models.CASCADE)
    account_id = models.CharField(_("Feishu account id"), max_length=128)
    feishu_withdrawn_points = models.BigIntegerField(
        _("withdrawn according to Feishu"), null=True, blank=True
    )
    our_points = models.BigIntegerField(_("withdrawn according to us"), null=True, blank=True)

    class Meta:
        verbose_name = _("mismatch")
        verbose_name_plural = _("mismatches")

    def __str__(self):
        return self.account_id


# --- payout runs ---------------------------------------------------------------------------


class PayoutRunStatus(models.TextChoices):
    PREPARING = "preparing", _("Being prepared")  # a large run's lines, written by a worker
    AWAITING_APPROVAL = "awaiting", _("Waiting for approval")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    PAYING = "paying", _("Approved, paying")
    FINISHED = "finished", _("Finished")


class PayoutRun(models.Model):
    """A batch of full-cash withdrawals one person prepares and another approves
    (``referrals.payouts``). Its lines are the payments; nothing is paid before approval."""

    title = models.CharField(_("title"), max_length=120, blank=True)
    status = models.CharField(
        _("status"),
        max_length=16,
        choices=PayoutRunStatus.choices,
        default=PayoutRunStatus.AWAITING_APPROVAL,
        db_index=True,
    )
    selection = models.JSONField(_("how the accounts were chosen"), default=dict)
    # The accounts ticked in the account list (primary keys), when the run was chosen so.
    chosen_accounts = models.JSONField(null=True, blank=True, editable=False)
    # currency → amount (a string), of the lines as prepared, then as approved.
    totals = models.JSONField(_("totals"), default=dict)
    line_count = models.PositiveIntegerField(_("lines"), default=0)
    # Preparing (referrals.payout_preparation): the accounts payable when it was asked for,
    # the last account looked at so far, and the last batch's time (a stopped worker's run
    # is taken up again).
    expected_lines = models.PositiveIntegerField(_("accounts to prepare"), null=True, blank=True)
    prepared_through = models.BigIntegerField(null=True, blank=True, editable=False)
    heartbeat_at = models.DateTimeField(_("last progress"), null=True, blank=True)
    prepared_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("prepared by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    prepared_at = models.DateTimeField(_("prepared at"), auto_now_add=True)
    scheduled = models.BooleanField(_("prepared by the schedule"), default=False)
    # A run the schedule prepared: whose hands were on the schedule (hireops.core.schedules).
    # They caused the run as much as a preparer: none of them may decide it (payouts.causers).
    run_now_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("schedule run now by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    schedule_changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("schedule last changed by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    schedule_changed_at = models.DateTimeField(_("schedule last changed at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved or rejected by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    decided_at = models.DateTimeField(_("approved or rejected at"), null=True, blank=True)
    reason = MessageField(_("reason"), max_length=500, blank=True)  # the rejecter's, or why it ended
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    # The approvers told that the run waits (referrals.notices): when, and what failed.
    notified_at = models.DateTimeField(_("approvers told at"), null=True, blank=True)
    notice_error = models.CharField(_("telling the approvers failed"), max_length=2000, blank=True)
    # When the run itself last changed (status, totals, decision, end: the API's
    # ``updated_after``), set by every writer. A line's outcome becomes final only through one
    # (a run finishes once no line is left to pay; a released line reopens it), so a payroll
    # system syncing runs by it sees every payroll file that changed.
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_default=Now())

    class Meta:
        verbose_name = _("payout run")
        verbose_name_plural = _("payout runs")
        ordering = ["-prepared_at", "-id"]
        permissions = [("approve_payoutrun", _("Can approve or reject payout runs"))]
        indexes = [models.Index(fields=["updated_at", "id"], name="payout_run_updated_idx")]

    def __str__(self):
        return self.title or _("Payout run #%(number)s") % {"number": self.pk}


class PayoutLine(FeishuCall):
    """One account's payment in a run: a full-cash withdrawal under its own
    ``external_order_id`` (committed with the line, reused by every retry). ``cash`` is what the
    account held when the line was prepared, then when the run was approved; a line whose
    balance in Feishu differs when it is paid is held (``held``), never paid blindly."""

    run = models.ForeignKey(PayoutRun, verbose_name=_("run"), related_name="lines", on_delete=models.CASCADE)
    account = models.ForeignKey(
        ReferralAccount, verbose_name=_("account"), related_name="payout_lines", on_delete=models.PROTECT
    )
    tenant_key = models.CharField(_("tenant"), max_length=128, blank=True, help_text=TENANT_HELP)
    external_order_id = models.CharField(_("external order id"), max_length=64, unique=True)
    cash = models.JSONField(_("amount"), default=dict, help_text=_("currency → amount"))
    held = models.BooleanField(_("held"), default=False)
    feishu_cash = models.JSONField(_("balance in Feishu when held"), null=True, blank=True)
    employee_id = models.CharField(_("employee id"), max_length=128, blank=True)
    withdrawn_cash = models.JSONField(_("cash withdrawn"), null=True, blank=True)
    trans_time = models.BigIntegerField(_("Feishu trans_time (ms)"), null=True, blank=True)
    # Set before the withdrawal is first sent: a retry goes straight to it (the same order id),
    # since Feishu's balance may already be zero because of it.
    withdraw_sent = models.BooleanField(_("withdrawal sent"), default=False)
    # Handed to a worker by the dispatcher (referrals.payouts) until then.
    dispatched_until = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("payout line")
        verbose_name_plural = _("payout lines")
        ordering = ["run", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["run", "account"], name="one_line_per_account_per_run")
        ]
        indexes = [
            # The dispatcher's "what is left to pay, tenant by tenant".
            models.Index(
                fields=["tenant_key", "id"], name="payout_line_open_idx", condition=Q(status="queued")
            ),
            failed_index("payout_line_failed_idx"),
            # A run's lines page by page in the API, by tenant then id (a key limited to tenants
            # reads its own range), and whether a run has a line of a tenant.
            models.Index(fields=["run", "tenant_key", "id"], name="payout_line_run_tenant_idx"),
        ]

    def __str__(self):
        return f"{self.run_id}/{self.account}"


# --- external referral rewards -------------------------------------------------------------


class RewardRuleType(models.IntegerChoices):
    # Feishu's rule types (docs/feishu.md §4.1): how Hire files the reward.
    ONBOARD = 1, _("Onboarding reward")
    PROCESS = 2, _("Process reward")
    ACTIVITY = 3, _("Campaign reward")
    OPEN_SOURCE = 4, _("Open-source reward")
    OTHER = 5, _("Other reward")


class RewardStage(models.IntegerChoices):
    TO_BE_CONFIRMED = 1, _("To be confirmed")
    CONFIRMED = 2, _("Confirmed")
    PAID = 3, _("Paid")


class RewardBonusType(models.IntegerChoices):
    POINTS = 1, _("points")
    CASH = 2, _("cash")


class ExternalReferralReward(FeishuCall):
    """A reward earned outside Hire (a former system, a manual bonus) imported into a referral
    account (``referrals.rewards``). ``external_id`` is ours and Feishu's idempotency key:
    one row per id and tenant, so importing it again neither adds a row nor calls Feishu."""

    tenant_key = models.CharField(_("tenant"), max_length=128, blank=True, help_text=TENANT_HELP)
    external_id = models.CharField(_("external id"), max_length=64)
    # The referrer's Feishu user_id (sent with user_id_type=user_id); the account when we know it.
    employee_id = models.CharField(_("employee id"), max_length=128)
    account = models.ForeignKey(
        ReferralAccount,
        verbose_name=_("account"),
        related_name="external_rewards",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    name = models.CharField(_("employee name"), max_length=100, blank=True)
    application_id = models.CharField(_("application id"), max_length=64, blank=True)
    talent_id = models.CharField(_("talent id"), max_length=64, blank=True)
    job_id = models.CharField(_("job id"), max_length=64, blank=True)
    rule_type = models.PositiveSmallIntegerField(_("rule type"), choices=RewardRuleType.choices)
    stage = models.PositiveSmallIntegerField(_("reward status"), choices=RewardStage.choices)
    bonus_type = models.PositiveSmallIntegerField(_("paid as"), choices=RewardBonusType.choices)
    points = models.BigIntegerField(_("points"), null=True, blank=True)
    currency = models.CharField(_("currency"), max_length=8, blank=True)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, null=True, blank=True)
    reason = models.CharField(_("reward reason"), max_length=200, blank=True)
    comment = models.CharField(_("comment"), max_length=500, blank=True)
    # Millisecond timestamps, as Feishu takes them; None: Feishu uses the time of the call.
    create_time = models.BigIntegerField(_("earned at (ms)"), null=True, blank=True)
    confirm_time = models.BigIntegerField(_("confirmed at (ms)"), null=True, blank=True)
    pay_time = models.BigIntegerField(_("paid at (ms)"), null=True, blank=True)
    onboard_time = models.BigIntegerField(_("onboarded at (ms)"), null=True, blank=True)
    conversion_time = models.BigIntegerField(_("converted at (ms)"), null=True, blank=True)
    # Free text typed by people: a mobile or an email may be in it.
    personal_fields = {
        "reason": personal.FREE_TEXT,
        "comment": personal.FREE_TEXT,
        "delete_reason": personal.FREE_TEXT,
    }
    reward_id = models.CharField(_("Feishu reward id"), max_length=64, blank=True, db_index=True)
    # Deletion in Feishu (ExternalRewardDeletion sends it): who asked, why, and when Feishu confirmed.
    delete_reason = models.CharField(_("deletion reason"), max_length=500, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("deletion requested by"),
        related_name="+",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    deleted_at = models.DateTimeField(_("deleted in Feishu at"), null=True, blank=True)

    class Meta:
        verbose_name = _("external referral reward")
        verbose_name_plural = _("external referral rewards")
        ordering = ["-requested_at", "-id"]
        permissions = [
            ("delete_in_feishu_externalreferralreward", _("Can delete external rewards in Feishu"))
        ]
        constraints = [
            models.UniqueConstraint(fields=["tenant_key", "external_id"], name="one_reward_per_external_id"),
        ]
        indexes = [
            models.Index(fields=["-requested_at"], name="reward_recent_idx"),
            models.Index(fields=["requested_at"], name="reward_queued_idx", condition=Q(status="queued")),
            failed_index("reward_failed_idx"),
        ]

    def __str__(self):
        return self.external_id


class ExternalRewardDeletion(FeishuCall):
    """One deletion of an imported reward sent to Feishu (``referrals.rewards``). A deletion
    that failed may be asked for again: a new row."""

    reward = models.ForeignKey(
        ExternalReferralReward, verbose_name=_("reward"), related_name="deletions", on_delete=models.CASCADE
    )
    reason = models.CharField(_("reason"), max_length=500)
    personal_fields = {"reason": personal.FREE_TEXT}

    class Meta:
        verbose_name = _("external reward deletion")
        verbose_name_plural = _("external reward deletions")
        ordering = ["-requested_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["reward"], condition=Q(status="queued"), name="one_open_deletion_per_reward"
            ),
        ]

    def __str__(self):
        return f"#{self.pk}"


# --- leavers (directory events) ------------------------------------------------------------


class LeaverPolicy(models.TextChoices):
    NEXT_RUN = "next_run", _("Pay the cash in the next payout run, then deactivate")
    AT_ONCE = "at_once", _("Pay the cash at once, then deactivate")
    DEACTIVATE = "deactivate", _("Deactivate at once, recording the balance")


class LeaverMatch(models.TextChoices):
    MATCHED = "matched", _("Matched")
    NONE = "none", _("No account matches")
    SEVERAL = "several", _("Several accounts match")
    NO_ACCOUNT = "no_account", _("No referral account (confirmed by HR)")


class LeaverState(models.TextChoices):
    NEEDS_PERSON = "needs_person", _("Needs a person")
    AWAITING_RUN = "awaiting_run", _("Waiting for the next payout run")
    PAYING = "paying", _("Paying out")
    DEACTIVATING = "deactivating", _("Deactivating")
    DONE = "done", _("Done")


class LeaverHow(models.TextChoices):
    DELETED = "deleted", _("Removed from the directory")
    RESIGNED = "resigned", _("Marked as resigned")


class Leaver(models.Model):
    """An employee who left, from Feishu's directory events (``referrals.leavers``): one row per
    person and tenant, whichever of their events came first. Holds no mobile or email: matching
    reads them from the stored event when it runs."""

    tenant_key = models.CharField(
        _("tenant"), max_length=128, blank=True, db_index=True, help_text=TENANT_HELP
    )
    open_id = models.CharField(_("Feishu open_id"), max_length=128)
    union_id = models.CharField(_("Feishu union_id"), max_length=128, blank=True)
    user_id = models.CharField(_("employee id"), max_length=128, blank=True)
    name = models.CharField(_("employee name"), max_length=100, blank=True)
    how = models.CharField(_("how they left"), max_length=16, choices=LeaverHow.choices)
    source_event_id = models.CharField(_("event"), max_length=128)
    match = models.CharField(_("match"), max_length=16, choices=LeaverMatch.choices, db_index=True)
    account = models.ForeignKey(
        ReferralAccount,
        verbose_name=_("account"),
        related_name="leavers",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
    )
    # The accounts that matched when several did (their numbers): HR picks one, nothing is guessed.
    candidates = models.JSONField(_("matching accounts"), default=list, blank=True)
    policy = models.CharField(_("policy"), max_length=16, choices=LeaverPolicy.choices, blank=True)
    points_then = models.BigIntegerField(_("points when the policy applied"), null=True, blank=True)
    cash_then = models.JSONField(_("cash when the policy applied"), null=True, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=LeaverState.choices, default=LeaverState.NEEDS_PERSON
    )
    error = MessageField(_("problem"), max_length=500, blank=True)
    withdrawal = models.ForeignKey(
        Withdrawal, verbose_name=_("withdrawal"), null=True, blank=True, on_delete=models.SET_NULL
    )
    created_at = models.DateTimeField(_("received at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    applied_at = models.DateTimeField(_("policy applied at"), null=True, blank=True)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)

    class Meta:
        verbose_name = _("leaver")
        verbose_name_plural = _("leavers")
        ordering = ["-created_at", "-id"]
        constraints = [
            # A deleted and a resigned event of one person (or one event twice): one leaver.
            models.UniqueConstraint(fields=["tenant_key", "open_id"], name="one_leaver_per_person")
        ]
        indexes = [models.Index(fields=["state", "updated_at"], name="leaver_state_idx")]

    def __str__(self):
        return self.name or self.user_id or self.open_id
