"""Exports past EXPORT_INLINE_MAX rows: a background job writes the file, masked as the
immediate export would be for its requester, and only the requester downloads it."""

import csv
import io
import time
from datetime import timedelta

import openpyxl
import pytest
from django.contrib import admin
from django.core.files.storage import FileSystemStorage
from django.urls import reverse
from django.utils import timezone, translation

from hireops.core.schedules.registry import schedules
from hireops.jobs import exports, tasks
from hireops.jobs.export_actions import ExportActions
from hireops.jobs.models import ExportJob, ExportStatus
from tests.test_actions import ROLES
from tests.test_admin_query_counts import add_rows

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def export_dir(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "exports")},
        },
    }
    return tmp_path / "exports"


@pytest.fixture
def user_for(staff_user, django_user_model):
    def make(name, username=None, perms=()):
        username = username or name
        if ROLES[name] is None:
            return django_user_model.objects.create_superuser(username, password="Pw-123456!")
        return staff_user(*ROLES[name], username=username, perms=perms)

    return make


def rows_of(response) -> list[list[str]]:
    """A file's rows as text, whichever its format (an .xlsx cell as the CSV writes it)."""
    body = b"".join(response.streaming_content) if response.streaming else response.content
    if response["Content-Type"].startswith("text/csv"):
        return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    return [
        [
            "" if v is None else (v.strftime("%Y-%m-%d %H:%M:%S") if hasattr(v, "strftime") else str(v))
            for v in r
        ]
        for r in sheet.iter_rows(values_only=True)
    ]


def export_lists():
    return [(m, a) for m, a in admin.site._registry.items() if isinstance(a, ExportActions)]


def post_export(client, capture, model, action, data, query=""):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist") + query
    if "select_across" in data:  # the browser also sends the page's ticked rows
        data = {"_selected_action": [model.objects.values_list("pk", flat=True).first()], **data}
    with capture(execute=True):  # the job's task runs (eagerly) once the request committed
        return client.post(url, {"action": action, "index": "0", **data})


def downloaded(client, job: ExportJob):
    response = client.get(reverse("admin:jobs_exportjob_download", args=[job.pk]))
    assert response.status_code == 200, response.status_code
    return response


def test_every_role_gets_from_the_job_the_rows_the_immediate_export_gives(
    client, user_for, settings, django_capture_on_commit_callbacks
):
    """For every list with exports, every role that opens it, with and without the right to
    see personal data, both formats, ticked rows and "select all" over a search: the job's
    file holds exactly the immediate export's rows, masked the same way."""
    someone = user_for("hr", username="someone")
    add_rows(someone, 3)
    compared = []
    for name in ROLES:
        for perms in ((), ("core.view_personal_data",)):
            if name == "superuser" and perms:
                continue
            user = user_for(name, username=f"{name}-{len(perms)}", perms=perms)
            client.force_login(user)
            for model, model_admin in export_lists():
                request = type("R", (), {"user": user})()
                if not model_admin.has_view_or_change_permission(request):
                    continue
                pks = [str(pk) for pk in model.objects.order_by("pk").values_list("pk", flat=True)[:2]]
                for action in ("export_csv", "export_xlsx"):
                    for data, query in (({"_selected_action": pks}, ""), ({"select_across": "1"}, "")):
                        settings.EXPORT_INLINE_MAX = 20_000
                        immediate = post_export(
                            client, django_capture_on_commit_callbacks, model, action, data, query
                        )
                        assert (
                            immediate.status_code == 200 and "attachment" in immediate["Content-Disposition"]
                        )
                        settings.EXPORT_INLINE_MAX = 1
                        started = post_export(
                            client, django_capture_on_commit_callbacks, model, action, data, query
                        )
                        job = ExportJob.objects.latest("pk")
                        assert started.status_code == 302 and started.url.endswith(
                            f"/exportjob/{job.pk}/change/"
                        )
                        job.refresh_from_db()
                        assert job.status == ExportStatus.DONE, job.error
                        expected = rows_of(immediate)
                        assert len(expected) > 1 and rows_of(downloaded(client, job)) == expected
                        assert job.rows_total == len(expected) - 1
                        compared.append((name, len(perms), model._meta.label, action))
    lists = {label for _n, _p, label, _a in compared}
    assert {"referrals.ReferralAccount", "referrals.Withdrawal", "bindings.EcoAccountBinding"} <= lists
    assert {n for n, *_ in compared} == set(ROLES)
    assert any(p for _n, p, *_ in compared) and len(compared) >= 20


