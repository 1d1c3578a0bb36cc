"""Staff work orders in the admin: the lists, masked personal data, and the pages that send
a stage, a result, a termination, an exam's login and score."""

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.uploadedfile import SimpleUploadedFile

from hireops.core import audit
from hireops.core.models import CallStatus
from orders.models import BackgroundCheck, CheckState, Exam, ExamState, OrderWrite

from .conftest import CHECK_ACCOUNT, EXAM_ACCOUNT, PDF, deliver

pytestmark = pytest.mark.django_db(transaction=True)
CHECKS = "/admin/orders/backgroundcheck/"
EXAMS = "/admin/orders/exam/"


def recorded(obj) -> list[str]:
    """The change history of ``obj``: who, and what, in English."""
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
    ).order_by("pk")
    return [f"{e.user.username}: {audit.describe(e)}" for e in entries]


def check_order(client, sandbox) -> BackgroundCheck:
    deliver(
        client,
        sandbox.create_background_check(
            CHECK_ACCOUNT, candidate={"name": "王二", "mobile": "18900001111", "email": "wang@example.com"}
        ),
    )
    return BackgroundCheck.objects.get()


def test_a_background_check_from_order_to_result_in_the_admin(vendor_ops, sandbox, bound_accounts):
    check = check_order(vendor_ops, sandbox)
    listing = vendor_ops.get(CHECKS).content.decode()
    assert check.background_check_id in listing and "王二" in listing
    page = vendor_ops.get(f"{CHECKS}{check.pk}/change/").content.decode()
    assert "18900001111" not in page and "189****1111" in page and "w***@example.com" in page
    assert "Add a progress stage" in page and "Send the result" in page

    form = vendor_ops.get(f"{CHECKS}{check.pk}/stage/")
    assert form.status_code == 200
    sent = vendor_ops.post(
        f"{CHECKS}{check.pk}/stage/",
        {
            "stage_name": "资料核实",
            "stage_en_name": "Verification",
            "stage_time_0": "2026-11-20",
            "stage_time_1": "10:00:00",
            "stage_time": "2026-11-20 10:00:00",
            "stage_id": "",
            "result": "通过",
            "report_file": SimpleUploadedFile("stage.pdf", PDF, content_type="application/pdf"),
            "report_name": "阶段报告",
        },
    )
    assert sent.status_code == 302, sent.content.decode()[:2000]
    stage = OrderWrite.objects.get()
    assert stage.status == CallStatus.SUCCEEDED, stage.error
    assert stage.payload["report_file_list"][0]["report_name"] == "阶段报告"

    refused = vendor_ops.post(
        f"{CHECKS}{check.pk}/stage/", {"stage_name": "更早", "stage_time": "2026-11-19 10:00:00"}
    ).content.decode()
    assert "after the last stage" in refused and OrderWrite.objects.count() == 1

    done = vendor_ops.post(
        f"{CHECKS}{check.pk}/result/",
        {
            "result": "无差异",
            "result_time": "2026-11-21 10:00:00",
            "existing_reports": [stage.reports.get().pk],
        },
    )
    assert done.status_code == 302
    check.refresh_from_db()
    assert check.state == CheckState.COMPLETED
    hire = sandbox.state()["background_checks"][0]
    assert (
        hire["status"] == "completed" and hire["result"]["report_file_list"][0]["report_name"] == "阶段报告"
    )
    result = OrderWrite.objects.exclude(pk=stage.pk).get()
    assert recorded(check) == [
        f"vendor_operations: Progress stage requested (write #{stage.pk}).",
        f"vendor_operations: Result requested (write #{result.pk}).",
    ]
    assert recorded(stage) == [f"vendor_operations: Progress stage requested (write #{stage.pk})."]


def test_terminate_from_the_admin(vendor_ops, sandbox, bound_accounts):
    check = check_order(vendor_ops, sandbox)
    unconfirmed = vendor_ops.post(f"{CHECKS}{check.pk}/terminate/", {}).content.decode()
    assert "This field is required" in unconfirmed and OrderWrite.objects.count() == 0
    assert vendor_ops.post(f"{CHECKS}{check.pk}/terminate/", {"confirm": "on"}).status_code == 302
    check.refresh_from_db()
    assert check.state == CheckState.TERMINATED
    page = vendor_ops.get(f"{CHECKS}{check.pk}/change/").content.decode()
    assert "Add a progress stage" not in page
    stage, cancel = OrderWrite.objects.order_by("pk")
    assert recorded(check) == [
        f"vendor_operations: Termination requested (writes #{stage.pk}, #{cancel.pk})."
    ]


def test_an_exam_login_and_score_in_the_admin(vendor_ops, sandbox, bound_accounts):
    deliver(vendor_ops, sandbox.create_exam(EXAM_ACCOUNT, paper_id="paper001"))
    exam = Exam.objects.get()
    sent = vendor_ops.post(
        f"{EXAMS}{exam.pk}/login/",
        {"exam_url": "https://exam.example.com/t/1", "username": "wang2", "password": "s3cret!"},
    )
    assert sent.status_code == 302
    page = vendor_ops.get(f"{EXAMS}{exam.pk}/change/").content.decode()
    assert "s3cret!" not in page and "••••••" in page
    form = vendor_ops.get(f"{EXAMS}{exam.pk}/login/").content.decode()
    assert "s3cret!" not in form  # never shown again
    scored = vendor_ops.post(
        f"{EXAMS}{exam.pk}/score/", {"score": "88", "details": "基本功：优秀\n算法: 良好"}
    )
    assert scored.status_code == 302
    exam.refresh_from_db()
    assert exam.state == ExamState.ANSWERED and exam.score == "88"
    assert sandbox.state()["exams"][0]["result"]["detail_list"] == [
        {"id": "", "name": "基本功", "result": "优秀"},
        {"id": "", "name": "算法", "result": "良好"},
    ]
    bad = vendor_ops.post(f"{EXAMS}{exam.pk}/score/", {"score": "90", "details": "no colon"}).content.decode()
    assert "section: result" in bad
    login, score = OrderWrite.objects.order_by("pk")
    assert recorded(exam) == [
        f"vendor_operations: Exam login requested (write #{login.pk}).",
        f"vendor_operations: Exam score requested (write #{score.pk}).",
    ]


def test_who_may_send(client, staff_user, sandbox, bound_accounts):
    check = check_order(client, sandbox)
    client.force_login(staff_user("Auditor"))
    assert client.get(f"{CHECKS}{check.pk}/change/").status_code == 200
    assert "Add a progress stage" not in client.get(f"{CHECKS}{check.pk}/change/").content.decode()
    assert client.post(f"{CHECKS}{check.pk}/stage/", {"stage_name": "x"}).status_code == 403
    client.force_login(staff_user("HR"))
    assert client.get(CHECKS).status_code == 403


def test_personal_data_unmasked_only_with_the_permission(client, staff_user, sandbox, bound_accounts):
    check = check_order(client, sandbox)
    client.force_login(staff_user("Vendor operations", username="sees", perms=["core.view_personal_data"]))
    page = client.get(f"{CHECKS}{check.pk}/change/").content.decode()
    assert "+86 18900001111" in page and "wang@example.com" in page and "hr@example.com" in page
