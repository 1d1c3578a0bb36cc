"""HR's payroll and HRIS through /api/v1/: referral accounts (balances, how fresh, masking),
external rewards posted (idempotent on the external id, through the import's service, to the
sandbox once) and deleted, and payout runs whose lines say what the payroll CSV says."""

import base64
import csv
import io
import json
import uuid
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import timezone

from hireops import outbound
from hireops.api import keys
from hireops.core import audit
from hireops.core.auth import roles
from hireops.core.messages import Message
from hireops.core.models import CallStatus
from hireops.core.privacy.personal import HIDDEN
from hireops.outbound.retry import TryLater
from referrals.accounts import balances
from referrals.accounts.services import balance_pull
from referrals.models import (
    AccountCash,
    AccountStatus,
    ExternalReferralReward,
    ExternalRewardDeletion,
    PayoutLine,
    PayoutRun,
    PayoutRunStatus,
    ReferralAccount,
)
from referrals.payouts import services as payouts
from referrals.rewards import services as rewards
from tests.factories import a_payout_run, a_referral_account, a_reward_row
from tests.second_factor import give_totp

from .keys import bearer, make_key

pytestmark = pytest.mark.django_db(transaction=True)

ACCOUNTS, REWARDS, RUNS = "/api/v1/referral-accounts", "/api/v1/referral-rewards", "/api/v1/payout-runs"
CREATE = "/open-apis/hire/v1/external_referral_rewards"


# For the enumeration of every operation (tests/api/test_every_operation.py: no key, revoked,
# no scope, other tenant).
EXAMPLES = {
    "/referral-accounts/{id}": lambda tenant_key: str(a_referral_account(tenant_key).pk),
    "/referral-rewards/{id}": lambda tenant_key: str(a_reward_row(tenant_key).pk),
    "/payout-runs/{id}": lambda tenant_key: str(a_payout_run(tenant_key).pk),
}
# A valid request of each write on those rows (tests/api/test_every_operation.py).
BODIES = {"DELETE /referral-rewards/{id}": lambda: ("query", {"reason": "imported twice"})}


def walk(client, key, url, field="id"):
    seen, pages = [], 0
    while url:
        answer = client.get(url, **bearer(key))
        assert answer.status_code == 200, answer.content
        body = answer.json()
        seen += [row[field] for row in body["data"]]
        pages += 1
        base = url.split("cursor=")[0].rstrip("&")
        url = f"{base}&cursor={body['next_cursor']}" if body["next_cursor"] else None
    return seen, pages


@pytest.fixture
def hr(staff_user):
    """An HR member with a second factor: the money permissions of rewards work for them."""
    user = staff_user(roles.HR, username="hr")
    give_totp(user)
    return user


def key_by(user, *scopes, tenants=()) -> str:
    return keys.create("payroll", scopes, tenant_keys=tenants, by=user).key


@pytest.fixture
def referrer(sandbox):
    return sandbox.add_employee(name="李雷", email="lilei@example.com")["user_id"]


def reward_body(user_id: str, external_id: str = "hris-1", **changes) -> dict:
    body = {
        "external_id": external_id,
        "employee_id": user_id,
        "talent_id": "talent-1",
        "rule_type": "onboard",
        "stage": "paid",
        "amount": "200.50",
        "currency": "CNY",
        "reason": "推荐 lilei@example.com 入职",
        "pay_time": "2024-05-01T10:00:00+08:00",
    }
    return {k: v for k, v in {**body, **changes}.items() if v is not None}


# --- referral accounts ------------------------------------------------------------------------