def test_the_masked_and_unmasked_files_differ_as_on_screen(
    client, user_for, settings, django_capture_on_commit_callbacks
):
    add_rows(user_for("hr", username="someone"), 2)
    settings.EXPORT_INLINE_MAX = 1
    from referrals.models import ReferralAccount

    files = {}
    for perms in ((), ("core.view_personal_data",)):
        client.force_login(user_for("hr", username=f"hr-{len(perms)}", perms=perms))
        post_export(
            client, django_capture_on_commit_callbacks, ReferralAccount, "export_csv", {"select_across": "1"}
        )
        files[bool(perms)] = rows_of(downloaded(client, ExportJob.objects.latest("pk")))
    emails = set(ReferralAccount.objects.values_list("email", flat=True))
    assert not emails & {cell for row in files[False] for cell in row}  # masked
    assert emails <= {cell for row in files[True] for cell in row}


def test_select_all_over_a_search_exports_its_rows_and_keeps_no_email_readable(
    client, user_for, settings, django_capture_on_commit_callbacks
):
    from referrals.models import ReferralAccount

    add_rows(user_for("hr", username="someone"), 3)
    settings.EXPORT_INLINE_MAX = 0
    email = ReferralAccount.objects.order_by("pk").values_list("email", flat=True)[1]
    client.force_login(user_for("hr", perms=["core.view_personal_data"]))
    post_export(
        client,
        django_capture_on_commit_callbacks,
        ReferralAccount,
        "export_csv",
        {"select_across": "1"},
        f"?q={email}",
    )
    job = ExportJob.objects.get(requested_by__username="hr")  # add_rows made others
    rows = rows_of(downloaded(client, job))
    assert len(rows) == 2 and email in rows[1]
    stored = repr(list(ExportJob.objects.values()))
    assert email not in stored


def test_only_the_requester_downloads_the_file_or_opens_its_page(
    client, user_for, settings, django_capture_on_commit_callbacks, django_user_model
):
    """Every other staff user (every role, a colleague in the same role, a superuser) gets 404
    for the file and no page of the export; someone signed out goes to the login."""
    from referrals.models import ReferralAccount

    add_rows(user_for("hr", username="someone"), 2)
    settings.EXPORT_INLINE_MAX = 1
    owner = user_for("hr", username="owner")
    client.force_login(owner)
    post_export(
        client, django_capture_on_commit_callbacks, ReferralAccount, "export_xlsx", {"select_across": "1"}
    )
    job = ExportJob.objects.get(requested_by=owner)
    assert job.status == ExportStatus.DONE
    download = reverse("admin:jobs_exportjob_download", args=[job.pk])
    page = reverse("admin:jobs_exportjob_change", args=[job.pk])
    retry = reverse("admin:jobs_exportjob_retry", args=[job.pk])
    assert downloaded(client, job)["Content-Disposition"].startswith(
        'attachment; filename="referral-accounts-'
    )
    assert b"export-download" in client.get(page).content

    others = [user_for(name, username=f"other-{name}") for name in ROLES]
    others.append(user_for("hr", username="colleague", perms=["core.view_personal_data"]))
    for other in others:
        client.force_login(other)
        assert client.get(download).status_code == 404, other
        assert client.post(retry).status_code == 404, other
        shown = client.get(page)
        if other.is_superuser:  # sees that it exists, for operations; never the file
            assert shown.status_code == 200 and b"export-download" not in shown.content
        else:
            assert shown.status_code == 302, other  # "does not exist", as for no export
        listed = client.get(reverse("admin:jobs_exportjob_changelist"))
        assert listed.status_code == 200 and download.encode() not in listed.content
    client.logout()
    assert client.get(download).status_code == 302


