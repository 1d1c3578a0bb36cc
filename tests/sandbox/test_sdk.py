"""The official lark-oapi SDK works unchanged against the sandbox."""

# The SDK is imported by each test that uses it: it loads 11,000 modules, 5 s of CPU, which
# every test process would pay at collection, whether or not it runs these tests.

import threading

import pytest
from django.conf import settings

KEY, VTOKEN = "sdk-encrypt-key", "sdk-verification-token"


@pytest.fixture
def client(sandbox):
    import lark_oapi as lark

    return (
        lark.Client.builder()
        .app_id(settings.FEISHU_APP_ID)
        .app_secret(settings.FEISHU_APP_SECRET)
        .domain(sandbox.url)
        .log_level(lark.LogLevel.ERROR)
        .build()
    )


def _logid_matches(sandbox, resp, path):
    assert resp.get_log_id() == sandbox.requests(path)[-1]["logid"]


def test_sdk_referral_round_trip(sandbox, client):
    from lark_oapi.api.hire.v1 import (
        CreateReferralAccountRequest,
        CreateReferralAccountRequestBody,
        DeactivateReferralAccountRequest,
        EnableReferralAccountRequest,
        EnableReferralAccountRequestBody,
        GetAccountAssetsReferralAccountRequest,
        Mobile,
        ReconciliationReferralAccountRequest,
        ReconciliationReferralAccountRequestBody,
        WithdrawReferralAccountRequest,
        WithdrawReferralAccountRequestBody,
    )

    create = client.hire.v1.referral_account.create(
        CreateReferralAccountRequest.builder()
        .user_id_type("user_id")
        .request_body(
            CreateReferralAccountRequestBody.builder()
            .mobile(Mobile.builder().code("86").number("13800001002").build())
            .build()
        )
        .build()
    )
    assert create.success(), (create.code, create.msg)
    account = create.data.account
    assert account.status == 1 and account.referrer.id == "u1002" and account.referrer.name.zh_cn == "李娜"
    _logid_matches(sandbox, create, "/open-apis/hire/v1/referral_account")
    sent = sandbox.requests("/open-apis/hire/v1/referral_account")[-1]
    assert sent["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert sent["query"] == {"user_id_type": "user_id"}

    sandbox.grant_bonus(
        account.account_id, point_bonus=100, cash=[{"currency_type": "CNY", "amount": "12.50"}]
    )
    got = client.hire.v1.referral_account.get_account_assets(
        GetAccountAssetsReferralAccountRequest.builder().referral_account_id(account.account_id).build()
    )
    assert got.success()
    bonus = got.data.account.assets.confirmed_bonus
    assert bonus.point_bonus == 100
    assert (bonus.cash_bonus[0].currency_type, bonus.cash_bonus[0].amount) == ("CNY", 12.5)

    wd = client.hire.v1.referral_account.withdraw(
        WithdrawReferralAccountRequest.builder()
        .referral_account_id(account.account_id)
        .request_body(
            WithdrawReferralAccountRequestBody.builder()
            .withdraw_bonus_type([1, 2])
            .external_order_id("sdk-order-1")
            .build()
        )
        .build()
    )
    assert wd.success()
    assert wd.data.external_order_id == "sdk-order-1" and wd.data.trans_time.isdigit()
    assert wd.data.withdrawal_details.point_bonus == 100
    assert wd.data.withdrawal_details.cash_bonus[0].amount == 12.5

    rec = client.hire.v1.referral_account.reconciliation(
        ReconciliationReferralAccountRequest.builder()
        .request_body(
            ReconciliationReferralAccountRequestBody.builder()
            .start_trans_time("0")
            .end_trans_time(str(int(wd.data.trans_time) + 1))
            .trade_details([])
            .build()
        )
        .build()
    )
    assert rec.success()
    assert [f.account_id for f in rec.data.check_failed_list] == [account.account_id]
    assert rec.data.check_failed_list[0].total_withdraw_reward_info.point_bonus == 100

    off = client.hire.v1.referral_account.deactivate(
        DeactivateReferralAccountRequest.builder().referral_account_id(account.account_id).build()
    )
    assert off.success() and off.data.account.status == 2
    on = client.hire.v1.referral_account.enable(
        EnableReferralAccountRequest.builder()
        .request_body(
            EnableReferralAccountRequestBody.builder().referral_account_id(account.account_id).build()
        )
        .build()
    )
    assert on.success() and on.data.account.status == 1

    nobody = client.hire.v1.referral_account.create(
        CreateReferralAccountRequest.builder()
        .request_body(CreateReferralAccountRequestBody.builder().email("ghost@demo.example").build())
        .build()
    )
    assert not nobody.success() and nobody.code == 1002551 and nobody.get_log_id()


def _fields(*keys, zh="字段"):
    from lark_oapi.api.hire.v1 import EcoAccountCustomField, EcoAccountCustomFieldData, I18n

    return (
        EcoAccountCustomField.builder()
        .scope(1)
        .custom_field_list(
            [
                EcoAccountCustomFieldData.builder()
                .key(k)
                .name(I18n.builder().zh_cn(zh).en_us("Field").build())
                .is_required(True)
                .description(I18n.builder().zh_cn("提示").build())
                .build()
                for k in keys
            ]
        )
        .build()
    )


def test_sdk_custom_fields(sandbox, client):
    from lark_oapi.api.hire.v1 import (
        BatchDeleteEcoAccountCustomFieldRequest,
        BatchDeleteEcoAccountCustomFieldRequestBody,
        BatchUpdateEcoAccountCustomFieldRequest,
        CreateEcoAccountCustomFieldRequest,
    )

    api = client.hire.v1.eco_account_custom_field
    created = api.create(CreateEcoAccountCustomFieldRequest.builder().request_body(_fields("a", "b")).build())
    assert created.success() and created.get_log_id()
    updated = api.batch_update(
        BatchUpdateEcoAccountCustomFieldRequest.builder().request_body(_fields("a", zh="新名字")).build()
    )
    assert updated.success()
    deleted = api.batch_delete(
        BatchDeleteEcoAccountCustomFieldRequest.builder()
        .request_body(
            BatchDeleteEcoAccountCustomFieldRequestBody.builder()
            .scope(1)
            .custom_field_key_list(["b"])
            .build()
        )
        .build()
    )
    assert deleted.success()
    slot = sandbox.state()["custom_fields"][0]
    assert [(f["key"], f["name"]["zh_cn"]) for f in slot["fields"]] == [("a", "新名字")]
    refused = api.batch_delete(
        BatchDeleteEcoAccountCustomFieldRequest.builder()
        .request_body(
            BatchDeleteEcoAccountCustomFieldRequestBody.builder()
            .scope(1)
            .custom_field_key_list(["a"])
            .build()
        )
        .build()
    )
    assert not refused.success() and refused.code == 1002002


def _django_glue(handler):
    """docs/feishu.md §6.5: RawRequest from the raw body and Title-Case headers, as a Django view does."""
    from lark_oapi.core.model import RawRequest

    def handle(recorded):
        raw = RawRequest()
        raw.uri = recorded.uri
        raw.body = recorded.body
        raw.headers = {k.title(): v for k, v in recorded.headers.items()}  # what dict(request.headers) gives
        resp = handler.do(raw)
        return resp.status_code, resp.content

    return handle


def test_sdk_dispatcher_accepts_signed_encrypted_pushes(sandbox, webhook_receiver):
    import lark_oapi as lark

    got, done = {}, threading.Event()

    def keep(name):
        def fn(data):
            got[name] = data
            if len(got) == 3:
                done.set()

        return fn

    handler = (
        lark.EventDispatcherHandler.builder(KEY, VTOKEN)
        .register_p2_hire_referral_account_assets_update_v1(keep("assets"))
        .register_p2_hire_eco_account_created_v1(keep("eco"))
        .register_p1_customized_event("app_ticket", keep("ticket"))
        .build()
    )
    webhook_receiver.handler = _django_glue(handler)
    sandbox.configure(webhook_url=webhook_receiver.url, encrypt_key=KEY, verification_token=VTOKEN)

    from .helpers import create_account, tenant_token

    aid = create_account(sandbox, tenant_token(sandbox), email="jing.chen@demo.example")["account_id"]
    assets_event = sandbox.grant_bonus(
        aid, point_bonus=42, cash=[{"currency_type": "CNY", "amount": "1.50"}]
    )["event"]
    eco_event = sandbox.bind_account(
        scope=1, account_name="背调账号 001", custom_field_list=[{"key": "account_token", "value": "ABC123"}]
    )
    ticket_event = sandbox.push_app_ticket()
    assert done.wait(10), got

    assets = got["assets"]
    assert assets.header.event_id == assets_event["header"]["event_id"]
    assert assets.header.event_type == "hire.referral_account.assets_update_v1"
    assert assets.event.account_id == aid
    assert assets.event.assets.confirmed_bonus.point_bonus == 42
    assert assets.event.assets.confirmed_bonus.cash_bonus[0].amount == 1.5
    eco = got["eco"]
    assert eco.header.event_id == eco_event["header"]["event_id"]
    assert (eco.event.scope, eco.event.account_name) == (1, "背调账号 001")
    assert eco.event.custom_field_list[0].key == "account_token"
    assert eco.event.custom_field_list[0].value == "ABC123"
    ticket = got["ticket"]
    assert ticket.event["app_ticket"] == ticket_event["event"]["app_ticket"]
    assert sandbox.server.pusher.wait_idle()
    assert [d["status"] for d in sandbox.deliveries()] == [200, 200, 200]


def test_sdk_dispatcher_rejects_a_wrong_token_so_the_sandbox_retries(sandbox, webhook_receiver):
    import lark_oapi as lark

    handler = (
        lark.EventDispatcherHandler.builder(KEY, "not-the-token")
        .register_p2_hire_referral_account_assets_update_v1(lambda data: None)
        .build()
    )
    webhook_receiver.handler = _django_glue(handler)
    sandbox.configure(
        webhook_url=webhook_receiver.url,
        encrypt_key=KEY,
        verification_token=VTOKEN,
        retry_delays=[0.1, 0.1, 0.1, 0.1],
    )
    from .helpers import create_account, tenant_token

    aid = create_account(sandbox, tenant_token(sandbox), email="jing.chen@demo.example")["account_id"]
    sandbox.grant_bonus(aid, point_bonus=1)
    webhook_receiver.wait_for(5)
    assert sandbox.server.pusher.wait_idle()
    assert [d["status"] for d in sandbox.deliveries()] == [500] * 5


def test_sdk_store_app_flow_calls_each_tenant_with_its_own_token(sandbox):
    """A store (ISV) app as the SDK does it: the app ticket Feishu pushed, then an app token
    and a tenant token per tenant named in each request's options (docs/feishu-api.md §1.2)."""
    import lark_oapi as lark
    from lark_oapi.api.hire.v1 import (
        CreateReferralAccountRequest,
        CreateReferralAccountRequestBody,
        GetAccountAssetsReferralAccountRequest,
        Mobile,
    )
    from lark_oapi.core.model import RequestOption

    for tenant_key, mobile in (("t-sdk-a", "13900000001"), ("t-sdk-b", "13900000002")):
        sandbox.add_employee(f"员工{tenant_key}", mobile=mobile, tenant_key=tenant_key)
    ticket = sandbox.push_app_ticket()["event"]["app_ticket"]
    client = (
        lark.Client.builder()
        .app_id(settings.FEISHU_APP_ID)
        .app_secret(settings.FEISHU_APP_SECRET)
        .app_type(lark.AppType.ISV)
        .domain(sandbox.url)
        .log_level(lark.LogLevel.ERROR)
        .build()
    )

    def in_tenant(tenant_key):
        return RequestOption.builder().app_ticket(ticket).tenant_key(tenant_key).build()

    def register(mobile, tenant_key):
        body = CreateReferralAccountRequestBody.builder().mobile(
            Mobile.builder().code("86").number(mobile).build()
        )
        request = CreateReferralAccountRequest.builder().request_body(body.build()).build()
        return client.hire.v1.referral_account.create(request, in_tenant(tenant_key))

    created = register("13900000001", "t-sdk-a")
    assert created.success(), (created.code, created.msg)
    elsewhere = register("13900000001", "t-sdk-b")  # that mobile is no employee of tenant b
    assert not elsewhere.success()
    assert register("13900000002", "t-sdk-b").success()
    token_calls = sandbox.requests("/open-apis/auth/v3/tenant_access_token")
    assert sorted(c["json"]["tenant_key"] for c in token_calls) == ["t-sdk-a", "t-sdk-b"]
    assert [c["json"]["app_ticket"] for c in sandbox.requests("/open-apis/auth/v3/app_access_token")] == [
        ticket
    ]
    assets = GetAccountAssetsReferralAccountRequest.builder().referral_account_id(
        created.data.account.account_id
    )
    assert client.hire.v1.referral_account.get_account_assets(assets.build(), in_tenant("t-sdk-a")).success()
    other = client.hire.v1.referral_account.get_account_assets(assets.build(), in_tenant("t-sdk-b"))
    assert not other.success()  # tenant b's token cannot read tenant a's account
