"""Feishu Hire endpoints (docs/feishu.md §2 custom fields, §4 referral accounts).

One small typed function per endpoint; the client is passed first. The custom-field calls
return the bare ``FeishuResponse`` (Feishu sends no data; its ``log_id`` is worth keeping). The
client never repeats a call that failed: the calling task does (hireops.outbound.retry), with the
same body and idempotency key, so the notes below on whether a repeat is harmless are for
the services that decide what a repeat after a lost answer means.
Money is ``Decimal`` (the client parses JSON fractions as Decimal; ``Decimal(str(x))``
also covers callers handing in ints or floats).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import IntEnum
from typing import overload
from urllib.parse import quote

from .http import FeishuClient, FeishuResponse
from .i18n import i18n, required_i18n
from .shapes import JSONObject

_HIRE = "/open-apis/hire/v1"


class CustomFieldScope(IntEnum):
    BACKGROUND_CHECK = 1
    EXAM = 2


class BonusType(IntEnum):
    POINTS = 1
    CASH = 2


class AccountStatus(IntEnum):
    ENABLED = 1
    DEACTIVATED = 2


@dataclass(frozen=True)
class CustomField:
    key: str
    name_zh: str = ""
    name_en: str = ""
    is_required: bool = False
    description_zh: str = ""
    description_en: str = ""

    def to_json(self) -> JSONObject:
        """Raises ``i18n.MissingText`` (``what`` is the key) for a field with no name at all."""
        item = {
            "key": self.key,
            "name": required_i18n(self.name_zh, self.name_en, what=self.key),
            "is_required": self.is_required,
        }
        description = i18n(self.description_zh, self.description_en)
        if description:
            item["description"] = description
        return item


@dataclass(frozen=True)
class Cash:
    currency_type: str
    amount: Decimal


@dataclass(frozen=True)
class Bonus:
    point_bonus: int = 0
    cash: list[Cash] = field(default_factory=list)


@dataclass(frozen=True)
class ReferralAccount:
    account_id: str
    status: int
    assets: Bonus  # confirmed_bonus: the balance that can be withdrawn
    referrer: JSONObject | None = None  # id, name{zh_cn,en_us}, email?, mobile? (personal data)
    log_id: str = field(default="", compare=False)  # X-Tt-Logid: kept on the call's row


@dataclass(frozen=True)
class WithdrawalResult:
    external_order_id: str
    trans_time_ms: int
    details: Bonus
    log_id: str = field(default="", compare=False)  # X-Tt-Logid: kept on the call's row


@dataclass(frozen=True)
class TradeDetail:
    account_id: str
    recharged_points: int  # points credited in our system during the window


@dataclass(frozen=True)
class ReconciliationMismatch:
    account_id: str
    feishu_withdrawn_points: int | None  # None: Feishu saw no withdrawal in the window
    our_recharged_points: int | None


# --- parsing --------------------------------------------------------------------------------


class BadAmount(ValueError):
    """An amount Feishu sent that is not a finite number (its text, for whoever reads the error)."""


def _amount(value: object) -> Decimal:
    try:
        amount = Decimal(str(value))
    except ArithmeticError:  # decimal.InvalidOperation: not a number at all
        amount = None
    if amount is None or not amount.is_finite() or isinstance(value, bool):
        raise BadAmount(str(value)[:40])
    return amount


@overload
def _points(raw: JSONObject) -> int: ...
@overload
def _points(raw: JSONObject | None) -> int | None: ...
def _points(raw: JSONObject | None) -> int | None:
    if raw is None:
        return None
    points = _amount(raw.get("point_bonus") or 0)
    if points != points.to_integral_value():
        raise BadAmount(str(raw.get("point_bonus"))[:40])
    return int(points)


def _cash(raw: JSONObject) -> Cash:
    return Cash(currency_type=str(raw.get("currency_type") or ""), amount=_amount(raw.get("amount", 0)))


def _bonus(raw: JSONObject | None) -> Bonus:
    raw = raw or {}
    cash = raw.get("cash_bonus")
    if cash is None and raw.get("cash"):  # PY175 also models a single ``cash``
        cash = [raw["cash"]]
    return Bonus(
        point_bonus=_points(raw),
        cash=[_cash(c) for c in cash or [] if isinstance(c, dict)],
    )


def parse_assets(assets: JSONObject | None) -> Bonus:
    """The withdrawable balance (``assets.confirmed_bonus``) as the API and the
    ``assets_update_v1`` event both send it."""
    return _bonus((assets or {}).get("confirmed_bonus"))


def _account(raw: JSONObject, log_id: str | None = None) -> ReferralAccount:
    return ReferralAccount(
        account_id=str(raw["account_id"]),
        status=int(raw.get("status") or 0),
        assets=parse_assets(raw.get("assets")),
        referrer=raw.get("referrer") or None,
        log_id=log_id or "",
    )


def _params(user_id_type: str | None) -> dict[str, str] | None:
    return {"user_id_type": user_id_type} if user_id_type else None


# --- eco account custom fields (§2) -----------------------------------------------------------


def create_custom_fields(
    client: FeishuClient, scope: int, fields: Sequence[CustomField], *, tenant_key: str | None = None
) -> FeishuResponse:
    # Safe: create is a full replace of the scope's fields ("全量更新"); twice = once.
    return client.request(
        "POST",
        f"{_HIRE}/eco_account_custom_fields",
        endpoint="hire.eco_account_custom_field.create",
        json={"scope": int(scope), "custom_field_list": [f.to_json() for f in fields]},
        tenant_key=tenant_key,
    )


def batch_update_custom_fields(
    client: FeishuClient, scope: int, fields: Sequence[CustomField], *, tenant_key: str | None = None
) -> FeishuResponse:
    # Safe: overwrites names/descriptions of existing keys with the same values.
    return client.request(
        "PATCH",
        f"{_HIRE}/eco_account_custom_fields/batch_update",
        endpoint="hire.eco_account_custom_field.batch_update",
        json={"scope": int(scope), "custom_field_list": [f.to_json() for f in fields]},
        tenant_key=tenant_key,
    )


def batch_delete_custom_fields(
    client: FeishuClient, scope: int, keys: Iterable[str], *, tenant_key: str | None = None
) -> FeishuResponse:
    # Not safe: deletion is irreversible and a repeat targets keys that are already gone,
    # which may be answered with an error although the first call succeeded.
    return client.request(
        "POST",
        f"{_HIRE}/eco_account_custom_fields/batch_delete",
        endpoint="hire.eco_account_custom_field.batch_delete",
        json={"scope": int(scope), "custom_field_key_list": list(keys)},
        tenant_key=tenant_key,
    )


# --- referral accounts (§4) ---------------------------------------------------------------------


def create_referral_account(
    client: FeishuClient,
    *,
    mobile: tuple[str, str] | None = None,
    email: str | None = None,
    user_id_type: str | None = None,
    tenant_key: str | None = None,
) -> ReferralAccount:
    """Register a referral account by mobile ``(country code, number)`` and/or email."""
    if not mobile and not email:
        raise ValueError("create_referral_account needs a mobile or an email")
    body: JSONObject = {}
    if mobile:
        code, number = mobile
        body["mobile"] = {"code": str(code), "number": str(number)}
    if email:
        body["email"] = email
    # Not retried blindly: whether Feishu dedupes a repeated registration is UNCONFIRMED
    # (docs/feishu.md §4), so after a 5xx/lost answer the calling task decides.
    resp = client.request(
        "POST",
        f"{_HIRE}/referral_account",
        endpoint="hire.referral_account.create",
        json=body,
        params=_params(user_id_type),
        tenant_key=tenant_key,
    )
    return _account(resp.data["account"], resp.log_id)


def get_account_assets(
    client: FeishuClient, account_id: str, *, user_id_type: str | None = None, tenant_key: str | None = None
) -> ReferralAccount:
    params = {"referral_account_id": account_id, **(_params(user_id_type) or {})}
    # Safe: a read.
    resp = client.request(
        "GET",
        f"{_HIRE}/referral_account/get_account_assets",
        endpoint="hire.referral_account.get_account_assets",
        params=params,
        tenant_key=tenant_key,
    )
    return _account(resp.data["account"], resp.log_id)


def withdraw(
    client: FeishuClient,
    account_id: str,
    *,
    bonus_types: Sequence[int],
    external_order_id: str,
    tenant_key: str | None = None,
) -> WithdrawalResult:
    """Withdraw the entire balance of ``bonus_types``. Reuse ``external_order_id`` on retry."""
    # Safe: external_order_id is Feishu's idempotency key; a duplicate returns the original
    # withdrawal's details instead of withdrawing again.
    resp = client.request(
        "POST",
        f"{_HIRE}/referral_account/{quote(account_id, safe='')}/withdraw",
        endpoint="hire.referral_account.withdraw",
        json={"withdraw_bonus_type": [int(t) for t in bonus_types], "external_order_id": external_order_id},
        tenant_key=tenant_key,
    )
    data = resp.data
    return WithdrawalResult(
        external_order_id=str(data.get("external_order_id") or external_order_id),
        trans_time_ms=int(data.get("trans_time") or 0),
        details=_bonus(data.get("withdrawal_details")),
        log_id=resp.log_id or "",
    )


def reconcile(
    client: FeishuClient,
    *,
    start_ms: int,
    end_ms: int,
    trade_details: Iterable[TradeDetail] = (),
    tenant_key: str | None = None,
) -> list[ReconciliationMismatch]:
    """Compare our credited points with Feishu's withdrawals; returns only mismatches."""
    body = {
        "start_trans_time": str(int(start_ms)),
        "end_trans_time": str(int(end_ms)),
        "trade_details": [
            {
                "account_id": t.account_id,
                "total_recharge_reward_info": {"point_bonus": int(t.recharged_points)},
            }
            for t in trade_details
        ],
    }
    # Safe: a comparison with no side effect.
    resp = client.request(
        "POST",
        f"{_HIRE}/referral_account/reconciliation",
        endpoint="hire.referral_account.reconciliation",
        json=body,
        tenant_key=tenant_key,
    )
    return [
        ReconciliationMismatch(
            account_id=str(item.get("account_id")),
            feishu_withdrawn_points=_points(item.get("total_withdraw_reward_info")),
            our_recharged_points=_points(item.get("total_recharge_reward_info")),
        )
        for item in resp.data.get("check_failed_list") or []
    ]


