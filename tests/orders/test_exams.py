"""Exam orders: the event, the login information (password encrypted at rest), scores
until Feishu says the exam is graded (1002855)."""

import pytest

from hireops.core.models import CallStatus
from orders import writes
from orders.models import Exam, ExamState, OrderWrite
from orders.writes import WriteRefused

from .conftest import EXAM_ACCOUNT, deliver

pytestmark = pytest.mark.django_db(transaction=True)
EXAMS = "/open-apis/hire/v1/eco_exams/{}/{}"


def order(client, sandbox) -> Exam:
    event = sandbox.create_exam(
        EXAM_ACCOUNT, paper_id="paper001", candidate={"name": "王二", "email": "wang@example.com"}
    )
    deliver(client, event)
    return Exam.objects.get(exam_id=event["event"]["exam_id"])


def remote(sandbox, exam) -> dict:
    return next(e for e in sandbox.state()["exams"] if e["exam_id"] == exam.exam_id)


def test_the_event_creates_an_exam_order(client, sandbox, bound_accounts):
    exam = order(client, sandbox)
    assert (exam.state, exam.paper_id, exam.customer) == (ExamState.NEW, "paper001", bound_accounts)
    assert exam.candidate_name == "王二" and exam.candidate_email == "wang@example.com"
    assert exam.talent_id and exam.application_id  # sent by the SDK's model; kept when present


def test_login_then_scores_until_graded(client, sandbox, bound_accounts, admin_user):
    exam = order(client, sandbox)
    login = writes.login_request(
        exam, url="https://exam.example.com/t/abc", username="wang2", password="s3cret!", user=admin_user
    )
    login.refresh_from_db()
    assert login.status == CallStatus.SUCCEEDED, login.error
    sent = sandbox.requests(EXAMS.format(exam.exam_id, "login_info"))[-1]["json"]
    assert sent == {
        "result": 0,
        "msg": "success",
        "exam_login_info": {
            "exam_url": "https://exam.example.com/t/abc",
            "username": "wang2",
            "password": "s3cret!",
        },
    }
    # At rest: encrypted on the write and the exam; as recorded: masked.
    assert "s3cret!" not in login.exam_password and login.payload["exam_login_info"]["password"] == "***"
    exam.refresh_from_db()
    assert exam.state == ExamState.ARRANGED and "s3cret!" not in exam.exam_password
    assert remote(sandbox, exam)["login_info"]["password"] == "s3cret!"

    first = writes.score_request(
        exam, score="60.5", time_ms=1658676234053, details=[{"name": "基本功", "result": "优秀"}]
    )
    second = writes.score_request(exam, score="75")
    assert [OrderWrite.objects.get(pk=w.pk).status for w in (first, second)] == [CallStatus.SUCCEEDED] * 2
    body = sandbox.requests(EXAMS.format(exam.exam_id, "update_result"))[0]["json"]
    assert body == {
        "result": "60.5",
        "result_time": "1658676234053",
        "detail_list": [{"name": "基本功", "result": "优秀"}],
    }
    assert remote(sandbox, exam)["result"]["result"] == "75"  # each call overwrites the last
    exam.refresh_from_db()
    assert exam.state == ExamState.ANSWERED and exam.score == "75"

    sandbox.grade_exam(exam.exam_id)  # the customer finishes grading in Hire
    late = writes.score_request(exam, score="80")
    late.refresh_from_db()
    assert late.status == CallStatus.FAILED and late.error_code == 1002855 and late.attempts == 1
    assert "already graded" in late.error
    exam.refresh_from_db()
    assert exam.state == ExamState.GRADED and exam.score == "75"
    with pytest.raises(WriteRefused, match="finished grading"):
        writes.score_request(exam, score="90")


def test_an_exam_feishu_does_not_know_is_explained(client, sandbox, bound_accounts):
    exam = order(client, sandbox)
    Exam.objects.filter(pk=exam.pk).update(exam_id="404")
    write = writes.login_request(Exam.objects.get(pk=exam.pk), url="https://exam.example.com/x")
    write.refresh_from_db()
    assert write.status == CallStatus.FAILED and write.error_code == 1002851
    assert "exam is not in a state" in write.error


def test_refusals_change_nothing(client, sandbox, bound_accounts):
    exam = order(client, sandbox)
    with pytest.raises(WriteRefused, match="exam link"):
        writes.login_request(exam, url=" ")
    with pytest.raises(WriteRefused, match="score"):
        writes.score_request(exam, score="")
    exam_calls = [r for r in sandbox.requests() if r["path"].startswith("/open-apis/hire/v1/eco_exams/")]
    assert OrderWrite.objects.count() == 0 and exam_calls == []
