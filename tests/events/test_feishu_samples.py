"""Feishu's own documented sample payloads (``feishu_samples/``, sources in its README),
delivered through the real webhook the way Feishu delivers them: the configured
verification token in the token field, the body AES-encrypted, the request signed.

The expected values below are written out from the samples on purpose: if a sample file
changes, or hireops reads a field differently, these tests say so.
"""

import copy
import json
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from django.core.cache import cache

from bindings.models import BindingStatus, CustomerIdentifier, EcoAccountBinding, MatchingRule, VendorCustomer
from hireops.events.models import EventStatus, FeishuEvent
from hireops.events.registry import handled_types
from hireops.feishu.auth import ticket_key
from referrals.models import (
    AccountStatus,
    BalanceSource,
    Leaver,
    LeaverHow,
    LeaverMatch,
    LeaverState,
    ReferralAccount,
)

from .payloads import ENCRYPT_KEY, TOKEN, post_delivery, signed

pytestmark = pytest.mark.django_db(transaction=True)

SAMPLES = Path(__file__).parent / "feishu_samples"
LIFECYCLE = ["app_open", "app_status_change", "app_uninstalled"]
ORDERS = [
    "hire.eco_background_check.created_v1",
    "hire.eco_background_check.canceled_v1",
    "hire.eco_exam.created_v1",
]
DIRECTORY = ["contact.user.created_v3", "contact.user.updated_v3", "contact.user.deleted_v3"]
HANDLED = [
    "app_ticket",
    "hire.eco_account.created_v1",
    "hire.referral_account.assets_update_v1",
    *LIFECYCLE,
    *ORDERS,
    *DIRECTORY,
]
# Every schema 2.0 sample (the Hire and the directory ones) carries this event_id, every
# schema 1.0 sample this uuid: a test delivering two samples gives the second a fresh id.
SAMPLE_EVENT_ID = "5e3702a84e847582be8db7fb73283c02"
SAMPLE_UUID = "bc447199585340d1f3728d26b1c0297a"
SAMPLE_APP_ID = "cli_9f5343c580712544"
SAMPLE_TENANT = "2ca1d211f64f6438"


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY  # an ingest server inherits these
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN


def sample(event_type: str) -> dict:
    return json.loads((SAMPLES / f"{event_type}.json").read_text(encoding="utf-8"))


def as_sent(payload: dict, token: str = TOKEN) -> dict:
    """The sample as Feishu would send it to this app: with the app's verification token."""
    payload = copy.deepcopy(payload)
    if payload.get("schema") == "2.0":
        payload["header"]["token"] = token
    else:
        payload["token"] = token
    return payload


def deliver(client, event_type: str):
    """POST the sample through the Django view (/feishu/events/), signed and encrypted."""
    return deliver_payload(client, sample(event_type))


def deliver_payload(client, payload: dict):
    """POST a sample (or a copy of one, changed by the test) like ``deliver``."""
    body, headers = signed(as_sent(payload))
    return post_delivery(client, body, headers)


def stored(event_id: str) -> tuple:
    event = FeishuEvent.objects.get(event_id=event_id)
    return (
        event.schema,
        event.event_type,
        event.app_id,
        event.tenant_key,
        event.account_id,
        event.create_time,
        event.status,
    )


def test_every_sample_is_listed_and_named_after_its_event_type():
    files = sorted(p.stem for p in SAMPLES.glob("*.json"))
    assert files == sorted(HANDLED)
    readme = (SAMPLES / "README.md").read_text(encoding="utf-8")
    for name in files:
        payload = sample(name)
        event_type = (
            payload["header"]["event_type"] if payload.get("schema") == "2.0" else payload["event"]["type"]
        )
        assert event_type == name
        assert f"`{name}.json`" in readme
    assert handled_types() == sorted(HANDLED)  # a new handler needs its sample test here


def test_the_documentation_placeholder_token_is_refused(client):
    body, headers = signed(sample("hire.eco_account.created_v1"))  # token left as documented
    resp = post_delivery(client, body, headers)
    assert resp.status_code == 403
    assert not FeishuEvent.objects.exists()


# --- handled events ------------------------------------------------------------------------


@pytest.fixture
def customer_with_ord_id():
    """A vendor customer identified by the sample's custom field (ord_id = 7233333)."""
    MatchingRule.objects.create(scope=1, keys=["ord_id"])
    customer = VendorCustomer.objects.create(name="样例客户")
    CustomerIdentifier.objects.create(customer=customer, key="ord_id", value="7233333")
    return customer


