"""CSV imports given careless or hostile files, over HTTP on every import page the admin
mounts: a line that cannot be read (a 200,000-character value, a NUL character) is refused
alone with its reason and every other line runs; a file over CSV_IMPORT_MAX_BYTES is refused
on the form before it is read; and the file is read as a stream, never whole."""

import tracemalloc

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.urls import URLResolver, reverse

from hireops.core.spreadsheets.uploads import read_csv
from hireops.jobs.models import BulkJob, ItemStatus
from orders.models import OrderWrite
from referrals.models import ExternalReferralReward, ReferralAccount

pytestmark = pytest.mark.django_db(transaction=True)

# One header every import accepts: each reads its own columns and ignores the others.
HEADER = (
    "name,mobile_code,mobile,email,exam_id,exam_url,username,password,external_id,employee_id,talent_id\n"
)
LONG = "x" * 200_000
LINES = {
    2: f"{LONG},,,,{LONG},,,,,,\n",  # csv.Error (field larger than field limit): a 500 before
    # PostgreSQL refuses NUL in text: "unexpected failure" before
    3: "王\x00五,86,13800138000,nul@example.com,E-1\x00,https://e.example.com/1,u,p,x\x00,u1,t1\n",
    # Refused for its own reason: a bad email, an unknown exam, a reward without rule or amount.
    4: "Readable,,,not-an-email,E-404,https://e.example.com/404,u,p,ext-1,u1,t1\n",
}
UNREADABLE = {2: "longer than 131,072 characters", 3: "NUL character"}


def import_pages() -> list[str]:
    """Every CSV import page of the admin (an admin URL named ``…import…``), from the resolver."""

    def names(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from names(pattern.url_patterns)
            elif pattern.name and "import" in pattern.name:
                yield pattern.name

    return sorted(reverse(f"admin:{name}") for name in names(admin.site.urls[0]))


def test_the_enumeration_finds_every_import():
    assert import_pages() == [
        "/admin/orders/exam/import-logins/",
        "/admin/referrals/externalreferralreward/import/",
        "/admin/referrals/referralaccount/import/",
    ]


def upload(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("hostile.csv", text.encode("utf-8"), content_type="text/csv")


def nothing_written():
    written = (ReferralAccount, OrderWrite, ExternalReferralReward)
    return not any(model.objects.exists() for model in written)


@pytest.mark.parametrize("page", import_pages())
def test_an_unreadable_line_is_refused_alone_and_the_others_run(admin_client, page):
    resp = admin_client.post(page, {"file": upload(HEADER + "".join(LINES.values()))})
    assert resp.status_code == 200, resp.content[:2000]
    outcomes = resp.context["outcomes"]
    assert [o.label.split(":")[0] for o in outcomes] == ["line 2", "line 3", "line 4"]
    for outcome, why in zip(outcomes, UNREADABLE.values(), strict=False):
        assert not outcome.ok and why in outcome.message
    readable = outcomes[2]
    assert not readable.ok and not any(why in readable.message for why in UNREADABLE.values())
    assert "worker's log" not in resp.content.decode()  # no "failed unexpectedly"
    assert LONG not in resp.content.decode() and "\x00" not in resp.content.decode()
    assert nothing_written()


@pytest.mark.parametrize("page", import_pages())
def test_in_a_background_job_too(admin_client, settings, page):
    settings.BULK_INLINE_MAX = 1
    resp = admin_client.post(page, {"file": upload(HEADER + "".join(LINES.values()))})
    assert resp.status_code == 302 and "/admin/jobs/bulkjob/" in resp["Location"]
    job = BulkJob.objects.get()
    items = list(job.items.order_by("position"))
    assert [i.status for i in items] == [ItemStatus.FAILED] * 3
    for item, why in zip(items, UNREADABLE.values(), strict=False):
        assert why in item.message
    assert all(item.data is None and "\x00" not in item.label for item in items)
    assert nothing_written()


@pytest.mark.parametrize("page", import_pages())
def test_a_file_over_the_limit_is_refused_on_the_form(admin_client, settings, page):
    settings.CSV_IMPORT_MAX_BYTES = 1000
    text = HEADER + LINES[4] * 20  # about 1.3 kB
    resp = admin_client.post(page, {"file": upload(text)})
    assert resp.status_code == 200
    [error] = resp.context["form"].errors["file"]
    assert "at most 1000\xa0bytes" in error and "split it" in error
    assert resp.context["outcomes"] is None and not BulkJob.objects.exists() and nothing_written()

    settings.CSV_IMPORT_MAX_BYTES = len(text.encode())  # at the limit: read
    assert admin_client.post(page, {"file": upload(text)}).context["outcomes"]


def test_a_file_is_read_as_a_stream_not_whole(settings):
    """A 30 MB file of 5,001 short rows and padding: refused after its 5,001st row, having
    held far less than the file in memory (reading it whole took 2.5 times its size)."""
    rows = "".join(f"r{i},a{i}@example.com\n" for i in range(5001))
    size = 30 * 1024 * 1024
    upload = TemporaryUploadedFile("big.csv", "text/csv", size, "utf-8")  # on disk, as Django keeps it
    upload.write(("name,email\n" + rows).encode())
    padding = b"pad,pad@example.com\n" * 1024
    while upload.tell() < size:
        upload.write(padding)
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="At most 5000 rows"):
            read_csv(upload, ("name", "email"), accepts=lambda h: True, refusal="", max_rows=5000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        upload.close()
    assert peak < 5 * 1024 * 1024, peak
