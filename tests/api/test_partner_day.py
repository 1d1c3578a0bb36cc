"""A partner's whole day through the API, against the sandbox: orders arrive from Feishu, the
vendor's case system syncs them, reports progress and a result with its report, terminates one,
sends an exam's login and score, replaces its catalogue; the HR team's HRIS posts its rewards,
twice. Every write is retried once as a client would after a lost answer (the same
Idempotency-Key), and Feishu receives each exactly once."""

import json

import pytest

from hireops.api import keys
from hireops.core.auth import roles
from tests.second_factor import give_totp

from .keys import bearer, make_key
from .test_orders import (
    CANCEL,
    EXAMS,
    PROGRESS,
    RESULT,
    acme,  # noqa: F401  (fixtures of the orders tests)
    bound_accounts,  # noqa: F401
    catalogue,  # noqa: F401
    iso,
    now_ms,
    pdf,
    report_files_in_tmp,  # noqa: F401
    sandbox_check,
    sandbox_exam,
    webhook_secrets,  # noqa: F401
)
from .test_referrals import CREATE as REWARD_CREATE
from .test_referrals import reward_body

PACKAGES = "/open-apis/hire/v1/eco_background_check_packages"
pytestmark = pytest.mark.django_db(transaction=True)


def sent_twice(client, key, method, path, idem, **kwargs):
    """The write, then the same again as a client retrying after a lost answer."""
    send = getattr(client, method)
    first = send(f"/api/v1{path}", **kwargs, **bearer(key), HTTP_IDEMPOTENCY_KEY=idem)
    data = kwargs.get("data")
    for value in data.values() if isinstance(data, dict) else ():
        if hasattr(value, "seek"):
            value.seek(0)  # the same file again
    again = send(f"/api/v1{path}", **kwargs, **bearer(key), HTTP_IDEMPOTENCY_KEY=idem)
    assert first.status_code < 300, first.content
    assert again.status_code == first.status_code and again.content == first.content
    assert again["Idempotent-Replayed"] == "true"
    return first.json()


def walk(client, key, path):
    rows, url = [], f"/api/v1{path}"
    while url:
        body = client.get(url, **bearer(key)).json()
        rows += body["data"]
        sep = "&" if "?" in path else "?"
        url = f"/api/v1{path}{sep}cursor={body['next_cursor']}" if body["next_cursor"] else None
    return rows


def test_a_partners_day(client, sandbox, bound_accounts, staff_user):  # noqa: F811
    vendor = make_key("orders:read", "orders:write", "catalogue:read", "catalogue:write", name="case system")
    hr = staff_user(roles.HR, username="hr")
    give_totp(hr)
    hris = keys.create("HRIS", ["rewards:write", "referrals:read"], by=hr).key
    sandbox.clear_requests()

    # Morning: orders arrive from Feishu; the case system syncs them.
    first, second = sandbox_check(client, sandbox), sandbox_check(client, sandbox)
    exam = sandbox_exam(client, sandbox)
    synced = walk(client, vendor, "/orders?limit=2")
    assert sorted(o["feishu_id"] for o in synced) == sorted(
        [first.background_check_id, second.background_check_id, exam.exam_id]
    )
    since = max(o["updated_at"] for o in synced)
    ids = {o["feishu_id"]: o["id"] for o in synced}

    # The day's work on each, every write sent twice.
    check_id = ids[first.background_check_id]
    stage = {"stage_name": "学历核验", "stage_time": iso(now_ms())}
    sent_twice(client, vendor, "post", f"/orders/{check_id}/progress", "stage-1", data=stage)
    result = {"result": "无差异", "result_time": iso(now_ms()), "report_file": pdf("终版报告.pdf")}
    sent_twice(client, vendor, "post", f"/orders/{check_id}/result", "result-1", data=result)
    sent_twice(
        client, vendor, "post", f"/orders/{ids[second.background_check_id]}/terminate", "stop-2", data={}
    )
    login = {"exam_url": "https://exam.example.com/t/abc", "username": "wang2", "password": "s3cret!"}
    exam_id = ids[exam.exam_id]
    sent_twice(
        client,
        vendor,
        "post",
        f"/orders/{exam_id}/exam-login",
        "login-1",
        data=json.dumps(login),
        content_type="application/json",
    )
    sent_twice(client, vendor, "post", f"/orders/{exam_id}/score", "score-1", data={"score": "88"})

    # Afternoon: a new catalogue, sent twice.
    packages = {
        "packages": [
            {"id": "pkg-basic", "name": "基础套餐"},
            {"id": "pkg-senior", "name": "高管套餐"},
        ],
        "additional_items": [],
    }
    replaced = sent_twice(
        client,
        vendor,
        "put",
        "/catalogue/packages",
        "catalogue-1",
        data=json.dumps(packages),
        content_type="application/json",
    )
    assert replaced["rollout"]["status"] == "queued"

    # The HRIS posts its reward twice: retried with its key, and again as a new request.
    referrer = sandbox.add_employee(name="李雷", email="lilei@example.com")["user_id"]
    reward = json.dumps(reward_body(referrer, external_id="hris-7"))
    posted = sent_twice(
        client, hris, "post", "/referral-rewards", "reward-7", data=reward, content_type="application/json"
    )
    again = client.post("/api/v1/referral-rewards", reward, content_type="application/json", **bearer(hris))
    assert again.status_code == 200 and again.json()["id"] == posted["id"]

    # Feishu received each write once.
    def received(path):
        return len(sandbox.requests(path))

    assert received(PROGRESS) == 2  # the stage, and the termination's "terminated" stage
    assert received(RESULT) == 1 and received(CANCEL) == 1
    assert received(EXAMS.format(exam.exam_id, "login_info")) == 1
    assert received(EXAMS.format(exam.exam_id, "update_result")) == 1
    assert received(REWARD_CREATE) == 1
    # The one bound background-check account: its new, changed and withdrawn packages, once each.
    pushed = sorted(r["path"] for r in sandbox.requests() if r["path"].startswith(PACKAGES))
    assert pushed == [PACKAGES, f"{PACKAGES}/batch_delete", f"{PACKAGES}/batch_update"], pushed

    # Evening: the sync sees what changed since the morning, each write sent.
    changed = walk(client, vendor, f"/orders?updated_after={since.replace('+', '%2B')}")
    assert {o["feishu_id"] for o in changed} == {
        first.background_check_id,
        second.background_check_id,
        exam.exam_id,
    }
    assert all(w["status"] == "sent" for o in changed for w in o["writes"]), changed
    rollout = client.get(f"/api/v1/catalogue/rollouts/{replaced['rollout']['id']}", **bearer(vendor)).json()
    assert rollout["pushes"] == {"queued": 0, "sent": 1, "failed": 0}
    shown = client.get(f"/api/v1/referral-rewards/{posted['id']}", **bearer(hris)).json()
    assert shown["status"] == "sent"
