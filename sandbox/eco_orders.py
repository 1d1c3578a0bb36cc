"""Hire's eco orders in the sandbox: background checks and exams (docs/feishu.md §8.4–§8.6, §9.2–§9.4).

Each order is what Hire would show on the candidate's card: its stages, result and reports
(``state.background_checks`` / ``state.exams``, keyed by Feishu's id, unique in Hire). The
control API creates orders and cancels or grades them the way a Hire customer would, and
pushes the events.

Rules enforced, as documented: a stage id never repeats within an order and stage times
strictly increase (400); a stage ``result`` needs ``report_file_list``; a completed or
terminated order takes no more progress or result (400 / 1002858); an unknown order is
400 / 1002862; an exam graded in Hire refuses a result (400 / 1002855); an unknown exam is
400 / 1002851. Malformed bodies answer 400 / 1002002 naming the field.

CHOICES where the pages are silent (UNCONFIRMED): an exact repeat of a stage the order
already has (same id, time and content: a client resending after a lost answer) is answered
success and changes nothing; the same stage id with other content is refused. Report
approval is off, so a result completes the order at once. Cancelling a terminated order
succeeds; cancelling a completed one answers 1002858. ``login_info`` may be sent again and
overwrites the last one.
"""

import secrets
from typing import Any

from .eco_catalogue import pick_package, pick_paper, seed
from .hire_api import bad, ok
from .state import ApiError

ORDER_STATUS = 1002858
NO_ORDER = 1002862
EXAM_STATUS = 1002851
GRADED = 1002855
CHECK_STAGE_LIMIT = 200  # CHOICE: a bound on one order's stages, so a loop cannot grow it forever


def _text(body: dict, key: str, where: str = "", required: bool = True) -> str:
    value = body.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()):
        raise bad(f"{where}{key} is required and must be a non-empty string")
    return value


def _ms(body: dict, key: str, required: bool = True) -> int | None:
    value = body.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.isdigit():
        raise bad(f"{key} is required and must be a millisecond timestamp string")
    return int(value)


def _reports(body: dict, required: bool) -> list[dict]:
    items = body.get("report_file_list")
    if items is None:
        if required:
            raise bad("report_file_list is required when result is given")
        return []
    if not isinstance(items, list) or (required and not items):
        raise bad("report_file_list must be a non-empty list of report files")
    out = []
    for i, item in enumerate(items):
        where = f"report_file_list[{i}]."
        if not isinstance(item, dict):
            raise bad(f"report_file_list[{i}] must be an object")
        kind = item.get("report_url_type", 1)
        if kind not in (1, 2) or isinstance(kind, bool):
            raise bad(f"{where}report_url_type must be 1 (download) or 2 (preview)")
        out.append(
            {
                "report_name": _text(item, "report_name", where),
                "report_url": _text(item, "report_url", where),
                "report_url_type": kind,
            }
        )
    return out


def _check(sb, call, body_id: str):
    order = sb.state.background_checks.get(body_id)
    if order is None or order["tenant_key"] != call.tenant_key:
        raise ApiError(NO_ORDER, f"background check {body_id!r} does not exist")
    return order


def _writable(order: dict) -> None:
    if order["status"] in ("completed", "terminated", "canceled"):
        raise ApiError(ORDER_STATUS, f"order status abnormal: the background check is {order['status']}")


def update_progress(sb, call):
    b = call.body
    check_id = _text(b, "background_check_id")
    stage: dict[str, Any] = {
        "stage_id": _text(b, "stage_id"),
        "stage_name": _text(b, "stage_name"),
        "stage_en_name": _text(b, "stage_en_name", required=False),
        "stage_time": _ms(b, "stage_time"),
        "result": _text(b, "result", required=False),
    }
    stage["report_file_list"] = _reports(b, required=bool(stage["result"]))
    with sb.state.lock:
        order = _check(sb, call, check_id)
        same = next((s for s in order["stages"] if s["stage_id"] == stage["stage_id"]), None)
        if same == stage:
            return ok()  # a resend of a stage Hire already shows
        _writable(order)
        if same is not None:
            raise bad(f"stage_id {stage['stage_id']!r} was already used in this background check")
        last = order["stages"][-1]["stage_time"] if order["stages"] else None
        if last is not None and stage["stage_time"] <= last:
            raise bad(f"stage_time must be later than the last stage's ({last})")
        if len(order["stages"]) >= CHECK_STAGE_LIMIT:
            raise bad("too many stages in this background check")
        order["stages"].append(stage)
        order["status"] = "in_progress"
    return ok()


def update_result(sb, call):
    b = call.body
    check_id = _text(b, "background_check_id")
    result: dict[str, Any] = {"result": _text(b, "result"), "result_time": _ms(b, "result_time")}
    result["report_file_list"] = _reports(b, required=False)
    with sb.state.lock:
        order = _check(sb, call, check_id)
        _writable(order)
        order["result"] = result
        order["status"] = "completed"  # report approval off: completed at once
    return ok()