def test_accounts_walk_once_filter_and_answer_balances_and_freshness(client, django_assert_max_num_queries):
    fresh = a_referral_account(
        points=30, balance_synced_at=timezone.now(), assets_modify_time=1_700_000_000_000
    )
    AccountCash.objects.create(account=fresh, currency="CNY", amount=Decimal("12.5"))
    AccountCash.objects.create(account=fresh, currency="USD", amount=Decimal("3"))
    old = a_referral_account(
        balance_synced_at=timezone.now() - timedelta(days=3), status=AccountStatus.DEACTIVATED
    )
    for _ in range(3):
        a_referral_account()
    key = make_key("referrals:read")

    seen, pages = walk(client, key, f"{ACCOUNTS}?limit=2")
    assert sorted(seen) == sorted(ReferralAccount.objects.values_list("pk", flat=True)) and pages == 3
    for _ in range(20):
        AccountCash.objects.create(account=a_referral_account(), currency="CNY", amount=Decimal("1"))
    with django_assert_max_num_queries(4):  # the key, the page, its cash: no query per account
        assert len(client.get(ACCOUNTS, **bearer(key)).json()["data"]) == 25

    body = client.get(f"{ACCOUNTS}/{fresh.pk}", **bearer(key)).json()
    assert body["points"] == 30 and body["status"] == "active"
    assert body["cash"] == [{"currency": "CNY", "amount": "12.50"}, {"currency": "USD", "amount": "3.00"}]
    assert body["balance_confirmed_at"] and not body["balance_stale"]
    assert body["balance_as_of"].startswith("2023-11-14T22:13:20")
    assert client.get(f"{ACCOUNTS}/{old.pk}", **bearer(key)).json()["balance_stale"] is True

    deactivated = client.get(f"{ACCOUNTS}?status=deactivated", **bearer(key)).json()["data"]
    assert [row["id"] for row in deactivated] == [old.pk]
    by_employee = client.get(f"{ACCOUNTS}?employee_id={fresh.employee_id}", **bearer(key)).json()["data"]
    assert [row["id"] for row in by_employee] == [fresh.pk]

    # A writer that changes what the API shows moves updated_at (updated_after finds it).
    # (The answer shows milliseconds, so a partner's updated_after may see its last row again,
    # never miss one; the exact instant here.)
    since = ReferralAccount.objects.latest("updated_at").updated_at.isoformat().replace("+", "%2B")
    assert client.get(f"{ACCOUNTS}?updated_after={since}", **bearer(key)).json()["data"] == []
    balances._balance_refused(old.pk, Message("The balance could not be kept."))
    changed = client.get(f"{ACCOUNTS}?updated_after={since}", **bearer(key)).json()
    assert [row["id"] for row in changed["data"]] == [old.pk]
    assert changed["data"][0]["balance_error"] == "The balance could not be kept."


def test_a_key_limited_to_tenants_sees_only_theirs(client):
    mine, theirs = a_referral_account("t-mine"), a_referral_account("t-theirs")
    key = make_key("referrals:read", tenants=["t-mine"])
    seen, _ = walk(client, key, f"{ACCOUNTS}?limit=1")
    assert seen == [mine.pk]
    assert client.get(f"{ACCOUNTS}/{theirs.pk}", **bearer(key)).status_code == 404
    assert client.get(f"{ACCOUNTS}?tenant=t-theirs", **bearer(key)).json()["data"] == []
    everyone = make_key("referrals:read")
    assert [
        r["id"] for r in client.get(f"{ACCOUNTS}?tenant=t-theirs", **bearer(everyone)).json()["data"]
    ] == [theirs.pk]


def test_contact_data_is_masked_as_the_admin_masks_it_without_the_personal_data_scope(client):
    account = a_referral_account(mobile_code="86", mobile_number="13800138000", email="lilei@example.com")
    masked = client.get(f"{ACCOUNTS}/{account.pk}", **bearer(make_key("referrals:read"))).json()
    assert masked["mobile"] == "+86 138****8000" and masked["email"] == "l***@example.com"
    assert "13800138000" not in str(client.get(ACCOUNTS, **bearer(make_key("referrals:read"))).content)
    full = client.get(
        f"{ACCOUNTS}/{account.pk}", **bearer(make_key("referrals:read", "referrals:personal_data"))
    )
    assert full.json()["mobile"] == "+86 13800138000" and full.json()["email"] == "lilei@example.com"


def test_bad_filters_are_a_400_problem_naming_the_field(client):
    key = make_key("referrals:read")
    for query in ("status=nope", "updated_after=yesterday", "tenant=a%00b", "limit=500", "cursor=zz"):
        answer = client.get(f"{ACCOUNTS}?{query}", **bearer(key))
        assert answer.status_code == 400, (query, answer.content)
        assert answer["Content-Type"] == "application/problem+json" and answer.json()["errors"]
    assert client.get(f"{ACCOUNTS}/{10**30}", **bearer(key)).status_code in (400, 404)


