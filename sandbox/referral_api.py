"""Hire: referral accounts (docs/feishu.md §4).

Accounts are per tenant, one per employee of the directory. Every balance
change pushes ``hire.referral_account.assets_update_v1`` with the balance
after the change (none while the account is deactivated).
"""

from typing import Any

from .hire_api import bad, ok
from .state import USER_ID_TYPES, ApiError, money


def _user_id_type(call) -> str:
    uid_type = call.query.get("user_id_type") or "open_id"
    if uid_type not in USER_ID_TYPES:
        raise bad(f"user_id_type must be one of {', '.join(USER_ID_TYPES)}")
    return uid_type


def create(sb, call):
    uid_type = _user_id_type(call)
    mobile, email = call.body.get("mobile"), call.body.get("email")
    if mobile is not None:
        if not isinstance(mobile, dict) or not str(mobile.get("number") or "").strip():
            raise bad("mobile.number is required when mobile is given")
        mobile = {
            "code": str(mobile.get("code") or "86").lstrip("+"),
            "number": str(mobile["number"]).strip(),
        }
    if email is not None and not isinstance(email, str):
        raise bad("email must be a string")
    if not mobile and not (email or "").strip():
        raise bad("one of mobile or email is required")
    matches = sb.state.match_employees(call.tenant_key, mobile, email)
    if not matches:
        raise ApiError(1002551, "user does not exist: no employee has this mobile or email")
    if len(matches) > 1:
        raise ApiError(
            1002552, "cannot match a unique user: the mobile or email belongs to several employees"
        )
    account = sb.state.account_for(matches[0])
    return ok({"account": account.to_json(uid_type)})


def get_account_assets(sb, call):
    uid_type = _user_id_type(call)
    account_id = call.query.get("referral_account_id")
    if not account_id:
        raise bad("referral_account_id is required")
    return ok({"account": sb.state.get_account(call.tenant_key, account_id).to_json(uid_type)})


def withdraw(sb, call):
    types = call.body.get("withdraw_bonus_type")
    if not isinstance(types, list) or not types or any(isinstance(t, bool) or t not in (1, 2) for t in types):
        raise bad("withdraw_bonus_type is required: a list of 1 (points) and/or 2 (cash)")
    order_id = call.body.get("external_order_id")
    if not isinstance(order_id, str) or not order_id.strip():
        raise bad("external_order_id is required")
    st = sb.state
    with st.lock:
        acc = st.get_account(call.tenant_key, call.params["referral_account_id"])
        prior = st.withdraw_orders.get((call.tenant_key, order_id))
        if prior is not None:
            # Idempotency key: the original answer again, nothing withdrawn.
            return ok(prior)
        if acc.status != 1:
            raise ApiError(1002555, "referral account is deactivated and cannot withdraw")
        points = acc.points if 1 in types else 0
        cash = {c: a for c, a in acc.cash.items() if a} if 2 in types else {}
        if 1 in types:
            acc.points = 0
        if 2 in types:
            acc.cash = {}
        trans_time = st.clock.ms()
        acc.withdrawals.append((trans_time, points, cash))
        # CHOICE: withdrawal_details always carries point_bonus and cash_bonus (0 / [] if not selected).
        result = {
            "external_order_id": order_id,
            "trans_time": str(trans_time),
            "withdrawal_details": {
                "point_bonus": points,
                "cash_bonus": [{"currency_type": c, "amount": float(a)} for c, a in sorted(cash.items())],
            },
        }
        st.withdraw_orders[(call.tenant_key, order_id)] = result
        if points or cash:
            sb.emit_assets_update(acc)
    return ok(result)


def _ms(body: dict, name: str) -> int:
    value = body.get(name)
    if isinstance(value, bool) or not str(value or "").strip().isdigit():
        raise bad(f"{name} is required: a millisecond timestamp string")
    return int(value)  # type: ignore[arg-type]  # digits: tested above