def cancel(sb, call):
    check_id = _text(call.body, "background_check_id")
    with sb.state.lock:
        order = _check(sb, call, check_id)
        if order["status"] == "completed":
            raise ApiError(ORDER_STATUS, "order status abnormal: the background check is completed")
        if order["status"] != "canceled":
            order["status"] = "terminated"
    return ok()


def _exam(sb, call) -> dict:
    exam = sb.state.exams.get(call.params["exam_id"])
    if exam is None or exam["tenant_key"] != call.tenant_key:
        raise ApiError(EXAM_STATUS, "exam status abnormal: check exam_id")
    return exam


def login_info(sb, call):
    b = call.body
    result = b.get("result", 0)
    if isinstance(result, bool) or not isinstance(result, int):
        raise bad("result must be an integer (0: success)")
    info = b.get("exam_login_info")
    if not isinstance(info, dict):
        raise bad("exam_login_info is required")
    login = {
        "exam_url": _text(info, "exam_url", "exam_login_info."),
        "username": _text(info, "username", "exam_login_info.", required=False),
        "password": _text(info, "password", "exam_login_info.", required=False),
    }
    with sb.state.lock:
        exam = _exam(sb, call)
        if exam["status"] == "graded":
            raise ApiError(EXAM_STATUS, "exam status abnormal: the exam is already graded")
        exam["login_info"] = {"result": result, "msg": b.get("msg") or "", **login}
        if exam["status"] == "arranging":
            exam["status"] = "arranged"
    return ok()


def exam_result(sb, call):
    b = call.body
    score = _text(b, "result")
    reports = []
    for i, item in enumerate(b.get("report_list") or []):
        if not isinstance(item, dict):
            raise bad(f"report_list[{i}] must be an object")
        where = f"report_list[{i}]."
        report: dict[str, Any] = {"name": _text(item, "name", where), "url": _text(item, "url", where)}
        if item.get("answer_time") is not None:
            report["answer_time"] = _ms(item, "answer_time")
        reports.append(report)
    details = []
    for i, item in enumerate(b.get("detail_list") or []):
        if not isinstance(item, dict):
            raise bad(f"detail_list[{i}] must be an object")
        where = f"detail_list[{i}]."
        details.append(
            {
                "id": _text(item, "id", where, required=False),
                "name": _text(item, "name", where),
                "result": _text(item, "result", where),
            }
        )
    with sb.state.lock:
        exam = _exam(sb, call)
        if exam["status"] == "graded":
            raise ApiError(GRADED, "用户已完成阅卷，不支持更新笔试结果")
        exam["result"] = {
            "result": score,
            "result_time": _ms(b, "result_time", required=False),
            "report_list": reports,
            "detail_list": details,
        }
        exam["status"] = "answered"
    return ok()


# --- orders placed by the "customer" (control API) -----------------------------------------


def _eco_account(st, tenant_key: str, account_id: str, scope: int) -> dict:
    account = st.eco_account(tenant_key, account_id)
    if account is None:
        raise ValueError(f"no eco account {account_id!r} in tenant {tenant_key!r}: bind one first")
    if account["scope"] != scope:
        raise ValueError(
            f"account {account_id!r} is not a {'background-check' if scope == 1 else 'exam'} account"
        )
    return account


def _candidate(raw: dict | None, with_names: bool) -> dict:
    raw = raw or {}
    person = {
        "name": raw.get("name") or "王二",
        "mobile": {
            "code": str(raw.get("mobile_code") or "86"),
            "number": str(raw.get("mobile") or "18900001111"),
        },
        "email": raw.get("email") or "candidate@example.com",
    }
    if with_names:
        person["first_name"] = raw.get("first_name") or "Er"
        person["last_name"] = raw.get("last_name") or "Wang"
    return person


def create_background_check(sb, call):
    """A Hire customer arranges a background check: push hire.eco_background_check.created_v1."""
    b, st = call.body, sb.state
    tenant_key = b.get("tenant_key") or st.default_tenant
    with st.lock:
        account = _eco_account(st, tenant_key, str(b["account_id"]), 1)
        items = [str(i) for i in b.get("additional_item_id_list") or []]
        package_id = pick_package(st, tenant_key, account["account_id"], b.get("package_id"), items)
        check_id = str(b.get("background_check_id") or st.new_account_id())
        if check_id in st.background_checks:
            raise ValueError(f"background check {check_id!r} exists already")
        event = {
            "background_check_id": check_id,
            "account_id": account["account_id"],
            "package_id": package_id,
            "additional_item_id_list": items,
            "comment": b.get("comment") or "",
            "candidate_info": _candidate(b.get("candidate"), with_names=True),
            "client_contact_info": _candidate(
                b.get("contact") or {"name": "李四", "email": "hr@example.com"}, False
            ),
            "custom_field_list": [
                {"key": str(f["key"]), "value": str(f["value"])} for f in b.get("custom_field_list") or []
            ],
        }
        st.background_checks[check_id] = {
            "background_check_id": check_id,
            "tenant_key": tenant_key,
            "account_id": account["account_id"],
            "package_id": package_id,
            "status": "in_progress",
            "stages": [],
            "result": None,
            "termination_reason": "",
        }
    return sb._event("hire.eco_background_check.created_v1", event, tenant_key)