def assert_sample_binding(customer):
    binding = EcoAccountBinding.objects.get()
    assert (binding.app_id, binding.tenant_key, binding.account_id) == (
        SAMPLE_APP_ID,
        SAMPLE_TENANT,
        "6931286400470354183",
    )
    assert (binding.scope, binding.account_name, binding.usage_list) == (1, "背调账号 001", [1])
    assert binding.custom_field_values == [{"key": "ord_id", "value": "7233333"}]
    assert binding.values == {"ord_id": "7233333"}
    assert (binding.status, binding.customer, binding.source_event_id) == (
        BindingStatus.BOUND,
        customer,
        SAMPLE_EVENT_ID,
    )


def test_eco_account_created_sample_through_the_view(client, customer_with_ord_id):
    resp = deliver(client, "hire.eco_account.created_v1")
    assert (resp.status_code, resp.json()) == (200, {"msg": "success"})
    assert stored(SAMPLE_EVENT_ID) == (
        "2.0",
        "hire.eco_account.created_v1",
        SAMPLE_APP_ID,
        SAMPLE_TENANT,
        "6931286400470354183",
        "1608725989000",
        EventStatus.PROCESSED,
    )
    assert_sample_binding(customer_with_ord_id)


def test_eco_account_created_sample_through_the_ingest_server(
    ingest_server, celery_worker, customer_with_ord_id
):
    """The production path: gunicorn ``config.ingest`` stores it, a real worker handles it."""
    body, headers = signed(as_sent(sample("hire.eco_account.created_v1")))
    resp = requests.post(
        ingest_server, data=body, timeout=10, headers={**headers, "Content-Type": "application/json"}
    )
    assert (resp.status_code, resp.json()) == (200, {"msg": "success"})
    celery_worker(
        lambda: FeishuEvent.objects.filter(event_id=SAMPLE_EVENT_ID, status=EventStatus.PROCESSED).exists(),
        what="the sample processed by the worker",
    )
    assert stored(SAMPLE_EVENT_ID) == (
        "2.0",
        "hire.eco_account.created_v1",
        SAMPLE_APP_ID,
        SAMPLE_TENANT,
        "6931286400470354183",
        "1608725989000",
        EventStatus.PROCESSED,
    )
    assert_sample_binding(customer_with_ord_id)


def test_referral_assets_update_sample_sets_the_balance(client):
    # The account must be registered here first; Feishu's sample names this account_id.
    account = ReferralAccount.objects.create(
        name="王二", email="wanger@example.com", account_id="7147998241542539527", status=AccountStatus.ACTIVE
    )
    assert (account.points, account.assets_modify_time, account.cash.count()) == (0, None, 0)

    resp = deliver(client, "hire.referral_account.assets_update_v1")
    assert (resp.status_code, resp.json()) == (200, {"msg": "success"})
    assert stored(SAMPLE_EVENT_ID) == (
        "2.0",
        "hire.referral_account.assets_update_v1",
        SAMPLE_APP_ID,
        SAMPLE_TENANT,
        "7147998241542539527",
        "1608725989000",
        EventStatus.PROCESSED,
    )
    account.refresh_from_db()
    assert (account.points, account.assets_modify_time) == (100, 1685431415036)
    cash = account.cash.get()
    assert (cash.currency, cash.amount) == (
        "CNY",
        Decimal("100.00"),
    )  # the sample's amount is the integer 100
    change = account.balance_history.get()
    assert (change.source, change.modify_time, change.points, change.cash, change.reference) == (
        BalanceSource.EVENT,
        1685431415036,
        100,
        {"CNY": "100.00"},
        SAMPLE_EVENT_ID,
    )


def test_app_ticket_sample_stores_the_ticket(client):
    assert cache.get(ticket_key("cli_xxx")) is None
    resp = deliver(client, "app_ticket")
    assert (resp.status_code, resp.json()) == (200, {"msg": "success"})
    # Schema 1.0: the uuid is the event id, ts the create time; the sample has no tenant_key.
    assert stored(SAMPLE_UUID) == (
        "1.0",
        "app_ticket",
        "cli_xxx",
        "",
        "",
        "1502199207.7171419",
        EventStatus.PROCESSED,
    )
    assert cache.get(ticket_key("cli_xxx")) == "xxx"