# --- external rewards -------------------------------------------------------------------------


def test_a_reward_posted_twice_reaches_feishu_once_and_its_state_is_visible(client, sandbox, hr, referrer):
    key = key_by(hr, "rewards:write", "referrals:read")
    first = client.post(REWARDS, reward_body(referrer), content_type="application/json", **bearer(key))
    assert first.status_code == 201, first.content
    made = first.json()
    assert made["status"] == "queued" and made["amount"] == "200.50" and made["currency"] == "CNY"
    assert made["rule_type"] == "onboard" and made["stage"] == "paid"

    again = client.post(REWARDS, reward_body(referrer), content_type="application/json", **bearer(key))
    assert again.status_code == 200 and again.json()["id"] == made["id"]
    assert ExternalReferralReward.objects.count() == 1

    calls = sandbox.requests(CREATE)
    assert len(calls) == 1 and calls[0]["json"]["external_id"] == "hris-1"
    assert calls[0]["json"]["bonus"] == {"bonus_type": 2, "cash": {"currency_type": "CNY", "amount": 200.5}}
    assert calls[0]["query"] == {"user_id_type": "user_id"}
    remote = sandbox.state()["external_rewards"]
    assert len(remote) == 1

    shown = client.get(f"{REWARDS}/{made['id']}", **bearer(key)).json()
    assert shown["status"] == "sent" and shown["feishu_reward_id"] == remote[0]["id"] and shown["log_id"]
    assert shown["reason"] == HIDDEN  # free text, hidden whole without personal data
    # The row names the key (its actor), and the change history records it as the import does.
    row = ExternalReferralReward.objects.get()
    actor = keys.ApiKey.objects.get().actor
    assert row.requested_by == actor
    assert LogEntry.objects.filter(object_id=str(row.pk), user=actor, action_flag=ADDITION).count() == 1

    other = client.post(
        REWARDS, reward_body(referrer, amount="201.00"), content_type="application/json", **bearer(key)
    )
    assert other.status_code == 409 and other.json()["errors"][0]["field"] == "external_id"
    assert len(sandbox.requests(CREATE)) == 1 and ExternalReferralReward.objects.count() == 1


def test_a_refusal_by_feishu_shows_as_failed_with_its_message(client, sandbox, hr):
    key = key_by(hr, "rewards:write", "referrals:read")
    answer = client.post(REWARDS, reward_body("nobody-here"), content_type="application/json", **bearer(key))
    assert answer.status_code == 201 and answer.json()["status"] == "queued"
    shown = client.get(f"{REWARDS}/{answer.json()['id']}", **bearer(key)).json()
    assert shown["status"] == "failed" and shown["error_code"] == 1002002
    assert "referrer's user id" in shown["error"] and shown["feishu_reward_id"] is None


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"talent_id": None}, "application_id"),
        ({"points": 5}, "points"),  # points and cash
        ({"amount": "1.234"}, "amount"),
        ({"amount": "1e400"}, "amount"),
        ({"amount": "-1"}, "amount"),
        ({"currency": "yuan"}, "currency"),
        ({"external_id": "has space"}, "external_id"),
        ({"rule_type": "bonus"}, "rule_type"),
        ({"name": "a\x00b"}, "name"),
        ({"pay_time": "1990-01-01T00:00:00Z"}, "pay_time"),
        ({"pay_time": "2024-05-01T10:00:00"}, "pay_time"),  # no offset: whose 10:00?
        ({"tenant": "someone-else"}, "tenant"),
        ({"comment": "x" * 501}, "comment"),
    ],
)
def test_bad_input_is_a_422_naming_the_field_and_changes_nothing(
    client, sandbox, hr, referrer, changes, field
):
    key = key_by(hr, "rewards:write")
    history = LogEntry.objects.count()
    answer = client.post(
        REWARDS, reward_body(referrer, **changes), content_type="application/json", **bearer(key)
    )
    assert answer.status_code == 422, answer.content
    assert answer["Content-Type"] == "application/problem+json"
    assert field in [e["field"] for e in answer.json()["errors"]], answer.json()
    assert ExternalReferralReward.objects.count() == 0 and sandbox.requests(CREATE) == []
    assert LogEntry.objects.count() == history


