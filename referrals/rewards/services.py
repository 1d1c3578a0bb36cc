"""External referral rewards (docs/feishu.md §4.1): rewards earned outside Hire, imported
into referral accounts one row at a time (the add form), from a CSV file or through the API,
each as a ``RewardInput`` (``input.py``: the same checks whichever way it came), and deleted
again in Feishu with a reason. Each change is in the reward's change history, whoever asked.

A reward is a row keyed by its external id, committed before the call; the id is also
Feishu's idempotency key, so a retry after a lost answer sends the same id and Feishu
answers the first reward's id instead of creating another. How long Feishu remembers an
external id is UNCONFIRMED: a create whose outcome is unknown is never sent again after
``REPEAT_WINDOW``; it fails, asking staff to look in Feishu first.
"""

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.contrib.admin.models import ADDITION
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops import outbound
from hireops.core import audit
from hireops.core.messages import Message
from hireops.core.models import CallStatus
from hireops.feishu import FeishuResponse, get_client, hire
from hireops.feishu.shapes import JSONObject
from hireops.feishu_calls.callee import FEISHU, FeishuKind
from hireops.outbound.retry import GAVE_UP
from hireops.signin import second_factor

from ..accounts.models import ReferralAccount
from . import announce, trend
from .input import COLUMNS as COLUMNS  # the reward's input: the room's public side too
from .input import RULE_WORDS as RULE_WORDS
from .input import STAGE_WORDS as STAGE_WORDS
from .input import TIMES as TIMES
from .input import RewardInput as RewardInput
from .input import moment_ms as moment_ms
from .models import ExternalReferralReward, ExternalRewardDeletion, RewardBonusType

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Well inside the shortest window Feishu documents for an external id elsewhere in Hire
# (external applications: 24 h). Beyond it a repeat could create a second reward.
REPEAT_WINDOW = timedelta(hours=12)
ADD_PERMISSION = "referrals.add_externalreferralreward"
DELETE_PERMISSION = "referrals.delete_in_feishu_externalreferralreward"

TOO_LATE = gettext_noop(
    "An earlier attempt may have created this reward in Feishu, and it is too late to repeat it "
    "safely: check the referrer's rewards in Feishu before importing it under a new external id."
)
GAVE_UP_OPEN = gettext_noop("Outcome unknown, will retry with the same external id: %(reason)s")
DELETE_MAYBE_SENT = gettext_noop(
    "An earlier attempt may already have deleted the reward in Feishu; check there. %(reason)s"
)
# Change-history messages (hireops.core.audit), on the reward, translated when read.
REWARD_IMPORTED = gettext_noop("Imported; sent to Feishu.")
REWARD_DELETE_REQUESTED = gettext_noop("Deletion in Feishu requested. Reason: %(reason)s")


class RewardRefused(Exception):
    pass


class MoneyRefused(RewardRefused):
    """The caller may not move money (the permission, a second factor): a matter of who asks,
    not of the reward (the API answers 403, where a reward's own refusal is a 409 or 422)."""


def reward_body(r: ExternalReferralReward) -> JSONObject:
    """What Feishu is sent for the row (with ``user_id_type=user_id``)."""
    return hire.ExternalReward(
        referral_user_id=r.employee_id,
        external_id=r.external_id,
        rule_type=r.rule_type,
        stage=r.stage,
        bonus_type=r.bonus_type,
        point_bonus=r.points,
        cash=hire.Cash(r.currency, Decimal(r.amount)) if r.bonus_type == RewardBonusType.CASH else None,  # type: ignore[arg-type]  # a cash reward has its amount
        application_id=r.application_id,
        talent_id=r.talent_id,
        job_id=r.job_id,
        reason=r.reason,
        comment=r.comment,
        **{f"{name}_ms": getattr(r, name) for name in TIMES},
    ).to_json()


def touch(*pks: int) -> None:
    """What the API shows of these rewards changed (their call, their deletion's, an error):
    their ``updated_at`` moves, so a partner syncing by ``updated_after`` reads them again."""
    ExternalReferralReward.objects.filter(pk__in=pks).update(updated_at=timezone.now())


