"""Every CSV import the admin mounts (hireops.jobs.imports) is offered on its list to those who
may import, and neither offered to nor run for anyone else."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hireops.jobs.models import BulkJob

from .test_hostile_imports import import_pages, nothing_written

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("page", import_pages())
def test_an_import_is_offered_only_to_those_who_may_import(admin_client, client, staff_user, page):
    changelist = page.rsplit("/", 2)[0] + "/"
    assert f'href="{page}"' in admin_client.get(changelist).content.decode()

    client.force_login(staff_user("Auditor", username="auditor"))  # sees every list, changes nothing
    listed = client.get(changelist)
    assert listed.status_code == 200 and page not in listed.content.decode()
    upload = SimpleUploadedFile("a.csv", b"email,exam_id,exam_url,external_id,employee_id\n", "text/csv")
    assert client.get(page).status_code == 403
    assert client.post(page, {"file": upload}).status_code == 403
    assert nothing_written() and not BulkJob.objects.exists()
