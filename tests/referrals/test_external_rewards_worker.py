"""External rewards sent and deleted by a real ``celery worker`` process against the sandbox."""

import pytest

from hireops.core.models import CallStatus
from referrals.models import ExternalReferralReward, ExternalRewardDeletion
from referrals.rewards.services import RewardInput, reward_add, reward_delete_request

pytestmark = pytest.mark.django_db(transaction=True)


def test_reward_tasks_in_a_real_worker(sandbox, celery_worker):
    user_id = sandbox.add_employee(name="Worker 奖励", email="reward-worker@example.com")["user_id"]
    row, created = reward_add(
        RewardInput.from_text(
            {
                "external_id": "w-1",
                "employee_id": user_id,
                "talent_id": "t",
                "rule_type": "5",
                "stage": "3",
                "points": "7",
            }
        )
    )
    assert created
    celery_worker(
        lambda: ExternalReferralReward.objects.get(pk=row.pk).status == CallStatus.SUCCEEDED, what="created"
    )
    deletion = reward_delete_request(ExternalReferralReward.objects.get(pk=row.pk), "test")
    celery_worker(
        lambda: ExternalRewardDeletion.objects.get(pk=deletion.pk).status == CallStatus.SUCCEEDED,
        what="deleted",
    )
    assert ExternalReferralReward.objects.get(pk=row.pk).deleted_at is not None
    assert len(sandbox.requests("/open-apis/hire/v1/external_referral_rewards")) == 1
