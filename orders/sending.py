"""What an order's page (the admin) and the partners' API send about an order, from the form
that checked it (``orders.forms``): the reports the form names, an uploaded file or a link
becoming a new report of the order, then the write ``orders.writes`` queues and records in the
change history.

Called inside the caller's transaction, whose rollback undoes the rows of a refused write. A
report file is kept by the storage, which no transaction undoes: a refused write removes the
files stored for it, so that nothing of a refusal is left behind.
"""

from collections.abc import Callable

from . import writes
from .models import BackgroundCheck, Exam, OrderWrite, ReportFile


def _with_reports(form, user, queue: Callable[[list[ReportFile]], OrderWrite]) -> OrderWrite:
    """``queue(reports)`` with the form's reports; on a refusal, the new ones' files removed."""
    chosen = form.reports(user)
    kept = {report.pk for report in form.cleaned_data.get("existing_reports") or []}
    try:
        return queue(chosen)
    except writes.WriteRefused:
        for report in chosen:
            if report.pk not in kept and report.file:
                report.file.delete(save=False)
        raise


def send_stage(check: BackgroundCheck, form, user) -> OrderWrite:
    """A progress stage (``orders.forms.StageForm``)."""
    data = form.cleaned_data
    return _with_reports(
        form,
        user,
        lambda reports: writes.stage_request(
            check,
            name=data["stage_name"],
            en_name=data["stage_en_name"],
            time_ms=form.time_ms(),
            stage_id=data["stage_id"],
            result=data["result"],
            reports=reports,
            user=user,
        ),
    )


def send_result(check: BackgroundCheck, form, user) -> OrderWrite:
    """The final result (``orders.forms.ResultForm``)."""
    return _with_reports(
        form,
        user,
        lambda reports: writes.result_request(
            check, result=form.cleaned_data["result"], time_ms=form.time_ms(), reports=reports, user=user
        ),
    )


def send_login(exam: Exam, form, user) -> OrderWrite:
    """An exam's login information (``orders.forms.LoginForm``): no report comes with it."""
    data = form.cleaned_data
    return writes.login_request(
        exam, url=data["exam_url"], username=data["username"], password=data["password"], user=user
    )


def send_score(exam: Exam, form, user) -> OrderWrite:
    """An exam's score (``orders.forms.ScoreForm``)."""
    data = form.cleaned_data
    return _with_reports(
        form,
        user,
        lambda reports: writes.score_request(
            exam,
            score=data["score"],
            time_ms=form.time_ms(),
            reports=reports,
            details=data["details"],
            user=user,
        ),
    )