def test_deleting_a_reward_needs_a_reason_and_reaches_feishu(client, sandbox, hr, referrer):
    key = key_by(hr, "rewards:write", "referrals:read")
    made = client.post(REWARDS, reward_body(referrer), content_type="application/json", **bearer(key)).json()
    url = f"{REWARDS}/{made['id']}"

    for query in ("", "?reason=", "?reason=%20%20"):
        refused = client.delete(url + query, **bearer(key))
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "reason"
    assert ExternalRewardDeletion.objects.count() == 0

    answer = client.delete(f"{url}?reason=imported%20twice", **bearer(key))
    assert answer.status_code == 200, answer.content
    assert answer.json()["deletion"]["status"] == "queued" and answer.json()["deleted_at"] is None

    shown = client.get(url, **bearer(key)).json()
    assert shown["deletion"]["status"] == "sent" and shown["deleted_at"]
    assert shown["delete_reason"] == HIDDEN  # free text: the key has no personal-data scope
    assert [r["deleted"] for r in sandbox.state()["external_rewards"]] == [True]
    row = ExternalReferralReward.objects.get()
    actor = keys.ApiKey.objects.get().actor
    assert row.deleted_by == actor and row.deletions.get().requested_by == actor
    entry = LogEntry.objects.exclude(action_flag=ADDITION).get(
        content_type=ContentType.objects.get_for_model(row), object_id=str(row.pk)
    )
    assert entry.user == actor and "imported twice" in audit.describe(entry)

    again = client.delete(f"{url}?reason=again", **bearer(key))
    assert again.status_code == 409 and "deleted in Feishu already" in again.json()["detail"]
    assert client.delete(f"{REWARDS}/{made['id'] + 1000}?reason=x", **bearer(key)).status_code == 404


def test_money_moves_only_on_the_authority_of_a_person_who_may_move_it(
    client, sandbox, staff_user, hr, referrer
):
    # A key made by a command has nobody behind it.
    by_command = make_key("rewards:write")
    answer = client.post(
        REWARDS, reward_body(referrer), content_type="application/json", **bearer(by_command)
    )
    assert answer.status_code == 403 and "made by a command" in answer.json()["detail"]

    # Only a holder of the permission may give a key the scope.
    auditor = staff_user(roles.AUDITOR, username="auditor")
    with pytest.raises(keys.KeyRefused):
        key_by(auditor, "rewards:write")

    # The maker's authority is asked at every call: without their second factor, nothing moves.
    key = key_by(hr, "rewards:write")
    from allauth.mfa.models import Authenticator

    Authenticator.objects.filter(user=hr).delete()
    answer = client.post(REWARDS, reward_body(referrer), content_type="application/json", **bearer(key))
    assert answer.status_code == 403 and "second factor" in answer.json()["detail"]
    assert ExternalReferralReward.objects.count() == 0 and sandbox.requests(CREATE) == []
    give_totp(hr)
    answer = client.post(REWARDS, reward_body(referrer), content_type="application/json", **bearer(key))
    assert answer.status_code == 201


def test_a_reward_of_another_tenant_is_missing_and_free_text_unmasked_with_the_scope(client):
    mine = a_reward_row("t-mine", reason="call 13800138000")
    theirs = a_reward_row("t-theirs")
    key = make_key("referrals:read", "referrals:personal_data", tenants=["t-mine"])
    assert client.get(f"{REWARDS}/{mine.pk}", **bearer(key)).json()["reason"] == "call 13800138000"
    assert client.get(f"{REWARDS}/{theirs.pk}", **bearer(key)).status_code == 404
    masked = client.get(f"{REWARDS}/{mine.pk}", **bearer(make_key("referrals:read"))).json()
    assert masked["reason"] == HIDDEN


