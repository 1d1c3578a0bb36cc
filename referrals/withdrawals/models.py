"""Withdrawals of an account's balance, and the daily reconciliation of what was withdrawn."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from hireops.core.models import FeishuCall, failed_index

from ..accounts.models import TENANT_HELP, ReferralAccount


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
            # The trend's hours (referrals.withdrawals.trend): the confirmed withdrawals by when.
            models.Index(
                fields=["finished_at"], name="withdrawal_confirmed_idx", condition=Q(status="succeeded")
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["account"], condition=Q(status="queued"), name="one_open_withdrawal_per_account"
            ),
        ]

    def __str__(self):
        return self.external_order_id


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
