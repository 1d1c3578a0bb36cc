"""Large exports as background jobs: a worker writes the file, its requester downloads it.

The selection is kept as the action saw it: the list's query string (filters, search,
ordering; sealed, as a search term may be an email) and the ticked primary keys, or none for
"select all". The worker evaluates that query again *as the requester*, through the same
admin's changelist, and writes the columns the admin masks for that user: the same rows,
masked the same way, as the immediate export would have given. A selection of 2,000,000 rows
costs the request nothing to record (a list of primary keys would be 16 MB of JSON), and every
row written matches the list's filters at one moment.

A run claims the job with a token and beats on it while writing; a run whose heartbeat
stopped (its worker killed) is taken over by ``exports_resume`` and the file written again
from the start, up to ``MAX_ATTEMPTS``, then the job fails and its requester may try again.
The file is written to a local temporary file and only then saved to the exports storage;
the job is marked done after that, so a half-written file is never offered.
"""

import contextlib
import logging
import secrets
import tempfile
import threading
import time
from datetime import timedelta

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import storages
from django.core.signals import setting_changed
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.dispatch import receiver
from django.http import HttpRequest, QueryDict
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.functional import LazyObject, empty
from django.utils.translation import gettext_noop, ngettext_lazy

from hireops.core.messages import Message, upgraded
from hireops.core.secrets import sealing
from hireops.core.spreadsheets.export import export_filename, write_csv, write_xlsx
from hireops.core.task_names import task_named

from .models import ExportFormat, ExportJob, ExportStatus

log = logging.getLogger(__name__)

# A run beats at least this often while it reads rows; one silent for RESUME_AFTER was lost.
BEAT_EVERY = 1.0  # seconds
RESUME_AFTER = timedelta(minutes=2)
MAX_ATTEMPTS = 3
# Stored with their count: each reader reads the form their language has for it.
STOPPED_AFTER = ngettext_lazy(
    "Stopped after %(n)d attempt; try again.", "Stopped after %(n)d attempts; try again.", "n"
)
WORKER_STOPPED = ngettext_lazy(
    "Its worker stopped %(n)d time; try again.", "Its worker stopped %(n)d times; try again.", "n"
)
# Rows stored before the counts had their plural forms read with them.
upgraded("Stopped after %(n)d attempts; try again.", lambda params: Message(STOPPED_AFTER, **params))
upgraded("Its worker stopped %(n)d times; try again.", lambda params: Message(WORKER_STOPPED, **params))


class Refused(Exception):
    """The export cannot be written for its requester (shown on the export's page): its
    message is a Message, stored on the row to read in each reader's language."""


class _Lost(Exception):
    """Another run took the job over: this one stops and leaves it."""


class _ExportStorage(LazyObject):
    _wrapped: object  # the storage, or ``empty`` until it is looked up

    def _setup(self):
        self._wrapped = storages["exports"]


_storage = _ExportStorage()


def export_storage():
    return _storage


@receiver(setting_changed)
def _reset_storage(setting, **kwargs):
    if setting == "STORAGES":
        _storage._wrapped = empty


def runs_inline(queryset) -> bool:
    """Whether the selection is small enough to answer at once: a bounded count."""
    return queryset.order_by()[: settings.EXPORT_INLINE_MAX + 1].count() <= settings.EXPORT_INLINE_MAX


def export_start(model_admin, request, file_format: str) -> ExportJob:
    """Record the export of what the admin action in ``request`` was applied to, and queue it."""
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME

    run_export = task_named("jobs.export")

    across = request.POST.get("select_across") == "1"
    opts = model_admin.model._meta
    now = timezone.now()
    job = ExportJob.objects.create(
        source=opts.label_lower,
        file_format=file_format,
        sealed_query=sealing.seal(request.GET.urlencode()),
        selected=None if across else [str(pk) for pk in request.POST.getlist(ACTION_CHECKBOX_NAME)],
        language=getattr(request, "LANGUAGE_CODE", "") or translation.get_language() or "",
        requested_by=request.user,
        download_name=export_filename(model_admin.export_name, file_format),
        file_name=f"export-{secrets.token_hex(12)}.{file_format}",
        expires_at=now + timedelta(hours=settings.EXPORT_KEEP_HOURS),
    )
    transaction.on_commit(lambda: run_export.delay(job.pk))
    return job


