"""A store app calls Feishu for one tenant at a time: each row's own, never another's."""

import pytest

from hireops.core.models import CallStatus
from hireops.events.models import FeishuEvent
from hireops.feishu import TenantUnavailable
from hireops.tenants.models import Tenant, TenantStatus
from referrals.accounts.pulls import pullable
from referrals.accounts.services import account_register, balance_pull, person
from referrals.handlers import assets_updated
from referrals.models import AccountStatus, ReferralAccount
from referrals.withdrawals.services import reconciliation_yesterday, withdrawal_request

pytestmark = pytest.mark.django_db(transaction=True)  # tasks run (eagerly) on commit

TOKEN_PATH = "/open-apis/auth/v3/tenant_access_token"
ACCOUNTS = "/open-apis/hire/v1/referral_account"


def register(email, tenant_key):
    account_register(person(email=email), tenant_key=tenant_key)
    account = ReferralAccount.objects.get(email=email)
    assert account.status == AccountStatus.ACTIVE, account.error
    return account


def test_each_call_goes_to_its_rows_tenant(store):
    acme = register("li@acme.example", "t-acme")
    globex = register("wang@globex.example", "t-globex")
    asked_for = [r["json"]["tenant_key"] for r in store.requests(TOKEN_PATH)]
    assert sorted(asked_for) == ["t-acme", "t-globex"]  # one token per tenant
    # The sandbox keeps each tenant's accounts apart: a pull with the other tenant's token
    # would be refused (1002553). Both succeed.
    assert balance_pull(acme.pk) and balance_pull(globex.pk)
    tokens = {r["headers"]["Authorization"] for r in store.requests(ACCOUNTS)}
    assert len(tokens) == 2


def test_a_tenant_that_stopped_the_app_gets_no_calls(store):
    acme = register("li@acme.example", "t-acme")
    globex = register("wang@globex.example", "t-globex")
    Tenant.objects.filter(tenant_key="t-globex").update(status=TenantStatus.SUSPENDED)
    store.clear_requests()

    assert list(pullable().values_list("pk", flat=True)) == [acme.pk]  # the schedule skips it
    with pytest.raises(TenantUnavailable) as exc:
        balance_pull(globex.pk)
    assert "t-globex" in exc.value.reason and "stopped the app" in exc.value.reason
    withdrawal = withdrawal_request(globex, [1])
    withdrawal.refresh_from_db()
    assert withdrawal.status == CallStatus.FAILED and "stopped the app" in withdrawal.error
    assert withdrawal.attempts <= 1
    runs = reconciliation_yesterday()
    assert [run.tenant_key for run in runs] == ["t-acme"]
    assert not [r for r in store.requests() if r["path"].startswith("/open-apis/auth/v3/tenant")]
    assert all(r["path"] != "/open-apis/hire/v1/referral_account/withdraw" for r in store.requests())


def test_calls_that_belong_together_read_the_tenants_state_once_and_only_within_their_block(store):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from hireops.tenants.gate import asked_once, tenant_gate

    register("li@acme.example", "t-acme")
    stopped = Tenant.objects.filter(tenant_key="t-acme")

    def gate_reads(calls):
        with CaptureQueriesContext(connection) as queries:
            calls()
        return sum(
            q["sql"].startswith("SELECT") and '"tenants_tenant"' in q["sql"] for q in queries.captured_queries
        )

    assert gate_reads(lambda: (tenant_gate("t-acme"), tenant_gate("t-acme"))) == 2  # each call asks

    def a_line():  # a payout line's balance read and withdrawal: asked once
        with asked_once():
            tenant_gate("t-acme")
            stopped.update(status=TenantStatus.SUSPENDED)  # stopped in between: not seen yet
            tenant_gate("t-acme")

    assert gate_reads(a_line) == 1
    with pytest.raises(TenantUnavailable), asked_once():  # the next line asks again: refused
        tenant_gate("t-acme")
    with pytest.raises(TenantUnavailable):  # and so is every call outside a block
        tenant_gate("t-acme")


def test_an_event_of_one_tenant_never_touches_anothers_account(store):
    acme = register("li@acme.example", "t-acme")
    event = FeishuEvent.objects.create(
        event_id="ev-1",
        schema="2.0",
        event_type="hire.referral_account.assets_update_v1",
        tenant_key="t-globex",  # acme's account id, in globex's event
        payload={
            "event": {
                "account_id": acme.account_id,
                "modify_time": "9999999999999",
                "assets": {"confirmed_bonus": {"point_bonus": 999}},
            }
        },
    )
    with pytest.raises(LookupError):
        assets_updated(event)
    acme.refresh_from_db()
    assert acme.points != 999