# --- create ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyAuthority:
    """A partner's system acting through an API key (``referrals.api``), as the caller of a
    service that moves money. ``actor`` is the key's own user (inactive, no password, no
    permission): the row's "requested by" and the change history name it, so the key is
    what did it. ``maker`` is the person who made the key, on whose authority it acts: the
    money gate asks *them*, at every call, whether they may move money (the permission and a
    second factor), exactly as it asks a person in the admin."""

    actor: "User"  # the ApiKey's user
    maker: "User | None"  # who made the key; None: a command did (nobody to answer for money)


KEY_MADE_BY_COMMAND = gettext_noop(
    "This key was made by a command, not by a person holding the permission: a key moves "
    "money only on the authority of the person who made it. Make one in the admin."
)
KEY_MAKER_MAY_NOT = gettext_noop(
    "The person who made this key may not do this now (the permission %(permission)s with a "
    "second factor set up): %(why)s"
)


def _may_move_money(user: "User | KeyAuthority | None", permission: str) -> "User | None":
    """Adding a reward to a referrer's account, or taking one away, moves money: the permission
    and a second factor (None: the system). Returns the user the row records as asking.

    A ``KeyAuthority`` passes when the key's maker passes now: the key is never more than
    its maker (who lost the permission or their factor since took the key's power with it),
    and the rule for people is the same rule, asked of the same kind of person."""
    if isinstance(user, KeyAuthority):
        if user.maker is None:
            raise MoneyRefused(Message(KEY_MADE_BY_COMMAND))
        why = second_factor.money_refusal(user.maker, permission)
        if why:
            raise MoneyRefused(Message(KEY_MAKER_MAY_NOT, permission=permission, why=why))
        return user.actor
    refusal = None if user is None else second_factor.money_refusal(user, permission)
    if refusal:
        raise MoneyRefused(refusal)
    return user


def reward_add(
    given: RewardInput, user: "User | KeyAuthority | None" = None
) -> tuple[ExternalReferralReward, bool]:
    """Keep a reward and queue its call; (row, created), the new row in the change history as
    imported by ``user``. The same external id again returns the row already kept and changes
    nothing; with other values it is refused. ``user``: a person, a ``KeyAuthority`` or None
    (the system)."""
    user = _may_move_money(user, ADD_PERMISSION)
    reward = given.row()
    existing = ExternalReferralReward.objects.filter(
        tenant_key=reward.tenant_key, external_id=reward.external_id
    ).first()
    if existing is None:
        reward.account = (
            ReferralAccount.objects.filter(tenant_key=reward.tenant_key, employee_id=reward.employee_id)
            .order_by("pk")
            .first()
        )
        if reward.account is not None and not reward.name:
            reward.name = reward.account.name
        reward.requested_by = user
        try:
            with transaction.atomic():
                reward.save()
                audit.record(user, [reward], REWARD_IMPORTED, flag=ADDITION)
        except IntegrityError:  # imported by someone else a moment ago
            existing = ExternalReferralReward.objects.get(
                tenant_key=reward.tenant_key, external_id=reward.external_id
            )
        else:
            CREATE.send_on_commit(reward.pk)
            return reward, True
    if reward_body(existing) != reward_body(reward):
        raise RewardRefused(
            _("External id %(id)s was imported before with other values; nothing changed.")
            % {"id": reward.external_id}
        )
    return existing, False


def _create_prepare(r: ExternalReferralReward) -> JSONObject | None:
    if r.maybe_applied and r.requested_at < timezone.now() - REPEAT_WINDOW:
        outbound.close(CREATE, r, CallStatus.FAILED, error=Message(TOO_LATE))
        return None
    return reward_body(r)


def _create_call(r: ExternalReferralReward, body: JSONObject) -> hire.ExternalRewardResult:
    return hire.create_external_referral_reward(
        get_client(), body, user_id_type="user_id", tenant_key=r.tenant_key or None
    )


def _create_answer(
    r: ExternalReferralReward, body: JSONObject, result: hire.ExternalRewardResult
) -> dict[str, Any]:
    return {"reward_id": result.id}


def _create_give_up(pk: int, reason: str) -> str:
    r = ExternalReferralReward.objects.get(pk=pk)
    if not r.maybe_applied:  # Feishu never acted: a plain failure staff can read
        with transaction.atomic():
            outbound.close(CREATE, r, CallStatus.FAILED, error=Message(GAVE_UP, reason=reason))
        return CallStatus.FAILED
    # The outcome is unknown: keep it open; the sync pass repeats it with the same external id
    # (within REPEAT_WINDOW, see _create_prepare).
    ExternalReferralReward.objects.filter(pk=pk).update(
        error=Message(GAVE_UP_OPEN, reason=reason), updated_at=timezone.now()
    )
    return CallStatus.QUEUED


