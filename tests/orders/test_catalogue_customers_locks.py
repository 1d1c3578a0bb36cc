"""Deleting a customer and editing a catalogue entry at the same moment never leaves the entry
naming no customer (which would offer it to every customer): the deletion's check holds until
it commits, whichever of the two colleagues comes first (PostgreSQL: the order of two sessions
is the subject)."""

import contextlib

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils.html import escape

from bindings.deletion import why_kept
from bindings.models import VendorCustomer
from orders.admin.catalogue import SAVE_REFUSED
from orders.catalogue.models import CatalogueRollout, Package
from orders.catalogue.services import entry_save
from tests.api.keys import make_key
from tests.api.test_catalogue import put
from tests.lock_waits import AnotherSession

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="two sessions' locks: PostgreSQL"),
]

CUSTOMERS = "/admin/bindings/vendorcustomer/"


@pytest.fixture
def customers(db):
    return [VendorCustomer.objects.create(name=name) for name in ("甲客户", "乙客户", "丙客户")]


@pytest.fixture
def deleter(staff_user):
    return staff_user("Vendor operations", username="deleter")


def deleted_while_it_waits(edit: AnotherSession, customer: VendorCustomer, deleter) -> object:
    """``customer`` deleted as the admin deletes one (checked first, in one transaction) while
    ``edit``, a colleague's change to an entry naming it, waits for the entry's lock; what the
    edit then returned or raised."""
    with transaction.atomic():  # the deletion's transaction, as the admin runs it
        assert why_kept([customer.pk], deleter) == []  # the entry names another customer: may go
        edit.start_and_wait_for_its_lock()
        VendorCustomer.objects.filter(pk=customer.pk).delete()
    return edit.finished()


def a_package(code: str, only_for) -> Package:
    package = Package.objects.create(code=code, name=code, turnaround_days=5)
    package.only_for.set(only_for)
    return package


def typed_by_hand(package: Package, only_for) -> dict:
    """The entry's page as a colleague submits it: a new description and these customers."""
    return {
        "name": package.name,
        "description": "typed by hand",
        "turnaround_days": package.turnaround_days,
        "only_for": [customer.pk for customer in only_for],
        "is_active": "on",
        "display_order": 0,
    }


@pytest.mark.parametrize(
    "post",
    [
        lambda first: (f"{CUSTOMERS}{first.pk}/delete/", {"post": "yes"}),
        lambda first: (
            CUSTOMERS,
            {"action": "delete_selected", "_selected_action": [first.pk], "post": "yes"},
        ),
    ],
    ids=["delete page", "bulk action"],
)
def test_an_entry_losing_its_other_customer_meanwhile_keeps_the_deleted_one(vendor_ops, customers, post):
    first, second, _third = customers
    package = a_package("pkg-shared", [first, second])
    url, data = post(first)
    deletion = AnotherSession(lambda: vendor_ops.post(url, data))  # a colleague deleting
    with transaction.atomic():  # a colleague narrows the entry to the first customer alone
        entry_save(package, only_for=[first])
        deletion.start_and_wait_for_its_lock()
    answer = deletion.finished()
    assert answer.status_code == 200 and str(package) in answer.content.decode()  # listed, kept
    assert VendorCustomer.objects.filter(pk=first.pk).exists()
    assert set(package.only_for.all()) == {first}


def test_an_entry_narrowed_to_the_customer_meanwhile_fails_at_its_commit(vendor_ops, customers):
    """An entry's link to a customer is checked when its transaction commits (Django's foreign
    keys are deferred on PostgreSQL): a colleague's edit naming a customer deleted meanwhile
    fails whole, and the entry keeps the customers it named."""
    first, _second, third = customers
    package = a_package("pkg-elsewhere", [third])
    with pytest.raises(IntegrityError), transaction.atomic():  # the colleague's edit
        entry_save(package, only_for=[first])
        deletion = AnotherSession(lambda: vendor_ops.post(f"{CUSTOMERS}{first.pk}/delete/", {"post": "yes"}))
        deletion.start()
        assert deletion.finished().status_code == 302  # it saw no entry naming the customer
    assert not VendorCustomer.objects.filter(pk=first.pk).exists()
    assert set(package.only_for.all()) == {third}


def test_a_deletion_checked_first_makes_the_colleagues_edit_wait_then_fail(deleter, customers):
    first, second, _third = customers
    package = a_package("pkg-shared", [first, second])
    # The colleague's edit, in a session of its own.
    edit = AnotherSession(lambda: entry_save(Package.objects.get(pk=package.pk), only_for=[first]))
    outcome = deleted_while_it_waits(edit, first, deleter)
    assert isinstance(outcome, IntegrityError), outcome
    assert set(package.only_for.all()) == {second}