def enable_referral_account(
    client: FeishuClient, account_id: str, *, user_id_type: str | None = None, tenant_key: str | None = None
) -> ReferralAccount:
    # Safe: setting a state; enabling an enabled account leaves it enabled.
    resp = client.request(
        "POST",
        f"{_HIRE}/referral_account/enable",
        endpoint="hire.referral_account.enable",
        json={"referral_account_id": account_id},
        params=_params(user_id_type),
        tenant_key=tenant_key,
    )
    return _account(resp.data["account"], resp.log_id)


def deactivate_referral_account(
    client: FeishuClient, account_id: str, *, user_id_type: str | None = None, tenant_key: str | None = None
) -> ReferralAccount:
    # Safe: setting a state, as for enable.
    resp = client.request(
        "POST",
        f"{_HIRE}/referral_account/{quote(account_id, safe='')}/deactivate",
        endpoint="hire.referral_account.deactivate",
        params=_params(user_id_type),
        tenant_key=tenant_key,
    )
    return _account(resp.data["account"], resp.log_id)


# --- external referral rewards (§4.1) --------------------------------------------------------


class RewardRuleType(IntEnum):
    ONBOARD = 1  # 入职奖励
    PROCESS = 2  # 过程奖励
    ACTIVITY = 3  # 活动奖励
    OPEN_SOURCE = 4  # 开源奖励
    OTHER = 5  # 其他奖励