def _create_accepted(r: ExternalReferralReward, body: JSONObject, result: hire.ExternalRewardResult) -> None:
    trend.mark_accepted([r])  # closed as succeeded in this transaction


def _create_closed(r: ExternalReferralReward) -> None:
    """The reward's call closed (stamped first: the event's data carries the new ``updated_at``);
    one that failed for good (refused, too late to repeat, or given up on): partners hear of it."""
    touch(r.pk)
    if ExternalReferralReward.objects.filter(pk=r.pk, status=CallStatus.FAILED).exists():
        announce.reward_failed(r.pk)


CREATE: FeishuKind[ExternalReferralReward, JSONObject, hire.ExternalRewardResult] = outbound.register(
    outbound.Outbound(
        name="referrals.external_reward_create",
        model=ExternalReferralReward,
        prepare=_create_prepare,
        call=_create_call,
        callee=FEISHU,
        answer=_create_answer,
        effect=_create_accepted,
        retrying=lambda r, body, exc, failure: touch(r.pk),  # its error says why it waits
        closed=_create_closed,
        give_up=_create_give_up,
        swept_by="referrals.sync_pending",  # the sync pass (referrals.sync) sends what is still queued
    )
)


# --- delete ----------------------------------------------------------------------------------


def reward_delete_request(
    reward: ExternalReferralReward, reason: str, user: "User | KeyAuthority | None" = None
) -> ExternalRewardDeletion:
    """Queue the reward's deletion in Feishu, with the reason kept on the row and in its change
    history. ``user``: a person, a ``KeyAuthority`` or None (the system)."""
    user = _may_move_money(user, DELETE_PERMISSION)
    reason = (reason or "").strip()
    if not reason:
        raise RewardRefused(_("Give the reason for the deletion."))
    if reward.deleted_at is not None:
        raise RewardRefused(_("%(reward)s is deleted in Feishu already.") % {"reward": reward})
    if reward.status != CallStatus.SUCCEEDED or not reward.reward_id:
        raise RewardRefused(
            _("%(reward)s is not in Feishu (its import did not succeed): nothing to delete.")
            % {"reward": reward}
        )
    try:
        with transaction.atomic():
            deletion = ExternalRewardDeletion.objects.create(
                reward=reward, reason=reason[:500], requested_by=user
            )
            ExternalReferralReward.objects.filter(pk=reward.pk).update(
                delete_reason=reason[:500], deleted_by=user, updated_at=timezone.now()
            )
            audit.record(user, [reward], REWARD_DELETE_REQUESTED, {"reason": reason})
    except IntegrityError as exc:
        raise RewardRefused(_("%(reward)s is being deleted already.") % {"reward": reward}) from exc
    DELETE.send_on_commit(deletion.pk)
    return deletion


def _delete_prepare(d: ExternalRewardDeletion) -> str:
    return d.reward.reward_id


def _delete_call(d: ExternalRewardDeletion, reward_id: str) -> FeishuResponse:
    return hire.delete_external_referral_reward(
        get_client(), reward_id, tenant_key=d.reward.tenant_key or None
    )


def _deleted(d: ExternalRewardDeletion, reward_id: str, resp: FeishuResponse) -> None:
    now = timezone.now()
    ExternalReferralReward.objects.filter(pk=d.reward_id).update(deleted_at=now, updated_at=now)
    trend.mark_accepted([d.reward])  # out of the hour it was accepted in


# Its body is the reward's id in Feishu.
DELETE: FeishuKind[ExternalRewardDeletion, str, FeishuResponse] = outbound.register(
    outbound.Outbound(
        name="referrals.external_reward_delete",
        model=ExternalRewardDeletion,
        related=("reward",),
        prepare=_delete_prepare,
        call=_delete_call,
        callee=FEISHU,
        effect=_deleted,
        # The reward shows its last deletion: its state and error.
        retrying=lambda d, body, exc, failure: touch(d.reward_id),
        closed=lambda d: touch(d.reward_id),
        maybe_sent=DELETE_MAYBE_SENT,
        swept_by="referrals.sync_pending",  # the sync pass (referrals.sync) sends what is still queued
    )
)