def test_a_save_on_the_entrys_page_losing_to_a_deletion_says_nothing_was_saved(
    vendor_ops, deleter, customers
):
    """The admin's save fails at its commit as the service's does: the colleague is told on
    the entry's page, not shown a server error, and neither the save nor its notice remains.
    The page is the form as they filled it, the deleted customer's choice refused, so what
    they typed is not lost."""
    first, second, _third = customers
    package = a_package("pkg-shared", [first, second])
    url = f"/admin/orders/package/{package.pk}/change/"
    edit = AnotherSession(lambda: vendor_ops.post(url, typed_by_hand(package, only_for=[first])))
    answer = deleted_while_it_waits(edit, first, deleter)
    assert not isinstance(answer, Exception), answer
    assert answer.status_code == 200
    page = answer.content.decode()
    assert escape(str(SAVE_REFUSED)) in page
    assert "goes out to every bound account" not in page  # the save's notice went with it
    assert "typed by hand" in page
    assert answer.context["adminform"].form.errors.keys() == {"only_for"}
    assert set(package.only_for.all()) == {second}
    package.refresh_from_db()
    assert package.description != "typed by hand"
    assert not CatalogueRollout.objects.exists()


@contextlib.contextmanager
def every_new_link_refused_at_commit():
    """Every new link between an entry and a customer refused as its transaction commits, as
    a deferred foreign key refuses one to a deleted customer: a save and the save asked again
    both lose, as they would to two colleagues' deletions one after the other."""
    table = Package.only_for.through._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_refuse_link() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "RAISE foreign_key_violation USING MESSAGE = 'the customer is gone'; END $$"
        )
        cursor.execute(
            f"CREATE CONSTRAINT TRIGGER test_refuse_link AFTER INSERT ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION test_refuse_link()"
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER test_refuse_link ON {table}")
            cursor.execute("DROP FUNCTION test_refuse_link()")


def test_a_save_refused_at_both_commits_reloads_the_page_saying_nothing_was_saved(
    vendor_ops, customers, caplog
):
    """The form asked again after a refused commit can lose once more: the page then reloads
    with the refusal, said once, and nothing of either save remains (no change, no rollout, no
    notice of one)."""
    first, second, third = customers
    package = a_package("pkg-shared", [first, second])
    url = f"/admin/orders/package/{package.pk}/change/"
    with every_new_link_refused_at_commit():
        answer = vendor_ops.post(url, typed_by_hand(package, only_for=[third]))
    assert answer.status_code == 302 and answer["Location"] == url
    refused = [
        r for r in caplog.records if r.getMessage() == "a catalogue entry's save was refused at its commit"
    ]
    assert len(refused) == 2  # the save, then the form asked again
    page = vendor_ops.get(url).content.decode()
    assert page.count(escape(str(SAVE_REFUSED))) == 1
    assert "goes out to every bound account" not in page
    assert set(package.only_for.all()) == {first, second}
    package.refresh_from_db()
    assert package.description != "typed by hand"
    assert not CatalogueRollout.objects.exists()


def test_an_api_replacement_losing_to_a_deletion_is_a_409_and_changes_nothing(client, deleter, customers):
    """An API write runs in its request's transaction, so the link would fail at that commit,
    after the operation answered: it is checked in the replacement, which answers 409."""
    first, second, _third = customers
    package = a_package("pkg-shared", [first, second])
    key = make_key("catalogue:write")
    entry = {"id": "pkg-shared", "name": "pkg-shared", "turnaround_days": 5, "only_for": [first.pk]}
    body = {"packages": [entry], "additional_items": []}
    replacement = AnotherSession(lambda: put(client, key, "packages", body, HTTP_IDEMPOTENCY_KEY="narrow-1"))
    answer = deleted_while_it_waits(replacement, first, deleter)
    assert not isinstance(answer, Exception), answer
    assert answer.status_code == 409 and answer.json()["type"] == "urn:hireops:problem:catalogue-changed"
    assert "a customer it names was deleted" in answer.json()["detail"]
    assert set(package.only_for.all()) == {second}
    assert not CatalogueRollout.objects.exists()
    again = put(client, key, "packages", body, HTTP_IDEMPOTENCY_KEY="narrow-2")  # sent again: told why
    assert again.status_code == 422 and "packages.0.only_for" in {e["field"] for e in again.json()["errors"]}