def test_rewards_are_listed_each_once_filtered_and_in_few_queries(client, django_assert_max_num_queries):
    sent = a_reward_row("t1", status=CallStatus.SUCCEEDED, reward_id="fs-1", external_id="hris-1")
    failed = a_reward_row("t1", status=CallStatus.FAILED, external_id="hris-2", employee_id="emp2")
    queued = a_reward_row("t2", external_id="hris-1")  # the same external id in another tenant
    ExternalRewardDeletion.objects.create(reward=sent, reason="first", status=CallStatus.FAILED)
    ExternalRewardDeletion.objects.create(reward=sent, reason="again")
    key = make_key("referrals:read")

    seen, pages = walk(client, key, f"{REWARDS}?limit=2")
    assert sorted(seen) == sorted([sent.pk, failed.pk, queued.pk]) and pages == 2

    def listed(query):
        answer = client.get(f"{REWARDS}?{query}", **bearer(key))
        assert answer.status_code == 200, (query, answer.content)
        return [row["id"] for row in answer.json()["data"]]

    assert sorted(listed("external_id=hris-1")) == sorted([sent.pk, queued.pk])
    assert listed("external_id=hris-1&tenant=t2") == [queued.pk]
    assert listed("external_id=hris") == []  # exact, never a part
    assert listed("status=sent") == [sent.pk]
    assert listed("status=failed") == [failed.pk]
    assert listed("status=queued") == [queued.pk]
    assert listed("employee_id=emp2") == [failed.pk]
    row = client.get(f"{REWARDS}?external_id=hris-1&tenant=t1", **bearer(key)).json()["data"][0]
    assert row == client.get(f"{REWARDS}/{sent.pk}", **bearer(key)).json()  # as GET answers it
    assert row["deletion"]["status"] == "queued" and row["updated_at"]

    since = ExternalReferralReward.objects.latest("updated_at").updated_at.isoformat().replace("+", "%2B")
    assert listed(f"updated_after={since}") == []
    ExternalReferralReward.objects.filter(pk=failed.pk).update(updated_at=timezone.now())
    assert listed(f"updated_after={since}") == [failed.pk]

    for _ in range(20):
        reward = a_reward_row("t3")
        for reason in ("a", "b"):
            ExternalRewardDeletion.objects.create(reward=reward, reason=reason, status=CallStatus.FAILED)
    with django_assert_max_num_queries(4):  # the key, the page, its deletions: none per reward
        assert len(client.get(f"{REWARDS}?limit=200", **bearer(key)).json()["data"]) == 23


def test_a_key_limited_to_tenants_lists_only_its_tenants_rewards(client):
    mine = a_reward_row("t-mine", external_id="both-1")
    theirs = a_reward_row("t-theirs", external_id="both-1")
    key = make_key("referrals:read", tenants=["t-mine"])
    assert walk(client, key, f"{REWARDS}?limit=1")[0] == [mine.pk]
    for query, expected in (
        ("tenant=t-theirs", []),
        ("external_id=both-1", [mine.pk]),
        ("external_id=both-1&tenant=t-theirs", []),
        (f"employee_id={theirs.employee_id}", [mine.pk]),  # the same referrer id in both tenants
        ("status=queued&limit=200", [mine.pk]),
    ):
        rows = client.get(f"{REWARDS}?{query}", **bearer(key)).json()["data"]
        assert [row["id"] for row in rows] == expected, query


def test_bad_reward_filters_are_a_400_problem_naming_the_field(client):
    key = make_key("referrals:read")
    for query in (
        "status=succeeded",  # the API says "sent"
        "updated_after=yesterday",
        "external_id=a%00b",
        "limit=0",
        "cursor=zz",
        "externalid=x",
    ):
        answer = client.get(f"{REWARDS}?{query}", **bearer(key))
        assert answer.status_code == 400, (query, answer.content)
        assert answer["Content-Type"] == "application/problem+json" and answer.json()["errors"]


