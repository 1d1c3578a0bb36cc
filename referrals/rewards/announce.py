"""What the HR side tells partners' webhooks of an external reward, written in the transaction
of the change (``hireops.webhooks.emit``; the types and their data are declared in
``webhook_events``)."""

from hireops.webhooks.events import emit

from .models import ExternalReferralReward


def reward_failed(reward_pk: int) -> None:
    reward = ExternalReferralReward.objects.filter(pk=reward_pk).first()
    if reward is not None:
        emit("referral_reward.failed", reward, tenant_key=reward.tenant_key)
