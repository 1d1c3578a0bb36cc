"""A catalogue entry narrowed to some customers never becomes every customer's because those
customers were deleted: the last customer an entry names is kept (the delete page and the bulk
action list the entry and delete nothing) until the entry names another customer or is gone."""

import pytest
from django.core import checks

from bindings import deletion
from bindings.models import VendorCustomer
from orders.catalogue.models import ExamPaper, Package

pytestmark = pytest.mark.django_db

CUSTOMERS = "/admin/bindings/vendorcustomer/"


@pytest.fixture
def customers(db):
    return [VendorCustomer.objects.create(name=name) for name in ("甲客户", "乙客户", "丙客户")]


def a_package(code: str, only_for=(), is_active=True) -> Package:
    package = Package.objects.create(code=code, name=code, turnaround_days=5, is_active=is_active)
    package.only_for.set(only_for)
    return package


def test_the_last_customer_an_entry_names_is_kept_by_the_page_and_the_action(vendor_ops, customers):
    first, second, third = customers
    alone = a_package("pkg-alone", [first])
    asleep = a_package("pkg-asleep", [first], is_active=False)  # offered again once switched on
    shared = a_package("pkg-shared", [first, second])
    a_package("pkg-everyone")
    paper = ExamPaper.objects.create(code="paper-1", name="笔试一")
    paper.only_for.set([first, third])

    page = vendor_ops.get(f"{CUSTOMERS}{first.pk}/delete/")
    text = page.content.decode()
    assert page.status_code == 200 and str(alone) in text and str(asleep) in text
    assert str(shared) not in text and str(paper) not in text  # named with another customer
    vendor_ops.post(f"{CUSTOMERS}{first.pk}/delete/", {"post": "yes"})
    bulk = {"action": "delete_selected", "_selected_action": [first.pk, third.pk], "post": "yes"}
    page = vendor_ops.post(CUSTOMERS, bulk)
    assert str(paper) in page.content.decode()  # first and third are all it names
    assert VendorCustomer.objects.count() == 3
    assert set(alone.only_for.all()) == set(asleep.only_for.all()) == {first}

    alone.only_for.add(second)
    asleep.delete()
    paper.only_for.add(second)
    vendor_ops.post(f"{CUSTOMERS}{first.pk}/delete/", {"post": "yes"})
    assert not VendorCustomer.objects.filter(pk=first.pk).exists()
    assert set(alone.only_for.all()) == set(shared.only_for.all()) == {second}
    assert set(paper.only_for.all()) == {second, third}


def test_a_customer_no_entry_leans_on_alone_goes_at_once(vendor_ops, customers):
    first, second, _third = customers
    a_package("pkg-shared", [first, second])
    page = vendor_ops.post(f"{CUSTOMERS}{first.pk}/delete/", {"post": "yes"})
    assert page.status_code == 302
    assert not VendorCustomer.objects.filter(pk=first.pk).exists()


def test_who_may_not_view_the_catalogue_is_told_how_many_not_which(client, staff_user, customers):
    first, _second, _third = customers
    hidden = a_package("pkg-hidden-name", [first])
    client.force_login(staff_user(perms=("bindings.view_vendorcustomer", "bindings.delete_vendorcustomer")))
    page = client.post(f"{CUSTOMERS}{first.pk}/delete/", {"post": "yes"})
    text = page.content.decode()
    assert page.status_code == 200 and "pkg-hidden-name" not in text
    assert "1 catalogue entry you may not view is offered only to the customers being deleted" in text
    assert VendorCustomer.objects.filter(pk=first.pk).exists() and set(hidden.only_for.all()) == {first}


def test_the_start_fails_without_the_catalogues_rule(monkeypatch):
    assert not [m for m in checks.run_checks() if m.id == "orders.E002"]
    monkeypatch.setattr(deletion, "_rules", [])
    assert [m.id for m in checks.run_checks() if m.id == "orders.E002"] == ["orders.E002"]
