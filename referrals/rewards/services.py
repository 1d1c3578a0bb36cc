"""External referral rewards (docs/feishu.md §4.1): rewards earned outside Hire, imported
into referral accounts one row at a time (the add form) or from a CSV file, and deleted
again in Feishu with a reason.

A reward is a row keyed by its external id, committed before the call; the id is also
Feishu's idempotency key, so a retry after a lost answer sends the same id and Feishu
answers the first reward's id instead of creating another. How long Feishu remembers an
external id is UNCONFIRMED: a create whose outcome is unknown is never sent again after
``REPEAT_WINDOW``; it fails, asking staff to look in Feishu first.
"""

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from hireops import outbound
from hireops.core.messages import Message
from hireops.core.models import CallStatus
from hireops.feishu import get_client, hire
from hireops.feishu_calls import FEISHU
from hireops.outbound.retry import GAVE_UP
from hireops.signin import second_factor

from ..accounts.models import ReferralAccount
from . import announce
from .models import (
    ExternalReferralReward,
    ExternalRewardDeletion,
    RewardBonusType,
    RewardRuleType,
    RewardStage,
)

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

# The columns of an import file, and the fields of the add form (the same names).
COLUMNS = (
    "external_id",
    "employee_id",
    "name",
    "application_id",
    "talent_id",
    "job_id",
    "rule_type",
    "stage",
    "points",
    "currency",
    "amount",
    "reason",
    "comment",
    "create_time",
    "confirm_time",
    "pay_time",
    "onboard_time",
    "conversion_time",
)
TIMES = ("create_time", "confirm_time", "pay_time", "onboard_time", "conversion_time")
RULE_WORDS = {"onboard": 1, "process": 2, "activity": 3, "open_source": 4, "other": 5}
STAGE_WORDS = {"to_be_confirmed": 1, "confirmed": 2, "paid": 3}
_ID = re.compile(r"[\w.:-]{1,64}")  # what we accept as an external id (no spaces, no slashes)
_CURRENCY = re.compile(r"[A-Z]{3}")
MAX_AMOUNT = Decimal("9999999999999999.99")  # the column's 18 digits


class RewardRefused(Exception):
    pass


class MoneyRefused(RewardRefused):
    """The caller may not move money (the permission, a second factor): a matter of who asks,
    not of the reward (the API answers 403, where a reward's own refusal is a 409 or 422)."""


# --- validation ----------------------------------------------------------------------------


def _digits(raw: str) -> bool:
    """ASCII digits only (``str.isdigit`` also takes "²", which ``int`` refuses)."""
    return raw.isascii() and raw.isdigit()


def _choice(value: str, words: dict, choices, field: str, what: str, errors: dict):
    raw = (value or "").strip().lower()
    number = words.get(raw, int(raw) if _digits(raw) and len(raw) < 5 else None)
    if number not in choices.values:
        errors[field] = _("Choose the %(what)s: %(allowed)s.") % {
            "what": what,
            "allowed": ", ".join(f"{v} ({w})" for w, v in words.items()),
        }
    return number


def _time_ms(value: str, field: str, errors: dict) -> int | None:
    raw = (value or "").strip()
    if not raw:
        return None
    if _digits(raw) and len(raw) == 13:
        return int(raw)
    try:
        day = datetime.strptime(raw, "%Y-%m-%d")
    except ValueError:
        errors[field] = _("Give a date as YYYY-MM-DD (or a 13-digit millisecond timestamp).")
        return None
    return int(timezone.make_aware(day).timestamp() * 1000)


