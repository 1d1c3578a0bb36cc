"""Feishu Hire's eco orders: background checks and exams a vendor serves (docs/feishu.md §8, §9).

One small typed function per endpoint, like ``hire.py``. Feishu sends no data back on any
of them; the bare ``FeishuResponse`` keeps the log id.

Is a repeat harmless? The client never repeats a failed call; the calling task does, with
the same content (hireops.outbound.retry), so this is for the services:

- ``update_progress``: no. Stage ids must not repeat within an order and stage times must
  strictly increase, and what Feishu answers to a repeat of a stage it already took is not
  documented (UNCONFIRMED). The calling service retries with the *same* stage id and time,
  so a repeat can never add a second stage, and says so on the row if Feishu refuses it.
- ``update_result`` (background check): no, for the same reason (a second call on a
  completed order presumably answers 1002858).
- ``cancel``: yes. Terminating a terminated order leaves it terminated.
- exam ``login_info``: no (whether it may be sent twice is UNCONFIRMED).
- exam ``update_result``: yes. Documented as repeatable: each call overwrites the last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from urllib.parse import quote

from .http import FeishuClient, FeishuResponse
from .shapes import JSONObject

_HIRE = "/open-apis/hire/v1"


class ReportUrlType:
    DOWNLOAD = 1  # a downloadable PDF
    PREVIEW = 2  # a page to open (an "external link" on the result page)


@dataclass(frozen=True)
class ReportFile:
    name: str
    url: str
    url_type: int = ReportUrlType.DOWNLOAD

    def to_json(self) -> JSONObject:
        return {"report_name": self.name, "report_url": self.url, "report_url_type": int(self.url_type)}


@dataclass(frozen=True)
class ExamReport:
    name: str
    url: str
    answer_time_ms: int | None = None

    def to_json(self) -> JSONObject:
        item = {"name": self.name, "url": self.url}
        if self.answer_time_ms is not None:
            item["answer_time"] = str(int(self.answer_time_ms))
        return item


@dataclass(frozen=True)
class ExamDetail:
    name: str
    result: str
    id: str = ""

    def to_json(self) -> JSONObject:
        item = {"name": self.name, "result": self.result}
        if self.id:
            item["id"] = self.id
        return item


@dataclass(frozen=True)
class Stage:
    stage_id: str
    name: str
    time_ms: int
    en_name: str = ""
    result: str = ""
    reports: Sequence[ReportFile] = field(default_factory=tuple)

    def to_json(self, background_check_id: str) -> JSONObject:
        body: JSONObject = {
            "background_check_id": background_check_id,
            "stage_id": self.stage_id,
            "stage_name": self.name,
            "stage_time": str(int(self.time_ms)),
        }
        if self.en_name:
            body["stage_en_name"] = self.en_name
        if self.result:  # Feishu: a stage result needs its report files
            body["result"] = self.result
        if self.reports:
            body["report_file_list"] = [r.to_json() for r in self.reports]
        return body


def result_body(
    background_check_id: str, result: str, time_ms: int, reports: Sequence[ReportFile]
) -> JSONObject:
    body: JSONObject = {
        "background_check_id": background_check_id,
        "result": result,
        "result_time": str(int(time_ms)),
    }
    if reports:
        body["report_file_list"] = [r.to_json() for r in reports]
    return body


def login_info_body(exam_url: str, username: str = "", password: str = "", msg: str = "") -> JSONObject:
    info = {"exam_url": exam_url}
    if username:
        info["username"] = username
    if password:
        info["password"] = password
    return {"result": 0, "msg": msg or "success", "exam_login_info": info}


def exam_result_body(
    score: str, time_ms: int | None, reports: Sequence[ExamReport], details: Sequence[ExamDetail]
) -> JSONObject:
    body: JSONObject = {"result": score}
    if time_ms is not None:
        body["result_time"] = str(int(time_ms))
    if reports:
        body["report_list"] = [r.to_json() for r in reports]
    if details:
        body["detail_list"] = [d.to_json() for d in details]
    return body


# --- background checks (§8.4) -----------------------------------------------------------------


def update_progress(
    client: FeishuClient, body: JSONObject, *, tenant_key: str | None = None
) -> FeishuResponse:
    return client.request(
        "POST",
        f"{_HIRE}/eco_background_checks/update_progress",
        endpoint="hire.eco_background_check.update_progress",
        json=body,
        tenant_key=tenant_key,
    )


def update_result(client: FeishuClient, body: JSONObject, *, tenant_key: str | None = None) -> FeishuResponse:
    return client.request(
        "POST",
        f"{_HIRE}/eco_background_checks/update_result",
        endpoint="hire.eco_background_check.update_result",
        json=body,
        tenant_key=tenant_key,
    )


def cancel(
    client: FeishuClient, background_check_id: str, *, tenant_key: str | None = None
) -> FeishuResponse:
    return client.request(
        "POST",
        f"{_HIRE}/eco_background_checks/cancel",
        endpoint="hire.eco_background_check.cancel",
        json={"background_check_id": background_check_id},
        tenant_key=tenant_key,
    )


# --- exams (§9.2, §9.3) -----------------------------------------------------------------------


def exam_login_info(
    client: FeishuClient, exam_id: str, body: JSONObject, *, tenant_key: str | None = None
) -> FeishuResponse:
    return client.request(
        "POST",
        f"{_HIRE}/eco_exams/{quote(exam_id, safe='')}/login_info",
        endpoint="hire.eco_exam.login_info",
        json=body,
        tenant_key=tenant_key,
    )


def exam_update_result(
    client: FeishuClient, exam_id: str, body: JSONObject, *, tenant_key: str | None = None
) -> FeishuResponse:
    return client.request(
        "POST",
        f"{_HIRE}/eco_exams/{quote(exam_id, safe='')}/update_result",
        endpoint="hire.eco_exam.update_result",
        json=body,
        tenant_key=tenant_key,
    )


# --- catalogues (§8.2, §8.3, §9.1) --------------------------------------------------------------
#
# One generic call per (catalogue, operation): the bodies are built by the catalogue service,
# which knows what Feishu already has. Repeating is safe where the operation is a full replace
# or an overwrite (custom fields, papers, package updates); not where it adds or removes by id
# (package create: an id cannot be created twice; package delete: whether an unknown id is an
# error is UNCONFIRMED), so the service decides what a repeat after a lost answer means.

CATALOGUE_CALLS = {
    # (catalogue, op): (method, path under /open-apis/hire/v1, whether a repeat is harmless)
    ("packages", "create"): ("POST", "/eco_background_check_packages", False),
    ("packages", "batch_update"): ("PATCH", "/eco_background_check_packages/batch_update", True),
    ("packages", "batch_delete"): ("POST", "/eco_background_check_packages/batch_delete", False),
    ("form_fields", "create"): ("POST", "/eco_background_check_custom_fields", True),
    ("form_fields", "batch_update"): ("PATCH", "/eco_background_check_custom_fields/batch_update", True),
    ("form_fields", "batch_delete"): ("POST", "/eco_background_check_custom_fields/batch_delete", True),
    ("papers", "create"): ("POST", "/eco_exam_papers", True),
    ("papers", "batch_update"): ("PATCH", "/eco_exam_papers/batch_update", True),
    ("papers", "batch_delete"): ("POST", "/eco_exam_papers/batch_delete", True),
}
CATALOGUE_ENDPOINTS = {
    "packages": "hire.eco_background_check_package",
    "form_fields": "hire.eco_background_check_custom_field",
    "papers": "hire.eco_exam_paper",
}


def catalogue_endpoint(catalogue: str, op: str) -> str:
    return f"{CATALOGUE_ENDPOINTS[catalogue]}.{op}"


def catalogue_call(
    client: FeishuClient, catalogue: str, op: str, body: JSONObject, *, tenant_key: str | None = None
) -> FeishuResponse:
    method, path, _ = CATALOGUE_CALLS[(catalogue, op)]
    return client.request(
        method,
        _HIRE + path,
        endpoint=catalogue_endpoint(catalogue, op),
        json=body,
        tenant_key=tenant_key,
    )
