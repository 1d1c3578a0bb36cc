"""The vendor's work queue: the dashboard's order counts and overdue orders, the lists'
filters, and the monthly usage export for invoicing."""

import csv
import io
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from orders.catalogue.models import Package
from orders.models import BackgroundCheck, Exam

from .conftest import CHECK_ACCOUNT, EXAM_ACCOUNT, deliver

pytestmark = pytest.mark.django_db(transaction=True)
ADMIN = "/admin/orders/"
CHECK_HEADERS = [
    "background checks received",
    "background checks completed",
    "background checks canceled or terminated",
]


def test_the_work_queue_and_overdue_orders(vendor_ops, sandbox, bound_accounts):
    Package.objects.filter(code="pkg-basic").update(turnaround_days=3)
    for _ in range(3):
        deliver(vendor_ops, sandbox.create_background_check(CHECK_ACCOUNT, package_id="pkg-basic"))
    deliver(vendor_ops, sandbox.create_exam(EXAM_ACCOUNT, paper_id="paper001"))
    first, second, third = BackgroundCheck.objects.order_by("pk")
    now = timezone.now()
    BackgroundCheck.objects.filter(pk=first.pk).update(received_at=now - timedelta(days=4))  # past 3 days
    BackgroundCheck.objects.filter(pk=second.pk).update(received_at=now - timedelta(days=2))
    # An order for a package the catalogue no longer has: the default turnaround (7 days).
    BackgroundCheck.objects.filter(pk=third.pk).update(
        package_id="pkg-gone", received_at=now - timedelta(days=8)
    )
    Exam.objects.update(received_at=now - timedelta(days=10))  # paper001: 7 days
    board = vendor_ops.get("/admin/").content.decode()
    assert "Background checks not started" in board and "Background checks overdue" in board
    assert "Exams overdue" in board and "Exams without login information" in board
    overdue = vendor_ops.get(ADMIN + "backgroundcheck/?overdue=yes").content.decode()
    assert first.background_check_id in overdue and third.background_check_id in overdue
    assert second.background_check_id not in overdue
    week = vendor_ops.get(ADMIN + "backgroundcheck/?age=week").content.decode()
    assert second.background_check_id in week and first.background_check_id in week
    assert third.background_check_id not in week
    by_package = vendor_ops.get(ADMIN + "backgroundcheck/?package_id=pkg-basic").content.decode()
    assert "基础套餐 (pkg-basic)" in by_package and third.background_check_id not in by_package
    assert Exam.objects.get().exam_id in vendor_ops.get(ADMIN + "exam/?overdue=yes").content.decode()


def test_monthly_usage_per_customer_exports_for_invoicing(vendor_ops, sandbox, bound_accounts):
    from django.utils import timezone

    for _ in range(3):
        deliver(vendor_ops, sandbox.create_background_check(CHECK_ACCOUNT))
    deliver(vendor_ops, sandbox.create_exam(EXAM_ACCOUNT))
    a, b, c = BackgroundCheck.objects.order_by("pk")
    november = timezone.make_aware(datetime(2026, 11, 10))
    october = timezone.make_aware(datetime(2026, 10, 20))
    BackgroundCheck.objects.filter(pk=a.pk).update(received_at=october, state="completed", ended_at=november)
    BackgroundCheck.objects.filter(pk=b.pk).update(
        received_at=november, state="terminated", ended_at=november
    )
    BackgroundCheck.objects.filter(pk=c.pk).update(received_at=november, customer=None)  # not linked yet
    Exam.objects.update(received_at=november, state="answered", score="88", ended_at=november)
    page = vendor_ops.get(ADMIN + "backgroundcheck/").content.decode()
    assert "/admin/orders/backgroundcheck/usage/" in page
    form = vendor_ops.get(ADMIN + "backgroundcheck/usage/")
    assert form.status_code == 200 and 'type="month"' in form.content.decode()
    refused = vendor_ops.get(ADMIN + "backgroundcheck/usage/?month=2026-13&format=csv")
    assert "Give the month as YYYY-MM" in refused.content.decode()
    answer = vendor_ops.get(ADMIN + "backgroundcheck/usage/?month=2026-11&format=csv")
    rows = list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))
    assert rows[0][:3] == ["month", "customer", "background checks received"]
    assert rows[1:] == [
        ["2026-11", "Acme 客户", "1", "1", "1", "1", "1"],
        ["2026-11", "(no customer yet)", "1", "0", "0", "0", "0"],
    ]
    workbook = vendor_ops.get(ADMIN + "backgroundcheck/usage/?month=2026-10&format=xlsx")
    sheet = load_workbook(io.BytesIO(b"".join(workbook.streaming_content))).active
    assert [c.value for c in sheet[2]] == ["2026-10", "Acme 客户", 1, 0, 0, 0, 0]


