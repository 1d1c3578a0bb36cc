"""Vendor orders: a bound background-check account and an exam account in the sandbox, and
delivery of the sandbox's events through the real webhook view."""

import copy

import pytest

from bindings.models import CustomerIdentifier, EcoAccountBinding, MatchingRule, VendorCustomer
from orders.catalogue.models import AdditionalItem, ExamPaper, Package
from tests.events.payloads import ENCRYPT_KEY, TOKEN, post_delivery, signed

CHECK_ACCOUNT = "7300000000000000101"
EXAM_ACCOUNT = "7300000000000000202"
PDF = b"%PDF-1.4\n% a report\n"


@pytest.fixture(autouse=True)
def report_files_in_tmp(settings, tmp_path):
    storages = {**settings.STORAGES}
    storages["reports"] = {
        **storages["reports"],
        "OPTIONS": {"location": str(tmp_path / "reports"), "base_url": None},
    }
    settings.STORAGES = storages


@pytest.fixture(autouse=True)
def webhook_secrets(settings):
    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN


def deliver(client, payload: dict):
    """The sandbox's event, as Feishu would deliver it to this app (signed, encrypted)."""
    payload = copy.deepcopy(payload)
    payload["header"]["token"] = TOKEN
    body, headers = signed(payload)
    resp = post_delivery(client, body, headers)
    assert resp.status_code == 200, resp.content
    return payload


@pytest.fixture
def vendor_ops(client, staff_user):
    """The test client, logged in as a member of Vendor operations."""
    client.force_login(staff_user("Vendor operations"))
    return client


@pytest.fixture
def acme(db):
    MatchingRule.objects.create(scope=1, keys=["org_id"])
    MatchingRule.objects.create(scope=2, keys=["org_id"])
    customer = VendorCustomer.objects.create(name="Acme 客户")
    CustomerIdentifier.objects.create(customer=customer, key="org_id", value="ACME-001")
    return customer


@pytest.fixture
def catalogue(db):
    """What the vendor offers: the binding pushes it to each account's Feishu."""
    Package.objects.create(code="pkg-basic", name="基础套餐", description="工作履历验证")
    AdditionalItem.objects.create(code="ext002", name="工作履历信息验证X2")
    ExamPaper.objects.create(code="paper001", name="春季测评", duration_minutes=30, question_count=30)


@pytest.fixture
def bound_accounts(client, sandbox, acme, catalogue):
    """One background-check and one exam account of Acme, bound through Feishu's event (which
    pushes the catalogue to them)."""
    for scope, account_id in ((1, CHECK_ACCOUNT), (2, EXAM_ACCOUNT)):
        event = sandbox.bind_account(
            scope=scope, account_id=account_id, custom_field_list=[{"key": "org_id", "value": "ACME-001"}]
        )
        deliver(client, event)
    assert EcoAccountBinding.objects.filter(status="bound", customer=acme).count() == 2
    return acme
