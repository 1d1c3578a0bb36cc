"""The catalogue: pushed to an account when it is bound, and every change rolled out to the
accounts it concerns, as Feishu's incremental and full-replace APIs need (against the sandbox)."""

import time
from datetime import datetime

import pytest
from django.utils import translation

from bindings.models import CustomerIdentifier, EcoAccountBinding, VendorCustomer
from hireops.core import display
from hireops.core.models import CallStatus
from orders.catalogue import pushes
from orders.catalogue import services as catalogue
from orders.catalogue.models import (
    AdditionalItem,
    CataloguePush,
    CatalogueRollout,
    CatalogueSync,
    ExamPaper,
    FormField,
    Package,
)
from tests.factories import a_binding, a_customer

from .conftest import CHECK_ACCOUNT, EXAM_ACCOUNT, deliver

pytestmark = pytest.mark.django_db(transaction=True)
PACKAGES = "/open-apis/hire/v1/eco_background_check_packages"
FIELDS = "/open-apis/hire/v1/eco_background_check_custom_fields"
PAPERS = "/open-apis/hire/v1/eco_exam_papers"


def offered(sandbox, account_id=CHECK_ACCOUNT) -> dict:
    return next(c for c in sandbox.state()["catalogues"] if c["account_id"] == account_id)


def calls(sandbox, prefix) -> list[tuple[str, dict]]:
    return [
        (r["path"].removeprefix(prefix) or "/", r["json"])
        for r in sandbox.requests()
        if r["path"].startswith(prefix)
    ]


def last_rollout() -> CatalogueRollout:
    return CatalogueRollout.objects.order_by("-pk").first()


def test_a_bound_account_gets_its_customers_catalogue(client, sandbox, bound_accounts):
    remote = offered(sandbox)
    assert remote["packages"] == {"pkg-basic": {"name": "基础套餐", "description": "工作履历验证"}}
    assert remote["items"] == {"ext002": {"name": "工作履历信息验证X2"}}
    assert offered(sandbox, EXAM_ACCOUNT)["papers"] == [
        {"id": "paper001", "name": "春季测评", "duration": 30, "question_count": 30}
    ]
    [create] = calls(sandbox, PACKAGES)
    assert create == (
        "/",
        {
            "account_id": CHECK_ACCOUNT,
            "package_list": [{"id": "pkg-basic", "name": "基础套餐", "description": "工作履历验证"}],
            "additional_item_list": [{"id": "ext002", "name": "工作履历信息验证X2"}],
        },
    )
    pushed = CataloguePush.objects.filter(reason="bound", status=CallStatus.SUCCEEDED)
    assert sorted(pushed.values_list("catalogue", flat=True)) == [
        "packages",
        "papers",
    ]  # no form fields defined
    # What Hire offers is what can be ordered.
    from sandbox.control import SandboxError

    with pytest.raises(SandboxError, match="offers no package 'pkg-gold'"):
        sandbox.create_background_check(CHECK_ACCOUNT, package_id="pkg-gold")
    with pytest.raises(SandboxError, match="offers no exam paper 'paper999'"):
        sandbox.create_exam(EXAM_ACCOUNT, paper_id="paper999")


def _second_customer(client, sandbox):
    beta = VendorCustomer.objects.create(name="Beta")
    CustomerIdentifier.objects.create(customer=beta, key="org_id", value="BETA-002")
    event = sandbox.bind_account(
        scope=1, account_id="7300000000000000303", custom_field_list=[{"key": "org_id", "value": "BETA-002"}]
    )
    deliver(client, event)
    return beta


def test_changes_go_out_as_the_difference_to_the_accounts_they_concern(client, sandbox, bound_accounts):
    beta = _second_customer(client, sandbox)
    sandbox.clear_requests()
    # An extra for Acme only: one create, to Acme's account.
    catalogue.entry_save(Package(code="pkg-gold", name="黄金套餐"), only_for=[bound_accounts])
    assert calls(sandbox, PACKAGES) == [
        ("/", {"account_id": CHECK_ACCOUNT, "package_list": [{"id": "pkg-gold", "name": "黄金套餐"}]})
    ]
    rollout = last_rollout()
    assert (rollout.status, rollout.total, rollout.considered) == ("done", 2, 2)
    # A shared item renamed: an update to both accounts, nothing created again.
    sandbox.clear_requests()
    AdditionalItem.objects.filter(code="ext002").update(name="履历验证X2")  # a bare write: nothing goes…
    assert calls(sandbox, PACKAGES) == []
    catalogue.entry_save(AdditionalItem.objects.get(code="ext002"))  # …until the service rolls it out
    sent = calls(sandbox, PACKAGES)
    assert sorted(body["account_id"] for _, body in sent) == sorted([CHECK_ACCOUNT, "7300000000000000303"])
    assert {path for path, _ in sent} == {"/batch_update"}
    assert sent[0][1]["package_list"] == [] and sent[0][1]["additional_item_list"][0]["name"] == "履历验证X2"
    # Withdrawn: a delete, and Hire no longer offers it; orders placed before are untouched.
    sandbox.clear_requests()
    catalogue.entries_delete(Package.objects.filter(code="pkg-gold"))
    assert calls(sandbox, PACKAGES) == [
        ("/batch_delete", {"account_id": CHECK_ACCOUNT, "package_id_list": ["pkg-gold"]})
    ]
    assert set(offered(sandbox)["packages"]) == {"pkg-basic"}
    assert set(offered(sandbox, "7300000000000000303")["packages"]) == {"pkg-basic"}
    progress = last_rollout()
    assert (progress.queued, progress.pushes.filter(status=CallStatus.SUCCEEDED).count()) == (1, 1)
    assert beta.pk  # Beta's account was looked at and left alone


