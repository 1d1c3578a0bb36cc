"""External referral rewards (docs/feishu.md §4.1): the import is idempotent on the external
id, the add form refuses bad input and changes nothing, deletion keeps its reason in the
change history, a lost answer is repeated with the same external id and never duplicates,
and the sandbox answers the endpoints' errors."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from hireops.core import audit
from hireops.core.models import CallStatus
from hireops.feishu import FeishuError, get_client, hire
from referrals.models import ExternalReferralReward, ExternalRewardDeletion
from referrals.rewards.services import RewardInput, reward_add, reward_delete_request

pytestmark = pytest.mark.django_db(transaction=True)

CREATE = "/open-apis/hire/v1/external_referral_rewards"
IMPORT_URL = "admin:referrals_reward_import"
HEADER = "external_id,employee_id,name,talent_id,rule_type,stage,points,currency,amount,reason,create_time\n"


@pytest.fixture
def referrer(sandbox):
    return sandbox.add_employee(name="李雷", email="lilei@example.com")["user_id"]


def csv_file(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("rewards.csv", text.encode("utf-8"), content_type="text/csv")


def remote_rewards(sandbox) -> list[dict]:
    return sandbox.state()["external_rewards"]


def a_reward(user_id: str, external_id: str = "old-1", **extra):
    data = {
        "external_id": external_id,
        "employee_id": user_id,
        "talent_id": "talent-1",
        "rule_type": "1",
        "stage": "2",
        "points": "300",
        **extra,
    }
    return RewardInput.from_text(data)


def test_importing_the_same_file_twice_creates_each_reward_once(admin_client, sandbox, referrer):
    text = HEADER + (
        f"legacy-1,{referrer},李雷,talent-1,onboard,paid,500,,,入职,2024-03-01\n"
        f"legacy-2,{referrer},李雷,talent-2,2,confirmed,,CNY,200.50,推荐奖励,\n"
    )
    page = admin_client.post(reverse(IMPORT_URL), {"tenant_key": "", "file": csv_file(text)})
    assert page.status_code == 200 and "2 rows kept" in page.content.decode()
    rows = {r.external_id: r for r in ExternalReferralReward.objects.all()}
    assert set(rows) == {"legacy-1", "legacy-2"}
    assert all(r.status == CallStatus.SUCCEEDED and r.reward_id and r.log_id for r in rows.values()), [
        (r.status, r.error) for r in rows.values()
    ]
    assert rows["legacy-2"].amount == Decimal("200.50") and rows["legacy-1"].points == 500
    calls = sandbox.requests(CREATE)
    assert len(calls) == 2
    sent = {c["json"]["external_id"]: c["json"] for c in calls}
    assert sent["legacy-1"]["bonus"] == {"bonus_type": 1, "point_bonus": 500}
    assert sent["legacy-2"]["bonus"] == {"bonus_type": 2, "cash": {"currency_type": "CNY", "amount": 200.5}}
    assert sent["legacy-1"]["rule_type"] == 1 and sent["legacy-1"]["stage"] == 3
    assert sent["legacy-1"]["create_time"].isdigit() and "create_time" not in sent["legacy-2"]
    assert all(c["query"] == {"user_id_type": "user_id"} for c in calls)

    again = admin_client.post(reverse(IMPORT_URL), {"tenant_key": "", "file": csv_file(text)})
    assert "Imported before" in again.content.decode()
    assert ExternalReferralReward.objects.count() == 2
    assert len(sandbox.requests(CREATE)) == 2  # nothing sent the second time
    assert len(remote_rewards(sandbox)) == 2
    assert LogEntry.objects.filter(action_flag=ADDITION).count() == 2


def test_bad_rows_are_refused_per_line_and_change_nothing(admin_client, sandbox, referrer):
    text = HEADER + (
        f"ok-1,{referrer},,talent-1,1,1,10,,,,\n"
        f"bad-1,{referrer},,,1,1,10,,,,\n"  # neither application nor talent
        f"bad-2,{referrer},,talent-1,9,1,10,,,,\n"  # rule type out of range
        f"bad-3,{referrer},,talent-1,1,1,10,CNY,5,,\n"  # points and cash
        f"bad 4,{referrer},,talent-1,1,1,,CNY,1.234,,2024-13-01\n"  # id, amount and date
    )
    page = admin_client.post(reverse(IMPORT_URL), {"tenant_key": "", "file": csv_file(text)}).content.decode()
    assert "1 row kept" in page and "4 rows refused" in page
    assert "application id or the talent id" in page
    assert "Choose the rule type" in page
    assert "points or cash, not both" in page
    assert "at most two decimals" in page and "YYYY-MM-DD" in page and "external id is required" in page
    assert list(ExternalReferralReward.objects.values_list("external_id", flat=True)) == ["ok-1"]
    assert len(sandbox.requests(CREATE)) == 1

    refused = admin_client.post(reverse(IMPORT_URL), {"tenant_key": "", "file": csv_file("name\nx\n")})
    assert "at least external_id and employee_id" in refused.content.decode()


def test_same_external_id_with_other_values_is_refused(sandbox, referrer):
    _row, created = reward_add(a_reward(referrer))
    assert created
    with pytest.raises(Exception, match="imported before with other values"):
        reward_add(a_reward(referrer, points="301"))
    assert ExternalReferralReward.objects.count() == 1 and len(sandbox.requests(CREATE)) == 1


def test_add_form_refuses_bad_input_clearly_and_keeps_a_good_row(admin_client, sandbox, referrer):
    url = reverse("admin:referrals_externalreferralreward_add")
    assert admin_client.get(url).status_code == 200
    bad = {"tenant_key": "", "external_id": "form-1", "employee_id": referrer, "rule_type": "1", "stage": "1"}
    page = admin_client.post(url, {**bad, "amount": "abc", "currency": "CNY"}).content.decode()
    assert "application id or the talent id" in page and "at most two decimals" in page
    assert ExternalReferralReward.objects.count() == 0 and sandbox.requests(CREATE) == []

    good = {
        **bad,
        "talent_id": "talent-9",
        "points": "80",
        "reason": "manual bonus",
        "pay_time": "2024-05-01",
    }
    response = admin_client.post(url, good)
    assert response.status_code == 302, response.content.decode()[-2000:]
    row = ExternalReferralReward.objects.get()
    assert row.status == CallStatus.SUCCEEDED and row.reward_id and row.requested_by.is_superuser
    assert LogEntry.objects.filter(object_id=str(row.pk), action_flag=ADDITION).exists()

    twice = admin_client.post(url, good).content.decode()
    assert "imported already" in twice and ExternalReferralReward.objects.count() == 1
    assert len(sandbox.requests(CREATE)) == 1


def test_delete_in_feishu_asks_a_reason_and_records_it(client, staff_user, sandbox, referrer):
    row, _ = reward_add(a_reward(referrer))
    row.refresh_from_db()
    hr = staff_user("HR")
    client.force_login(hr)
    url = reverse("admin:referrals_externalreferralreward_changelist")
    form = client.post(url, {"action": "delete_in_feishu", "_selected_action": [row.pk]})
    assert form.status_code == 200 and "reason" in form.content.decode()
    empty = client.post(
        url, {"action": "delete_in_feishu", "_selected_action": [row.pk], "apply": "1", "reason": " "}
    )
    assert "Give the reason" in empty.content.decode() or "required" in empty.content.decode()
    assert ExternalRewardDeletion.objects.count() == 0
    client.post(
        url,
        {
            "action": "delete_in_feishu",
            "_selected_action": [row.pk],
            "apply": "1",
            "reason": "imported twice by mistake",
        },
    )
    row.refresh_from_db()
    assert (
        row.deleted_at is not None
        and row.delete_reason == "imported twice by mistake"
        and row.deleted_by == hr
    )
    deletion = row.deletions.get()
    assert deletion.status == CallStatus.SUCCEEDED and deletion.reason == "imported twice by mistake"
    entry = LogEntry.objects.get(object_id=str(row.pk), user=hr)
    assert "imported twice by mistake" in audit.describe(entry)
    assert [r["deleted"] for r in remote_rewards(sandbox)] == [True]
    with pytest.raises(Exception, match="deleted in Feishu already"):
        reward_delete_request(row, "again", hr)


def test_auditor_views_but_cannot_add_import_or_delete(client, staff_user, sandbox, referrer):
    row, _ = reward_add(a_reward(referrer))
    client.force_login(staff_user("Auditor"))
    assert client.get(reverse("admin:referrals_externalreferralreward_changelist")).status_code == 200
    assert (
        client.get(reverse("admin:referrals_externalreferralreward_change", args=[row.pk])).status_code == 200
    )
    assert client.get(reverse(IMPORT_URL)).status_code == 403
    assert client.get(reverse("admin:referrals_externalreferralreward_add")).status_code == 403


def test_a_lost_answer_is_repeated_with_the_same_external_id_and_creates_one_reward(
    sandbox, settings, referrer
):
    settings.FEISHU_TIMEOUT = 0.5
    sandbox.add_fault(CREATE, "late", count=1, delay=1.0)  # Feishu creates it; the answer comes too late
    row, _ = reward_add(a_reward(referrer, "lost-1"))
    row.refresh_from_db()
    assert row.status == CallStatus.SUCCEEDED, row.error
    assert row.maybe_applied and row.attempts == 2
    deadline = time.monotonic() + 5  # the late first call is logged when it finishes
    while len(calls := sandbox.requests(CREATE)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(calls) == 2 and {c["json"]["external_id"] for c in calls} == {"lost-1"}
    remote = remote_rewards(sandbox)
    assert len(remote) == 1 and remote[0]["id"] == row.reward_id


def test_an_unknown_outcome_stays_open_for_the_sync_pass_and_never_repeats_late(sandbox, referrer):
    sandbox.add_fault(CREATE, "drop", count=100)
    row, _ = reward_add(a_reward(referrer, "dropped-1"))
    row.refresh_from_db()
    assert row.status == CallStatus.QUEUED and "Outcome unknown" in row.error and row.maybe_applied
    sandbox.clear_faults()
    call_command("feishu_sync", "--no-pull", "--grace-seconds", "0")
    row.refresh_from_db()
    assert row.status == CallStatus.SUCCEEDED and len(remote_rewards(sandbox)) == 1

    old, _ = reward_add(a_reward(referrer, "too-old"))  # sent and answered; pretend it was lost long ago
    ExternalReferralReward.objects.filter(pk=old.pk).update(
        status=CallStatus.QUEUED, maybe_applied=True, requested_at=timezone.now() - timedelta(hours=13)
    )
    before = len(sandbox.requests(CREATE))
    call_command("feishu_sync", "--no-pull", "--grace-seconds", "0")
    old.refresh_from_db()
    assert old.status == CallStatus.FAILED and "too late to repeat" in old.error
    assert len(sandbox.requests(CREATE)) == before


def test_a_refusal_is_kept_on_the_row(sandbox):
    row, _ = reward_add(a_reward("nobody-here", "refused-1"))
    row.refresh_from_db()
    assert row.status == CallStatus.FAILED and row.error_code == 1002002
    assert "referrer's user id" in row.error and not row.reward_id
    with pytest.raises(Exception, match="not in Feishu"):
        reward_delete_request(row, "cleanup")


def _body(user_id, **changes):
    body = {
        "referral_user_id": user_id,
        "external_id": "api-1",
        "talent_id": "t-1",
        "rule_type": 2,
        "stage": 1,
        "bonus": {"bonus_type": 1, "point_bonus": 5},
    }
    return {k: v for k, v in {**body, **changes}.items() if v is not None}


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"referral_user_id": "ghost"}, "referral_user_id"),
        ({"external_id": None}, "external_id"),
        ({"talent_id": None}, "application_id or talent_id"),
        ({"rule_type": 6}, "rule_type"),
        ({"stage": 0}, "stage"),
        ({"bonus": {"bonus_type": 2, "cash": {"currency_type": "CNY", "amount": -1}}}, "amount"),
        ({"bonus": {"bonus_type": 1}}, "point_bonus"),
        ({"create_time": "yesterday"}, "create_time"),
    ],
)
def test_sandbox_refuses_an_invalid_create(sandbox, referrer, changes, says):
    with pytest.raises(FeishuError) as caught:
        hire.create_external_referral_reward(get_client(), _body(referrer, **changes), user_id_type="user_id")
    assert caught.value.code == 1002002 and caught.value.http_status == 400 and says in caught.value.msg


def test_sandbox_create_is_idempotent_and_delete_answers_unknown_ids(sandbox, referrer):
    client = get_client()
    first = hire.create_external_referral_reward(client, _body(referrer), user_id_type="user_id")
    again = hire.create_external_referral_reward(client, _body(referrer), user_id_type="user_id")
    assert first.id and again.id == first.id and first.log_id
    assert len(remote_rewards(sandbox)) == 1
    hire.delete_external_referral_reward(client, first.id)
    hire.delete_external_referral_reward(client, first.id)  # a repeat after a lost answer succeeds
    with pytest.raises(FeishuError) as caught:
        hire.delete_external_referral_reward(client, "7300000000000000000")
    assert caught.value.code == 1002002 and "does not exist" in caught.value.msg


def test_sandbox_keeps_rewards_across_a_restart(sandbox, referrer):
    from sandbox import persistence
    from sandbox.state import SandboxState

    created = hire.create_external_referral_reward(get_client(), _body(referrer), user_id_type="user_id")
    state = sandbox.server.state
    with state.lock:
        saved = {"app_id": state.app_id, "state": persistence.dump(state)}
    restarted = SandboxState(state.app_id, state.app_secret)
    persistence.load(restarted, saved)
    assert restarted.external_rewards[created.id]["external_id"] == "api-1"
    assert restarted.reward_by_external[(restarted.default_tenant, "api-1")] == created.id


def test_sandbox_rate_limits_the_reward_endpoints():
    from sandbox.ratelimit import LIMITS

    assert LIMITS["external_referral_reward.create"] == [(10, 1.0)]
    assert LIMITS["external_referral_reward.delete"] == [(10, 1.0)]