def reconciliation(sb, call):
    start, end = _ms(call.body, "start_trans_time"), _ms(call.body, "end_trans_time")
    if start > end:
        raise bad("start_trans_time must not be after end_trans_time")
    details = call.body.get("trade_details") or []
    if not isinstance(details, list):
        raise bad("trade_details must be a list")
    st = sb.state
    with st.lock:
        theirs: dict[str, int] = {}
        for i, item in enumerate(details):
            if not isinstance(item, dict) or not item.get("account_id"):
                raise bad(f"trade_details[{i}].account_id is required")
            acc = st.get_account(call.tenant_key, item["account_id"])
            info = item.get("total_recharge_reward_info") or {}
            try:
                points = int(info.get("point_bonus") or 0)
            except (TypeError, ValueError):
                raise bad(
                    f"trade_details[{i}].total_recharge_reward_info.point_bonus must be an integer"
                ) from None
            theirs[acc.account_id] = theirs.get(acc.account_id, 0) + points
        ours: dict[str, int] = {}
        for acc in st.accounts.values():
            hits = [p for t, p, _ in acc.withdrawals if start <= t <= end]
            if acc.tenant_key == call.tenant_key and hits:
                ours[acc.account_id] = sum(hits)
    # CHOICE: an account with withdrawals in the window that the caller did not list is a mismatch too.
    failed = []
    for account_id in sorted(set(theirs) | set(ours)):
        if ours.get(account_id, 0) == theirs.get(account_id, 0):
            continue
        entry: dict[str, Any] = {"account_id": account_id}
        if account_id in ours:
            entry["total_withdraw_reward_info"] = {"point_bonus": ours[account_id]}
        if account_id in theirs:
            entry["total_recharge_reward_info"] = {"point_bonus": theirs[account_id]}
        failed.append(entry)
    return ok({"check_failed_list": failed})


def _set_status(sb, call, account_id, status: int):
    uid_type = _user_id_type(call)
    with sb.state.lock:
        acc = sb.state.get_account(call.tenant_key, account_id)
        acc.status = status
        return ok({"account": acc.to_json(uid_type)})


def enable(sb, call):
    account_id = call.body.get("referral_account_id")
    if not account_id:
        raise bad("referral_account_id is required")
    return _set_status(sb, call, account_id, 1)


def deactivate(sb, call):
    return _set_status(sb, call, call.params["referral_account_id"], 2)


def grant(sb, account_id: str, point_bonus: int = 0, cash=None, tenant_key=None):
    """Control API: credit (or debit) a balance as Hire does when a referral bonus is confirmed."""
    st = sb.state
    with st.lock:
        acc = st.get_account(tenant_key, account_id)
        points = acc.points + int(point_bonus or 0)
        balance = dict(acc.cash)
        for item in cash or []:
            cur = str(item["currency_type"])
            balance[cur] = money(balance.get(cur, 0)) + money(item["amount"])
        if points < 0 or any(v < 0 for v in balance.values()):
            raise ValueError("a balance cannot go below zero")
        acc.points, acc.cash = points, balance
        event = sb.emit_assets_update(acc)
        return acc.to_json(), event


_P = "/open-apis/hire/v1/referral_account"
_HIRE = {"kind": "openapi", "auth": True}
_ID = r"(?P<referral_account_id>[^/]+)"
ROUTES = [
    ("POST", _P, create, {**_HIRE, "api": "referral_account.create"}),
    (
        "GET",
        _P + "/get_account_assets",
        get_account_assets,
        {**_HIRE, "api": "referral_account.get_account_assets"},
    ),
    ("POST", _P + "/reconciliation", reconciliation, {**_HIRE, "api": "referral_account.reconciliation"}),
    ("POST", _P + "/enable", enable, {**_HIRE, "api": "referral_account.enable"}),
    ("POST", _P + f"/{_ID}/withdraw", withdraw, {**_HIRE, "api": "referral_account.withdraw"}),
    ("POST", _P + f"/{_ID}/deactivate", deactivate, {**_HIRE, "api": "referral_account.deactivate"}),
]
