"""Vendor orders in the browser: a background check from the customer's order in Feishu Hire
(the sandbox) to a completed result with a report, and an exam to its score, through the live
server, the webhook and a real worker."""

import time

import pytest
import requests

from bindings.models import CustomerIdentifier, MatchingRule, VendorCustomer
from orders.catalogue.models import ExamPaper, Package

from .admin_ui import expect, log_in, reload_until, row, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
PDF = b"%PDF-1.4\n% a background-check report\n"


@pytest.fixture
def acme_with_catalogue():
    MatchingRule.objects.create(scope=1, keys=["org_id"])
    MatchingRule.objects.create(scope=2, keys=["org_id"])
    customer = VendorCustomer.objects.create(name="Acme 科技")
    CustomerIdentifier.objects.create(customer=customer, key="org_id", value="ACME-001")
    Package.objects.create(code="pkg-basic", name="基础套餐", turnaround_days=5)
    ExamPaper.objects.create(code="paper-spring", name="春季测评", duration_minutes=60)
    return customer


@pytest.fixture
def report_links_here(settings, live_server):
    """Report links point at the live server (the worker, started after, builds them)."""
    settings.ORDER_REPORT_BASE_URL = live_server.url


def offered(feishu, account_id: str, key: str, timeout: float = 30.0):
    """Wait until the account's Feishu offers something of ``key`` (pushed by the worker)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for catalogue in feishu.state()["catalogues"]:
            if catalogue["account_id"] == account_id and catalogue[key]:
                return catalogue[key]
        time.sleep(0.2)
    raise AssertionError(f"{account_id}: nothing in {key} after {timeout} s")


def test_a_background_check_from_order_to_result(
    page, feishu, report_links_here, celery_worker, staff_user, acme_with_catalogue, tmp_path
):
    # Acme adds our account in Feishu Hire: it is bound, and its Feishu is sent the catalogue.
    feishu.bind_account(
        scope=1, account_id="acc-check", custom_field_list=[{"key": "org_id", "value": "ACME-001"}]
    )
    assert "pkg-basic" in offered(feishu, "acc-check", "packages")
    # A recruiter at Acme orders a check for a candidate.
    check_id = feishu.create_background_check(
        "acc-check", package_id="pkg-basic", candidate={"name": "王二", "mobile": "18900001111"}
    )["event"]["background_check_id"]

    log_in(page, staff_user("Vendor operations"))
    reload_until(
        page, page.locator("#attention tr.attention-open", has_text="Background checks not started"), 30
    )
    screenshot(page, "orders-1-dashboard")
    page.locator("#attention").get_by_role("link", name="Background checks not started").click()
    expect(row(page, check_id)).to_contain_text("王二")
    expect(row(page, check_id)).to_contain_text("Acme 科技")
    row(page, check_id).get_by_role("link", name=check_id).click()
    expect(page.locator("#content-main")).to_contain_text("189****1111")  # masked
    screenshot(page, "orders-2-order")

    page.get_by_role("link", name="Add a progress stage").click()
    page.locator("#id_stage_name").fill("资料核实")
    page.locator("#id_stage_en_name").fill("Verification")
    page.locator("#id_stage_time").fill("2026-11-20 10:00:00")
    page.locator("#order-form [type=submit]").click()
    expect(page.locator("ul.messagelist")).to_be_visible()

    page.get_by_role("link", name="Send the result").click()
    page.locator("#id_result").fill("无差异")
    page.locator("#id_result_time").fill("2026-11-21 10:00:00")
    report = tmp_path / "report.pdf"
    report.write_bytes(PDF)
    page.locator("#id_report_file").set_input_files(str(report))
    page.locator("#id_report_name").fill("王二背调报告")
    screenshot(page, "orders-3-result-form")
    page.locator("#order-form [type=submit]").click()
    reload_until(page, page.locator(".field-state", has_text="Completed"), 30)
    screenshot(page, "orders-4-completed")
    expect(page.get_by_role("link", name="Send the result")).to_have_count(0)  # Feishu would refuse it now

    hire = next(c for c in feishu.state()["background_checks"] if c["background_check_id"] == check_id)
    assert hire["status"] == "completed" and [s["stage_name"] for s in hire["stages"]] == ["资料核实"]
    [sent] = hire["result"]["report_file_list"]
    assert sent["report_name"] == "王二背调报告"
    assert requests.get(sent["report_url"], timeout=10).content == PDF  # what Feishu downloads


def test_an_exam_from_order_to_score(page, feishu, celery_worker, staff_user, acme_with_catalogue):
    feishu.bind_account(
        scope=2, account_id="acc-exam", custom_field_list=[{"key": "org_id", "value": "ACME-001"}]
    )
    assert offered(feishu, "acc-exam", "papers")[0]["id"] == "paper-spring"
    exam_id = feishu.create_exam("acc-exam", paper_id="paper-spring", candidate={"name": "李四"})["event"][
        "exam_id"
    ]

    log_in(page, staff_user("Vendor operations"))
    page.goto("/admin/orders/exam/")
    reload_until(page, row(page, exam_id), 30)
    row(page, exam_id).get_by_role("link", name=exam_id).click()
    page.get_by_role("link", name="Send the login").click()
    page.locator("#id_exam_url").fill("https://exam.example.com/t/1")
    page.locator("#id_username").fill("lisi")
    page.locator("#id_password").fill("s3cret!")
    page.locator("#order-form [type=submit]").click()
    reload_until(page, page.locator(".field-state", has_text="Login sent"), 30)
    expect(page.locator("#content-main")).not_to_contain_text("s3cret!")

    page.get_by_role("link", name="Send the score").click()
    page.locator("#id_score").fill("88")
    page.locator("#id_details").fill("基本功：优秀")
    page.locator("#order-form [type=submit]").click()
    reload_until(page, page.locator(".field-state", has_text="Score sent"), 30)
    screenshot(page, "orders-5-exam-scored")
    hire = next(e for e in feishu.state()["exams"] if e["exam_id"] == exam_id)
    assert hire["login_info"]["password"] == "s3cret!"  # sent to Feishu, never shown again
    assert hire["result"]["result"] == "88"