class RewardStage(IntEnum):
    TO_BE_CONFIRMED = 1  # 待确认: an admin confirms it in Hire before the referrer sees it
    CONFIRMED = 2  # 已确认 (not paid yet)
    PAID = 3  # 已发放


@dataclass(frozen=True)
class ExternalReward:
    """One reward earned elsewhere, as ``POST external_referral_rewards`` takes it. Times are
    millisecond timestamps (sent as strings); ``None`` and "" are left out of the body."""

    referral_user_id: str  # in the ``user_id_type`` of the call
    external_id: str  # the caller's id: Feishu's idempotency key
    rule_type: int
    stage: int
    bonus_type: int
    point_bonus: int | None = None
    cash: Cash | None = None
    application_id: str = ""
    talent_id: str = ""
    job_id: str = ""
    reason: str = ""
    comment: str = ""
    create_time_ms: int | None = None
    confirm_time_ms: int | None = None
    pay_time_ms: int | None = None
    onboard_time_ms: int | None = None
    conversion_time_ms: int | None = None

    def to_json(self) -> JSONObject:
        bonus: JSONObject = {"bonus_type": int(self.bonus_type)}
        if self.bonus_type == BonusType.POINTS:
            bonus["point_bonus"] = int(self.point_bonus or 0)
        elif self.cash is not None:
            bonus["cash"] = {
                "currency_type": self.cash.currency_type,
                "amount": Decimal(str(self.cash.amount)),
            }
        body = {
            "referral_user_id": self.referral_user_id,
            "external_id": self.external_id,
            "rule_type": int(self.rule_type),
            "stage": int(self.stage),
            "bonus": bonus,
        }
        for name in ("application_id", "talent_id", "job_id", "reason", "comment"):
            if getattr(self, name):
                body[name] = getattr(self, name)
        for name in ("create_time", "confirm_time", "pay_time", "onboard_time", "conversion_time"):
            value = getattr(self, f"{name}_ms")
            if value is not None:
                body[name] = str(int(value))
        return body