def test_a_store_app_call_without_a_tenant_fails_with_a_reason(store):
    account = ReferralAccount.objects.create(email="old@acme.example", account_id="old-1", status="active")
    with pytest.raises(TenantUnavailable) as exc:
        balance_pull(account.pk)  # a row from before the app became a store app: no tenant
    assert "none was given" in exc.value.reason


def test_staff_choose_the_tenant_of_a_new_account(store, admin_client):
    Tenant.objects.create(tenant_key="t-gone", status=TenantStatus.UNINSTALLED)
    page = admin_client.get("/admin/referrals/referralaccount/add/").content.decode()
    assert 'value="t-acme"' in page and 'value="t-gone"' not in page  # installed tenants only
    form = {
        "tenant_key": "t-acme",
        "name": "李",
        "mobile_code": "86",
        "mobile_number": "",
        "email": "li@acme.example",
    }
    assert admin_client.post("/admin/referrals/referralaccount/add/", form).status_code == 302
    account = ReferralAccount.objects.get(email="li@acme.example")
    assert (account.tenant_key, account.status) == ("t-acme", AccountStatus.ACTIVE)
    again = admin_client.post("/admin/referrals/referralaccount/add/", form)
    assert again.status_code == 200 and ReferralAccount.objects.count() == 1  # refused, with a message


def test_tenant_owned_lists_filter_by_tenant(store, admin_client):
    acme = register("li@acme.example", "t-acme")
    globex = register("wang@globex.example", "t-globex")
    for account in (acme, globex):
        withdrawal_request(account, [1])
    for url, rows in (
        ("/admin/referrals/referralaccount/", lambda cl: [a.email for a in cl.result_list]),
        ("/admin/referrals/withdrawal/", lambda cl: [w.account.email for w in cl.result_list]),
    ):
        assert "?tenant_key=t-globex" in admin_client.get(url).content.decode()
        response = admin_client.get(url + "?tenant_key=t-acme")
        assert rows(response.context["cl"]) == ["li@acme.example"], url


def test_the_sandbox_grants_a_bonus_in_a_tenant_from_the_command_line(store):
    import io

    from django.core.management import call_command

    acme = register("li@acme.example", "t-acme")
    out = io.StringIO()
    args = ["grant-bonus", acme.account_id, "--points", "5", "--tenant", "t-acme"]
    call_command("feishu_sandbox_ctl", "--url", store.url, *args, stdout=out)
    assert '"tenant_key": "t-acme"' in out.getvalue()
    assert balance_pull(acme.pk)
    acme.refresh_from_db()
    assert acme.points == 5


def test_a_bulk_action_over_two_tenants_becomes_one_job_per_tenant(store, admin_client, settings):
    from hireops.jobs.models import BulkJob, JobStatus
    from hireops.jobs.services import jobs_start
    from referrals import bulk

    settings.BULK_INLINE_MAX = 1  # two rows make a job
    acme, globex = register("li@acme.example", "t-acme"), register("wang@globex.example", "t-globex")
    withdrawals = [withdrawal_request(account, [1]) for account in (acme, globex)]
    selected = {"action": "deactivate", "_selected_action": [acme.pk, globex.pk]}
    response = admin_client.post("/admin/referrals/referralaccount/", selected)
    assert response["Location"] == "/admin/jobs/bulkjob/?kind=referrals.deactivate"
    jobs = {job.tenant_key: job for job in BulkJob.objects.all()}
    assert sorted(jobs) == ["t-acme", "t-globex"]
    for key, account in (("t-acme", acme), ("t-globex", globex)):
        assert jobs[key].status == JobStatus.DONE
        assert list(jobs[key].items.values_list("object_id", flat=True)) == [str(account.pk)]
        account.refresh_from_db()
        assert account.status == AccountStatus.DEACTIVATED, account.error

    listed = admin_client.get("/admin/jobs/bulkjob/?tenant_key=t-globex").context["cl"].result_list
    assert [job.tenant_key for job in listed] == ["t-globex"]

    # A withdrawal's tenant is its account's.
    retried = jobs_start(bulk.retry_withdrawal, withdrawals, {}, None)
    assert sorted(job.tenant_key for job in retried) == ["t-acme", "t-globex"]
