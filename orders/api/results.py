"""What a vendor's system sends about an order: a progress stage, the result, a termination, an
exam's login and its score, each through the services the admin's order page uses."""

import datetime as dt
from contextlib import contextmanager

from django.utils import timezone
from ninja import File, Router, Status, UploadedFile

from hireops.api.bodies import JsonOrForm
from hireops.api.problems import Problem
from hireops.api.site import operation, register

from .. import sending, writes
from ..forms import LoginForm, ResultForm, ScoreForm, StageForm
from .orders import _order
from .schemas import (
    BGC,
    EXAM,
    LoginIn,
    Masker,
    OrderId,
    ResultIn,
    ScoreIn,
    StageIn,
    WithReportsIn,
    WriteOut,
    WritesOut,
    _aware,
    write_out,
)
from .scopes import WRITE

router = Router(tags=["Orders"])

FORM_FIELDS = {"existing_reports": "report_ids", "__all__": "request", "confirm": "request"}


@contextmanager
def _in_utc():
    """A write's refusals as the API gives them: a time in one (the last stage's) in UTC, naming
    its offset, as the API's times are (their English is the API's middleware's)."""
    with timezone.override(dt.UTC):
        yield


def _open(order):
    """The order, if it takes writes: a closed one answers 409 before its fields are checked
    against it or a file is kept (the service asks again with the order locked)."""
    try:
        writes.refuse_if_closed(order)
    except writes.OrderClosed as exc:
        raise Problem(409, str(exc), kind="order-closed") from None
    return order


def _checked(form, report_ids=()):
    """The admin's form, validated as the admin validates it (sizes, types, lengths, PDFs)."""
    if report_ids and "existing_reports" not in form.fields:  # the order has no report yet
        raise Problem(
            422,
            "The request is not valid.",
            kind="invalid-request",
            errors=[("report_ids", "This order has no reports yet.")],
        )
    if not form.is_valid():
        errors = [
            (FORM_FIELDS.get(name, name), str(message))
            for name, messages in form.errors.items()
            for message in messages
        ]
        raise Problem(422, "The request is not valid.", kind="invalid-request", errors=errors)
    return form


def _iso(value: dt.datetime | None) -> str:
    return _aware(value).isoformat() if value is not None else ""


def _report_data(data: WithReportsIn) -> dict:
    return {
        "report_name": data.report_name,
        "report_link": data.report_link,
        "existing_reports": [str(pk) for pk in data.report_ids],
    }


def _files(report_file) -> dict:
    return {"report_file": report_file} if report_file is not None else {}


def _sent(request, send):
    """``send(actor)`` through the service (``orders.sending``, ``orders.writes``); a refusal
    answers 422 naming the field (409 when the order takes nothing more) and keeps nothing (the
    middleware rolls the request back, and the service removes a report file stored for it);
    the service's change history names the key."""
    try:
        queued = send(request.api_key.actor)
    except writes.OrderClosed as exc:
        raise Problem(409, str(exc), kind="order-closed") from None
    except writes.WriteRefused as exc:
        raise Problem(
            422, str(exc), kind="write-refused", errors=[(exc.field or "request", str(exc))]
        ) from None
    return queued if isinstance(queued, list) else [queued]


def _one(request, queued) -> Status:
    write = queued[0]
    return Status(202, write_out(write, Masker(request), write.reports.values_list("pk", flat=True)))


WRITE_ANSWER = {202: WriteOut}


@operation(
    router.post,
    "/orders/{id}/progress",
    "sendOrderProgress",
    scope=WRITE,
    summary="Queue a progress stage of a background check (multipart: a report file may come with it)",
    response=WRITE_ANSWER,
    write=True,
)
def post_progress(request, id: OrderId, data: JsonOrForm[StageIn], report_file: File[UploadedFile] = None):  # type: ignore[assignment]  # optional: ninja reads the default
    with _in_utc():
        check = _open(_order(request, id, BGC))
        form = _checked(
            StageForm(
                {
                    "stage_name": data.stage_name,
                    "stage_en_name": data.stage_en_name,
                    "stage_time": _iso(data.stage_time),
                    "stage_id": data.stage_id,
                    "result": data.result,
                    **_report_data(data),
                },
                _files(report_file),
                order_field="background_check",
                order=check,
            ),
            data.report_ids,
        )
        return _one(request, _sent(request, lambda actor: sending.send_stage(check, form, actor)))


@operation(
    router.post,
    "/orders/{id}/result",
    "sendOrderResult",
    scope=WRITE,
    summary="Queue a background check's final result (multipart: a report file may come with it)",
    response=WRITE_ANSWER,
    write=True,
)
def post_result(request, id: OrderId, data: JsonOrForm[ResultIn], report_file: File[UploadedFile] = None):  # type: ignore[assignment]  # optional: ninja reads the default
    with _in_utc():
        check = _open(_order(request, id, BGC))
        form = _checked(
            ResultForm(
                {"result": data.result, "result_time": _iso(data.result_time), **_report_data(data)},
                _files(report_file),
                order_field="background_check",
                order=check,
            ),
            data.report_ids,
        )
        return _one(request, _sent(request, lambda actor: sending.send_result(check, form, actor)))


@operation(
    router.post,
    "/orders/{id}/terminate",
    "terminateOrder",
    scope=WRITE,
    summary="Terminate a background check: a “terminated” stage, then the termination (Feishu's advice)",
    response={202: WritesOut},
    write=True,
)
def post_terminate(request, id: OrderId):
    with _in_utc():
        check = _open(_order(request, id, BGC))
        queued = _sent(request, lambda actor: writes.cancel_request(check, user=actor))
        mask = Masker(request)
        return Status(202, WritesOut(data=[write_out(w, mask) for w in queued]))


@operation(
    router.post,
    "/orders/{id}/exam-login",
    "sendExamLogin",
    scope=WRITE,
    summary="Queue an exam's login information (the password is kept encrypted, never shown again)",
    response=WRITE_ANSWER,
    write=True,
)
def post_exam_login(request, id: OrderId, data: JsonOrForm[LoginIn]):
    with _in_utc():
        exam = _open(_order(request, id, EXAM))
        form = _checked(
            LoginForm({"exam_url": data.exam_url, "username": data.username, "password": data.password})
        )
        return _one(request, _sent(request, lambda actor: sending.send_login(exam, form, actor)))


@operation(
    router.post,
    "/orders/{id}/score",
    "sendExamScore",
    scope=WRITE,
    summary="Queue an exam's score (multipart: a report file may come with it); repeatable until graded",
    response=WRITE_ANSWER,
    write=True,
)
def post_score(request, id: OrderId, data: JsonOrForm[ScoreIn], report_file: File[UploadedFile] = None):  # type: ignore[assignment]  # optional: ninja reads the default
    with _in_utc():
        exam = _open(_order(request, id, EXAM))
        form = _checked(
            ScoreForm(
                {
                    "score": data.score,
                    "result_time": _iso(data.result_time),
                    "details": data.details,
                    **_report_data(data),
                },
                _files(report_file),
                order_field="exam",
                order=exam,
            ),
            data.report_ids,
        )
        return _one(request, _sent(request, lambda actor: sending.send_score(exam, form, actor)))


register(router)
