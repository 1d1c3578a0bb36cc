"""The ten busiest customers: the usage export's figures kept as a rollup per customer, the
same numbers as the export, names only for readers who may open the customers."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from bindings.models import EcoAccountBinding, VendorCustomer
from hireops.core import trends
from orders import usage
from orders.intake import (
    background_check_canceled,
    background_check_created,
    exam_created,
    orders_link_binding,
)

pytestmark = pytest.mark.django_db


def figures(page: str) -> dict[str, list[int]]:
    section = page.split('id="orders-busiest-customers"', 1)[1].split("</section>", 1)[0]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>((?:<td[^>]*>\d+</td>)+)</tr>', section)
    return {label: [int(n) for n in re.findall(r">(\d+)<", cells)] for label, cells in rows}


def last_month_noon():
    return timezone.now().replace(day=1, hour=12) - timedelta(days=1)


@pytest.fixture
def orders(monkeypatch):
    then = last_month_noon()  # last month's last day: the month the chart ranks
    monkeypatch.setattr(timezone, "now", lambda: then)
    acme, globex = (
        VendorCustomer.objects.create(name="Acme 客户"),
        VendorCustomer.objects.create(name="Globex"),
    )
    for n in range(3):
        background_check_created(
            app_id="cli",
            tenant_key="t1",
            event_id=f"a{n}",
            event={"account_id": "acc-a", "background_check_id": f"a{n}"},
        )
    background_check_canceled(
        app_id="cli", tenant_key="t1", event_id="c", event={"background_check_id": "a0"}
    )
    exam_created(app_id="cli", tenant_key="t1", event_id="g", event={"account_id": "acc-g", "exam_id": "g1"})
    background_check_created(
        app_id="cli",
        tenant_key="t1",
        event_id="u",
        event={"account_id": "acc-u", "background_check_id": "u1"},
    )
    # The accounts are bound after their orders came: the orders follow them to the customers.
    for account, customer in (("acc-a", acme), ("acc-g", globex)):
        binding = EcoAccountBinding.objects.create(
            app_id="cli", tenant_key="t1", account_id=account, scope=1, status="bound", customer=customer
        )
        orders_link_binding(None, binding)
    trends.recompute()
    monkeypatch.undo()
    return acme, globex


def test_the_busiest_customers_are_the_usage_exports_figures(admin_client, orders):
    drawn = figures(admin_client.get("/admin/").content.decode())
    assert drawn == {"Acme 客户": [3, 0, 1], "Globex": [1, 0, 0], "not linked yet": [1, 0, 0]}
    exported = {
        row.customer: row.figures for row in usage.monthly_usage(timezone.localtime(last_month_noon()).date())
    }
    assert exported["Acme 客户"]["checks_created"] == 3 and exported["Acme 客户"]["checks_canceled"] == 1
    assert exported["Globex"]["exams_created"] == 1 and exported[None]["checks_created"] == 1


def test_labels_read_for_an_english_reader_are_chinese_for_a_chinese_one(client, staff_user, orders):
    """Readers of one group share the figures whatever their language: "not linked yet" and
    "customer #id" are translated when drawn."""
    checks = ["orders.view_backgroundcheck"]
    client.force_login(staff_user(username="checks-en", perms=checks))
    english = figures(client.get("/admin/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "not linked yet" in english and any(label.startswith("customer #") for label in english)
    client.force_login(staff_user(username="checks-zh", perms=checks))
    chinese = figures(client.get("/admin/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode())
    assert "尚未关联客户" in chinese and any(label.startswith("客户 #") for label in chinese)


def test_a_reader_who_may_not_open_the_customers_sees_no_names(client, staff_user, orders):
    acme, _globex = orders
    client.force_login(staff_user(username="checks-only", perms=["orders.view_backgroundcheck"]))
    drawn = figures(client.get("/admin/").content.decode())
    assert drawn == {f"customer #{acme.pk}": [3, 0, 1], "not linked yet": [1, 0, 0]}  # checks only
    assert (
        "Acme"
        not in b"".join(client.get("/admin/trends/orders-busiest-customers.csv").streaming_content).decode()
    )


def test_a_deleted_customer_leaves_its_orders_unlinked(admin_client, orders):
    acme, _globex = orders
    EcoAccountBinding.objects.filter(customer=acme).delete()
    acme.delete()  # today: its orders of last month lose it all the same
    trends.recompute()
    assert figures(admin_client.get("/admin/").content.decode())["not linked yet"] == [4, 0, 1]