def _as_requester(job: ExportJob):
    """The admin of the exported list and a request of the requester on it, permissions
    checked as they are now."""
    user = job.requested_by
    if user is None or not user.is_active or not user.is_staff:
        raise Refused(Message(gettext_noop("The user who asked for this export can no longer sign in.")))
    model_admin = admin.site.get_model_admin(apps.get_model(job.source))
    request = HttpRequest()
    request.method = "GET"
    request.path = request.path_info = reverse(
        f"admin:{model_admin.opts.app_label}_{model_admin.opts.model_name}_changelist"
    )
    request.GET = QueryDict(sealing.unseal(job.sealed_query))
    request.user = user
    request.LANGUAGE_CODE = translation.get_language()
    if not model_admin.has_view_or_change_permission(request):
        raise Refused(Message(gettext_noop("You may no longer view this list.")))
    return model_admin, request


def _selection(model_admin, request, job: ExportJob):
    """The rows the action was applied to, as Django's changelist gives an action them."""
    from django.contrib.admin.options import IncorrectLookupParameters

    try:
        queryset = model_admin.get_changelist_instance(request).get_queryset(request)
    except (IncorrectLookupParameters, PermissionDenied) as exc:
        raise Refused(Message(gettext_noop("The list's filters are no longer valid."))) from exc
    if job.selected is not None:
        queryset = queryset.filter(pk__in=job.selected)
    return queryset


