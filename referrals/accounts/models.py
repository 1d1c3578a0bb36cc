"""Referral reward accounts (内推账户): the account, its balance and its history, and the calls
that register it with Feishu and enable or deactivate it."""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.translation import gettext_lazy as _

from hireops.core.messages import MessageField
from hireops.core.models import FeishuCall, failed_index
from hireops.core.privacy import personal
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
    # Claimed by a scheduled pull until then (referrals.accounts.pulls): nobody else pulls it meanwhile.
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
            # The pull's "stalest first" within each tenant (referrals.accounts.pulls).
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
    # Indexed by (account, id) below, which serves what the foreign key's own index would.
    account = models.ForeignKey(
        ReferralAccount, related_name="balance_history", on_delete=models.CASCADE, db_index=False
    )
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
        indexes = [
            # The owed trend's hour (``accounts.owed``): the snapshots recorded in it, then each
            # one's previous snapshot of its account (by id), both index ranges at any history.
            models.Index(fields=["at"], name="balance_change_at_idx"),
            models.Index(fields=["account", "id"], name="balance_change_account_idx"),
        ]

    def __str__(self):
        return f"{self.get_source_display()} {self.points}"


class AccountRegistration(FeishuCall):
    """One registration of an account with Feishu (``create_referral_account``), sent by the
    outbound engine (``referrals.accounts.registration``). The account shows where it stands; this row
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
    """One enable or deactivate of an account sent to Feishu (``referrals.accounts.status``). The
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