def test_order_form_fields_follow_feishus_rules(client, sandbox, bound_accounts):
    degree = FormField(
        key="candidate_degree",
        type="select",
        name_zh="候选人学历",
        name_en="Candidate degree",
        is_required=True,
        options=[{"key": "bachelor", "name_zh": "本科", "name_en": "Bachelor"}],
    )
    catalogue.entry_save(degree)
    [(path, body)] = calls(sandbox, FIELDS)
    assert path == "/" and body["custom_field_list"] == [
        {
            "type": "select",
            "key": "candidate_degree",
            "name": {"zh_cn": "候选人学历", "en_us": "Candidate degree"},
            "is_required": True,
            "options": [{"key": "bachelor", "name": {"zh_cn": "本科", "en_us": "Bachelor"}}],
        }
    ]
    # A name alone: batch_update (the same length), which orders already placed show too.
    sandbox.clear_requests()
    degree.name_en = "Candidate's degree"
    catalogue.entry_save(degree)
    assert [p for p, _ in calls(sandbox, FIELDS)] == ["/batch_update"]
    # A new field: the whole list again (create replaces it).
    sandbox.clear_requests()
    catalogue.entry_save(FormField(key="notes", type="textarea", name_zh="备注", description_zh="选填"))
    [(path, body)] = calls(sandbox, FIELDS)
    assert path == "/" and [f["key"] for f in body["custom_field_list"]] == ["candidate_degree", "notes"]
    # None left: batch_delete, account-wide; Feishu never takes those keys again.
    sandbox.clear_requests()
    FormField.objects.update(is_active=False)
    catalogue.entry_save(FormField.objects.get(key="notes"))
    assert calls(sandbox, FIELDS) == [("/batch_delete", {"account_id": CHECK_ACCOUNT})]
    sync = CatalogueSync.objects.get(catalogue="form_fields")
    assert sync.retired_keys == ["candidate_degree", "notes"] and offered(sandbox)["fields"] == []
    # Bringing a retired key back is refused before anything is sent, and says why.
    sandbox.clear_requests()
    FormField.objects.filter(key="notes").update(is_active=True)
    catalogue.entry_save(FormField.objects.get(key="notes"))
    push = CataloguePush.objects.filter(catalogue="form_fields").order_by("-pk").first()
    assert push.status == CallStatus.FAILED and "notes" in push.error and "new keys" in push.error
    assert calls(sandbox, FIELDS) == []


def test_paper_changes(client, sandbox, bound_accounts):
    paper = ExamPaper.objects.get(code="paper001")
    sandbox.clear_requests()
    paper.question_count = 40
    catalogue.entry_save(paper)
    assert calls(sandbox, PAPERS) == [
        (
            "/batch_update",
            {
                "account_id": EXAM_ACCOUNT,
                "paper_list": [{"id": "paper001", "name": "春季测评", "duration": 30, "question_count": 40}],
            },
        )
    ]
    sandbox.clear_requests()
    catalogue.entry_save(ExamPaper(code="paper002", name="秋季测评"))
    [(path, body)] = calls(sandbox, PAPERS)
    assert path == "/" and [p["id"] for p in body["paper_list"]] == ["paper001", "paper002"]
    sandbox.clear_requests()
    catalogue.entries_delete(ExamPaper.objects.all())
    assert calls(sandbox, PAPERS) == [
        ("/batch_delete", {"account_id": EXAM_ACCOUNT, "paper_id_list": ["paper001", "paper002"]})
    ]
    assert offered(sandbox, EXAM_ACCOUNT)["papers"] == []


