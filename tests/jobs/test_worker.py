"""The job tasks executed by a real ``celery worker`` process over the real broker."""

import contextlib
import io
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from hireops.jobs import services, tasks
from hireops.jobs.models import BulkJob, ExportJob, ExportStatus, JobStatus
from referrals import bulk
from referrals.models import AccountStatus, ReferralAccount
from tests.triggers import row_trigger

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def accounts(register):  # registered before the worker starts, while tasks still run eagerly
    return [register(name=f"W{i}", email=f"w{i}@example.com") for i in range(3)]


def test_job_and_resume_tasks_in_a_real_worker(accounts, celery_worker, monkeypatch):
    job = services.job_start(bulk.deactivate, accounts, {}, None)  # jobs.run
    celery_worker(lambda: BulkJob.objects.get(pk=job.pk).status == JobStatus.DONE, what="job done")
    celery_worker(  # each item queued its own referrals.change_status, which the worker ran too
        lambda: ReferralAccount.objects.filter(status=AccountStatus.DEACTIVATED).count() == 3,
        what="accounts deactivated",
    )

    with monkeypatch.context() as m:  # the broker loses this job's message
        m.setattr(tasks.run_job, "delay", lambda pk: None)
        lost = services.job_start(bulk.enable, accounts, {}, None)
    BulkJob.objects.filter(pk=lost.pk).update(requested_at=timezone.now() - timedelta(minutes=5))
    tasks.resume.delay()  # jobs.resume
    celery_worker(lambda: BulkJob.objects.get(pk=lost.pk).status == JobStatus.DONE, what="job resumed")
    assert services.progress(lost).succeeded == 3


# An advisory lock key of this test's own (PostgreSQL's advisory locks are per database).
HOLD = 0x6578706F


@contextlib.contextmanager
def export_runs_held_after_their_first_beat():
    """Every update of an export job that has rows written waits on a lock the test holds (a
    trigger): a run writes its first rows, beats once, then stops at its next beat or before
    its file is saved, however fast the machine. On leaving, the held runs' backends are
    ended, so nothing they were doing commits (as when a killed worker's connection drops)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(%s)", [HOLD])
    try:
        with row_trigger(
            "hold_export",
            f"BEFORE UPDATE ON {ExportJob._meta.db_table}",
            when="OLD.rows_written > 0",
            postgresql=f"PERFORM pg_advisory_xact_lock({HOLD}); RETURN NEW;",
            release_held=_end_held_runs,
        ):
            yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [HOLD])


def _end_held_runs():
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT pg_terminate_backend(pid) FROM ({HELD_SQL}) AS held", [HOLD])  # noqa: S608


HELD_SQL = (
    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = %s"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the worker is held mid-file by a PostgreSQL trigger"
)
def test_an_export_whose_worker_is_killed_mid_file_is_written_again_whole(
    client, staff_user, settings, tmp_path, start_celery_worker
):
    """A real worker writes an export; killed mid-file, it leaves nothing to download, and
    jobs.resume has another worker write the whole file again."""
    import json

    import openpyxl

    location = tmp_path / "exports"
    options = {"location": str(location)}
    settings.STORAGES = {**settings.STORAGES, "exports": {**settings.STORAGES["exports"], "OPTIONS": options}}
    settings.EXPORT_INLINE_MAX = 100
    n = 2_000  # past EXPORT_INLINE_MAX: written by the worker
    ReferralAccount.objects.bulk_create(
        ReferralAccount(name=f"员工{i}", email=f"e{i}@example.com", account_id=f"acc-{i}") for i in range(n)
    )
    env = {"EXPORT_STORAGE_OPTIONS": json.dumps(options)}
    client.force_login(staff_user("HR"))
    one = ReferralAccount.objects.values_list("pk", flat=True).first()
    with export_runs_held_after_their_first_beat():
        first = start_celery_worker(**env)
        response = client.post(
            "/admin/referrals/referralaccount/",
            {"action": "export_xlsx", "index": "0", "select_across": "1", "_selected_action": [one]},
        )
        assert response.status_code == 302
        job = ExportJob.objects.get()

        def held_mid_file():
            job.refresh_from_db()
            with connection.cursor() as cursor:
                cursor.execute(HELD_SQL, [HOLD])
                waiting = cursor.fetchall()
            return job.status == ExportStatus.RUNNING and job.rows_written > 0 and waiting

        first(held_mid_file, what="export held after its first rows")
        first.proc.kill()
        first.proc.wait()
        job.refresh_from_db()
        assert job.status == ExportStatus.RUNNING and 0 < job.rows_written < n, (job.status, job.rows_written)
        assert client.get(f"/admin/jobs/exportjob/{job.pk}/download/").status_code == 404
        assert not (location / job.file_name).exists()

    # Two minutes later the heartbeat is stale: the schedule's jobs.resume queues it again.
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=3))
    second = start_celery_worker(**env)
    tasks.resume.delay()
    second(
        lambda: ExportJob.objects.get(pk=job.pk).status == ExportStatus.DONE, timeout=90, what="export done"
    )
    job.refresh_from_db()
    assert job.attempts == 2 and job.rows_written == n == job.rows_total
    response = client.get(f"/admin/jobs/exportjob/{job.pk}/download/")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    assert sum(1 for _ in sheet.iter_rows(values_only=True)) == n + 1
