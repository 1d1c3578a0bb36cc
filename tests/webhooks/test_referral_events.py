"""HR's events reach partners' endpoints: balances changed in Feishu, a payout run's life
(awaiting approval, approved, paid) against the sandbox, a run spanning tenants read as a key
limited to tenants reads it, and accounts deactivated."""

import pytest

from hireops.feishu import FeishuBusinessError
from hireops.webhooks import endpoints
from hireops.webhooks.models import WebhookEvent
from referrals.models import PayoutRunStatus
from referrals.payouts import services as payouts
from referrals.withdrawals import services as withdrawals
from tests.api.keys import bearer, make_key
from tests.referrals.test_payouts import cny, people, with_cash  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def _types() -> list[str]:
    return list(WebhookEvent.objects.order_by("pk").values_list("type", flat=True))


def test_a_payout_run_told_from_preparation_to_paid(client, receiver, people, with_cash):  # noqa: F811
    endpoints.create(
        url=receiver.url,
        event_types=["payout_run.awaiting_approval", "payout_run.approved", "payout_run.paid"],
        scopes=["payouts:read"],
    )
    limited, _ = endpoints.create(url=receiver.url, tenants=["no-such-tenant"], scopes=["payouts:read"])
    with_cash(2, amount="12.50")

    run = payouts.payout_prepare(people["preparer"], title="十一月")
    payouts.payout_approve(run.pk, people["approver"])  # eager: the dispatcher pays the lines
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.FINISHED

    assert _types() == ["payout_run.awaiting_approval", "payout_run.approved", "payout_run.paid"]
    paid = WebhookEvent.objects.get(type="payout_run.paid")
    got = client.get(
        f"/api/v1/payout-runs/{run.pk}", **bearer(make_key("payouts:read", by=people["approver"]))
    )
    answer = got.json()
    del answer["lines"], answer["next_cursor"]
    assert paid.data == answer
    assert paid.data["totals"] == [{"currency": "CNY", "amount": "25.00"}]
    # An endpoint limited to a tenant the run pays nobody of hears nothing of it.
    assert not paid.deliveries.filter(endpoint=limited).exists()


def test_a_run_spanning_tenants_is_read_by_a_limited_endpoint_without_totals(receiver, people, with_cash):  # noqa: F811
    accounts = with_cash(1, amount="3.00")
    tenant = accounts[0].tenant_key
    limited, _ = endpoints.create(url=receiver.url, tenants=[tenant], scopes=["payouts:read"])

    payouts.payout_prepare(people["preparer"], title="十二月")

    event = WebhookEvent.objects.get(type="payout_run.awaiting_approval")
    assert event.deliveries.get().endpoint == limited
    import json

    from hireops.webhooks.events import payload

    data = json.loads(payload(event, limited))["data"]
    assert data["totals"] is None and data["line_count"] is None
    assert event.data["totals"] == [{"currency": "CNY", "amount": "3.00"}]


def test_balances_and_deactivation_are_told_with_personal_data_only_where_allowed(receiver, with_cash):  # noqa: F811
    plain, _ = endpoints.create(url=receiver.url, scopes=["referrals:read"])
    (account,) = with_cash(1, amount="8.00")

    changed = WebhookEvent.objects.filter(type="referral_account.balance_changed").order_by("pk").last()
    assert changed.data["cash"] == [{"currency": "CNY", "amount": "8.00"}]
    assert (
        changed.data["email"] != "e0@example.com" and changed.personal_data is None
    )  # masked; nobody unmasks

    withdrawals.note_deactivated(account.pk, FeishuBusinessError(code=1002555, msg="deactivated"))
    withdrawals.note_deactivated(account.pk, FeishuBusinessError(code=1002555, msg="deactivated"))  # once
    (gone,) = WebhookEvent.objects.filter(type="referral_account.deactivated")
    assert gone.data["status"] == "deactivated"
    assert gone.deliveries.get().endpoint == plain


def test_a_paid_line_nobody_listens_to_reads_the_account_once_and_opens_no_savepoint_for_it(
    people,  # noqa: F811
    with_cash,  # noqa: F811
):
    """With no endpoint hearing a balance change or a run's progress, no event is written, the
    account is read once (under its lock, to change it), and neither the endpoints' question nor
    the leavers' opens a savepoint: statements a 20,000-line run would pay on every line."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with_cash(1, amount="5.00")
    run = payouts.payout_prepare(people["preparer"], title="十一月")
    with CaptureQueriesContext(connection) as captured:
        payouts.payout_approve(run.pk, people["approver"])  # eager: the line is paid here
    run.refresh_from_db()
    assert run.status == PayoutRunStatus.FINISHED and not WebhookEvent.objects.exists()
    sql = [q["sql"] for q in captured.captured_queries]
    account_reads = [s for s in sql if s.startswith("SELECT") and 'FROM "referrals_referralaccount"' in s]
    locked = account_reads[0].endswith("FOR UPDATE") or not connection.features.has_select_for_update
    assert len(account_reads) == 1 and locked  # (SQLite has no row locks to ask for)
    asked = [
        i
        for i, s in enumerate(sql)
        if 'FROM "webhooks_webhookendpoint"' in s or 'FROM "referrals_leaver"' in s
    ]
    assert len(asked) >= 4  # the run approved, the balance changed, the leavers asked, the run paid
    assert not [sql[i - 1] for i in asked if sql[i - 1].startswith("SAVEPOINT")]
