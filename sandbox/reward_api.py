"""Hire: external referral rewards (docs/feishu.md §4.1), imported from another system.

A reward is kept per tenant under Feishu's id, and found again by the caller's
``external_id``. Validation failures answer 400 / 1002002 naming the field (the Hire-wide
"parameter error"; which codes Feishu really uses here is UNCONFIRMED). Rewards do not move
the referral account's balance in the sandbox (CHOICE: whether and when Hire adds a
confirmed import to ``confirmed_bonus`` is not documented).
"""

from decimal import Decimal, InvalidOperation

from .hire_api import bad, ok
from .state import USER_ID_TYPES, ApiError

RULE_TYPES = (1, 2, 3, 4, 5)  # onboard, process, activity, open source, other
STAGES = (1, 2, 3)  # to be confirmed, confirmed, paid
NOT_FOUND = 1002002  # CHOICE: an unknown reward id is a parameter error too


def _int(body: dict, name: str, allowed) -> int:
    value = body.get(name)
    if isinstance(value, bool) or value not in allowed:
        raise bad(f"{name} is required and must be one of {', '.join(map(str, allowed))}")
    return value  # type: ignore[return-value]  # one of ``allowed``


def _text(body: dict, name: str, required: bool = False) -> str:
    value = body.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise bad(
            f"{name} is required and must be a non-empty string" if required else f"{name} must be a string"
        )
    return value


def _ms(body: dict, name: str) -> None:
    value = body.get(name)
    if value is not None and (not isinstance(value, str) or not value.isdigit()):
        raise bad(f"{name} must be a millisecond timestamp string")


def _bonus(body: dict) -> dict:
    bonus = body.get("bonus")
    if not isinstance(bonus, dict):
        raise bad("bonus is required")
    kind = _int(bonus, "bonus_type", (1, 2))
    if kind == 1:
        points = bonus.get("point_bonus")
        if isinstance(points, bool) or not isinstance(points, int) or points < 0:
            raise bad("bonus.point_bonus is required for points and must be a non-negative integer")
        return {"bonus_type": 1, "point_bonus": points}
    cash = bonus.get("cash")
    if (
        not isinstance(cash, dict)
        or not isinstance(cash.get("currency_type"), str)
        or not cash["currency_type"]
    ):
        raise bad("bonus.cash.currency_type is required for cash")
    try:
        amount = Decimal(str(cash.get("amount")))
    except InvalidOperation:
        amount = None
    if isinstance(cash.get("amount"), bool) or amount is None or not amount.is_finite() or amount < 0:
        raise bad("bonus.cash.amount is required for cash and must be a non-negative number")
    return {"bonus_type": 2, "cash": {"currency_type": cash["currency_type"], "amount": float(amount)}}


def create(sb, call):
    uid_type = call.query.get("user_id_type") or "open_id"
    if uid_type not in USER_ID_TYPES:
        raise bad(f"user_id_type must be one of {', '.join(USER_ID_TYPES)}")
    body = call.body
    referrer = _text(body, "referral_user_id", required=True)
    external_id = _text(body, "external_id", required=True)
    _int(body, "rule_type", RULE_TYPES)
    _int(body, "stage", STAGES)
    bonus = _bonus(body)
    application_id, talent_id = _text(body, "application_id"), _text(body, "talent_id")
    if not application_id and not talent_id:
        raise bad("one of application_id or talent_id is required")
    for name in ("create_user_id", "confirm_user_id", "pay_user_id", "job_id", "reason", "comment"):
        _text(body, name)
    for name in ("create_time", "confirm_time", "pay_time", "onboard_time", "conversion_time"):
        _ms(body, name)
    st = sb.state
    with st.lock:
        known = st.reward_by_external.get((call.tenant_key, external_id))
        if known is not None:
            # CHOICE: external_id is "for idempotency only": a repeat answers the first
            # reward's id and creates nothing, whatever else the body says.
            return ok({"id": known})
        # CHOICE: application and talent ids are not checked (the sandbox has no talent pool);
        # the referrer must be an employee of the tenant.
        if not any(e["tenant_key"] == call.tenant_key and e.get(uid_type) == referrer for e in st.employees):
            raise bad(f"referral_user_id {referrer!r} is not a user of this tenant ({uid_type})")
        reward_id = st.new_account_id()  # the same 19-digit shape as Feishu's other ids
        st.external_rewards[reward_id] = {
            "id": reward_id,
            "tenant_key": call.tenant_key,
            "external_id": external_id,
            "referral_user_id": referrer,
            "user_id_type": uid_type,
            "bonus": bonus,
            "body": dict(body),
            "deleted": False,
            "created_ms": st.clock.ms(),
        }
        st.reward_by_external[(call.tenant_key, external_id)] = reward_id
    return ok({"id": reward_id})


def delete(sb, call):
    reward_id = call.params["external_referral_reward_id"]
    st = sb.state
    with st.lock:
        reward = st.external_rewards.get(reward_id)
        if reward is None or reward["tenant_key"] != call.tenant_key:
            raise ApiError(NOT_FOUND, f"param error: external referral reward {reward_id!r} does not exist")
        # CHOICE: deleting a deleted reward succeeds again (a retry after a lost answer).
        reward["deleted"] = True
    return ok()


_P = "/open-apis/hire/v1/external_referral_rewards"
_HIRE = {"kind": "openapi", "auth": True}
ROUTES = [
    ("POST", _P, create, {**_HIRE, "api": "external_referral_reward.create"}),
    (
        "DELETE",
        _P + r"/(?P<external_referral_reward_id>[^/]+)",
        delete,
        {**_HIRE, "api": "external_referral_reward.delete"},
    ),
]
