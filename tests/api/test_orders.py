"""/api/v1/orders: background checks and exams in one list walked by cursor, one order, and the
writes staff send from the order's page, sent through the outbound engine to the sandbox."""

import datetime as dt
import json
import time

import pytest
from django.contrib.admin.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hireops.api.models import ApiKey
from hireops.core.models import CallStatus
from hireops.core.privacy.personal import HIDDEN
from orders.models import BackgroundCheck, CheckState, Exam, ExamState, OrderWrite, ReportFile
from tests.api.document import served_document
from tests.factories import a_background_check, an_exam
from tests.orders import conftest as orders_conftest
from tests.orders.conftest import CHECK_ACCOUNT, EXAM_ACCOUNT, PDF, deliver

from .keys import bearer, make_key

PROGRESS = "/open-apis/hire/v1/eco_background_checks/update_progress"
RESULT = "/open-apis/hire/v1/eco_background_checks/update_result"
CANCEL = "/open-apis/hire/v1/eco_background_checks/cancel"
EXAMS = "/open-apis/hire/v1/eco_exams/{}/{}"
# The orders tests' fixtures: reports in a temporary directory, the webhook's secrets, Acme's
# accounts bound in the sandbox with their catalogue.
report_files_in_tmp = orders_conftest.report_files_in_tmp
webhook_secrets = orders_conftest.webhook_secrets
acme, catalogue, bound_accounts = (
    orders_conftest.acme,
    orders_conftest.catalogue,
    orders_conftest.bound_accounts,
)


def api_id(order) -> str:
    return f"{'bgc' if isinstance(order, BackgroundCheck) else 'exam'}_{order.pk}"


# The enumeration of every operation (tests/api/test_every_operation.py: no key, revoked,
# missing scope, other tenant) makes its objects here.
EXAMPLES = {
    "/orders/{id}": lambda tenant_key: api_id(a_background_check(tenant_key)),
    "/orders/{id}/progress": lambda tenant_key: api_id(a_background_check(tenant_key)),
    "/orders/{id}/result": lambda tenant_key: api_id(a_background_check(tenant_key)),
    "/orders/{id}/terminate": lambda tenant_key: api_id(a_background_check(tenant_key)),
    "/orders/{id}/exam-login": lambda tenant_key: api_id(an_exam(tenant_key)),
    "/orders/{id}/score": lambda tenant_key: api_id(an_exam(tenant_key)),
}
# A valid request of each write on those rows (tests/api/test_every_operation.py).
BODIES = {
    "POST /orders/{id}/progress": lambda: ("multipart", {"stage_name": "一", "stage_time": iso(now_ms())}),
    "POST /orders/{id}/result": lambda: (
        "multipart",
        {"result": "无差异", "result_time": iso(now_ms()), "report_file": pdf("终版报告.pdf")},
    ),
    "POST /orders/{id}/terminate": lambda: ("json", {}),
    "POST /orders/{id}/exam-login": lambda: (
        "json",
        {"exam_url": "https://exam.example.com/t/abc", "username": "wang2", "password": "s3cret!"},
    ),
    "POST /orders/{id}/score": lambda: ("multipart", {"score": "60"}),
}


def walk(client, key, query="limit=3") -> tuple[list[dict], int]:
    rows, pages, url = [], 0, f"/api/v1/orders?{query}"
    while url:
        answer = client.get(url, **bearer(key))
        assert answer.status_code == 200, answer.content
        body = answer.json()
        rows += body["data"]
        pages += 1
        url = f"/api/v1/orders?{query}&cursor={body['next_cursor']}" if body["next_cursor"] else None
    return rows, pages


def at(order, when) -> None:
    type(order).objects.filter(pk=order.pk).update(updated_at=when)