def test_expired_exports_lose_their_file_and_row_on_the_schedule(
    client, user_for, settings, export_dir, django_capture_on_commit_callbacks
):
    from referrals.models import ReferralAccount

    assert any(s.task == "jobs.expire_exports" for s in schedules())
    add_rows(user_for("hr", username="someone"), 2)
    settings.EXPORT_INLINE_MAX = 1
    client.force_login(user_for("hr"))
    for action in ("export_csv", "export_xlsx"):
        post_export(
            client, django_capture_on_commit_callbacks, ReferralAccount, action, {"select_across": "1"}
        )
    mine = ExportJob.objects.filter(requested_by__username="hr")  # add_rows made others
    old, fresh = mine.order_by("pk")
    assert (export_dir / old.file_name).exists() and (export_dir / fresh.file_name).exists()
    ExportJob.objects.filter(pk=old.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
    assert client.get(reverse("admin:jobs_exportjob_download", args=[old.pk])).status_code == 404
    tasks.expire_exports.delay()
    assert list(mine) == [fresh]
    assert not (export_dir / old.file_name).exists() and (export_dir / fresh.file_name).exists()


def test_a_job_lost_too_often_fails_and_its_requester_tries_again(
    client, user_for, settings, export_dir, django_capture_on_commit_callbacks, monkeypatch
):
    from referrals.models import ReferralAccount

    add_rows(user_for("hr", username="someone"), 2)
    settings.EXPORT_INLINE_MAX = 1
    owner = user_for("hr")
    client.force_login(owner)
    with monkeypatch.context() as m:  # the broker loses the job's message
        m.setattr(tasks.run_export, "delay", lambda pk: None)
        post_export(
            client, django_capture_on_commit_callbacks, ReferralAccount, "export_csv", {"select_across": "1"}
        )
    job = ExportJob.objects.get(requested_by=owner)
    assert job.status == ExportStatus.QUEUED
    # Its worker was killed mid-file each time it ran: running, silent, out of attempts.
    stale = timezone.now() - timedelta(minutes=10)
    ExportJob.objects.filter(pk=job.pk).update(
        status=ExportStatus.RUNNING, heartbeat_at=stale, attempts=exports.MAX_ATTEMPTS, rows_written=1
    )
    assert exports.exports_resume() >= 1
    job.refresh_from_db()
    assert job.status == ExportStatus.FAILED
    with translation.override("en"):  # whatever language the sweep's worker speaks
        assert ExportJob.objects.get(pk=job.pk).error == "Its worker stopped 3 times; try again."
    with translation.override("zh-hans"):
        assert ExportJob.objects.get(pk=job.pk).error == "执行它的后台进程已中断 3 次；请重试。"
    assert not (export_dir / job.file_name).exists()
    page = client.get(reverse("admin:jobs_exportjob_change", args=[job.pk]))
    assert b"export-retry" in page.content and b"export-download" not in page.content
    assert client.get(reverse("admin:jobs_exportjob_download", args=[job.pk])).status_code == 404

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("admin:jobs_exportjob_retry", args=[job.pk]))
    assert response.status_code == 302
    job.refresh_from_db()
    assert job.status == ExportStatus.DONE and job.attempts == 1
    assert len(rows_of(downloaded(client, job))) == ReferralAccount.objects.count() + 1


def test_a_small_export_is_still_the_answer(client, user_for, django_capture_on_commit_callbacks):
    from referrals.models import ReferralAccount

    add_rows(user_for("hr", username="someone"), 2)
    client.force_login(user_for("hr"))
    response = post_export(
        client, django_capture_on_commit_callbacks, ReferralAccount, "export_xlsx", {"select_across": "1"}
    )
    assert response.status_code == 200 and not ExportJob.objects.filter(requested_by__username="hr").exists()
    assert len(rows_of(response)) == ReferralAccount.objects.count() + 1


