"""The lark-oapi SDK's eco-order calls and event handlers work unchanged against the sandbox."""

# The SDK is imported by each test that uses it: it loads 11,000 modules, 5 s of CPU, which
# every test process would pay at collection, whether or not it runs these tests.

import threading

from .test_sdk import KEY, VTOKEN, _django_glue, client  # noqa: F401  (the SDK client fixture)


def _accounts(sandbox):
    sandbox.bind_account(scope=1, account_id="acc-check")
    sandbox.bind_account(scope=2, account_id="acc-exam")
    sandbox.seed_catalogue("acc-check", packages={"pkg001": {"name": "基础套餐"}})
    sandbox.seed_catalogue("acc-exam", papers=[{"id": "paper001", "name": "春季测评"}])


def _state(sandbox, kind, key, value):
    return next(o for o in sandbox.state()[kind] if o[key] == value)


def test_sdk_background_check_calls(sandbox, client):  # noqa: F811
    from lark_oapi.api.hire.v1 import (
        CancelEcoBackgroundCheckRequest,
        CancelEcoBackgroundCheckRequestBody,
        EcoBackgroundCheckReportFile,
        UpdateProgressEcoBackgroundCheckRequest,
        UpdateProgressEcoBackgroundCheckRequestBody,
        UpdateResultEcoBackgroundCheckRequest,
        UpdateResultEcoBackgroundCheckRequestBody,
    )

    _accounts(sandbox)
    check_id = sandbox.create_background_check("acc-check")["event"]["background_check_id"]
    progress = client.hire.v1.eco_background_check.update_progress(
        UpdateProgressEcoBackgroundCheckRequest.builder()
        .request_body(
            UpdateProgressEcoBackgroundCheckRequestBody.builder()
            .background_check_id(check_id)
            .stage_id("s1")
            .stage_name("阶段报告")
            .stage_en_name("stage report")
            .stage_time("1660123456789")
            .result("通过")
            .report_file_list(
                [
                    EcoBackgroundCheckReportFile.builder()
                    .report_name("阶段报告.pdf")
                    .report_url("https://example.com/r.pdf")
                    .report_url_type(1)
                    .build()
                ]
            )
            .build()
        )
        .build()
    )
    assert progress.success(), (progress.code, progress.msg)
    repeat_earlier = client.hire.v1.eco_background_check.update_progress(
        UpdateProgressEcoBackgroundCheckRequest.builder()
        .request_body(
            UpdateProgressEcoBackgroundCheckRequestBody.builder()
            .background_check_id(check_id)
            .stage_id("s2")
            .stage_name("x")
            .stage_time("1660123456789")  # not later than s1
            .build()
        )
        .build()
    )
    assert not repeat_earlier.success() and repeat_earlier.code == 1002002
    result = client.hire.v1.eco_background_check.update_result(
        UpdateResultEcoBackgroundCheckRequest.builder()
        .request_body(
            UpdateResultEcoBackgroundCheckRequestBody.builder()
            .background_check_id(check_id)
            .result("无差异")
            .result_time("1660123456790")
            .build()
        )
        .build()
    )
    assert result.success(), (result.code, result.msg)
    hire = _state(sandbox, "background_checks", "background_check_id", check_id)
    assert hire["status"] == "completed" and hire["stages"][0]["result"] == "通过"
    cancel = client.hire.v1.eco_background_check.cancel(
        CancelEcoBackgroundCheckRequest.builder()
        .request_body(CancelEcoBackgroundCheckRequestBody.builder().background_check_id(check_id).build())
        .build()
    )
    assert cancel.code == 1002858  # a completed order cannot be terminated
    unknown = client.hire.v1.eco_background_check.cancel(
        CancelEcoBackgroundCheckRequest.builder()
        .request_body(CancelEcoBackgroundCheckRequestBody.builder().background_check_id("404").build())
        .build()
    )
    assert unknown.code == 1002862


def test_sdk_exam_calls(sandbox, client):  # noqa: F811
    from lark_oapi.api.hire.v1 import (
        EcoExamLoginInfo,
        EcoExamResultDetail,
        LoginInfoEcoExamRequest,
        LoginInfoEcoExamRequestBody,
        UpdateResultEcoExamRequest,
        UpdateResultEcoExamRequestBody,
    )

    _accounts(sandbox)
    exam_id = sandbox.create_exam("acc-exam")["event"]["exam_id"]
    login = client.hire.v1.eco_exam.login_info(
        LoginInfoEcoExamRequest.builder()
        .exam_id(exam_id)
        .request_body(
            LoginInfoEcoExamRequestBody.builder()
            .result(0)
            .msg("success")
            .exam_login_info(
                EcoExamLoginInfo.builder()
                .exam_url("https://exam.example.com/x")
                .username("u")
                .password("p")
                .build()
            )
            .build()
        )
        .build()
    )
    assert login.success(), (login.code, login.msg)
    score = client.hire.v1.eco_exam.update_result(
        UpdateResultEcoExamRequest.builder()
        .exam_id(exam_id)
        .request_body(
            UpdateResultEcoExamRequestBody.builder()
            .result("60.5")
            .result_time("1658676234053")
            .detail_list([EcoExamResultDetail.builder().id("pj001").name("基本功").result("优秀").build()])
            .build()
        )
        .build()
    )
    assert score.success(), (score.code, score.msg)
    assert _state(sandbox, "exams", "exam_id", exam_id)["status"] == "answered"
    sandbox.grade_exam(exam_id)
    late = client.hire.v1.eco_exam.update_result(
        UpdateResultEcoExamRequest.builder()
        .exam_id(exam_id)
        .request_body(UpdateResultEcoExamRequestBody.builder().result("70").build())
        .build()
    )
    assert late.code == 1002855