# --- reading ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_walking_the_list_returns_each_order_of_both_kinds_once_in_order(client):
    base = timezone.now() - dt.timedelta(hours=1)
    orders = []
    for i in range(7):  # ties within a table and across the two tables
        check, exam = a_background_check(), an_exam()
        at(check, base + dt.timedelta(seconds=i // 2))
        at(exam, base + dt.timedelta(seconds=i // 3))
        orders += [check, exam]
    rows, pages = walk(client, make_key("orders:read"), "limit=3")
    assert sorted(r["id"] for r in rows) == sorted(api_id(o) for o in orders)
    assert len(rows) == 14 and pages == 5
    keys = [(r["updated_at"], r["type"], int(r["id"].split("_")[1])) for r in rows]
    assert keys == sorted(keys)
    # A row changed during the walk moves to its end: it is read again, never skipped.
    first = client.get("/api/v1/orders?limit=2", **bearer(make_key("orders:read"))).json()
    moved = BackgroundCheck.objects.get(pk=int(first["data"][0]["id"].split("_")[1]))
    at(moved, timezone.now())
    rest = client.get(
        f"/api/v1/orders?limit=200&cursor={first['next_cursor']}", **bearer(make_key("orders:read"))
    ).json()
    assert rest["data"][-1]["id"] == api_id(moved) and rest["next_cursor"] is None
    assert len(rest["data"]) == 13


@pytest.mark.django_db
def test_filters_type_state_tenant_feishu_id_and_updated_after(client):
    key = make_key("orders:read")
    old = timezone.now() - dt.timedelta(days=2)
    check = a_background_check(tenant_key="t1")
    done = a_background_check(tenant_key="t2", state=CheckState.COMPLETED)
    exam = an_exam(tenant_key="t1")
    graded = an_exam(tenant_key="t2", state=ExamState.GRADED)
    at(check, old)

    def ids(query):
        answer = client.get(f"/api/v1/orders?{query}", **bearer(key))
        assert answer.status_code == 200, answer.content
        return {row["id"] for row in answer.json()["data"]}

    assert ids("type=exam") == {api_id(exam), api_id(graded)}
    assert ids("type=background_check") == {api_id(check), api_id(done)}
    assert ids("state=new") == {api_id(check), api_id(exam)}
    assert ids("state=completed") == {api_id(done)}
    assert ids("state=graded&type=background_check") == set()
    assert ids("tenant=t2") == {api_id(done), api_id(graded)}
    assert ids(f"feishu_id={exam.exam_id}") == {api_id(exam)}
    after = (old + dt.timedelta(hours=1)).isoformat().replace("+00:00", "Z")
    assert ids(f"updated_after={after}") == {api_id(done), api_id(exam), api_id(graded)}
    row = client.get(f"/api/v1/orders?feishu_id={check.background_check_id}", **bearer(key)).json()["data"][0]
    assert (row["type"], row["feishu_id"], row["tenant"], row["state"]) == (
        "background_check",
        check.background_check_id,
        "t1",
        "new",
    )
    assert row["package_id"] == "pkg-basic" and row["paper_id"] is None and row["writes"] == []


@pytest.mark.django_db
def test_a_key_limited_to_tenants_sees_only_theirs_and_others_are_missing(client):
    mine, theirs = a_background_check(tenant_key="mine"), a_background_check(tenant_key="theirs")
    exam_theirs = an_exam(tenant_key="theirs")
    limited = make_key("orders:read", "orders:write", tenants=["mine"])
    rows, _pages = walk(client, limited, "limit=1")
    assert [r["id"] for r in rows] == [api_id(mine)]
    assert client.get(f"/api/v1/orders/{api_id(mine)}", **bearer(limited)).status_code == 200
    assert client.get("/api/v1/orders?tenant=theirs", **bearer(limited)).json()["data"] == []
    two = make_key("orders:read", tenants=["mine", "theirs"])
    assert len(walk(client, two, "limit=1")[0]) == 3
    missing = client.get("/api/v1/orders/bgc_999999999", **bearer(limited))
    for order in (theirs, exam_theirs):
        answer = client.get(f"/api/v1/orders/{api_id(order)}", **bearer(limited))
        assert (answer.status_code, answer.json()) == (404, missing.json())
    write = client.post(
        f"/api/v1/orders/{api_id(theirs)}/terminate", content_type="application/json", **bearer(limited)
    )
    assert (write.status_code, write.json()) == (404, missing.json())
    assert not OrderWrite.objects.exists()


@pytest.mark.django_db
def test_a_page_reads_the_same_few_queries_however_many_orders_and_writes(client):
    key = make_key("orders:read")

    def queries() -> int:
        with CaptureQueriesContext(connection) as ctx:
            assert client.get("/api/v1/orders?limit=200", **bearer(key)).status_code == 200
        return len(ctx.captured_queries)

    OrderWrite.objects.create(kind="progress", background_check=a_background_check(), stage_id="s", time_ms=1)
    OrderWrite.objects.create(kind="score", exam=an_exam(), result="60")
    queries()  # the key's first use records it
    few = queries()
    for _ in range(10):
        check, exam = a_background_check(), an_exam()
        report = ReportFile.objects.create(
            background_check=check, name="r.pdf", preview_url="https://r.example.com/"
        )
        for n in range(3):
            write = OrderWrite.objects.create(
                kind="progress", background_check=check, stage_id=f"s{n}", time_ms=n
            )
            write.reports.add(report)
        OrderWrite.objects.create(kind="score", exam=exam, result="60")
    assert queries() == few


@pytest.mark.django_db
def test_a_page_never_reads_a_writes_password_or_the_body_it_sent(client):
    """The list reads each write's answered columns only: an exam login's password (encrypted)
    and the payload sent to Feishu stay in the database."""
    check, exam = a_background_check(), an_exam()
    OrderWrite.objects.create(
        kind="progress", background_check=check, stage_id="s", time_ms=1, payload={"a": 1}
    )
    OrderWrite.objects.create(
        kind="login", exam=exam, exam_username="u", exam_password="enc", payload={"p": 1}
    )
    with CaptureQueriesContext(connection) as ctx:
        page = client.get("/api/v1/orders?limit=200", **bearer(make_key("orders:read")))
    assert page.status_code == 200
    assert sorted(len(order["writes"]) for order in page.json()["data"]) == [1, 1]
    table = OrderWrite._meta.db_table
    reads = [q["sql"] for q in ctx.captured_queries if f'FROM "{table}"' in q["sql"]]
    assert reads and not [sql for sql in reads if "exam_password" in sql or '"payload"' in sql]


@pytest.mark.django_db
def test_personal_data_is_masked_without_its_scope(client):
    check = a_background_check()
    ReportFile.objects.create(
        background_check=check, name="王二的报告.pdf", preview_url="https://r.example.com/x"
    )
    exam = an_exam(exam_url="https://exam.example.com/t/zhang", exam_username="zhang@example.com")
    masked = client.get(f"/api/v1/orders/{api_id(check)}", **bearer(make_key("orders:read"))).json()
    assert masked["candidate"] == {
        "name": "王***",
        "first_name": "二***",
        "last_name": "王***",
        "mobile": "+86 189****1111",
        "email": "w***@example.com",
    }
    assert masked["contact"]["name"] == "李***" and masked["contact"]["email"] == "h***@example.com"
    # Free text is hidden whole, a form value under its key (as the admin shows them).
    assert masked["form_values"] == [{"key": "id_card", "value": HIDDEN}] and masked["comment"] == HIDDEN
    assert masked["reports"][0]["name"] == "王***" and masked["reports"][0]["preview_url"] == "h***"
    full = client.get(
        f"/api/v1/orders/{api_id(check)}", **bearer(make_key("orders:read", "orders:personal_data"))
    )
    full = full.json()
    assert full["candidate"]["name"] == "王二" and full["candidate"]["mobile"] == "+86 18900001111"
    assert full["form_values"] == [{"key": "id_card", "value": "110101199001011234"}]
    assert full["reports"][0]["name"] == "王二的报告.pdf"
    listed = client.get("/api/v1/orders?type=exam", **bearer(make_key("orders:read"))).json()["data"][0]
    assert listed["id"] == api_id(exam)
    assert (listed["exam_url"], listed["exam_username"], listed["candidate"]["email"]) == (
        HIDDEN,
        HIDDEN,
        "z***@example.com",
    )
    # Nothing of it in the list either.
    body = client.get("/api/v1/orders", **bearer(make_key("orders:read"))).content.decode()
    for secret in ("18900001111", "wang@example.com", "110101199001011234", "王二", "zhang@example.com"):
        assert secret not in body


@pytest.mark.django_db
def test_bad_input_is_a_problem_naming_the_parameter(client):
    key = make_key("orders:read")
    for query in (
        "cursor=not-ours",
        "cursor=WyIyMDI2LTAxLTAxVDAwOjAwOjAwKzAwOjAwIiwib3RoZXIiLDFd",  # a kind that is not one
        "limit=0",
        "limit=201",
        "state=nope",
        "type=invoice",
        "tenant=a%00b",
        "feishu_id=" + "x" * 200,
        "updated_after=yesterday",
    ):
        answer = client.get(f"/api/v1/orders?{query}", **bearer(key))
        assert answer.status_code == 400, (query, answer.content)
        assert answer["Content-Type"] == "application/problem+json" and answer.json()["errors"], query
    for bad in ("1", "bgc_", "bgc_0", "bgc_-1", "exam_x", "bgc_99999999999999999999999", "order_1"):
        assert client.get(f"/api/v1/orders/{bad}", **bearer(key)).status_code == 404, bad


# --- writing, through the outbound engine to the sandbox --------------------------------------


def now_ms() -> int:
    return int(time.time() * 1000)


def iso(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).isoformat()


def sandbox_check(client, sandbox) -> BackgroundCheck:
    event = sandbox.create_background_check(
        CHECK_ACCOUNT,
        package_id="pkg-basic",
        candidate={"name": "王二", "mobile": "18900001111", "email": "wang@example.com"},
    )
    deliver(client, event)
    return BackgroundCheck.objects.get(background_check_id=event["event"]["background_check_id"])


def sandbox_exam(client, sandbox) -> Exam:
    event = sandbox.create_exam(EXAM_ACCOUNT, paper_id="paper001", candidate={"name": "王二"})
    deliver(client, event)
    return Exam.objects.get(exam_id=event["event"]["exam_id"])


def post(client, key, path, data=None, **kwargs):
    return client.post(f"/api/v1{path}", data=data or {}, **bearer(key), **kwargs)


def pdf(name="阶段报告.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


@pytest.mark.django_db(transaction=True)
def test_a_stage_with_a_report_reaches_feishu_and_its_sent_state_shows(client, sandbox, bound_accounts):
    check = sandbox_check(client, sandbox)
    key = make_key("orders:read", "orders:write")
    before = client.get(f"/api/v1/orders/{api_id(check)}", **bearer(key)).json()["updated_at"]
    t = now_ms()
    answer = post(
        client,
        key,
        f"/orders/{api_id(check)}/progress",
        {
            "stage_name": "阶段报告",
            "stage_en_name": "stage report",
            "stage_time": iso(t),
            "stage_id": "s1",
            "result": "通过",
            "report_name": "阶段报告.pdf",
            "report_file": pdf(),
        },
    )
    assert answer.status_code == 202, answer.content
    queued = answer.json()
    assert (queued["status"], queued["kind"], queued["stage_id"], queued["order_id"]) == (
        "queued",
        "progress",
        "s1",
        api_id(check),
    )
    assert len(queued["report_ids"]) == 1
    # The eager task ran on commit: Feishu has the stage, with a signed link to the report.
    sent = sandbox.requests(PROGRESS)[-1]["json"]
    assert (sent["background_check_id"], sent["stage_id"], sent["stage_time"], sent["result"]) == (
        check.background_check_id,
        "s1",
        str(t),
        "通过",
    )
    assert sent["report_file_list"][0]["report_name"] == "阶段报告.pdf"
    assert "/orders/reports/" in sent["report_file_list"][0]["report_url"]
    order = client.get(f"/api/v1/orders/{api_id(check)}", **bearer(key)).json()
    assert order["state"] == "in_progress" and order["updated_at"] > before
    write = order["writes"][0]
    assert (write["id"], write["status"], write["error"]) == (queued["id"], "sent", None)
    assert order["reports"][0]["id"] in write["report_ids"]
    # A sync by updated_after sees it.
    changed = client.get(f"/api/v1/orders?updated_after={before.replace('+', '%2B')}", **bearer(key)).json()
    assert [row["id"] for row in changed["data"]] == [api_id(check)]
    # The change history names the key, as it names the person in the admin.
    entry = LogEntry.objects.filter(object_id=str(check.pk)).latest("pk")
    assert entry.user == ApiKey.objects.get(prefix=key[:12]).actor


@pytest.mark.django_db(transaction=True)
def test_a_write_breaking_feishus_rules_is_refused_with_its_field_and_nothing_queued(
    client, sandbox, bound_accounts, tmp_path
):
    check = sandbox_check(client, sandbox)
    key = make_key("orders:write")
    t = now_ms()
    assert (
        post(
            client, key, f"/orders/{api_id(check)}/progress", {"stage_name": "一", "stage_time": iso(t)}
        ).status_code
        == 202
    )
    sandbox.clear_requests()
    cases = [
        ({"stage_name": "二", "stage_time": iso(t - 1000)}, "stage_time"),  # times strictly increase
        ({"stage_name": "二", "stage_time": iso(t), "report_file": pdf()}, "stage_time"),  # with a report
        (
            {"stage_name": "二", "stage_time": iso(t + 1000), "result": "通过"},
            "report_file",
        ),  # a result needs a report
        (
            {"stage_name": "二", "stage_time": iso(t + 1000), "report_file": pdf("x.pdf", b"not a pdf")},
            "report_file",
        ),
        ({"stage_name": "二", "stage_time": iso(t + 1000), "report_ids": "999"}, "report_ids"),
        ({"stage_name": "", "stage_time": iso(t + 1000)}, "stage_name"),
        ({"stage_name": "二", "stage_time": "1900-01-01T00:00:00Z"}, "stage_time"),
        ({"stage_name": "x" * 101, "stage_time": iso(t + 1000)}, "stage_name"),
        ({"stage_name": "a\x00b", "stage_time": iso(t + 1000)}, "stage_name"),
    ]
    writes_before = OrderWrite.objects.count()
    for data, field in cases:
        answer = post(client, key, f"/orders/{api_id(check)}/progress", data)
        assert answer.status_code == 422, (data, answer.content)
        assert answer["Content-Type"] == "application/problem+json"
        assert field in [e["field"] for e in answer.json()["errors"]], (data, answer.json())
    # The same stage id twice (Feishu's rule) too.
    reused = post(
        client,
        key,
        f"/orders/{api_id(check)}/progress",
        {"stage_name": "二", "stage_time": iso(t + 1), "stage_id": "dup"},
    )
    assert reused.status_code == 202
    again = post(
        client,
        key,
        f"/orders/{api_id(check)}/progress",
        {"stage_name": "三", "stage_time": iso(t + 2), "stage_id": "dup"},
    )
    assert again.status_code == 422 and again.json()["errors"][0]["field"] == "stage_id"
    assert OrderWrite.objects.count() == writes_before + 1
    assert not ReportFile.objects.exists()
    assert not [f for f in (tmp_path / "reports").rglob("*") if f.is_file()]  # the refused upload is gone
    assert [r["json"]["stage_id"] for r in sandbox.requests(PROGRESS)] == ["dup"]
    # The other kind's operation does not exist for it.
    assert post(client, key, f"/orders/{api_id(check)}/score", {"score": "60"}).status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_result_then_termination_refused_as_a_conflict(client, sandbox, bound_accounts):
    check = sandbox_check(client, sandbox)
    key = make_key("orders:read", "orders:write")
    answer = post(
        client,
        key,
        f"/orders/{api_id(check)}/result",
        {"result": "无差异", "result_time": iso(now_ms()), "report_file": pdf("终版报告.pdf")},
    )
    assert answer.status_code == 202, answer.content
    sent = sandbox.requests(RESULT)[-1]["json"]
    assert sent["result"] == "无差异" and sent["report_file_list"][0]["report_name"] == "终版报告.pdf"
    order = client.get(f"/api/v1/orders/{api_id(check)}", **bearer(key)).json()
    assert order["state"] == "completed" and order["writes"][0]["status"] == "sent"
    # Completed: Feishu would refuse anything more (1002858), so nothing more is queued.
    sent_before = len(sandbox.requests())
    for path, data in (("progress", {"stage_name": "x", "stage_time": iso(now_ms())}), ("terminate", {})):
        late = post(client, key, f"/orders/{api_id(check)}/{path}", data)
        assert late.status_code == 409 and late.json()["type"] == "urn:hireops:problem:order-closed"
    assert len(sandbox.requests()) == sent_before and OrderWrite.objects.count() == 1

    other = sandbox_check(client, sandbox)
    terminated = post(client, key, f"/orders/{api_id(other)}/terminate")
    assert terminated.status_code == 202, terminated.content
    kinds = [(w["kind"], w["status"]) for w in terminated.json()["data"]]
    assert kinds == [("progress", "queued"), ("cancel", "queued")]
    assert sandbox.requests(PROGRESS)[-1]["json"]["stage_name"] == "已终止"
    assert sandbox.requests(CANCEL)[-1]["json"] == {"background_check_id": other.background_check_id}
    shown = client.get(f"/api/v1/orders/{api_id(other)}", **bearer(key)).json()
    assert shown["state"] == "terminated" and [w["status"] for w in shown["writes"]] == ["sent", "sent"]
    count = OrderWrite.objects.count()
    late = post(
        client, key, f"/orders/{api_id(other)}/progress", {"stage_name": "x", "stage_time": iso(now_ms())}
    )
    assert late.status_code == 409 and OrderWrite.objects.count() == count


@pytest.mark.django_db(transaction=True)
def test_an_exam_login_and_a_score_reach_feishu(client, sandbox, bound_accounts):
    exam = sandbox_exam(client, sandbox)
    key = make_key("orders:read", "orders:write")
    login = client.post(
        f"/api/v1/orders/{api_id(exam)}/exam-login",
        {"exam_url": "https://exam.example.com/t/abc", "username": "wang2", "password": "s3cret!"},
        content_type="application/json",
        **bearer(key),
    )
    assert login.status_code == 202, login.content
    assert "s3cret!" not in login.content.decode() and login.json()["exam_username"] == HIDDEN
    assert sandbox.requests(EXAMS.format(exam.exam_id, "login_info"))[-1]["json"]["exam_login_info"] == {
        "exam_url": "https://exam.example.com/t/abc",
        "username": "wang2",
        "password": "s3cret!",
    }
    bad = client.post(
        f"/api/v1/orders/{api_id(exam)}/exam-login",
        {"exam_url": "not a link"},
        content_type="application/json",
        **bearer(key),
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "exam_url"
    score = post(
        client, key, f"/orders/{api_id(exam)}/score", {"score": "60.5", "details": "基本功: 优秀\n算法: 良好"}
    )
    assert score.status_code == 202, score.content
    assert [d["name"] for d in score.json()["details"]] == ["基本功", "算法"]
    sent = sandbox.requests(EXAMS.format(exam.exam_id, "update_result"))[-1]["json"]
    assert sent["result"] == "60.5" and sent["detail_list"][0] == {"name": "基本功", "result": "优秀"}
    shown = client.get(
        f"/api/v1/orders/{api_id(exam)}", **bearer(make_key("orders:read", "orders:personal_data"))
    )
    shown = shown.json()
    assert (shown["state"], shown["score"], shown["exam_url"]) == (
        "answered",
        "60.5",
        "https://exam.example.com/t/abc",
    )
    assert [w["status"] for w in shown["writes"]] == ["sent", "sent"]
    assert "s3cret" not in str(shown)
    assert post(client, key, f"/orders/{api_id(exam)}/terminate").status_code == 404


@pytest.mark.django_db(transaction=True)
def test_a_write_feishu_refuses_shows_failed_with_feishus_message(client, sandbox, bound_accounts):
    check = a_background_check(tenant_key="", app_id="cli_x", background_check_id="unknown-to-feishu")
    key = make_key("orders:read", "orders:write")
    answer = post(
        client, key, f"/orders/{api_id(check)}/progress", {"stage_name": "一", "stage_time": iso(now_ms())}
    )
    assert answer.status_code == 202 and answer.json()["status"] == "queued"
    write = client.get(f"/api/v1/orders/{api_id(check)}", **bearer(key)).json()["writes"][0]
    assert write["status"] == "failed" and write["error_code"] == 1002862
    assert write["error"] and write["finished_at"]
    assert OrderWrite.objects.get().status == CallStatus.FAILED


# --- JSON or a form: the same write, the same answer ------------------------------------------


DOCUMENT = served_document()  # paths relative to its server
ORDER_WRITES = sorted(
    path for path, item in DOCUMENT["paths"].items() if path.startswith("/orders/") and "post" in item
)
T = "2026-11-20T02:00:00Z"
LINK = {"report_name": "阶段报告.pdf", "report_link": "https://reports.example.com/r/1"}
# (operation, the order's kind, fields, expected status and, for a refusal, the field named)
SAME_EITHER_WAY = [
    (
        "/progress",
        "bgc",
        {"stage_name": "资料核实", "stage_time": T, "stage_id": "s1", "result": "通过", **LINK},
        202,
        None,
    ),
    ("/progress", "bgc", {"stage_name": "资料核实", "stage_time": T}, 202, None),
    ("/progress", "bgc", {"stage_time": T}, 422, "stage_name"),
    ("/progress", "bgc", {"stage_name": "资料核实", "stage_time": "yesterday"}, 422, "stage_time"),
    # Without an offset it would be read in a time zone the partner cannot see.
    ("/progress", "bgc", {"stage_name": "资料核实", "stage_time": "2026-11-20T10:00:00"}, 422, "stage_time"),
    ("/progress", "bgc", {"stage_name": "资料核实", "stage_time": "1900-01-01T00:00:00Z"}, 422, "stage_time"),
    ("/progress", "bgc", {"stage_name": "资料核实", "stage_time": T, "result": "通过"}, 422, "report_file"),
    ("/progress", "bgc", {"stage_name": "资料核实", "stage_time": T, "report_ids": [999]}, 422, "report_ids"),
    ("/progress", "bgc", {"stage_name": "x" * 101, "stage_time": T}, 422, "stage_name"),
    (
        "/progress",
        "bgc",
        {"stage_name": "资料核实", "stage_time": T, "report_link": "not a link"},
        422,
        "report_link",
    ),
    ("/result", "bgc", {"result": "无差异", "result_time": T, **LINK}, 202, None),
    ("/result", "bgc", {"result": " ", "result_time": T}, 422, "result"),
    ("/result", "bgc", {"result": "无差异"}, 422, "result_time"),
    ("/score", "exam", {"score": "60", "result_time": "2026-11-20 10:00"}, 422, "result_time"),
    ("/terminate", "bgc", {}, 202, None),
    (
        "/exam-login",
        "exam",
        {"exam_url": "https://exam.example.com/t/abc", "username": "wang2", "password": "s"},
        202,
        None,
    ),
    ("/exam-login", "exam", {"exam_url": "not a link"}, 422, "exam_url"),
    ("/exam-login", "exam", {"username": "wang2"}, 422, "exam_url"),
    (
        "/score",
        "exam",
        {"score": "60.5", "result_time": T, "details": "基本功: 优秀\n算法: 良好", **LINK},
        202,
        None,
    ),
    ("/score", "exam", {"score": "60.5", "details": "no colon here"}, 422, "details"),
    ("/score", "exam", {"score": ""}, 422, "score"),
]


def as_json(client, key, url, fields):
    return client.post(url, json.dumps(fields), content_type="application/json", **bearer(key))


def as_form(client, key, url, fields):
    return client.post(url, fields, **bearer(key))  # multipart/form-data; a list: repeated fields


def same_answer(answer, fields: dict) -> tuple[int, object]:
    """What a partner compares: the status and the body, but for what names the order or the
    write (ids, a stage id made up when none was given) and when it was asked (a termination's
    stage is stamped then)."""
    body = answer.json()
    made_up = [
        name for name, given in (("stage_id", "stage_id"), ("time", "_time")) if given not in str(fields)
    ]
    for write in body.get("data", [body]) if answer.status_code == 202 else ():
        for name in ("id", "order_id", "requested_at", *made_up):
            write.pop(name)
        write["report_ids"] = len(write["report_ids"])
    return answer.status_code, body


def test_every_order_write_takes_json_and_multipart_in_the_document():
    assert ORDER_WRITES == [
        "/orders/{id}/exam-login",
        "/orders/{id}/progress",
        "/orders/{id}/result",
        "/orders/{id}/score",
        "/orders/{id}/terminate",
    ]
    components = DOCUMENT["components"]["schemas"]
    for path in ORDER_WRITES:
        body = DOCUMENT["paths"][path]["post"].get("requestBody")
        if body is None:  # /terminate: nothing to send
            continue
        assert sorted(body["content"]) == ["application/json", "multipart/form-data"], path
        as_json_ = components[body["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]]
        as_form_ = body["content"]["multipart/form-data"]["schema"]
        files = {name for name, field in as_form_["properties"].items() if field.get("format") == "binary"}
        # The same fields either way, but the files, which only a form carries.
        assert set(as_json_["properties"]) == set(as_form_["properties"]) - files, path
        assert set(as_json_.get("required", ())) == set(as_form_.get("required", ())), path
    assert {case[0] for case in SAME_EITHER_WAY} == {p.removeprefix("/orders/{id}") for p in ORDER_WRITES}


@pytest.mark.django_db
@pytest.mark.parametrize(("operation", "kind", "fields", "status", "field"), SAME_EITHER_WAY)
def test_a_write_as_json_is_answered_as_the_same_write_as_a_form(
    client, operation, kind, fields, status, field
):
    make = a_background_check if kind == "bgc" else an_exam
    key = make_key("orders:write")
    answers = []
    for send in (as_json, as_form):
        order = make()
        writes_before = OrderWrite.objects.count()
        answer = send(client, key, f"/api/v1/orders/{api_id(order)}{operation}", fields)
        assert answer.status_code == status, (send.__name__, answer.content)
        if field is not None:
            assert answer["Content-Type"] == "application/problem+json"
            assert field in [e["field"] for e in answer.json()["errors"]], (send.__name__, answer.json())
            assert OrderWrite.objects.count() == writes_before
        answers.append(same_answer(answer, fields))
    assert answers[0] == answers[1]


@pytest.mark.django_db
def test_a_json_body_that_is_no_object_or_no_json_is_refused_as_the_others_are(client):
    check, key = a_background_check(), make_key("orders:write")
    url = f"/api/v1/orders/{api_id(check)}/progress"
    for raw, status in (("[1, 2]", 422), ('"a stage"', 422), ("{not json", 400), ("", 422)):
        answer = client.post(url, raw, content_type="application/json", **bearer(key))
        assert answer.status_code == status, (raw, answer.content)
        assert answer["Content-Type"] == "application/problem+json"
    # As a customer's POST with a JSON body is refused (POST /customers), byte for byte.
    other = client.post(
        "/api/v1/customers",
        "{not json",
        content_type="application/json",
        **bearer(make_key("customers:write")),
    )
    mine = client.post(url, "{not json", content_type="application/json", **bearer(key))
    assert (other.status_code, other.json()) == (mine.status_code, mine.json())
    assert not OrderWrite.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_a_stage_sent_as_json_reaches_feishu_with_its_report_link(client, sandbox, bound_accounts):
    check = sandbox_check(client, sandbox)
    t = now_ms()
    answer = as_json(
        client,
        make_key("orders:write"),
        f"/api/v1/orders/{api_id(check)}/progress",
        {"stage_name": "阶段报告", "stage_time": iso(t), "stage_id": "j1", "result": "通过", **LINK},
    )
    assert answer.status_code == 202, answer.content
    sent = sandbox.requests(PROGRESS)[-1]["json"]
    assert (sent["stage_id"], sent["stage_time"], sent["result"]) == ("j1", str(t), "通过")
    assert sent["report_file_list"] == [
        {"report_name": "阶段报告.pdf", "report_url": "https://reports.example.com/r/1", "report_url_type": 2}
    ]


# --- a closed order takes nothing: 409 before anything is queued -------------------------------


def _queued(kind):
    def make():
        check = a_background_check()
        OrderWrite.objects.create(kind=kind, background_check=check, result="无差异", time_ms=1)
        return check

    return make


CLOSED = {
    "completed": lambda: a_background_check(state=CheckState.COMPLETED),
    "canceled": lambda: a_background_check(state=CheckState.CANCELED),
    "terminated": lambda: a_background_check(state=CheckState.TERMINATED),
    "being terminated": _queued("cancel"),
    "its result on the way": _queued("result"),
    "graded": lambda: an_exam(state=ExamState.GRADED),
}
VALID = {  # a write each closed order would take if it were open, with a report file in the form
    "/progress": {"stage_name": "一", "stage_time": T},
    "/result": {"result": "无差异", "result_time": T},
    "/terminate": {},
    "/exam-login": {"exam_url": "https://exam.example.com/t/abc"},
    "/score": {"score": "60"},
}
WITH_FILES = ("/progress", "/result", "/score")


@pytest.mark.django_db
@pytest.mark.parametrize("closed", CLOSED)
def test_a_closed_order_answers_409_order_closed_and_nothing_is_queued_or_kept(client, closed, tmp_path):
    key = make_key("orders:write")
    order = CLOSED[closed]()
    kind = "exam" if isinstance(order, Exam) else "bgc"
    operations = [op for op in VALID if (op in ("/exam-login", "/score")) == (kind == "exam")]
    for operation in operations:
        url = f"/api/v1/orders/{api_id(order)}{operation}"
        form = {**VALID[operation], **({"report_file": pdf()} if operation in WITH_FILES else {})}
        writes_before = OrderWrite.objects.count()
        for answer in (as_json(client, key, url, VALID[operation]), as_form(client, key, url, form)):
            assert answer.status_code == 409, (closed, operation, answer.content)
            problem = answer.json()
            assert problem["type"] == "urn:hireops:problem:order-closed", problem
            assert "nothing more" in problem["detail"], problem
        assert OrderWrite.objects.count() == writes_before
    assert not ReportFile.objects.exists()
    assert not [f for f in (tmp_path / "reports").rglob("*") if f.is_file()]


@pytest.mark.django_db
def test_the_admin_refuses_a_closed_order_with_the_same_words(admin_client):
    """The API and the admin's pages ask the same service: a completed background check's
    page sends nothing, and says why."""
    check = a_background_check(state=CheckState.COMPLETED)
    for name, fields in (
        ("stage", {"stage_name": "一", "stage_time": "2026-11-20 10:00:00"}),
        ("result", {"result": "无差异", "result_time": "2026-11-20 10:00:00"}),
        ("terminate", {"confirm": "on"}),
    ):
        page = admin_client.post(f"/admin/orders/backgroundcheck/{check.pk}/{name}/", fields)
        assert page.status_code == 200, name
        assert "This background check is completed: nothing more can be sent." in page.content.decode(), name
    exam = an_exam(state=ExamState.GRADED)
    page = admin_client.post(f"/admin/orders/exam/{exam.pk}/score/", {"score": "60"})
    assert "finished grading this exam" in page.content.decode()
    assert not OrderWrite.objects.exists()
