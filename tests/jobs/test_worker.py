"""The job tasks executed by a real ``celery worker`` process over the real broker."""

from datetime import timedelta

import pytest
from django.utils import timezone

from hireops.jobs import services, tasks
from hireops.jobs.models import BulkJob, JobStatus
from referrals import bulk
from referrals.models import AccountStatus, ReferralAccount

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
