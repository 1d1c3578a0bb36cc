"""Feishu's codes are explained as the API that answered means them: Hire answers 1002855 for
an exam graded already and for invalid background-check form fields (feishu-api-2.md §2.1,
§3.3), so the explanation belongs to the endpoint (or its API family), never to the number."""

from django.utils import translation

from hireops.feishu import FeishuError
from hireops.feishu.errors import error_from_response
from hireops.feishu_calls.failures import explain


def explained(code, endpoint, *, http_status=400, msg="参数错误或系统异常") -> str:
    exc = error_from_response(http_status, code, msg, endpoint=endpoint)
    with translation.override("zh-hans"):
        return str(explain(exc))


def test_the_same_code_from_two_apis_is_explained_by_each():
    fields = explained(1002855, "hire.eco_background_check_custom_field.create")
    score = explained(1002855, "hire.eco_exam.update_result", msg="用户已完成阅卷，不支持更新笔试结果")
    assert fields.startswith("飞书认为背调表单字段无效，已拒绝") and "阅卷" not in fields.split("（Feishu")[0]
    assert score.startswith("飞书拒绝了成绩：客户已在飞书招聘中完成阅卷。")
    assert "Feishu 1002855" in fields and "Feishu 1002855" in score  # Feishu's own words follow


def test_a_family_explains_its_endpoints_and_no_other_familys():
    assert explained(1002862, "hire.eco_background_check.cancel").startswith("飞书中不存在该背调订单。")
    assert explained(1002553, "hire.referral_account.withdraw").startswith("飞书中不存在该内推账户。")
    # The same numbers from an API that does not answer them: nothing borrowed from another API.
    borrowed = ((1002862, "hire.eco_exam.login_info"), (1002553, "hire.eco_background_check.cancel"))
    for code, endpoint in borrowed:
        assert explained(code, endpoint).startswith("飞书拒绝了请求。（Feishu")


def test_an_unknown_code_gets_a_general_explanation_and_feishus_words():
    assert explained(1009999, "hire.eco_exam.update_result", msg="something new") == (
        "飞书拒绝了请求。（Feishu 1009999: something new）"
    )
    assert explained(1002855, None) == "飞书拒绝了请求。（Feishu 1002855: 参数错误或系统异常）"
    with translation.override("en"):
        exc = FeishuError(1009999, "something new", http_status=400, endpoint="hire.x.y")
        assert explain(exc) == "Feishu refused the request. (Feishu 1009999: something new)"


def test_codes_of_the_platform_mean_the_same_from_any_api():
    scope = explained(99991672, "hire.eco_exam.update_result", msg="no permission")
    assert scope.startswith("飞书应用缺少此调用所需的权限")