def clean_reward(data: dict, tenant_key: str = "") -> ExternalReferralReward:
    """An unsaved reward from the form's or a CSV row's text values; ``ValidationError``
    naming every bad field, so bad input changes nothing."""
    text = {name: str(data.get(name) or "").strip() for name in COLUMNS}
    errors: dict = {}
    if not _ID.fullmatch(text["external_id"]):
        errors["external_id"] = _(
            "The external id is required: up to 64 letters, digits, dots, colons, dashes or underscores."
        )
    if not text["employee_id"] or len(text["employee_id"]) > 128:
        errors["employee_id"] = _("The referrer's Feishu user id (employee id) is required.")
    if not (text["application_id"] or text["talent_id"]):
        errors["application_id"] = _("Give the application id or the talent id (or both).")
    for name in ("application_id", "talent_id", "job_id"):
        if len(text[name]) > 64:
            errors[name] = _("An id has at most 64 characters.")
    rule = _choice(text["rule_type"], RULE_WORDS, RewardRuleType, "rule_type", _("rule type"), errors)
    stage = _choice(text["stage"], STAGE_WORDS, RewardStage, "stage", _("reward status"), errors)
    points = amount = None
    currency = text["currency"].upper()
    if text["points"] and (text["amount"] or currency):
        errors["points"] = _("A reward is points or cash, not both.")
    elif text["points"]:
        if not _digits(text["points"]) or len(text["points"]) > 16 or int(text["points"]) > 10**15:
            errors["points"] = _("Points are a whole number, 0 or more.")
        else:
            points = int(text["points"])
    elif text["amount"]:
        try:
            amount = Decimal(text["amount"])
        except InvalidOperation:
            amount = None
        # Bounded before quantize: "1e400" is a finite Decimal that quantize cannot hold.
        cents = (
            amount is not None
            and amount.is_finite()
            and 0 <= amount <= MAX_AMOUNT
            and amount == amount.quantize(Decimal("0.01"))
        )
        if not cents:
            errors["amount"] = _("The amount is a number, 0 or more, with at most two decimals.")
        if not _CURRENCY.fullmatch(currency):
            errors["currency"] = _("A cash reward needs its currency, e.g. CNY.")
    else:
        errors["points"] = _("Give the points, or the cash amount and its currency.")
    for name, limit in (("name", 100), ("reason", 200), ("comment", 500)):
        if len(text[name]) > limit:
            errors[name] = _("At most %(n)d characters.") % {"n": limit}
    times = {name: _time_ms(text[name], name, errors) for name in TIMES}
    if errors:
        raise ValidationError(errors)
    return ExternalReferralReward(
        tenant_key=tenant_key or "",
        external_id=text["external_id"],
        employee_id=text["employee_id"],
        name=text["name"],
        application_id=text["application_id"],
        talent_id=text["talent_id"],
        job_id=text["job_id"],
        rule_type=rule,
        stage=stage,
        bonus_type=RewardBonusType.POINTS if points is not None else RewardBonusType.CASH,
        points=points,
        currency="" if points is not None else currency,
        amount=amount,
        reason=text["reason"],
        comment=text["comment"],
        **times,
    )


def reward_body(r: ExternalReferralReward) -> dict:
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

    actor: object  # the ApiKey's user
    maker: object | None  # who made the key; None: a command did (nobody to answer for money)


KEY_MADE_BY_COMMAND = gettext_noop(
    "This key was made by a command, not by a person holding the permission: a key moves "
    "money only on the authority of the person who made it. Make one in the admin."
)
KEY_MAKER_MAY_NOT = gettext_noop(
    "The person who made this key may not do this now (the permission %(permission)s with a "
    "second factor set up): %(why)s"
)


def _may_move_money(user, permission: str):
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


def reward_add(reward: ExternalReferralReward, user=None) -> tuple[ExternalReferralReward, bool]:
    """Keep a cleaned reward and queue its call; (row, created). The same external id again
    returns the row already kept and calls nothing; with other values it is refused.
    ``user``: a person, a ``KeyAuthority`` or None (the system)."""
    user = _may_move_money(user, ADD_PERMISSION)
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


def _create_prepare(r: ExternalReferralReward):
    if r.maybe_applied and r.requested_at < timezone.now() - REPEAT_WINDOW:
        outbound.close(CREATE, r, CallStatus.FAILED, error=Message(TOO_LATE))
        return None
    return reward_body(r)


def _create_call(r: ExternalReferralReward, body: dict):
    return hire.create_external_referral_reward(
        get_client(), body, user_id_type="user_id", tenant_key=r.tenant_key or None
    )


def _create_answer(r, body, result: hire.ExternalRewardResult) -> dict:
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


def _create_closed(r: ExternalReferralReward) -> None:
    """The reward's call closed (stamped first: the event's data carries the new ``updated_at``);
    one that failed for good (refused, too late to repeat, or given up on): partners hear of it."""
    touch(r.pk)
    if ExternalReferralReward.objects.filter(pk=r.pk, status=CallStatus.FAILED).exists():
        announce.reward_failed(r.pk)


CREATE = outbound.register(
    outbound.Outbound(
        name="referrals.external_reward_create",
        model=ExternalReferralReward,
        prepare=_create_prepare,
        call=_create_call,
        callee=FEISHU,
        answer=_create_answer,
        retrying=lambda r, body, exc, failure: touch(r.pk),  # its error says why it waits
        closed=_create_closed,
        give_up=_create_give_up,
        sweep=False,  # the sync pass (referrals.sync) sends what is still queued
    )
)


# --- delete ----------------------------------------------------------------------------------


def reward_delete_request(reward: ExternalReferralReward, reason: str, user=None) -> ExternalRewardDeletion:
    """``user``: a person, a ``KeyAuthority`` or None (the system)."""
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
    except IntegrityError as exc:
        raise RewardRefused(_("%(reward)s is being deleted already.") % {"reward": reward}) from exc
    DELETE.send_on_commit(deletion.pk)
    return deletion


def _delete_prepare(d: ExternalRewardDeletion):
    return d.reward.reward_id


def _delete_call(d: ExternalRewardDeletion, reward_id: str):
    return hire.delete_external_referral_reward(
        get_client(), reward_id, tenant_key=d.reward.tenant_key or None
    )


def _deleted(d: ExternalRewardDeletion, body, resp) -> None:
    now = timezone.now()
    ExternalReferralReward.objects.filter(pk=d.reward_id).update(deleted_at=now, updated_at=now)


DELETE = outbound.register(
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
        sweep=False,  # the sync pass (referrals.sync) sends what is still queued
    )
)