@pytest.mark.parametrize(
    ("event_type", "status"),
    [("app_open", "installed"), ("app_status_change", "installed"), ("app_uninstalled", "uninstalled")],
)
def test_lifecycle_samples_record_the_tenant(client, event_type, status):
    """The samples of Feishu's pages (schema 1.0; app_status_change's is start_by_tenant)."""
    from hireops.tenants.models import Tenant

    first, again = deliver(client, event_type), deliver(client, event_type)
    assert [first.status_code, again.status_code] == [200, 200]
    assert stored(SAMPLE_UUID) == ("1.0", event_type, "cli_xxx", "xxx", "", "1502199207.7171419", "processed")
    tenant = Tenant.objects.get(tenant_key="xxx")
    assert (tenant.status, tenant.status_since_ms) == (status, 1502199207717)
    assert tenant.history.get().event_id == SAMPLE_UUID  # once, whatever the deliveries


def test_background_check_samples_create_then_cancel_an_order(client):
    from orders.models import BackgroundCheck, CheckState

    assert deliver(client, "hire.eco_background_check.created_v1").status_code == 200
    check = BackgroundCheck.objects.get()
    assert (check.background_check_id, check.account_id, check.tenant_key, check.app_id) == (
        "6931286400470354183",
        "6931286400470354183",
        SAMPLE_TENANT,
        SAMPLE_APP_ID,
    )
    assert (check.package_id, check.additional_item_ids, check.comment) == (
        "12",
        ["ext002"],
        "高阶候选人，请尽快处理",
    )
    assert (check.candidate_name, check.candidate_first_name, check.candidate_last_name) == (
        "王二",
        "Ming",
        "Lee",
    )
    assert (check.candidate_mobile_code, check.candidate_mobile, check.candidate_email) == (
        "86",
        "18900001111",
        "xxx@abc.vom",
    )
    assert (check.contact_name, check.contact_mobile, check.contact_email) == (
        "王二",
        "18900001111",
        "xxx@abc.vom",
    )
    assert check.custom_field_values == [{"key": "candidate_extra_info", "value": "这是一些额外信息"}]
    assert check.binding is None and check.state == CheckState.NEW  # no binding for the sample's account
    assert stored(SAMPLE_EVENT_ID)[-1] == EventStatus.PROCESSED
    # Every sample shares one event_id; Feishu's would differ.
    canceled = as_sent(sample("hire.eco_background_check.canceled_v1"))
    canceled["header"]["event_id"] = "canceled-1"
    body, headers = signed(canceled)
    assert post_delivery(client, body, headers).status_code == 200
    check.refresh_from_db()
    assert (check.state, check.cancel_reason) == (CheckState.CANCELED, "主动拒绝此次背调")


def test_exam_sample_creates_an_exam_order(client):
    from orders.models import Exam, ExamState

    assert deliver(client, "hire.eco_exam.created_v1").status_code == 200
    exam = Exam.objects.get()
    assert (exam.exam_id, exam.account_id, exam.paper_id, exam.state) == (
        "7147998241542539527",
        "7147998241542539527",
        "paper001",
        ExamState.NEW,
    )
    assert (exam.candidate_name, exam.candidate_mobile, exam.candidate_email) == (
        "王二",
        "18900001111",
        "xxx@abc.vom",
    )
    assert exam.talent_id == "" and stored(SAMPLE_EVENT_ID)[-1] == EventStatus.PROCESSED


# --- the directory events (docs/feishu.md §17) ------------------------------------------------

# The employee all three directory samples name (``event.object``).
SAMPLE_OPEN_ID = "ou_7dab8a3d3cdcc9da365777c7ad535d62"
SAMPLE_UNION_ID = "on_576833b917gda3d939b9a3c2d53e72c8"
SAMPLE_USER_ID = "e33ggbyz"


def directory_stored(event_id: str, event_type: str) -> None:
    # No account_id in a directory event: the inbox's account column stays empty.
    assert stored(event_id) == (
        "2.0",
        event_type,
        SAMPLE_APP_ID,
        SAMPLE_TENANT,
        "",
        "1608725989000",
        EventStatus.PROCESSED,
    )


@pytest.fixture
def colleague():
    """A registered account that is not the samples' employee (张三: user_id e33ggbyz, emails
    zhangsan@gmail.com / demo@mail.com, mobile 12345678910): nothing may match it."""

    def make(tenant_key: str = "") -> ReferralAccount:
        return ReferralAccount.objects.create(
            name="李四",
            email="lisi@example.com",
            mobile_code="86",
            mobile_number="13800138000",
            account_id="7147998241542539527",
            tenant_key=tenant_key,
            status=AccountStatus.ACTIVE,
        )

    return make


