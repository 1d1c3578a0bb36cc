"""Bulk actions and imports: inline for a few rows, background jobs with progress for more."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from bindings.models import BindingStatus, EcoAccountBinding
from hireops.core.models import CallStatus
from hireops.jobs import operations, services, tasks
from hireops.jobs.models import BulkJob, BulkJobItem, ItemStatus, JobStatus
from hireops.jobs.operations import Operation
from hireops.jobs.operations import register as register_operation
from referrals import bulk
from referrals.models import ReferralAccount, Withdrawal

pytestmark = pytest.mark.django_db(transaction=True)
ACCOUNTS = "/admin/referrals/referralaccount/"


@pytest.fixture(autouse=True)
def three_inline(settings):
    settings.BULK_INLINE_MAX = 2  # so three rows make a job


@pytest.fixture
def accounts(register):
    return [register(name=f"员工{i}", email=f"e{i}@example.com", points=10 * i) for i in (1, 2, 3)]


def post_action(client, action, accounts, **extra):
    return client.post(ACCOUNTS, {"action": action, "_selected_action": [a.pk for a in accounts], **extra})


def test_a_few_rows_run_inline(admin_client, accounts):
    resp = post_action(admin_client, "withdraw", accounts[:2], apply="1", points="on")
    assert resp.status_code == 302 and resp["Location"].startswith(ACCOUNTS)
    assert Withdrawal.objects.count() == 2 and not BulkJob.objects.exists()


def test_many_rows_become_a_job_with_a_progress_page(admin_client, accounts):
    resp = post_action(admin_client, "withdraw", accounts, apply="1", points="on")
    job = BulkJob.objects.get()
    assert resp.status_code == 302 and resp["Location"] == f"/admin/jobs/bulkjob/{job.pk}/change/"
    # Eager Celery ran it when the request committed; a worker does the same (test_worker).
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and job.requested_by.username == "admin"
    assert list(job.items.values_list("status", flat=True)) == [ItemStatus.SUCCEEDED] * 3
    assert Withdrawal.objects.filter(status=CallStatus.SUCCEEDED).count() == 3
    assert job.params == {"bonus_types": [1]}

    page = admin_client.get(resp["Location"]).content.decode()
    assert "Withdraw full balance" in page and "3</a> / <a" in page  # done / failed / remaining
    assert 'http-equiv="refresh"' not in page  # finished: no more refreshing


def test_failed_items_are_listed_with_why_and_the_rest_carry_on(admin_client, accounts):
    ReferralAccount.objects.filter(pk=accounts[1].pk).update(status="deactivated")
    post_action(admin_client, "withdraw", accounts, apply="1", points="on")
    job = BulkJob.objects.get()
    assert services.progress(job) == services.Progress(total=3, succeeded=2, failed=1)
    failed = job.items.get(status=ItemStatus.FAILED)
    assert failed.label == "员工2" and "only active accounts can withdraw" in failed.message
    page = admin_client.get(f"/admin/jobs/bulkjob/{job.pk}/change/").content.decode()
    items = page.split('id="job-items"', 1)[1]
    assert items.index("only active accounts") < items.index("Withdrawal requested")  # failed first


def test_a_running_job_page_refreshes_itself(admin_client, accounts):
    job = services.job_start(bulk.enable, accounts, {}, None)  # queued: eager runs it on commit…
    BulkJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING, finished_at=None)  # …shown as running
    BulkJobItem.objects.filter(job=job).update(status=ItemStatus.PENDING)
    page = admin_client.get(f"/admin/jobs/bulkjob/{job.pk}/change/").content.decode()
    assert 'http-equiv="refresh"' in page and "0</a> / <a" in page


def test_a_job_is_never_done_twice(accounts):
    job = services.job_start(bulk.withdraw, accounts, {"bonus_types": [1]}, None)
    assert services.job_run(job.pk) == JobStatus.DONE  # already done on commit: nothing left
    BulkJob.objects.filter(pk=job.pk).update(status=JobStatus.RUNNING)  # as if a worker died at the end
    services.job_run(job.pk)
    assert Withdrawal.objects.count() == 3


@pytest.fixture
def lost_message(monkeypatch):
    """The broker loses job messages until ``.undo()`` (the fault injected; the rest is real)."""
    monkeypatch.setattr(tasks.run_job, "delay", lambda pk: None)
    return monkeypatch


def test_a_stuck_job_is_resumed(accounts, lost_message):
    job = services.job_start(bulk.deactivate, accounts, {}, None)
    assert services.jobs_resume() == 0  # too recent to call stuck
    BulkJob.objects.filter(pk=job.pk).update(requested_at=timezone.now() - timedelta(minutes=5))
    lost_message.undo()
    assert services.jobs_resume() == 1
    job.refresh_from_db()
    assert job.status == JobStatus.DONE and services.progress(job).succeeded == 3


def test_an_unexpected_error_fails_one_item_only(accounts, caplog, monkeypatch):
    # The test's own operation is registered for this test only: the registry is the process's,
    # and later tests (the admin crawl) would list it with the real ones.
    monkeypatch.setattr(operations, "_OPERATIONS", dict(operations._OPERATIONS))

    def explode_on_second(account, params, user):
        if account.pk == accounts[1].pk:
            raise RuntimeError("boom with 13800138000")
        return "ok"

    op = register_operation(
        Operation("referrals.test_explode", "explode", explode_on_second, model=ReferralAccount)
    )
    job = services.job_start(op, accounts, {}, None)
    job.refresh_from_db()
    assert [i.status for i in job.items.all()] == ["succeeded", "failed", "succeeded"]
    failed = job.items.get(status=ItemStatus.FAILED)
    assert "13800138000" not in failed.message and "worker's log" in failed.message


def test_large_import_runs_as_a_job_and_keeps_no_personal_data(admin_client, sandbox):
    for i in range(3):
        sandbox.add_employee(name=f"导入{i}", email=f"import{i}@example.com")
    csv = "name,email\n" + "".join(f"导入{i},import{i}@example.com\n" for i in range(3)) + "坏,bad@\n"
    upload = SimpleUploadedFile("people.csv", csv.encode("gb18030"), "text/csv")
    resp = admin_client.post(f"{ACCOUNTS}import/", {"file": upload})
    job = BulkJob.objects.get(kind="referrals.import")
    assert resp["Location"] == f"/admin/jobs/bulkjob/{job.pk}/change/"
    assert ReferralAccount.objects.filter(status="active").count() == 3
    items = list(job.items.order_by("position"))
    assert [i.status for i in items] == ["succeeded"] * 3 + ["failed"]
    assert all(i.data is None for i in items)  # the rows' personal data went with the run
    assert items[0].label.startswith("line 2: 导入0, i***") and "import0@" not in items[0].label
    assert "not a valid email" in items[3].message and "bad@" not in items[3].message


def test_each_role_follows_only_its_own_jobs(client, staff_user, accounts):
    services.job_start(bulk.enable, accounts, {}, None)
    binding = EcoAccountBinding.objects.create(
        app_id="cli", tenant_key="t", account_id="a", scope=1, status=BindingStatus.NEEDS_REVIEW
    )
    from bindings import bulk as binding_ops

    services.job_start(binding_ops.rematch, [binding], {}, None)

    def listed(role):
        client.force_login(staff_user(role))
        return client.get("/admin/jobs/bulkjob/").content.decode()

    hr = listed("HR")
    assert "Enable accounts" in hr and "Re-run matching" not in hr
    vendor = listed("Vendor operations")
    assert "Re-run matching" in vendor and "Enable accounts" not in vendor
    auditor = listed("Auditor")
    assert "Re-run matching" in auditor and "Enable accounts" in auditor


def test_dashboard_counts_jobs_still_running(admin_client, accounts, lost_message):
    services.job_start(bulk.enable, accounts, {}, None)
    page = admin_client.get("/admin/").content.decode()
    row = page.split("Background jobs queued or running", 1)[1].split("</tr>", 1)[0]
    assert ">1</td>" in row.replace(" ", "").replace("\n", "")
