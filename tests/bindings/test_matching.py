"""Bindings from hire.eco_account.created_v1: matching, idempotency, manual decisions."""

import json

import pytest

from bindings import bulk
from bindings.matching import binding_bind_manually, binding_reject
from bindings.models import (
    BindingStatus,
    BindingStatusChange,
    CustomerIdentifier,
    EcoAccountBinding,
    MatchingRule,
    VendorCustomer,
)
from hireops.events.models import EventStatus, FeishuEvent
from hireops.jobs.services import run_inline
from tests.admin_forms import save_as_shown
from tests.events.payloads import ENCRYPT_KEY, TOKEN, eco_account_event, post_delivery, signed

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def secrets(settings):
    settings.FEISHU_ENCRYPT_KEY = ENCRYPT_KEY
    settings.FEISHU_VERIFICATION_TOKEN = TOKEN


@pytest.fixture
def acme():
    MatchingRule.objects.create(scope=1, keys=["account_token", "org_id"])
    customer = VendorCustomer.objects.create(name="Acme 背调客户")
    CustomerIdentifier.objects.create(customer=customer, key="account_token", value="ABC123")
    return customer


def deliver(client, **event):
    payload = eco_account_event(**event)
    body, headers = signed(payload)
    assert post_delivery(client, body, headers).status_code == 200
    return payload


def rematch_all() -> list[tuple[bool, str]]:
    """Re-run matching on every binding the way the admin action does; (done?, outcome) each."""
    return [(o.ok, o.message) for o in run_inline(bulk.rematch, EcoAccountBinding.objects.all(), {}, None)]


def test_one_customer_matches_binds(client, acme):
    deliver(
        client,
        account_id="acc-1",
        account_name="Acme 招聘",
        custom_field_list=[{"key": "account_token", "value": "ABC123"}],
        usage_list=[1, 2],
    )
    binding = EcoAccountBinding.objects.get()
    assert (binding.status, binding.customer, binding.account_name) == (
        BindingStatus.BOUND,
        acme,
        "Acme 招聘",
    )
    assert (binding.app_id, binding.tenant_key, binding.scope, binding.usage_list) == (
        "cli_test",
        "tenant-a",
        1,
        [1, 2],
    )
    assert "account_token=ABC123" in binding.review_reason
    change = binding.history.get()
    assert (change.to_status, change.customer, change.actor) == (BindingStatus.BOUND, acme, None)


def test_no_customer_needs_review(client, acme):
    deliver(client, custom_field_list=[{"key": "account_token", "value": "UNKNOWN"}])
    binding = EcoAccountBinding.objects.get()
    assert binding.status == BindingStatus.NEEDS_REVIEW and binding.customer is None
    assert "No customer has account_token=UNKNOWN" in binding.review_reason


def test_two_customers_need_review(client, acme):
    other = VendorCustomer.objects.create(name="Other Co")
    CustomerIdentifier.objects.create(customer=other, key="org_id", value="ORG-7")
    deliver(
        client,
        custom_field_list=[{"key": "account_token", "value": "ABC123"}, {"key": "org_id", "value": "ORG-7"}],
    )
    binding = EcoAccountBinding.objects.get()
    assert binding.status == BindingStatus.NEEDS_REVIEW and binding.customer is None
    assert "2 customers match" in binding.review_reason and "Other Co" in binding.review_reason


def test_no_rule_needs_review(client):
    deliver(client, custom_field_list=[{"key": "account_token", "value": "ABC123"}])
    assert "No matching rule" in EcoAccountBinding.objects.get().review_reason


def test_redelivery_and_second_event_update_in_place(client, acme):
    payload = deliver(
        client, account_id="acc-1", custom_field_list=[{"key": "account_token", "value": "NOPE"}]
    )
    body, headers = signed(payload)
    post_delivery(client, body, headers)  # redelivery
    assert EcoAccountBinding.objects.count() == 1 and BindingStatusChange.objects.count() == 1

    deliver(
        client,
        account_id="acc-1",
        account_name="renamed",
        custom_field_list=[{"key": "account_token", "value": "ABC123"}],
    )
    binding = EcoAccountBinding.objects.get()
    assert (binding.account_name, binding.status, binding.customer) == ("renamed", BindingStatus.BOUND, acme)
    assert list(binding.history.values_list("to_status", flat=True)) == [
        BindingStatus.BOUND,
        BindingStatus.NEEDS_REVIEW,
    ]


def test_manual_decisions_survive_events_and_rematch(client, acme, admin_user):
    deliver(client, account_id="acc-1", custom_field_list=[{"key": "account_token", "value": "NOPE"}])
    binding = EcoAccountBinding.objects.get()
    other = VendorCustomer.objects.create(name="Chosen by hand")
    binding_bind_manually(binding, other, admin_user, "confirmed on the phone")

    deliver(client, account_id="acc-1", custom_field_list=[{"key": "account_token", "value": "ABC123"}])
    assert rematch_all() == [(False, "Decided by staff: left as it is.")]
    binding.refresh_from_db()
    assert (binding.status, binding.customer, binding.decided_manually) == (BindingStatus.BOUND, other, True)
    manual = binding.history.first()
    assert (manual.actor, manual.reason) == (admin_user, "confirmed on the phone")

    binding_reject(binding, admin_user, "not our customer")
    deliver(client, account_id="acc-1", custom_field_list=[{"key": "account_token", "value": "ABC123"}])
    binding.refresh_from_db()
    assert binding.status == BindingStatus.REJECTED and binding.customer is None


