"""Tokens against the sandbox over real HTTP: sharing, single-flight, refresh, store-app flow."""

import json
import os
import time

import pytest

from hireops.feishu import FeishuAuthError, FeishuBusinessError, crypto, get_client, hire, save_app_ticket

from .conftest import child_result, forget_tokens, start_child

INTERNAL = "/open-apis/auth/v3/tenant_access_token/internal"
ASSETS = "/open-apis/hire/v1/referral_account/get_account_assets"
EMAIL = "fang.wang@demo.example"  # seeded employee of demo-tenant

_TOKEN_IN_CHILD = """
from hireops.feishu import get_client, hire
start_at = float(sys.argv[1])
client = get_client()
time.sleep(max(0.0, start_at - time.time()))  # both children ask at the same instant
token = client.tokens.tenant_token()
account = hire.create_referral_account(client, email=sys.argv[2])
print(json.dumps({"token": token, "account_id": account.account_id}))
"""


@pytest.mark.parametrize("backend", ["file", "redis"])
@pytest.mark.processes
def test_two_processes_share_one_token_fetch(sandbox, feishu, settings, backend):
    if backend == "redis":
        if not os.environ.get("REDIS_URL"):
            pytest.skip("REDIS_URL is not set (CI sets it); the Redis backend is not exercised")
        settings.FEISHU_COORDINATION_URL = os.environ["REDIS_URL"]
        feishu = get_client()
        forget_tokens(feishu)
    # A slow token endpoint widens the race: without single-flight both children would fetch.
    sandbox.add_fault(INTERNAL, "slow", count=2, delay=0.5)
    start_at = f"{time.time() + 3.0:.3f}"
    children = [start_child(_TOKEN_IN_CHILD, start_at, EMAIL) for _ in range(2)]
    results = [child_result(p) for p in children]

    token_calls = sandbox.requests(INTERNAL)
    assert len(token_calls) == 1
    assert results[0]["token"] == results[1]["token"]
    assert results[0]["account_id"] == results[1]["account_id"]
    create_calls = sandbox.requests("/open-apis/hire/v1/referral_account")
    assert [c["status"] for c in create_calls] == [200, 200]
    assert {c["headers"]["Authorization"] for c in create_calls} == {f"Bearer {results[0]['token']}"}
    # This process now finds the same token in the shared cache: still one fetch.
    assert feishu.tokens.tenant_token() == results[0]["token"]
    assert len(sandbox.requests(INTERNAL)) == 1


def test_token_refreshed_before_it_runs_out(sandbox, clocked):
    client = clocked.client
    account = hire.create_referral_account(client, email=EMAIL)  # a 2-hour token
    clocked.advance(6600 - 10)  # 10 s before our refresh time, 600 s before expiry
    hire.get_account_assets(client, account.account_id)
    assert len(sandbox.requests(INTERNAL)) == 1  # still the cached token
    clocked.advance(20)  # 590 s left: we refresh, and Feishu's rule (< 1800 s left) gives a new one
    hire.get_account_assets(client, account.account_id)
    assert len(sandbox.requests(INTERNAL)) == 2
    clocked.advance(600)  # the first token is dead by now; the second one is what we send
    hire.get_account_assets(client, account.account_id)

    assert len(sandbox.requests(INTERNAL)) == 2
    calls = sandbox.requests("/open-apis/hire/v1/referral_account") + sandbox.requests(ASSETS)
    assert [c["code"] for c in calls] == [0, 0, 0, 0]  # never sent an expired token
    first, before, after, later = (c["headers"]["Authorization"] for c in calls)
    assert first == before != after == later


def test_rejected_token_99991663_is_refreshed_and_retried_once(sandbox, feishu):
    account = hire.create_referral_account(feishu, email=EMAIL)
    sandbox.expire_tokens()

    assert hire.get_account_assets(feishu, account.account_id).account_id == account.account_id
    assert [c["code"] for c in sandbox.requests(ASSETS)] == [99991663, 0]
    assert len(sandbox.requests(INTERNAL)) == 2


def test_wrong_secret_is_a_non_retryable_auth_error(sandbox, feishu, settings):
    settings.FEISHU_APP_SECRET = "not-the-secret"
    client = get_client()
    assert client is not feishu  # settings changed: a new client
    forget_tokens(client)
    with pytest.raises(FeishuAuthError) as exc:
        hire.get_account_assets(client, "123")
    err = exc.value
    assert (err.code, err.http_status, err.retryable) == (10015, 400, False)
    assert err.log_id == sandbox.requests(INTERNAL)[0]["logid"]
    assert "not-the-secret" not in str(err)
    assert len(sandbox.requests(INTERNAL)) == 1  # a config error is not retried


@pytest.fixture
def store_app(settings, sandbox, coordination_dir, db):  # db: the tenant gate reads the tenants
    settings.FEISHU_APP_TYPE = "store"
    client = get_client()
    forget_tokens(client)
    yield client
    forget_tokens(client)