def test_sdk_dispatcher_takes_the_order_events(sandbox, webhook_receiver):
    import lark_oapi as lark

    got, done = {}, threading.Event()

    def keep(name):
        def fn(data):
            got[name] = data
            if len(got) == 3:
                done.set()

        return fn

    handler = (
        lark.EventDispatcherHandler.builder(KEY, VTOKEN)
        .register_p2_hire_eco_account_created_v1(lambda data: None)
        .register_p2_hire_eco_background_check_created_v1(keep("created"))
        .register_p2_hire_eco_background_check_canceled_v1(keep("canceled"))
        .register_p2_hire_eco_exam_created_v1(keep("exam"))
        .build()
    )
    webhook_receiver.handler = _django_glue(handler)
    sandbox.configure(webhook_url=webhook_receiver.url, encrypt_key=KEY, verification_token=VTOKEN)
    _accounts(sandbox)
    created = sandbox.create_background_check(
        "acc-check", package_id="pkg001", candidate={"name": "王二", "mobile": "18900001111"}
    )
    check_id = created["event"]["background_check_id"]
    sandbox.cancel_background_check(check_id, "主动拒绝此次背调")
    exam = sandbox.create_exam("acc-exam", paper_id="paper001")
    assert done.wait(10), got
    event = got["created"].event
    assert (event.background_check_id, event.account_id, event.package_id) == (
        check_id,
        "acc-check",
        "pkg001",
    )
    assert event.candidate_info.name == "王二" and event.candidate_info.mobile.number == "18900001111"
    assert got["canceled"].event.termination_reason == "主动拒绝此次背调"
    assert got["exam"].event.exam_id == exam["event"]["exam_id"] and got["exam"].event.paper_id == "paper001"
    assert sandbox.server.pusher.wait_idle()
    assert {d["status"] for d in sandbox.deliveries()} == {200}


def test_sdk_catalogue_calls(sandbox, client):  # noqa: F811
    from lark_oapi.api.hire.v1 import (
        BatchDeleteEcoExamPaperRequest,
        BatchDeleteEcoExamPaperRequestBody,
        CreateEcoBackgroundCheckCustomFieldRequest,
        CreateEcoBackgroundCheckPackageRequest,
        CreateEcoExamPaperRequest,
        EcoBackgroundCheckCustomField,
        EcoBackgroundCheckCustomFieldData,
        EcoBackgroundCheckCustomFieldDataOption,
        EcoBackgroundCheckPackage,
        EcoBackgroundCheckPackageAdditionalItem,
        EcoBackgroundCheckPackageData,
        EcoExamPaper,
        EcoExamPaperData,
        I18n,
    )

    sandbox.bind_account(scope=1, account_id="acc-check")
    sandbox.bind_account(scope=2, account_id="acc-exam")
    package = client.hire.v1.eco_background_check_package.create(
        CreateEcoBackgroundCheckPackageRequest.builder()
        .request_body(
            EcoBackgroundCheckPackage.builder()
            .account_id("acc-check")
            .package_list([EcoBackgroundCheckPackageData.builder().id("pkg001").name("基础套餐").build()])
            .additional_item_list(
                [EcoBackgroundCheckPackageAdditionalItem.builder().id("ext001").name("履历验证X2").build()]
            )
            .build()
        )
        .build()
    )
    assert package.success(), (package.code, package.msg)
    field = client.hire.v1.eco_background_check_custom_field.create(
        CreateEcoBackgroundCheckCustomFieldRequest.builder()
        .request_body(
            EcoBackgroundCheckCustomField.builder()
            .account_id("acc-check")
            .custom_field_list(
                [
                    EcoBackgroundCheckCustomFieldData.builder()
                    .type("select")
                    .key("candidate_degree")
                    .name(I18n.builder().zh_cn("候选人学历").en_us("Candidate degree").build())
                    .is_required(True)
                    .options(
                        [
                            EcoBackgroundCheckCustomFieldDataOption.builder()
                            .key("bachelor")
                            .name(I18n.builder().zh_cn("本科").build())
                            .build()
                        ]
                    )
                    .build()
                ]
            )
            .build()
        )
        .build()
    )
    assert field.success(), (field.code, field.msg)
    paper = client.hire.v1.eco_exam_paper.create(
        CreateEcoExamPaperRequest.builder()
        .request_body(
            EcoExamPaper.builder()
            .account_id("acc-exam")
            .paper_list([EcoExamPaperData.builder().id("paper001").name("春季测评").duration(30).build()])
            .build()
        )
        .build()
    )
    assert paper.success(), (paper.code, paper.msg)
    offered = {c["account_id"]: c for c in sandbox.state()["catalogues"]}
    assert set(offered["acc-check"]["packages"]) == {"pkg001"}
    assert offered["acc-check"]["fields"][0]["options"][0]["key"] == "bachelor"
    assert offered["acc-exam"]["papers"] == [{"id": "paper001", "name": "春季测评", "duration": 30}]
    gone = client.hire.v1.eco_exam_paper.batch_delete(
        BatchDeleteEcoExamPaperRequest.builder()
        .request_body(
            BatchDeleteEcoExamPaperRequestBody.builder()
            .account_id("acc-exam")
            .paper_id_list(["paper001"])
            .build()
        )
        .build()
    )
    assert gone.success() and sandbox.state()["catalogues"][1]["papers"] == []
