"""Leavers: employees who left, from Feishu's directory events, and what became of their account."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from hireops.core.messages import MessageField

from ..accounts.models import TENANT_HELP, ReferralAccount
from ..withdrawals.models import Withdrawal


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
    # Staff marked it as handled outside hireops: what became of the balance is not known here
    # (the leavers' trend counts it apart from the policy's outcomes).
    handled_by_hand = models.BooleanField(_("marked as handled"), default=False)
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
        indexes = [
            models.Index(fields=["state", "updated_at"], name="leaver_state_idx"),
            # The list, newest first (the admin adds the id): its first page read in order,
            # each row's account looked up, instead of every leaver joined to every account.
            models.Index(fields=["created_at", "id"], name="leaver_newest_idx"),
        ]

    def __str__(self):
        return self.name or self.user_id or self.open_id