def assert_sample_leaver(tenant_key: str, how: str, event_id: str, other: ReferralAccount) -> None:
    """The sample's employee matches no account: a leaver that needs a person, nothing applied."""
    leaver = Leaver.objects.get()
    assert (leaver.tenant_key, leaver.open_id, leaver.union_id, leaver.user_id, leaver.name) == (
        tenant_key,
        SAMPLE_OPEN_ID,
        SAMPLE_UNION_ID,
        SAMPLE_USER_ID,
        "张三",
    )
    assert (leaver.how, leaver.source_event_id) == (how, event_id)
    assert (leaver.match, leaver.account, leaver.candidates, leaver.state) == (
        LeaverMatch.NONE,
        None,
        [],
        LeaverState.NEEDS_PERSON,
    )
    assert "No referral account matches" in leaver.error
    assert (leaver.policy, leaver.points_then, leaver.applied_at, leaver.withdrawal) == ("", None, None, None)
    other.refresh_from_db()  # not matched, so not given the sample's employee id, not deactivated
    assert (other.employee_id, other.status, other.pending_action) == ("", AccountStatus.ACTIVE, "")


@pytest.mark.parametrize(("app_type", "tenant_key"), [("self_built", ""), ("store", SAMPLE_TENANT)])
def test_user_deleted_sample_makes_a_leaver_that_needs_a_person(
    client, settings, colleague, app_type, tenant_key
):
    settings.FEISHU_APP_TYPE = app_type
    other = colleague(tenant_key)
    resp = deliver(client, "contact.user.deleted_v3")
    assert (resp.status_code, resp.json()) == (200, {"msg": "success"})
    directory_stored(SAMPLE_EVENT_ID, "contact.user.deleted_v3")
    # The page's sample: is_resigned false (the event itself says the employee left), and an
    # old_object whose open_id is a placeholder, not the object's: hireops reads event.object.
    payload = FeishuEvent.objects.get(event_id=SAMPLE_EVENT_ID).payload
    assert payload["event"]["object"]["status"]["is_resigned"] is False
    assert payload["event"]["old_object"] == {
        "department_ids": ["od_231kdgb2xxxx"],
        "open_id": "ou_xxxxxxxxxx",
    }
    assert_sample_leaver(tenant_key, LeaverHow.DELETED, SAMPLE_EVENT_ID, other)


def test_user_updated_sample_as_published_changes_nothing(client, colleague):
    """Feishu's sample is not a resignation (is_resigned false before and after)."""
    other = colleague()
    resp = deliver(client, "contact.user.updated_v3")
    assert (resp.status_code, resp.json()) == (200, {"msg": "success"})
    directory_stored(SAMPLE_EVENT_ID, "contact.user.updated_v3")
    assert not Leaver.objects.exists()
    assert list(ReferralAccount.objects.values_list("pk", "employee_id", "status")) == [
        (other.pk, "", AccountStatus.ACTIVE)
    ]


def test_user_updated_sample_resigned_makes_one_leaver_with_the_deletion(client, colleague):
    """The updated sample with ``object.status.is_resigned`` set (old_object stays as published,
    not resigned), then the deleted sample for the same employee: one leaver, by the first."""
    other = colleague()
    resigned = sample("contact.user.updated_v3")
    resigned["header"]["event_id"] = "resigned-1"  # the samples share one event_id
    assert resigned["event"]["old_object"]["status"]["is_resigned"] is False
    resigned["event"]["object"]["status"]["is_resigned"] = True
    resp = deliver_payload(client, resigned)
    assert (resp.status_code, resp.json()) == (200, {"msg": "success"})
    directory_stored("resigned-1", "contact.user.updated_v3")
    assert_sample_leaver("", LeaverHow.RESIGNED, "resigned-1", other)

    deleted = sample("contact.user.deleted_v3")
    deleted["header"]["event_id"] = "deleted-1"
    assert deliver_payload(client, deleted).status_code == 200
    directory_stored("deleted-1", "contact.user.deleted_v3")
    assert_sample_leaver("", LeaverHow.RESIGNED, "resigned-1", other)  # still the one row


def test_user_created_sample_registers_nobody_when_joiners_are_off(client, settings, colleague):
    settings.REFERRAL_REGISTER_JOINERS = False
    other = colleague()
    resp = deliver(client, "contact.user.created_v3")
    assert (resp.status_code, resp.json()) == (200, {"msg": "success"})
    directory_stored(SAMPLE_EVENT_ID, "contact.user.created_v3")
    assert list(ReferralAccount.objects.values_list("pk", "employee_id", "status")) == [
        (other.pk, "", AccountStatus.ACTIVE)
    ]
    assert not Leaver.objects.exists()