def test_the_usage_export_counts_only_the_kinds_of_order_its_reader_may_view(
    vendor_ops, sandbox, staff_user, bound_accounts
):
    deliver(vendor_ops, sandbox.create_background_check(CHECK_ACCOUNT))
    deliver(vendor_ops, sandbox.create_background_check(CHECK_ACCOUNT))
    deliver(vendor_ops, sandbox.create_exam(EXAM_ACCOUNT))
    november = timezone.make_aware(datetime(2026, 11, 10))
    BackgroundCheck.objects.update(received_at=november)
    BackgroundCheck.objects.filter(pk=BackgroundCheck.objects.order_by("pk")[0].pk).update(customer=None)
    Exam.objects.update(received_at=november)

    def usage_rows(*perms: str) -> list[list[str]]:
        reader = Client()
        reader.force_login(staff_user(username="-".join(perms), perms=perms))
        answer = reader.get(ADMIN + "backgroundcheck/usage/?month=2026-11&format=csv")
        assert answer.status_code == 200
        return list(csv.reader(io.StringIO(b"".join(answer.streaming_content).decode("utf-8-sig"))))

    assert usage_rows("orders.view_exam") == [
        ["month", "customer", "exams received", "exams scored"],
        ["2026-11", "Acme 客户", "1", "0"],  # the checks' row without a customer: not even named
    ]
    checks_only = usage_rows("orders.view_backgroundcheck")
    assert checks_only[0] == ["month", "customer", *CHECK_HEADERS]
    assert checks_only[1:] == [
        ["2026-11", "Acme 客户", "1", "0", "0"],
        ["2026-11", "(no customer yet)", "1", "0", "0"],
    ]
    both = usage_rows("orders.view_backgroundcheck", "orders.view_exam")
    assert both[0] == ["month", "customer", *CHECK_HEADERS, "exams received", "exams scored"]
    assert both[1:] == [
        ["2026-11", "Acme 客户", "1", "0", "0", "1", "0"],
        ["2026-11", "(no customer yet)", "1", "0", "0", "0", "0"],
    ]
    neither = Client()
    neither.force_login(staff_user(username="no-orders", perms=["bindings.view_vendorcustomer"]))
    assert neither.get(ADMIN + "backgroundcheck/usage/?month=2026-11&format=csv").status_code == 403


def test_lists_filter_by_a_typed_customer_name_and_search_ids_exactly(vendor_ops, sandbox, bound_accounts):
    deliver(vendor_ops, sandbox.create_background_check(CHECK_ACCOUNT, candidate={"name": "王二"}))
    deliver(vendor_ops, sandbox.create_background_check(CHECK_ACCOUNT, candidate={"name": "李四"}))
    first, second = BackgroundCheck.objects.order_by("pk")
    BackgroundCheck.objects.filter(pk=second.pk).update(customer=None)
    page = vendor_ops.get(ADMIN + "backgroundcheck/?customer=Acme&state__exact=new").content.decode()
    assert first.background_check_id in page and second.background_check_id not in page
    assert 'name="customer" value="Acme"' in page and 'name="state__exact" value="new"' in page
    assert second.background_check_id in vendor_ops.get(ADMIN + "backgroundcheck/").content.decode()
    found = vendor_ops.get(ADMIN + f"backgroundcheck/?q={second.background_check_id}").content.decode()
    assert second.background_check_id in found and first.background_check_id not in found
    by_name = vendor_ops.get(ADMIN + "backgroundcheck/?q=李").content.decode()
    assert second.background_check_id in by_name and first.background_check_id not in by_name
