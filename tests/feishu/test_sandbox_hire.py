"""Every Hire function once against the sandbox, asserting what Feishu received and returned."""

import time
from decimal import Decimal

import pytest

from hireops.feishu import FeishuBusinessError, hire
from hireops.feishu.hire import BonusType, Cash, CustomField, CustomFieldScope, TradeDetail

FIELDS = "/open-apis/hire/v1/eco_account_custom_fields"


def _fields(sandbox, scope):
    for entry in sandbox.state()["custom_fields"]:
        if entry["tenant_key"] == "demo-tenant" and entry["scope"] == scope:
            return entry
    return None


def test_custom_fields_create_update_delete(sandbox, feishu):
    scope = CustomFieldScope.BACKGROUND_CHECK
    resp = hire.create_custom_fields(
        feishu,
        scope,
        [
            CustomField("org_id", "机构编号", "Org ID", is_required=True, description_zh="在供应商后台查看"),
            CustomField("api_token", "接口令牌", "API token"),
        ],
    )
    assert (resp.http_status, resp.data, resp.log_id) == (200, {}, sandbox.requests(FIELDS)[0]["logid"])
    sent = sandbox.requests(FIELDS)[0]["json"]
    assert sent == {
        "scope": 1,
        "custom_field_list": [
            {
                "key": "org_id",
                "name": {"zh_cn": "机构编号", "en_us": "Org ID"},
                "is_required": True,
                "description": {"zh_cn": "在供应商后台查看"},  # no empty language is sent
            },
            {"key": "api_token", "name": {"zh_cn": "接口令牌", "en_us": "API token"}, "is_required": False},
        ],
    }

    hire.batch_update_custom_fields(feishu, scope, [CustomField("api_token", "令牌", "Token")])
    stored = {f["key"]: f for f in _fields(sandbox, 1)["fields"]}
    assert stored["api_token"]["name"] == {"zh_cn": "令牌", "en_us": "Token"}
    assert sandbox.requests(FIELDS + "/batch_update")[0]["method"] == "PATCH"

    hire.batch_delete_custom_fields(feishu, scope, ["api_token"])
    entry = _fields(sandbox, 1)
    assert [f["key"] for f in entry["fields"]] == ["org_id"]
    assert entry["deleted_keys"] == ["api_token"]

    with pytest.raises(FeishuBusinessError) as exc:  # at least one field must remain
        hire.batch_delete_custom_fields(feishu, scope, ["org_id"])
    assert exc.value.code == 1002002
    assert _fields(sandbox, 2) is None  # the other scope is untouched


def test_referral_account_lifecycle(sandbox, feishu):
    by_mobile = hire.create_referral_account(feishu, mobile=("86", "13800001002"), user_id_type="user_id")
    assert sandbox.requests("/open-apis/hire/v1/referral_account")[0]["json"] == {
        "mobile": {"code": "86", "number": "13800001002"}
    }
    assert sandbox.requests("/open-apis/hire/v1/referral_account")[0]["query"] == {"user_id_type": "user_id"}
    assert by_mobile.referrer["id"] == "u1002" and by_mobile.status == hire.AccountStatus.ENABLED
    assert by_mobile.assets == hire.Bonus(0, [])

    account = hire.create_referral_account(feishu, email="fang.wang@demo.example")
    assert account.account_id != by_mobile.account_id
    sandbox.grant_bonus(
        account.account_id,
        point_bonus=120,
        cash=[{"currency_type": "CNY", "amount": "88.10"}, {"currency_type": "USD", "amount": 0.3}],
    )

    assets = hire.get_account_assets(feishu, account.account_id)
    assert assets.assets.point_bonus == 120
    assert assets.assets.cash == [Cash("CNY", Decimal("88.1")), Cash("USD", Decimal("0.3"))]
    assert all(isinstance(c.amount, Decimal) for c in assets.assets.cash)
    assert assets.referrer["email"] == "fang.wang@demo.example"

    start = int(time.time() * 1000) - 1000
    result = hire.withdraw(
        feishu,
        account.account_id,
        bonus_types=[BonusType.POINTS, BonusType.CASH],
        external_order_id="wd-0001",
    )
    assert result.external_order_id == "wd-0001"
    assert result.details.point_bonus == 120
    assert result.details.cash == [Cash("CNY", Decimal("88.1")), Cash("USD", Decimal("0.3"))]
    assert start < result.trans_time_ms <= int(time.time() * 1000)
    again = hire.withdraw(feishu, account.account_id, bonus_types=[1, 2], external_order_id="wd-0001")
    assert again == result  # idempotency key: the original withdrawal, nothing new
    assert hire.get_account_assets(feishu, account.account_id).assets == hire.Bonus(0, [])

    end = int(time.time() * 1000) + 1000
    mismatches = hire.reconcile(
        feishu,
        start_ms=start,
        end_ms=end,
        trade_details=[TradeDetail(account.account_id, 100), TradeDetail(by_mobile.account_id, 0)],
    )
    assert mismatches == [hire.ReconciliationMismatch(account.account_id, 120, 100)]
    assert (
        hire.reconcile(
            feishu, start_ms=start, end_ms=end, trade_details=[TradeDetail(account.account_id, 120)]
        )
        == []
    )

    off = hire.deactivate_referral_account(feishu, account.account_id)
    assert off.status == hire.AccountStatus.DEACTIVATED
    with pytest.raises(FeishuBusinessError) as exc:
        hire.withdraw(feishu, account.account_id, bonus_types=[1], external_order_id="wd-0002")
    assert exc.value.code == 1002555
    on = hire.enable_referral_account(feishu, account.account_id)
    assert on.status == hire.AccountStatus.ENABLED and on.account_id == account.account_id
    assert sandbox.requests("/open-apis/hire/v1/referral_account/enable")[0]["json"] == {
        "referral_account_id": account.account_id
    }


def test_ambiguous_user_is_1002552(sandbox, feishu):
    sandbox.add_employee("甲", mobile={"code": "86", "number": "13911110000"}, user_id="dup1")
    sandbox.add_employee("乙", mobile={"code": "86", "number": "13911110000"}, user_id="dup2")
    with pytest.raises(FeishuBusinessError) as exc:
        hire.create_referral_account(feishu, mobile=("86", "13911110000"))
    assert exc.value.code == 1002552


def test_create_needs_mobile_or_email(feishu):
    with pytest.raises(ValueError):
        hire.create_referral_account(feishu)