def _ticket_saver(sandbox):
    encrypt_key = sandbox.config().get("encrypt_key") or ""

    def handle(request):
        body = request["json"] if isinstance(request, dict) else json.loads(request.body)
        if "encrypt" in body:
            body = json.loads(crypto.decrypt(body["encrypt"], encrypt_key))
        event = body.get("event") or {}
        if event.get("type") == "app_ticket":
            save_app_ticket(event["app_id"], event["app_ticket"])
        return 200

    return handle


def test_store_app_flow_end_to_end(sandbox, store_app, webhook_receiver):
    webhook_receiver.handler = _ticket_saver(sandbox)
    sandbox.configure(webhook_url=webhook_receiver.url)
    acme = hire.create_referral_account(store_app, email="li.sun@acme.example", tenant_key="acme-tenant")

    paths = [c["path"] for c in sandbox.requests()]
    assert paths == [
        "/open-apis/auth/v3/app_ticket/resend",  # no ticket cached yet
        "/open-apis/auth/v3/app_access_token",
        "/open-apis/auth/v3/tenant_access_token",
        "/open-apis/hire/v1/referral_account",
    ]
    assert webhook_receiver.wait_for(1, timeout=5)  # the ticket came through our webhook handler
    log = sandbox.requests()
    app_token = log[2]["json"]["app_access_token"]
    assert app_token.startswith("a-")
    assert log[2]["json"] == {"app_access_token": app_token, "tenant_key": "acme-tenant"}
    assert acme.referrer["email"] == "li.sun@acme.example"

    # A second tenant: new tenant token, same app token, no new ticket.
    hire.get_account_assets(store_app, acme.account_id, tenant_key="acme-tenant")
    globex_log_start = len(sandbox.requests())
    with pytest.raises(FeishuBusinessError) as exc:  # acme's account is not globex's
        hire.get_account_assets(store_app, acme.account_id, tenant_key="globex-tenant")
    assert exc.value.code == 1002553
    later = sandbox.requests()[globex_log_start:]
    assert [c["path"] for c in later] == ["/open-apis/auth/v3/tenant_access_token", ASSETS]
    assert later[0]["json"]["tenant_key"] == "globex-tenant"
    assert later[0]["json"]["app_access_token"] == log[2]["json"]["app_access_token"]
    tokens = {c["headers"]["Authorization"] for c in sandbox.requests(ASSETS)}
    assert len(tokens) == 2  # one tenant token per tenant_key


def test_store_app_stale_ticket_10012_triggers_resend(sandbox, store_app, webhook_receiver):
    webhook_receiver.handler = _ticket_saver(sandbox)
    sandbox.configure(webhook_url=webhook_receiver.url)
    save_app_ticket(store_app.app_id, "a-ticket-feishu-never-issued")
    hire.create_referral_account(store_app, email="li.sun@acme.example", tenant_key="acme-tenant")
    assert [(c["path"].rsplit("/", 1)[-1], c["code"]) for c in sandbox.requests()][:3] == [
        ("app_access_token", 10012),
        ("resend", 0),
        ("app_access_token", 0),
    ]


def test_store_app_ticket_that_never_arrives_is_a_retryable_error(sandbox, store_app):
    store_app.tokens.ticket_wait = 0.5  # nobody receives the push: no webhook configured
    with pytest.raises(FeishuAuthError) as exc:
        hire.get_account_assets(store_app, "1", tenant_key="acme-tenant")
    assert exc.value.retryable and "app_ticket has not arrived" in str(exc.value)
    assert [c["path"] for c in sandbox.requests()] == ["/open-apis/auth/v3/app_ticket/resend"]


def test_cold_start_waits_for_the_ticket_and_asks_feishu_once(sandbox, store_app, webhook_receiver):
    """After a restart no ticket is cached and Feishu takes its time to push one: calls fail
    retryably (the task's backoff retries them) without holding a worker, ask for one resend
    between them, and succeed once the ticket has arrived."""
    webhook_receiver.handler = _ticket_saver(sandbox)
    sandbox.configure(webhook_url=webhook_receiver.url, ticket_resend_delay=1.0)
    store_app.tokens.ticket_wait = 0.1
    for _ in range(2):
        with pytest.raises(FeishuAuthError) as exc:
            hire.create_referral_account(store_app, email="li.sun@acme.example", tenant_key="acme-tenant")
        assert exc.value.retryable and "app_ticket has not arrived" in str(exc.value)
    assert [c["path"] for c in sandbox.requests()] == ["/open-apis/auth/v3/app_ticket/resend"]
    assert webhook_receiver.wait_for(1, timeout=5)  # a second later, as configured
    acme = hire.create_referral_account(store_app, email="li.sun@acme.example", tenant_key="acme-tenant")
    assert acme.referrer["email"] == "li.sun@acme.example"
    paths = [c["path"] for c in sandbox.requests()]
    assert paths.count("/open-apis/auth/v3/app_ticket/resend") == 1
    assert paths[-1] == "/open-apis/hire/v1/referral_account"
