"""The sandbox's eco-order endpoints over raw HTTP: Feishu's documented samples, rules and
error codes (docs/feishu.md §8.4, §9.2, §9.3)."""

import pytest

from .helpers import HIRE, call, tenant_token

PROGRESS = HIRE + "/eco_background_checks/update_progress"
RESULT = HIRE + "/eco_background_checks/update_result"
CANCEL = HIRE + "/eco_background_checks/cancel"


@pytest.fixture
def token(sandbox):
    return tenant_token(sandbox)


@pytest.fixture
def check_id(sandbox):
    sandbox.bind_account(scope=1, account_id="acc-1")
    sandbox.seed_catalogue("acc-1", packages={"pkg-basic": {"name": "基础套餐"}})
    return sandbox.create_background_check("acc-1")["event"]["background_check_id"]


def post(sandbox, path, token, body):
    resp = call(sandbox, "POST", path, token, json=body)
    return resp.status_code, resp.json()["code"], resp.json()["msg"]


def stage(check_id, stage_id="s1", time="1660123456789", **extra):
    return {
        "background_check_id": check_id,
        "stage_id": stage_id,
        "stage_name": "阶段报告",
        "stage_time": time,
        **extra,
    }


# Feishu's documented request sample (更新背调订单进度), with the order's id.
def documented_progress(check_id):
    return {
        "background_check_id": check_id,
        "stage_id": "6931286400470354183",
        "stage_en_name": "stage report",
        "stage_name": "阶段报告",
        "stage_time": "1660123456789",
        "result": "通过",
        "report_file_list": [
            {
                "report_name": "阶段报告.pdf",
                "report_url": "https://xxxxx/xxxxxx/xxxx.pdf",
                "report_url_type": 1,
            }
        ],
    }


def test_documented_samples_are_accepted(sandbox, token, check_id):
    assert post(sandbox, PROGRESS, token, documented_progress(check_id))[:2] == (200, 0)
    result = {
        "background_check_id": check_id,
        "result": "无差异",
        "result_time": "1660123456790",
        "report_file_list": [
            {
                "report_name": "阶段报告.pdf",
                "report_url": "https://xxxxx/xxxxxx/xxxx.pdf",
                "report_url_type": 1,
            }
        ],
    }
    assert post(sandbox, RESULT, token, result)[:2] == (200, 0)
    order = sandbox.state()["background_checks"][0]
    assert order["status"] == "completed" and order["result"]["result"] == "无差异"


def test_stage_rules(sandbox, token, check_id):
    assert post(sandbox, PROGRESS, token, stage(check_id))[:2] == (200, 0)
    assert post(sandbox, PROGRESS, token, stage(check_id))[:2] == (200, 0)  # the same stage again: a resend
    status, code, msg = post(sandbox, PROGRESS, token, stage(check_id, time="1660123456790"))
    assert (status, code) == (400, 1002002) and "already used" in msg
    status, code, msg = post(sandbox, PROGRESS, token, stage(check_id, "s2", "1660123456789"))
    assert (status, code) == (400, 1002002) and "later than the last stage" in msg
    status, code, msg = post(sandbox, PROGRESS, token, stage(check_id, "s2", "1660123456790", result="通过"))
    assert (status, code) == (400, 1002002) and "report_file_list is required" in msg
    status, code, _ = post(sandbox, PROGRESS, token, stage(check_id, "s2", "not-a-time"))
    assert (status, code) == (400, 1002002)
    assert [s["stage_id"] for s in sandbox.state()["background_checks"][0]["stages"]] == ["s1"]


def test_order_state_errors(sandbox, token, check_id):
    assert post(sandbox, PROGRESS, token, stage("404"))[:2] == (400, 1002862)
    assert post(sandbox, CANCEL, token, {"background_check_id": "404"})[:2] == (400, 1002862)
    assert post(sandbox, CANCEL, token, {"background_check_id": check_id})[:2] == (200, 0)
    assert post(sandbox, CANCEL, token, {"background_check_id": check_id})[:2] == (
        200,
        0,
    )  # terminated stays so
    assert post(sandbox, PROGRESS, token, stage(check_id))[:2] == (400, 1002858)
    assert post(sandbox, RESULT, token, {"background_check_id": check_id, "result": "x", "result_time": "1"})[
        :2
    ] == (
        400,
        1002858,
    )


def test_another_tenants_order_does_not_exist(sandbox, token):
    sandbox.bind_account(scope=1, account_id="acc-2", tenant_key="acme-tenant")
    sandbox.seed_catalogue("acc-2", tenant_key="acme-tenant", packages={"pkg-basic": {"name": "基础套餐"}})
    other = sandbox.create_background_check("acc-2", tenant_key="acme-tenant")["event"]["background_check_id"]
    assert post(sandbox, PROGRESS, token, stage(other))[:2] == (400, 1002862)


def test_exam_endpoints(sandbox, token):
    sandbox.bind_account(scope=2, account_id="acc-e")
    sandbox.seed_catalogue("acc-e", papers=[{"id": "paper001", "name": "春季测评"}])
    exam_id = sandbox.create_exam("acc-e")["event"]["exam_id"]
    login = f"{HIRE}/eco_exams/{exam_id}/login_info"
    result = f"{HIRE}/eco_exams/{exam_id}/update_result"
    documented_login = {
        "result": 0,
        "msg": "success",
        "exam_login_info": {
            "exam_url": "https://xxxx/xxxx/xxxx",
            "username": "waxsdfbhg",
            "password": "xxxxxx",
        },
    }
    assert post(sandbox, login, token, documented_login)[:2] == (200, 0)
    assert post(sandbox, login, token, {"result": 0})[:2] == (400, 1002002)  # exam_login_info is required
    documented_result = {
        "result": "60.5",
        "result_time": "1658676234053",
        "report_list": [
            {
                "name": "张三的笔试结果.pdf",
                "url": "https://xxxxx/xxxxxx/xxxx.pdf",
                "answer_time": "1658676234053",
            }
        ],
        "detail_list": [{"id": "pj001", "name": "基本功", "result": "优秀"}],
    }
    assert post(sandbox, result, token, documented_result)[:2] == (200, 0)
    assert sandbox.state()["exams"][0]["status"] == "answered"
    sandbox.grade_exam(exam_id)
    assert post(sandbox, result, token, {"result": "70"})[:2] == (400, 1002855)
    assert post(sandbox, login, token, documented_login)[:2] == (400, 1002851)
    assert post(sandbox, f"{HIRE}/eco_exams/404/login_info", token, documented_login)[:2] == (400, 1002851)


def test_control_refuses_orders_for_unknown_accounts(sandbox):
    from sandbox.control import SandboxError

    with pytest.raises(SandboxError, match="bind one first"):
        sandbox.create_background_check("nope")
    sandbox.bind_account(scope=2, account_id="acc-e")
    with pytest.raises(SandboxError, match="not a background-check account"):
        sandbox.create_background_check("acc-e")