def test_every_change_a_partner_sees_of_a_reward_moves_its_updated_at(client, sandbox, hr, referrer):
    """A partner syncing by updated_after hears of each: the call sent, refused, retried or left
    open, a deletion asked, sent or retried, the referrer's account removed."""
    key = key_by(hr, "rewards:write", "referrals:read")
    past = timezone.now() - timedelta(days=1)

    def synced(reward, change) -> dict:
        ExternalReferralReward.objects.update(updated_at=past)
        change()
        after = (past + timedelta(minutes=1)).isoformat().replace("+", "%2B")
        rows = client.get(f"{REWARDS}?updated_after={after}", **bearer(key)).json()["data"]
        assert [row["id"] for row in rows] == [reward.pk], change
        return rows[0]

    def to_send(external_id, employee_id=referrer):
        return a_reward_row("", external_id=external_id, employee_id=employee_id, talent_id="t-1")

    accepted = to_send("sync-1")
    assert synced(accepted, lambda: rewards.CREATE.send(accepted.pk))["status"] == "sent"
    refused = to_send("sync-2", employee_id="nobody-here")
    assert synced(refused, lambda: rewards.CREATE.send(refused.pk))["status"] == "failed"

    retried = to_send("sync-3")
    sandbox.add_fault(CREATE, "error", status=500, code=1002001, count=1)

    def tried_once():
        with pytest.raises(TryLater):
            outbound.run(rewards.CREATE, retried.pk)

    shown = synced(retried, tried_once)
    assert shown["status"] == "queued" and shown["error"]
    ExternalReferralReward.objects.filter(pk=retried.pk).update(maybe_applied=True)
    shown = synced(retried, lambda: rewards._create_give_up(retried.pk, "no answer"))
    assert shown["status"] == "queued" and "Outcome unknown" in shown["error"]

    url = f"{REWARDS}/{accepted.pk}"
    sandbox.add_fault(f"{CREATE}/*", "error", status=500, code=1002001, count=100)
    shown = synced(accepted, lambda: client.delete(f"{url}?reason=twice", **bearer(key)))
    assert shown["deletion"]["status"] == "failed" and shown["deletion"]["error"]  # every try failed
    sandbox.clear_faults()
    sandbox.add_fault(f"{CREATE}/*", "error", status=500, code=1002001, count=1)
    deletion = ExternalRewardDeletion.objects.create(reward=accepted, reason="twice", requested_by=hr)

    def deletion_tried_once():
        with pytest.raises(TryLater):
            outbound.run(rewards.DELETE, deletion.pk)

    shown = synced(accepted, deletion_tried_once)
    assert shown["deletion"]["status"] == "queued" and shown["deletion"]["error"]
    shown = synced(accepted, lambda: rewards.DELETE.send(deletion.pk))
    assert shown["deletion"]["status"] == "sent" and shown["deleted_at"]

    account = a_referral_account(employee_id="left-early")
    linked = a_reward_row("", account=account, employee_id="left-early")
    assert synced(linked, account.delete)["account_id"] is None


# --- payout runs ------------------------------------------------------------------------------


@pytest.fixture
def people(staff_user):
    made = {
        "preparer": staff_user(roles.HR, username="preparer"),
        "approver": staff_user(roles.HR, roles.HR_PAYOUT_APPROVALS, username="approver"),
    }
    for user in made.values():
        give_totp(user)
    return made


def test_a_payout_runs_lines_say_what_the_payroll_csv_says(client, sandbox, register, people):
    for i in range(3):
        account = register(
            name=f"员工{i}", email=f"e{i}@example.com", cash=[{"currency_type": "CNY", "amount": "7.25"}]
        )
        balance_pull(account.pk)
    run = payouts.payout_prepare(people["preparer"], title="十一月")
    key = make_key("payouts:read")

    waiting = client.get(f"{RUNS}/{run.pk}", **bearer(key)).json()
    assert (
        waiting["status"] == "awaiting"
        and waiting["approved_by"] == ""
        and waiting["prepared_by"] == "preparer"
    )
    assert {row["outcome"] for row in waiting["lines"]} == {"waiting_for_approval"}
    before = waiting["updated_at"]

    payouts.payout_approve(run.pk, people["approver"])  # eager: paid at once
    listed = client.get(f"{RUNS}?updated_after={before.replace('+', '%2B')}", **bearer(key)).json()["data"]
    assert [r["id"] for r in listed] == [run.pk] and listed[0]["status"] == "finished"
    assert listed[0]["totals"] == [{"currency": "CNY", "amount": "21.75"}] and listed[0]["line_count"] == 3
    assert client.get(f"{RUNS}?status=awaiting", **bearer(key)).json()["data"] == []

    # Page by page (limit=1): each line once, and together exactly the CSV's rows.
    rows, url = [], f"{RUNS}/{run.pk}?limit=1"
    while url:
        body = client.get(url, **bearer(key)).json()
        assert len(body["lines"]) == 1
        rows += body["lines"]
        url = f"{RUNS}/{run.pk}?limit=1&cursor={body['next_cursor']}" if body["next_cursor"] else None
    assert len({r["external_order_id"] for r in rows}) == 3

    client.force_login(people["preparer"])
    response = client.get(reverse("admin:referrals_payoutrun_payroll", args=[run.pk, "csv"]))
    table = list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))
    from_api = {r["external_order_id"]: {k: v or "" for k, v in r.items() if k != "tenant"} for r in rows}
    for line in table:
        api = from_api[line["external_order_id"]]
        for name in ("employee_id", "employee_name", "feishu_account_id", "amount", "currency", "outcome"):
            assert api[name] == line[name], name
        assert (
            line["outcome"] == "paid"
            and line["prepared_by"] == "preparer"
            and line["approved_by"] == "approver"
        )
        # The same instant: in UTC in the API, in the deployment's time zone in staff's file.
        at = api["transaction_time"]
        assert at.endswith("Z")
        assert datetime.fromisoformat(at) == datetime.fromisoformat(line["transaction_time"])
    detail = client.get(f"{RUNS}/{run.pk}", **bearer(key)).json()
    assert (detail["prepared_by"], detail["approved_by"]) == ("preparer", "approver")

    other = make_key("payouts:read", tenants=["t-other"])
    assert client.get(RUNS, **bearer(other)).json()["data"] == []
    assert client.get(f"{RUNS}/{run.pk}", **bearer(other)).status_code == 404


