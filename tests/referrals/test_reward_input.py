"""One reward input for every way a reward comes in (``referrals.rewards.input.RewardInput``):
the import file, the admin's add form and the partners' API refuse the same input on the same
field with the same words (the API in English whatever the partner's language, the admin in
the reader's), and keep the same reward from the same values, with the same change history."""

import csv
import dataclasses
import io

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import translation

from hireops.api import keys
from hireops.core import audit
from hireops.core.auth import roles
from referrals import bulk
from referrals.forms import RewardAddForm
from referrals.models import ExternalReferralReward
from referrals.rewards import services as rewards
from tests.api.keys import bearer
from tests.second_factor import give_totp

REWARDS = "/api/v1/referral-rewards"
TEXT = {
    "external_id": "in-1",
    "employee_id": "u-1",
    "talent_id": "t-1",
    "rule_type": "1",
    "stage": "2",
    "points": "5",
}
JSON = {
    "external_id": "in-1",
    "employee_id": "u-1",
    "talent_id": "t-1",
    "rule_type": "onboard",
    "stage": "confirmed",
    "points": 5,
}
CASH_TEXT = {"points": "", "currency": "CNY"}
CASH_JSON = {"points": None, "currency": "CNY"}

# (the field refused, the import row's changes (text), the API body's changes (JSON)). A
# change to None leaves the key out. The API's body is None where its schema cannot carry the
# input (a word from its list, a number): a partner cannot send it, the document says so.
CASES = [
    ("external_id", {"external_id": "has space"}, {"external_id": "has space"}),
    ("external_id", {"external_id": "x" * 65}, {"external_id": "x" * 65}),
    ("employee_id", {"employee_id": ""}, {"employee_id": ""}),
    ("employee_id", {"employee_id": "u" * 129}, {"employee_id": "u" * 129}),
    ("application_id", {"talent_id": ""}, {"talent_id": None}),
    ("application_id", {"application_id": "a" * 65}, {"application_id": "a" * 65}),
    ("talent_id", {"talent_id": "t" * 65}, {"talent_id": "t" * 65}),
    ("job_id", {"job_id": "j" * 65}, {"job_id": "j" * 65}),
    ("rule_type", {"rule_type": "9"}, None),
    ("rule_type", {"rule_type": "bonus"}, None),
    ("stage", {"stage": "0"}, None),
    ("points", {"points": "-1"}, {"points": -1}),
    ("points", {"points": str(10**15 + 1)}, {"points": 10**15 + 1}),
    ("points", {"points": "1.5"}, None),
    (
        "points",
        {"points": "5", "amount": "5", "currency": "CNY"},
        {"points": 5, "amount": "5", "currency": "CNY"},
    ),
    ("points", {"points": ""}, {"points": None}),  # neither points nor cash
    ("amount", {**CASH_TEXT, "amount": "1.234"}, {**CASH_JSON, "amount": "1.234"}),
    ("amount", {**CASH_TEXT, "amount": "-1"}, {**CASH_JSON, "amount": "-1"}),
    ("amount", {**CASH_TEXT, "amount": "1e400"}, {**CASH_JSON, "amount": "1e400"}),
    ("amount", {**CASH_TEXT, "amount": "abc"}, None),
    (
        "currency",
        {**CASH_TEXT, "amount": "5", "currency": "yuan"},
        {**CASH_JSON, "amount": "5", "currency": "yuan"},
    ),
    (
        "currency",
        {**CASH_TEXT, "amount": "5", "currency": ""},
        {**CASH_JSON, "amount": "5", "currency": None},
    ),
    ("name", {"name": "n" * 101}, {"name": "n" * 101}),
    ("reason", {"reason": "r" * 201}, {"reason": "r" * 201}),
    ("comment", {"comment": "c" * 501}, {"comment": "c" * 501}),
    *[(time, {time: "1990-01-01"}, {time: "1990-01-01T00:00:00Z"}) for time in rewards.TIMES],
    *[(time, {time: "9999-12-31"}, {time: "9999-12-31T23:59:59+14:00"}) for time in rewards.TIMES],
    ("pay_time", {"pay_time": "2024-13-01"}, None),
]
ID = [f"{field}-{i}" for i, (field, _text, _json) in enumerate(CASES)]


def changed(base: dict, changes: dict) -> dict:
    return {k: v for k, v in {**base, **changes}.items() if v is not None}