def test_an_export_silent_for_15_minutes_is_on_the_status_page(client, user_for, django_user_model):
    from hireops.ops import status

    owner = user_for("hr")
    job = ExportJob.objects.create(
        source="referrals.referralaccount",
        file_format="csv",
        requested_by=owner,
        expires_at=timezone.now() + timedelta(hours=24),
        status=ExportStatus.RUNNING,
        heartbeat_at=timezone.now() - timedelta(minutes=5),
    )
    assert {f.key: f for f in status.findings()}["jobs.exports_stalled"].ok
    ExportJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(minutes=16))
    found = {f.key: f for f in status.findings()}["jobs.exports_stalled"]
    assert not found.ok and found.value == 1


class SlowUploadStorage(FileSystemStorage):
    """An exports storage whose upload takes long (a large file to S3 over a slow link); while
    it runs, it notes whether the export looks lost to the resume schedule."""

    seconds = 1.5
    seen: list = []

    def _save(self, name, content):
        started = timezone.now()
        # At least 1.5 s, and on until the heartbeat shows the export beat after its first
        # second (a loaded machine may run the beating thread late; 15 s at most).
        deadline = time.monotonic() + 15
        time.sleep(self.seconds)
        job = ExportJob.objects.get(file_name=name)
        while job.heartbeat_at <= started + timedelta(seconds=1) and time.monotonic() < deadline:
            time.sleep(0.05)
            job.refresh_from_db()
        silent_since = exports.exports_without_progress(timezone.now() - exports.RESUME_AFTER)
        self.seen.append((started, job.heartbeat_at, silent_since.filter(pk=job.pk).exists()))
        return super()._save(name, content)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("action", ["export_csv", "export_xlsx"])
def test_a_slow_upload_keeps_its_export_alive_and_written_once(
    client, user_for, settings, export_dir, monkeypatch, action
):
    """Past its last row an export still works (the workbook's zip, the upload), beating
    from a thread: a run silent for RESUME_AFTER would be taken over and written again."""
    from referrals.models import ReferralAccount

    ReferralAccount.objects.bulk_create(
        ReferralAccount(name=f"员工{i}", email=f"e{i}@example.com", account_id=f"acc-{i}") for i in range(3)
    )
    settings.EXPORT_INLINE_MAX = 1
    settings.STORAGES = {
        **settings.STORAGES,
        "exports": {"BACKEND": f"{__name__}.SlowUploadStorage", "OPTIONS": {"location": str(export_dir)}},
    }
    monkeypatch.setattr(exports, "BEAT_EVERY", 0.1)
    monkeypatch.setattr(exports, "RESUME_AFTER", timedelta(seconds=0.5))  # the upload takes 1.5 s
    monkeypatch.setattr(SlowUploadStorage, "seen", [])
    owner = user_for("hr")
    client.force_login(owner)
    url = reverse("admin:referrals_referralaccount_changelist")
    assert (
        client.post(
            url, {"action": action, "index": "0", "select_across": "1", "_selected_action": ["1"]}
        ).status_code
        == 302
    )

    job = ExportJob.objects.get(requested_by=owner)
    assert job.status == ExportStatus.DONE and job.attempts == 1, job.error
    [(upload_started, heartbeat, looked_lost)] = SlowUploadStorage.seen
    assert heartbeat > upload_started + timedelta(seconds=1) and not looked_lost
    assert len(rows_of(downloaded(client, job))) == ReferralAccount.objects.count() + 1
    # The thread stopped with the run: nothing beats on a finished job.
    beat = ExportJob.objects.get(pk=job.pk).heartbeat_at
    time.sleep(0.3)
    assert ExportJob.objects.get(pk=job.pk).heartbeat_at == beat
