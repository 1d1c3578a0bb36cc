"""Payout runs: many full-cash withdrawals, prepared by one person and approved by another."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from hireops.core.messages import MessageField
from hireops.core.models import FeishuCall, failed_index

from ..accounts.models import TENANT_HELP, ReferralAccount


class PayoutRunStatus(models.TextChoices):
    PREPARING = "preparing", _("Being prepared")  # a large run's lines, written by a worker
    AWAITING_APPROVAL = "awaiting", _("Waiting for approval")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    PAYING = "paying", _("Approved, paying")
    FINISHED = "finished", _("Finished")


# A run whose unpaid lines still promise their accounts' cash: an account is in one such run at
# most, and withdraws nothing meanwhile.
PAYOUT_OPEN = (PayoutRunStatus.PREPARING, PayoutRunStatus.AWAITING_APPROVAL, PayoutRunStatus.PAYING)


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
    # Preparing (referrals.payouts.preparation): the accounts payable when it was asked for,
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
    # A run the schedule prepared: whose hands were on the schedule (hireops.core.schedules.registry).
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
    # The approvers told that the run waits (referrals.payouts.notices): when, and what failed.
    notified_at = models.DateTimeField(_("approvers told at"), null=True, blank=True)
    notice_error = MessageField(_("telling the approvers failed"), max_length=2000, blank=True)
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
    # Handed to a worker by the dispatcher (referrals.payouts.dispatch) until then.
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
            # The trend's hours (referrals.payouts.trend): the paid lines by when.
            models.Index(
                fields=["finished_at"], name="payout_line_paid_idx", condition=Q(status="succeeded")
            ),
        ]

    def __str__(self):
        return f"{self.run_id}/{self.account}"


class PayoutNews(models.TextChoices):
    """What a message in Feishu tells of a run (``referrals.payouts.chats``)."""

    AWAITING = "awaiting", _("waits for a decision")
    APPROVED = "approved", _("approved")
    REJECTED = "rejected", _("rejected")
    PAID = "paid", _("paid")
    CANCELLED = "cancelled", _("cancelled")


class PayoutMessage(FeishuCall):
    """A message from the app to one person in Feishu about a run: to each approver who may
    decide it and is linked to Feishu, when it waits; to those who caused it, when it is
    approved, rejected or paid. ``uuid`` is Feishu's idempotency key, written with the row and
    sent by every retry; ``card`` is what was sent, fixed at the first attempt, in the
    recipient's ``language``. Task arguments carry the row's id only."""

    run = models.ForeignKey(
        PayoutRun, verbose_name=_("run"), related_name="messages", on_delete=models.CASCADE
    )
    news = models.CharField(_("news"), max_length=16, choices=PayoutNews.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        related_name="+",
        null=True,
        on_delete=models.SET_NULL,
    )
    open_id = models.CharField(_("Feishu open_id"), max_length=191)
    tenant_key = models.CharField(_("tenant"), max_length=128, blank=True, help_text=TENANT_HELP)
    uuid = models.CharField(_("message uuid"), max_length=50, unique=True)
    language = models.CharField(_("language"), max_length=16)
    card = models.JSONField(_("card sent"), null=True, blank=True)
    message_id = models.CharField(_("Feishu message id"), max_length=64, blank=True)
    # A waiting run's message Feishu did not deliver: its approver was e-mailed instead.
    emailed_at = models.DateTimeField(_("told by e-mail instead at"), null=True, blank=True)
    # Written with the failed close, cleared when the e-mail is sent: a worker that died between
    # the two leaves it owed, and the kind's sweep sends it (``chats``).
    email_owed_at = models.DateTimeField(_("e-mail owed since"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("payout run message in Feishu")
        verbose_name_plural = _("payout run messages in Feishu")
        ordering = ["-pk"]
        indexes = [failed_index("payout_message_failed_idx")]

    def __str__(self):
        return f"{self.run_id}/{self.get_news_display()}"