def imported(row: dict) -> dict[str, list[str]]:
    """What the import refuses of a file with this one row (read as the upload reads it)."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=rewards.COLUMNS)
    writer.writeheader()
    writer.writerow(row)
    [read] = bulk.import_rewards.read(io.BytesIO(out.getvalue().encode()))
    with pytest.raises(ValidationError) as refused:
        bulk.import_rewards.run(read, {"tenant_key": ""}, None)
    assert bulk.import_rewards.refusal_message(refused.value)  # what the report shows
    return refused.value.message_dict


def typed_in(row: dict) -> dict[str, list[str]]:
    form = RewardAddForm({**row, "tenant_key": ""})
    assert not form.is_valid()
    return form.errors


@pytest.fixture
def hr(staff_user):
    user = staff_user(roles.HR, username="hr")
    give_totp(user)
    return user


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "text", "body"), CASES, ids=ID)
def test_every_way_in_refuses_the_same_input_with_the_same_words(client, hr, field, text, body):
    row = changed(TEXT, text)
    with translation.override("en"):
        english = imported(row)
    with translation.override("zh-hans"):
        chinese = imported(row)
        form = typed_in(row)
    assert field in english, english
    assert english.keys() == chinese.keys() == form.keys() - {"__all__"}, (english, form)
    assert english[field] != chinese[field]  # the admin reads it in Chinese
    # The add form's text is checked by the reward input alone; its lists to choose from are
    # checked as lists too (a value not listed), and then by the reward input.
    assert form[field] == chinese[field] or set(chinese[field]) < set(form[field]), (form[field], chinese)

    if body is None:
        return
    key = keys.create("hris", ["rewards:write"], by=hr).key
    history = LogEntry.objects.count()
    json = changed(JSON, body)
    answer = client.post(
        REWARDS, json, content_type="application/json", HTTP_ACCEPT_LANGUAGE="zh-CN", **bearer(key)
    )
    assert answer.status_code == 422, answer.content
    said = {e["field"]: e["message"] for e in answer.json()["errors"]}
    assert said == {name: " ".join(messages) for name, messages in english.items()}
    assert not ExternalReferralReward.objects.exists() and LogEntry.objects.count() == history


def test_every_field_of_the_input_is_refused_by_some_case():
    """A field added to the reward input needs its case here (and its check in ``_problems``)."""
    fields = {f.name for f in dataclasses.fields(rewards.RewardInput)} - {"tenant_key"}
    assert fields == set(rewards.COLUMNS) == {field for field, _text, _json in CASES}


@pytest.fixture
def referrer(sandbox):
    return sandbox.add_employee(name="李雷", email="lilei@example.com")["user_id"]


@pytest.mark.django_db(transaction=True)
def test_the_same_values_make_the_same_reward_and_history_every_way_in(
    client, admin_client, admin_user, hr, sandbox, referrer
):
    text = {
        **TEXT,
        "employee_id": referrer,
        "stage": "3",
        "points": "",
        "amount": "200.5",
        "currency": "cny",
        "reason": " 推荐入职 ",
        "pay_time": "1714492800000",
        "onboard_time": "2024-04-01",  # the deployment's midnight (Asia/Shanghai)
    }
    body = {
        **JSON,
        "employee_id": referrer,
        "stage": "paid",
        "points": None,
        "amount": "200.50",
        "currency": "CNY",
        "reason": "推荐入职",
        "pay_time": "2024-04-30T16:00:00Z",
        "onboard_time": "2024-04-01T00:00:00+08:00",
    }
    key = keys.create("hris", ["rewards:write"], by=hr)
    posted = changed(body, {"external_id": "by-api"})
    answer = client.post(REWARDS, posted, content_type="application/json", **bearer(key.key))
    assert answer.status_code == 201, answer.content
    bulk.import_rewards.run({**text, "external_id": "by-file"}, {"tenant_key": ""}, hr)
    page = admin_client.post(
        reverse("admin:referrals_externalreferralreward_add"),
        {**text, "external_id": "by-form", "tenant_key": ""},
    )
    assert page.status_code == 302, page.content.decode()[-2000:]

    kept = {r.external_id: r for r in ExternalReferralReward.objects.all()}
    sent = {name: {**rewards.reward_body(r), "external_id": "-"} for name, r in kept.items()}
    assert sent["by-api"] == sent["by-file"] == sent["by-form"]
    assert sent["by-api"]["bonus"] == {"bonus_type": 2, "cash": {"currency_type": "CNY", "amount": 200.5}}
    assert kept["by-api"].reason == "推荐入职" and kept["by-api"].onboard_time == 1711900800000

    by = {"by-api": key.row.actor, "by-file": hr, "by-form": admin_user}
    for name, reward in kept.items():
        [entry] = LogEntry.objects.filter(
            object_id=str(reward.pk), content_type__model="externalreferralreward"
        )
        assert (entry.user, entry.action_flag) == (by[name], ADDITION)
        with translation.override("en"):
            assert audit.describe(entry) == "Imported; sent to Feishu."
