"""Report files on S3-compatible storage (django-storages' S3Storage, by setting): uploaded
there, served to Feishu through the same signed links, never by a public bucket URL, and
deleted there by the purge. boto3's calls are answered in-process by moto."""

import time
from datetime import timedelta
from urllib.parse import urlsplit

import boto3
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from moto import mock_aws

from hireops.core.models import CallStatus
from orders import writes
from orders.models import BackgroundCheck, OrderWrite, ReportFile
from orders.purge import purge_due
from orders.storage import report_storage

from .conftest import CHECK_ACCOUNT, PDF, deliver

pytestmark = pytest.mark.django_db(transaction=True)
BUCKET = "hireops-reports"


@pytest.fixture
def s3_reports(settings, monkeypatch):
    for name, value in (("AWS_ACCESS_KEY_ID", "test"), ("AWS_SECRET_ACCESS_KEY", "test")):
        monkeypatch.setenv(name, value)
    with mock_aws():
        boto3.client("s3", region_name="cn-north-1").create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": "cn-north-1"}
        )
        settings.STORAGES = {
            **settings.STORAGES,
            "reports": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {"bucket_name": BUCKET, "region_name": "cn-north-1", "location": "reports"},
            },
        }
        yield boto3.client("s3", region_name="cn-north-1")


def test_a_report_on_s3_reaches_feishu_as_a_signed_link(
    client, sandbox, bound_accounts, s3_reports, settings
):
    deliver(client, sandbox.create_background_check(CHECK_ACCOUNT))
    check = BackgroundCheck.objects.get()
    report = ReportFile(background_check=check, name="背调报告")
    report.file.save("report.pdf", SimpleUploadedFile("report.pdf", PDF), save=True)
    assert report_storage().__class__.__name__ == "S3Storage"  # the lazy object's target
    [stored] = s3_reports.list_objects_v2(Bucket=BUCKET)["Contents"]
    assert stored["Key"].startswith("reports/") and stored["Key"].endswith(".pdf")

    write = writes.result_request(check, result="无差异", time_ms=int(time.time() * 1000), reports=[report])
    assert OrderWrite.objects.get(pk=write.pk).status == CallStatus.SUCCEEDED
    [sent] = next(c for c in sandbox.state()["background_checks"])["result"]["report_file_list"]
    assert sent["report_url"].startswith(settings.ORDER_REPORT_BASE_URL + "/orders/reports/")
    assert BUCKET not in sent["report_url"]  # the bucket stays private: Feishu gets our link
    fetched = client.get(urlsplit(sent["report_url"]).path)
    assert fetched.status_code == 200 and b"".join(fetched.streaming_content) == PDF

    # Long after the order ended, the purge deletes the file from the bucket.
    BackgroundCheck.objects.update(
        ended_at=timezone.now() - timedelta(days=settings.ORDER_PURGE_AFTER_DAYS + 1)
    )
    assert purge_due() == 1
    assert s3_reports.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0
    assert client.get(urlsplit(sent["report_url"]).path).status_code == 404