@dataclass(frozen=True)
class ExternalRewardResult:
    id: str  # Feishu's id of the reward: what delete takes
    log_id: str = field(default="", compare=False)  # X-Tt-Logid: kept on the call's row


def create_external_referral_reward(
    client: FeishuClient,
    reward: ExternalReward | JSONObject,
    *,
    user_id_type: str | None = None,
    tenant_key: str | None = None,
) -> ExternalRewardResult:
    """Import one reward into a referral account (``reward`` or its JSON body)."""
    # Repeatable with the same ``external_id``, which Feishu describes as "for idempotency
    # only"; how long it remembers one is UNCONFIRMED (docs/feishu.md §4.1), so the caller
    # never repeats a lost create after a long time.
    body = reward.to_json() if isinstance(reward, ExternalReward) else reward
    resp = client.request(
        "POST",
        f"{_HIRE}/external_referral_rewards",
        endpoint="hire.external_referral_reward.create",
        json=body,
        params=_params(user_id_type),
        tenant_key=tenant_key,
    )
    return ExternalRewardResult(id=str((resp.data or {}).get("id") or ""), log_id=resp.log_id or "")


def delete_external_referral_reward(
    client: FeishuClient, reward_id: str, *, tenant_key: str | None = None
) -> FeishuResponse:
    # Deleting a reward that is gone already: the answer is UNCONFIRMED (§4.1); the caller
    # words a refusal after an attempt that may have reached Feishu accordingly.
    return client.request(
        "DELETE",
        f"{_HIRE}/external_referral_rewards/{quote(reward_id, safe='')}",
        endpoint="hire.external_referral_reward.delete",
        tenant_key=tenant_key,
    )
