"""Candidates' personal data is purged a set time after their order ended, and the purge is
recorded on the order."""

from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.utils import timezone

from hireops.core.models import CallStatus
from orders import purge, writes
from orders.models import BackgroundCheck, CheckState, Exam, OrderWrite, ReportFile
from orders.tasks import purge_personal_data

from .conftest import CHECK_ACCOUNT, EXAM_ACCOUNT, PDF, deliver

pytestmark = pytest.mark.django_db(transaction=True)


def test_ended_orders_lose_their_personal_data_after_the_set_time(client, sandbox, bound_accounts, settings):
    settings.ORDER_PURGE_AFTER_DAYS = 30
    candidate = {"name": "王二", "mobile": "18900001111", "email": "wang@example.com"}
    for _ in range(2):
        deliver(client, sandbox.create_background_check(CHECK_ACCOUNT, candidate=candidate, comment="请尽快"))
    deliver(client, sandbox.create_exam(EXAM_ACCOUNT, candidate=candidate))
    old, recent = BackgroundCheck.objects.order_by("pk")
    exam = Exam.objects.get()
    report = ReportFile.objects.create(
        background_check=old, name="王二的背调报告.pdf", file=ContentFile(PDF, "r.pdf")
    )
    result = writes.result_request(old, result="无差异", time_ms=1_700_000_000_000, reports=[report])
    assert OrderWrite.objects.get(pk=result.pk).status == CallStatus.SUCCEEDED
    login = writes.login_request(exam, url="https://exam.example.com/x", username="wang", password="s3cret")
    assert OrderWrite.objects.get(pk=login.pk).status == CallStatus.SUCCEEDED
    storage, stored = ReportFile._meta.get_field("file").storage, report.file.name
    assert storage.exists(stored)
    long_ago = timezone.now() - timedelta(days=31)
    BackgroundCheck.objects.filter(pk=old.pk).update(ended_at=long_ago)
    BackgroundCheck.objects.filter(pk=recent.pk).update(state=CheckState.COMPLETED, ended_at=timezone.now())
    Exam.objects.update(ended_at=long_ago)

    assert purge_personal_data.delay().get() == 2  # the task, as the schedule runs it

    old.refresh_from_db()
    assert old.purged_at is not None
    assert (old.candidate_name, old.candidate_mobile, old.candidate_email, old.comment) == ("", "", "", "")
    assert (old.contact_name, old.contact_email, old.custom_field_values) == ("", "", [])
    assert (old.background_check_id, old.state, old.result, old.customer) == (
        old.background_check_id,
        CheckState.COMPLETED,
        "无差异",
        bound_accounts,
    )
    assert not ReportFile.objects.filter(pk=report.pk).exists() and not storage.exists(stored)
    assert OrderWrite.objects.get(pk=result.pk).payload is None
    exam.refresh_from_db()
    assert (exam.candidate_name, exam.exam_username, exam.exam_password, exam.purged_at is not None) == (
        "",
        "",
        "",
        True,
    )
    assert OrderWrite.objects.get(pk=login.pk).exam_username == ""
    recent.refresh_from_db()
    assert recent.purged_at is None and recent.candidate_name == "王二"  # ended too recently
    assert purge.purge_due() == 0  # never repeated


def test_the_purged_filter_and_the_settings_check(client, staff_user, settings):
    from django.core import checks

    settings.ORDER_PURGE_AFTER_DAYS, settings.FEISHU_EVENT_RETENTION_DAYS = 60, 90
    assert "orders.W001" in [w.id for w in checks.run_checks()]
    client.force_login(staff_user("Vendor operations"))
    assert client.get("/admin/orders/backgroundcheck/?purged=yes").status_code == 200