def test_a_key_limited_to_tenants_sees_its_lines_of_a_run_and_not_its_totals(client):
    run = a_payout_run("t-mine")
    account = a_referral_account("t-theirs")
    PayoutLine.objects.create(
        run=run, account=account, tenant_key="t-theirs", external_order_id=uuid.uuid4().hex, cash={"CNY": "2"}
    )
    key = make_key("payouts:read", tenants=["t-mine"])
    body = client.get(f"{RUNS}/{run.pk}", **bearer(key)).json()
    assert [r["tenant"] for r in body["lines"]] == ["t-mine"] and body["totals"] is None
    assert [
        r["id"]
        for r in client.get(f"{RUNS}?tenant=t-theirs", **bearer(make_key("payouts:read"))).json()["data"]
    ] == [run.pk]
    assert client.get(f"{RUNS}?tenant=t-theirs", **bearer(key)).json()["data"] == []
    assert PayoutRun.objects.get().status == PayoutRunStatus.AWAITING_APPROVAL


def test_a_key_of_one_tenant_pages_through_exactly_that_tenants_lines(client):
    """One tenant is read as a range of one value (a query plan, referrals/api/payout_runs.py): it holds
    that tenant's lines and no neighbour's, whose keys sort just before or after it."""
    run = a_payout_run("t1")  # its line: t1's
    for tenant in ("t1", "t10", "t0", "t1 ", "T1"):
        PayoutLine.objects.create(
            run=run,
            account=a_referral_account(tenant),
            tenant_key=tenant,
            external_order_id=uuid.uuid4().hex,
            cash={"CNY": "2"},
        )
    key = make_key("payouts:read", tenants=["t1"])
    seen, url = [], f"{RUNS}/{run.pk}?limit=1"
    while url:
        body = client.get(url, **bearer(key)).json()
        seen += [row["tenant"] for row in body["lines"]]
        url = body["next_cursor"] and f"{RUNS}/{run.pk}?limit=1&cursor={body['next_cursor']}"
    assert seen == ["t1", "t1"]


def test_odd_but_valid_times_and_forged_cursors_are_answered_not_crashed(client):
    a_referral_account("t1")
    key = make_key("referrals:read", "payouts:read")
    for query in ("updated_after=1552-03-10T00:20:46-18:06", "updated_after=0001-01-01T00:00:00%2B05:00"):
        for url in (ACCOUNTS, RUNS):
            answer = client.get(f"{url}?{query}", **bearer(key))
            assert answer.status_code == 200, (url, query, answer.content)

    def forged(*values):
        return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")

    run = a_payout_run("t1")
    for cursor in (forged("2026-01-01T00:00:00-18:06", 1), forged("a\x00b", 1), forged("t1", 10**30)):
        for url in (f"{ACCOUNTS}?cursor={cursor}", f"{RUNS}/{run.pk}?cursor={cursor}"):
            assert client.get(url, **bearer(key)).status_code in (200, 400), (url, cursor)
