"""Exam logins imported from a CSV file: each row is the login write staff send by hand,
a bad row changes nothing, and a password is never stored in the clear on the way."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hireops.core.models import CallStatus
from hireops.jobs.models import BulkJob, BulkJobItem
from orders import bulk
from orders.models import Exam, ExamState, OrderWrite
from tests.test_history import entries, read

from .conftest import EXAM_ACCOUNT, deliver

pytestmark = pytest.mark.django_db(transaction=True)
IMPORT = "/admin/orders/exam/import-logins/"


def csv_file(text: str, encoding="utf-8-sig"):
    return SimpleUploadedFile("logins.csv", text.encode(encoding), content_type="text/csv")


def test_logins_from_a_file_reach_feishu_row_by_row(vendor_ops, sandbox, bound_accounts):
    for _ in range(2):
        deliver(vendor_ops, sandbox.create_exam(EXAM_ACCOUNT))
    first, second = Exam.objects.order_by("pk").values_list("exam_id", flat=True)
    page = vendor_ops.get("/admin/orders/exam/").content.decode()
    assert IMPORT in page
    text = (
        "exam_id,exam_url,username,password\n"
        f"{first},https://exam.example.com/t/1,wang,s3cret!\n"
        "404,https://exam.example.com/t/2,li,x\n"
        f"{second},not a link,zhao,y\n"
    )
    answer = vendor_ops.post(IMPORT, {"file": csv_file(text, "gb18030")}).content.decode()
    assert "1 login queued, 2 rows refused." in answer
    assert "No exam with this id." in answer and "not a web address" in answer
    write = OrderWrite.objects.get()
    assert write.status == CallStatus.SUCCEEDED and write.exam.state == ExamState.ARRANGED
    for changed in (write.exam, write):  # in the change history, as a login sent from the page is
        [entry] = entries(changed)
        assert read(entry) == (
            f"Exam login imported from a CSV file (write #{write.pk}).",
            f"已从 CSV 文件导入笔试登录信息（回传 #{write.pk}）。",
        )
    hire = next(e for e in sandbox.state()["exams"] if e["exam_id"] == first)
    assert hire["login_info"]["username"] == "wang" and hire["login_info"]["password"] == "s3cret!"
    assert Exam.objects.get(exam_id=second).state == ExamState.NEW


def test_a_large_file_becomes_a_job_that_never_keeps_a_password_in_the_clear(
    vendor_ops, sandbox, bound_accounts, settings
):
    settings.BULK_INLINE_MAX = 1
    for _ in range(2):
        deliver(vendor_ops, sandbox.create_exam(EXAM_ACCOUNT))
    ids = list(Exam.objects.values_list("exam_id", flat=True))
    rows = bulk.import_logins.read(
        (
            "exam_id,exam_url,password\n" + "".join(f"{i},https://e.example.com/{i},pw-{i}\n" for i in ids)
        ).encode()
    )
    assert all(r["password"] and "pw-" not in r["password"] for r in rows)  # sealed as soon as read
    text = "exam_id,exam_url,password\n" + "".join(f"{i},https://e.example.com/{i},pw-{i}\n" for i in ids)
    answer = vendor_ops.post(IMPORT, {"file": csv_file(text)})
    assert answer.status_code == 302 and "/admin/jobs/bulkjob/" in answer["Location"]
    job = BulkJob.objects.get()
    assert job.kind == "orders.import_logins" and job.status == "done"
    assert list(BulkJobItem.objects.values_list("status", "data")) == [("succeeded", None)] * 2
    assert OrderWrite.objects.filter(status=CallStatus.SUCCEEDED).count() == 2


def test_the_file_is_checked_before_any_row_runs(vendor_ops, sandbox, bound_accounts, staff_user, client):
    refused = vendor_ops.post(IMPORT, {"file": csv_file("id,link\n1,https://x\n")}).content.decode()
    assert "must name the columns: exam_id and exam_url" in refused and not OrderWrite.objects.exists()
    client.force_login(staff_user("Auditor", username="auditor"))
    assert client.get(IMPORT).status_code == 403
    assert IMPORT not in client.get("/admin/orders/exam/").content.decode()  # nor offered