def test_a_package_create_without_an_answer_is_settled_before_going_on(
    client, sandbox, bound_accounts, settings
):
    settings.FEISHU_TIMEOUT = 0.5
    sandbox.clear_requests()
    sandbox.add_fault(PACKAGES, "late", count=1, delay=1.0)  # Feishu takes it, the answer comes too late
    catalogue.entry_save(Package(code="pkg-new", name="新套餐"))
    push = CataloguePush.objects.filter(catalogue="packages").order_by("-pk").first()
    assert push.status == CallStatus.SUCCEEDED, push.error
    # Created once; the retry asked Feishu (an update of the same ids succeeded) instead of
    # creating again, which Feishu refuses for an id it has.
    deadline = time.monotonic() + 5  # the late answer is logged once it is sent
    while len(calls(sandbox, PACKAGES)) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sorted(p for p, _ in calls(sandbox, PACKAGES)) == ["/", "/batch_update"]
    assert [c.get("probe", False) for c in push.calls] == [False, True]
    assert set(offered(sandbox)["packages"]) == {"pkg-basic", "pkg-new"}
    sync = CatalogueSync.objects.get(catalogue="packages")
    assert sync.uncertain == {} and set(sync.sent["packages"]) == {"pkg-basic", "pkg-new"}


def test_a_refusal_is_final_and_explained_and_a_push_can_be_repeated(client, sandbox, bound_accounts):
    sandbox.add_fault(PACKAGES, "error", count=1, status=400, code=1002001, msg="参数错误或系统异常")
    catalogue.entry_save(Package(code="pkg-x", name="X"))
    push = CataloguePush.objects.filter(catalogue="packages").order_by("-pk").first()
    assert (push.status, push.error_code, push.attempts) == (CallStatus.FAILED, 1002001, 1)
    assert push.error
    again = pushes.push_retry(push)
    again.refresh_from_db()
    assert again.status == CallStatus.SUCCEEDED and again.reason == "staff"
    assert "pkg-x" in offered(sandbox)["packages"]


def test_an_unbound_account_gets_nothing(client, sandbox, bound_accounts):
    binding = EcoAccountBinding.objects.get(account_id=CHECK_ACCOUNT)
    EcoAccountBinding.objects.filter(pk=binding.pk).update(status="rejected")
    sandbox.clear_requests()
    catalogue.entry_save(Package(code="pkg-y", name="Y"))
    assert calls(sandbox, PACKAGES) == [] and last_rollout().total == 0
    push = pushes.push_request(binding, "packages", "staff")
    push.refresh_from_db()
    assert push.status == CallStatus.FAILED and "no longer bound" in push.error


def test_an_account_feishu_does_not_know_is_explained_as_what_happened(sandbox, catalogue):
    """Feishu answers a catalogue call for an account it does not know with the endpoint's
    parameter error (1002855 from the form-field API, 1002001 with HTTP 400 from the package
    API): the reason says so, in each reader's language, never that a retired key was reused."""
    FormField.objects.create(key="notes", type="textarea", name_zh="备注")
    stranger = a_binding(sandbox.server.state.default_tenant, "unknown-to-feishu", customer=a_customer())
    for what in ("packages", "form_fields"):
        pushes.push_request(stranger, what, "staff")
    by_catalogue = {p.catalogue: p for p in CataloguePush.objects.filter(binding=stranger)}
    fields, packages = by_catalogue["form_fields"], by_catalogue["packages"]
    assert (fields.status, fields.error_code, packages.error_code) == (CallStatus.FAILED, 1002855, 1002001)
    for push in (fields, packages):
        with translation.override("en"):
            english = str(CataloguePush.objects.get(pk=push.pk).error)
        with translation.override("zh-hans"):
            chinese = str(CataloguePush.objects.get(pk=push.pk).error)
        assert "parameter error" in english and "'unknown-to-feishu' does not exist" in english
        assert "参数错误" in chinese and "'unknown-to-feishu' does not exist" in chinese
        assert "deleted before cannot" not in english and "不能再次使用" not in chinese


def test_a_refusal_of_form_fields_is_explained_as_the_form_field_api_means_it(
    client, sandbox, bound_accounts, admin_client
):
    """Feishu's 1002855 from the background-check form-field API is a parameter error there;
    from the exam API it means the exam is graded. A push is explained by the API that answered."""
    sandbox.add_fault(FIELDS, "error", count=1, status=400, code=1002855, msg="参数错误或系统异常")
    catalogue.entry_save(FormField(key="notes", type="textarea", name_zh="备注"))
    push = CataloguePush.objects.get(catalogue="form_fields")
    assert (push.status, push.error_code) == (CallStatus.FAILED, 1002855)
    page = admin_client.get(
        f"/admin/orders/cataloguepush/{push.pk}/change/", HTTP_ACCEPT_LANGUAGE="zh-CN"
    ).content.decode()
    with translation.override("zh-hans"):
        error = CataloguePush.objects.get(pk=push.pk).error
    assert error.startswith("飞书认为背调表单字段无效，已拒绝") and "阅卷" not in error and error in page
    # The call recorded on the push, at the local time the rest of the page shows.
    [call] = push.calls
    assert display.local_time(datetime.fromisoformat(call["at"]), seconds=True) in page
    assert "+00:00" not in page