def cancel_background_check(sb, call):
    """The customer terminates the check in Hire: push hire.eco_background_check.canceled_v1."""
    st = sb.state
    with st.lock:
        order = st.background_checks.get(call.params["check_id"])
        if order is None:
            raise ApiError(NO_ORDER, f"background check {call.params['check_id']!r} does not exist")
        if order["status"] in ("completed", "terminated", "canceled"):
            raise ValueError(f"the background check is {order['status']} already")
        reason = call.body.get("reason") or "主动拒绝此次背调"
        order["status"], order["termination_reason"] = "canceled", reason
        tenant_key = order["tenant_key"]
        event = {"background_check_id": order["background_check_id"], "termination_reason": reason}
    return sb._event("hire.eco_background_check.canceled_v1", event, tenant_key)


def create_exam(sb, call):
    """A Hire customer arranges an exam: push hire.eco_exam.created_v1."""
    b, st = call.body, sb.state
    tenant_key = b.get("tenant_key") or st.default_tenant
    with st.lock:
        account = _eco_account(st, tenant_key, str(b["account_id"]), 2)
        paper_id = pick_paper(st, tenant_key, account["account_id"], b.get("paper_id"))
        exam_id = str(b.get("exam_id") or st.new_account_id())
        if exam_id in st.exams:
            raise ValueError(f"exam {exam_id!r} exists already")
        event = {
            "exam_id": exam_id,
            "account_id": account["account_id"],
            "paper_id": paper_id,
            "candidate_info": _candidate(b.get("candidate"), with_names=False),
            # PY175 models these too (not on the page): sent so a client must tolerate them.
            "talent_id": str(secrets.randbelow(10**18)),
            "application_id": str(secrets.randbelow(10**18)),
        }
        st.exams[exam_id] = {
            "exam_id": exam_id,
            "tenant_key": tenant_key,
            "account_id": account["account_id"],
            "paper_id": paper_id,
            "status": "arranging",
            "login_info": None,
            "result": None,
        }
    return sb._event("hire.eco_exam.created_v1", event, tenant_key)


def grade_exam(sb, call):
    """The customer finishes grading in Hire: results are refused from now on (1002855)."""
    with sb.state.lock:
        exam = sb.state.exams.get(call.params["exam_id"])
        if exam is None:
            raise ValueError(f"no exam {call.params['exam_id']!r}")
        exam["status"] = "graded"
        return dict(exam)


def seed_catalogue(sb, call):
    """Put an account's catalogue in place as if the vendor had pushed it (tests, demos)."""
    b, st = call.body, sb.state
    tenant_key = b.get("tenant_key") or st.default_tenant
    account_id = call.params["account_id"]
    account = st.eco_account(tenant_key, account_id)
    if account is None:
        raise ValueError(f"no eco account {account_id!r} in tenant {tenant_key!r}: bind one first")
    scope = account["scope"]
    try:
        cat = seed(
            st, tenant_key, account_id, scope, **{k: b.get(k) for k in ("packages", "items", "papers")}
        )
    except ApiError as exc:
        raise ValueError(exc.msg) from exc
    return {"packages": cat["packages"], "items": cat["items"], "papers": cat["papers"]}


_B = "/open-apis/hire/v1/eco_background_checks"
_E = r"/open-apis/hire/v1/eco_exams/(?P<exam_id>[^/]+)"
_HIRE = {"kind": "openapi", "auth": True}
ROUTES = [
    (
        "POST",
        _B + "/update_progress",
        update_progress,
        {**_HIRE, "api": "eco_background_check.update_progress"},
    ),
    ("POST", _B + "/update_result", update_result, {**_HIRE, "api": "eco_background_check.update_result"}),
    ("POST", _B + "/cancel", cancel, {**_HIRE, "api": "eco_background_check.cancel"}),
    ("POST", _E + "/login_info", login_info, {**_HIRE, "api": "eco_exam.login_info"}),
    ("POST", _E + "/update_result", exam_result, {**_HIRE, "api": "eco_exam.update_result"}),
]
CONTROL_ROUTES = [
    ("POST", "/_sandbox/background_checks", create_background_check, {"kind": "control"}),
    (
        "POST",
        r"/_sandbox/background_checks/(?P<check_id>[^/]+)/cancel",
        cancel_background_check,
        {"kind": "control"},
    ),
    ("POST", "/_sandbox/exams", create_exam, {"kind": "control"}),
    ("POST", r"/_sandbox/eco_accounts/(?P<account_id>[^/]+)/catalogue", seed_catalogue, {"kind": "control"}),
    ("POST", r"/_sandbox/exams/(?P<exam_id>[^/]+)/grade", grade_exam, {"kind": "control"}),
]