class _Run:
    """One run's hold on its job: every update is conditional on its token."""

    def __init__(self, pk: int, token: str):
        self.pk, self.token = pk, token
        self.written = 0
        self.beat_at = 0.0
        self.rows_flowing = False

    def update(self, **fields) -> None:
        if not ExportJob.objects.filter(pk=self.pk, run_token=self.token).update(**fields):
            raise _Lost

    def counted(self, rows):
        """The rows, beating on the job (its progress) at most every BEAT_EVERY seconds."""
        self.rows_flowing = True
        try:
            for row in rows:
                yield row
                self.written += 1
                if time.monotonic() - self.beat_at >= BEAT_EVERY:
                    self.beat_at = time.monotonic()
                    self.update(rows_written=self.written, heartbeat_at=timezone.now())
        finally:
            self.rows_flowing = False

    @contextlib.contextmanager
    def beating(self):
        """Beat from a thread while no rows flow: counting them, closing the workbook (its
        zip is assembled after the last row) and saving the file to the storage (an upload
        of a large file can take minutes) are silent to ``counted``, and a run silent for
        RESUME_AFTER would be taken over and its work thrown away. The rows' own beats stay
        the sign of progress: a run stuck while reading them still goes silent."""
        stop = threading.Event()

        def beat():
            try:
                mine = ExportJob.objects.filter(pk=self.pk, run_token=self.token)
                while not stop.wait(BEAT_EVERY):
                    if not self.rows_flowing and not mine.update(heartbeat_at=timezone.now()):
                        return  # another run has the job: the writing thread finds out
            except DatabaseError as exc:  # the writing thread meets the database's trouble too
                log.warning("export %s: heartbeat failed (%s)", self.pk, type(exc).__name__)
            finally:
                connection.close()  # this thread's own

        thread = threading.Thread(target=beat, name=f"export-{self.pk}-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()


def _claim(pk: int) -> _Run | None:
    """Take the job if it waits, or if its run stopped beating (a lost worker)."""
    token = secrets.token_hex(16)
    now = timezone.now()
    waiting = Q(status=ExportStatus.QUEUED) | Q(
        status=ExportStatus.RUNNING, heartbeat_at__lt=now - RESUME_AFTER
    )
    taken = ExportJob.objects.filter(waiting, pk=pk).update(
        status=ExportStatus.RUNNING,
        run_token=token,
        heartbeat_at=now,
        started_at=now,
        attempts=F("attempts") + 1,
        rows_written=0,
        error="",
    )
    return _Run(pk, token) if taken else None


def export_run(pk: int) -> str:
    """Write the export's file and offer it; safe to run again, or twice at once."""
    run = _claim(pk)
    if run is None:
        return "skipped"
    job = ExportJob.objects.select_related("requested_by").get(pk=pk)
    with translation.override(job.language or None):  # the requester's: headers, labels
        try:
            if job.attempts > MAX_ATTEMPTS:
                raise Refused(Message(STOPPED_AFTER, n=MAX_ATTEMPTS))
            _write(job, run)
        except _Lost:
            return "lost"
        except Refused as exc:
            _fail(run, exc.args[0])
        except Exception:
            log.exception("export %s failed unexpectedly", pk)
            _fail(run, Message(gettext_noop("Failed unexpectedly; the details are in the worker's log.")))
    return ExportJob.objects.values_list("status", flat=True).get(pk=pk)


def _write(job: ExportJob, run: _Run) -> None:
    with run.beating():
        _write_and_save(job, run)


def _write_and_save(job: ExportJob, run: _Run) -> None:
    model_admin, request = _as_requester(job)
    queryset = _selection(model_admin, request, job)
    run.update(rows_total=queryset.count(), heartbeat_at=timezone.now())
    columns = model_admin.export_columns(request)
    storage = export_storage()
    with tempfile.TemporaryFile() as file:  # gone with the process if it is killed
        rows = run.counted(model_admin.export_rows(queryset))
        if job.file_format == ExportFormat.XLSX:
            write_xlsx(file, model_admin.export_name, columns, rows)
        else:
            write_csv(file, columns, rows)
        run.update(rows_written=run.written, heartbeat_at=timezone.now())
        file.seek(0)
        storage.delete(job.file_name)  # what an earlier, lost run left, if anything
        saved = storage.save(job.file_name, File(file))
    try:
        now = timezone.now()
        run.update(status=ExportStatus.DONE, file_name=saved, finished_at=now, heartbeat_at=now)
    except _Lost:
        if saved != job.file_name:
            storage.delete(saved)
        raise


def _fail(run: _Run, message: str) -> None:
    with contextlib.suppress(_Lost):  # another run has it: its outcome stands
        run.update(status=ExportStatus.FAILED, error=message, finished_at=timezone.now())


def export_retry(job: ExportJob) -> bool:
    """Queue a failed export again, with its attempts counted afresh."""
    run_export = task_named("jobs.export")

    again = ExportJob.objects.filter(pk=job.pk, status=ExportStatus.FAILED).update(
        status=ExportStatus.QUEUED, attempts=0, error="", finished_at=None
    )
    if again:
        transaction.on_commit(lambda: run_export.delay(job.pk))
    return bool(again)


def exports_without_progress(since):
    """Exports waiting or running with no sign of life since ``since``."""
    return ExportJob.objects.filter(
        Q(status=ExportStatus.QUEUED, requested_at__lt=since)
        | Q(status=ExportStatus.RUNNING, heartbeat_at__lt=since)
    )


def exports_resume() -> int:
    """Queue again the exports whose run was lost (worker killed, broker down when queued);
    one lost too often fails, its requester may try again."""
    run_export = task_named("jobs.export")

    since = timezone.now() - RESUME_AFTER
    stalled = list(exports_without_progress(since).values_list("pk", "attempts"))
    for pk, attempts in stalled:
        if attempts < MAX_ATTEMPTS:
            run_export.delay(pk)
            continue
        error = Message(WORKER_STOPPED, n=attempts)
        ExportJob.objects.filter(pk=pk, status=ExportStatus.RUNNING, heartbeat_at__lt=since).update(
            status=ExportStatus.FAILED, error=error, finished_at=timezone.now()
        )
    return len(stalled)


def exports_expire() -> int:
    """Remove the exports asked for more than EXPORT_KEEP_HOURS ago: the file, then the row
    (a sweep killed in between finds the row again next time)."""
    storage = export_storage()
    expired = list(ExportJob.objects.filter(expires_at__lte=timezone.now()).values_list("pk", "file_name"))
    for pk, file_name in expired:
        if file_name:
            storage.delete(file_name)
        ExportJob.objects.filter(pk=pk).delete()
    return len(expired)
