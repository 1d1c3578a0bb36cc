"""External referral rewards: rewards earned outside Hire, imported into referral accounts."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hireops.core.models import FeishuCall, failed_index
from hireops.core.privacy import personal

from ..accounts.models import TENANT_HELP, ReferralAccount


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


def set_null_and_touch(collector, field, sub_objs, using):
    """``on_delete`` of a reward's account: SET_NULL, and the reward's ``updated_at`` moves (its
    ``account_id`` changed: a partner syncing by ``updated_after`` reads it again)."""
    models.SET_NULL(collector, field, sub_objs, using)
    collector.add_field_update(ExternalReferralReward._meta.get_field("updated_at"), timezone.now(), sub_objs)


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
        on_delete=set_null_and_touch,
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
    # When anything the API shows of it last changed (its ``updated_after``): its call's state and
    # error, its deletion's, its account. Set by every writer (``rewards.services.touch``):
    # ``save(update_fields=…)`` and queryset updates do not touch an ``auto_now`` field.
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now, db_default=Now())

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
            # The API's pages (referrals/api/): by (updated_at, id), whole, per tenant or status.
            models.Index(fields=["updated_at", "id"], name="reward_updated_idx"),
            models.Index(fields=["tenant_key", "updated_at", "id"], name="reward_tenant_updated_idx"),
            models.Index(fields=["status", "updated_at", "id"], name="reward_status_updated_idx"),
            models.Index(fields=["external_id"], name="reward_external_id_idx"),  # in any tenant
            # The trend's hours (referrals.rewards.trend): the accepted rewards by when.
            models.Index(fields=["finished_at"], name="reward_accepted_idx", condition=Q(status="succeeded")),
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