def test_rematch_binds_after_staff_add_the_identifier(client, acme):
    deliver(client, account_id="acc-9", custom_field_list=[{"key": "org_id", "value": "ORG-1"}])
    assert rematch_all() == [(True, "Unchanged: Needs review.")]
    CustomerIdentifier.objects.create(customer=acme, key="org_id", value="ORG-1")
    assert rematch_all() == [(True, "Now Bound.")]
    assert rematch_all() == [(True, "Unchanged: Bound.")]  # idempotent
    assert EcoAccountBinding.objects.get().customer == acme


def test_event_without_account_id_fails_visibly(client):
    deliver(client, account_id="")
    event = FeishuEvent.objects.get()
    assert event.status == EventStatus.FAILED
    assert event.last_error == "The eco_account event has no account_id."
    assert EcoAccountBinding.objects.count() == 0


def test_admin_review_queue_bind_and_reject(client, admin_client, acme):
    deliver(
        client,
        account_id="acc-a",
        account_name="Queue A",
        custom_field_list=[{"key": "account_token", "value": "ABC123"}],
    )
    deliver(
        client,
        account_id="acc-b",
        account_name="Queue B",
        custom_field_list=[{"key": "account_token", "value": "NONE"}],
    )
    page = admin_client.get("/admin/bindings/ecoaccountbinding/").content.decode()
    assert page.index("Queue B") < page.index("Queue A")  # needs review first
    found = admin_client.get("/admin/bindings/ecoaccountbinding/?q=NONE").content.decode()
    assert "Queue B" in found and "Queue A" not in found

    b = EcoAccountBinding.objects.get(account_id="acc-b")
    url = "/admin/bindings/ecoaccountbinding/"
    form = admin_client.post(url, {"action": "bind_to_customer", "_selected_action": [b.pk]})
    assert form.status_code == 200 and "Queue B" in form.content.decode()
    admin_client.post(
        url,
        {
            "action": "bind_to_customer",
            "_selected_action": [b.pk],
            "apply": "1",
            "customer": acme.pk,
            "reason": "same company",
        },
    )
    b.refresh_from_db()
    assert (b.status, b.customer, b.decided_manually) == (BindingStatus.BOUND, acme, True)

    admin_client.post(url, {"action": "reject", "_selected_action": [b.pk], "apply": "1", "reason": ""})
    b.refresh_from_db()
    assert b.status == BindingStatus.BOUND  # a rejection needs a reason
    admin_client.post(url, {"action": "reject", "_selected_action": [b.pk], "apply": "1", "reason": "dup"})
    b.refresh_from_db()
    assert b.status == BindingStatus.REJECTED

    binding_page = admin_client.get(f"/admin/bindings/ecoaccountbinding/{b.pk}/change/").content.decode()
    history = binding_page.split("status history", 1)[-1]
    assert "Needs review" in history and "needs_review" not in history

    customer_page = admin_client.get(f"/admin/bindings/vendorcustomer/{acme.pk}/change/").content.decode()
    assert "Queue A" in customer_page

    picker = admin_client.get(
        "/admin/autocomplete/",
        {
            "term": "ABC1",
            "app_label": "bindings",
            "model_name": "ecoaccountbinding",
            "field_name": "customer",
        },
    )
    assert [r["text"] for r in json.loads(picker.content)["results"]] == ["Acme 背调客户"]


def test_the_customer_picker_speaks_the_readers_language(client, admin_client, acme):
    """The picker's own words (select2's "Searching…", "No results found") follow the page's
    language, not the language the form's module was imported in."""
    deliver(client, account_id="acc-c", custom_field_list=[{"key": "account_token", "value": "NONE"}])
    b = EcoAccountBinding.objects.get(account_id="acc-c")
    form = {"action": "bind_to_customer", "_selected_action": [b.pk]}
    for accept, lang in (("en", "en"), ("zh-CN", "zh-CN"), ("en", "en")):
        page = admin_client.post("/admin/bindings/ecoaccountbinding/", form, HTTP_ACCEPT_LANGUAGE=accept)
        picker = page.content.decode().split('id="id_customer"', 1)[1].split(">", 1)[0]
        assert f'lang="{lang}"' in picker
        assert f"admin/js/vendor/select2/i18n/{lang}.js" in page.content.decode()


def test_binding_page_shows_the_binding_and_refuses_a_save(client, admin_client, acme):
    deliver(client, account_id="acc-a", custom_field_list=[{"key": "account_token", "value": "NONE"}])
    binding = EcoAccountBinding.objects.get()
    url = f"/admin/bindings/ecoaccountbinding/{binding.pk}/change/"
    assert 'name="_save"' not in admin_client.get(url).content.decode()
    assert save_as_shown(admin_client, url).status_code == 403
    assert EcoAccountBinding.objects.get().updated_at == binding.updated_at  # its place in the queue


def test_sandbox_push_through_webhook_and_worker_to_bound_binding(sandbox, live_server, celery_worker, acme):
    sandbox.configure(
        webhook_url=live_server.url + "/feishu/events/", encrypt_key=ENCRYPT_KEY, verification_token=TOKEN
    )
    sandbox.bind_account(
        scope=1,
        account_name="Sandbox 客户",
        usage_list=[2],
        custom_field_list=[{"key": "account_token", "value": "ABC123"}],
        account_id="acc-sandbox",
    )
    celery_worker(
        lambda: EcoAccountBinding.objects.filter(
            account_id="acc-sandbox", status=BindingStatus.BOUND
        ).exists(),
        what="binding bound by the worker",
    )
    binding = EcoAccountBinding.objects.get(account_id="acc-sandbox")
    assert binding.customer == acme and binding.usage_list == [2]
    assert FeishuEvent.objects.get(event_id=binding.source_event_id).status == EventStatus.PROCESSED
