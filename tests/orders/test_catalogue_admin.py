"""Vendor staff keep the catalogue in the admin: each save goes out to the bound accounts it
concerns (a rollout they can follow), Feishu's rules are checked on the form, and a change of
a paper's window says which arranged exams it moves."""

import pytest

from hireops.core.models import CallStatus
from orders.catalogue import services as catalogue
from orders.catalogue.models import CataloguePush, CatalogueRollout, ExamPaper, FormField, Package
from orders.models import Exam

from .conftest import CHECK_ACCOUNT, EXAM_ACCOUNT, deliver

pytestmark = pytest.mark.django_db(transaction=True)
ADMIN = "/admin/orders/"


def offered(sandbox, account_id):
    return next(c for c in sandbox.state()["catalogues"] if c["account_id"] == account_id)


def test_a_package_added_in_the_admin_reaches_the_bound_account(vendor_ops, sandbox, bound_accounts):
    page = vendor_ops.post(
        ADMIN + "package/add/",
        {
            "code": "pkg-gold",
            "name": "黄金套餐",
            "description": "全面调查",
            "turnaround_days": "5",
            "only_for": [str(bound_accounts.pk)],
            "is_active": "on",
            "display_order": "0",
        },
        follow=True,
    )
    assert page.status_code == 200
    text = page.content.decode()
    assert "goes out to every bound account it concerns" in text
    rollout = CatalogueRollout.objects.order_by("-pk").first()
    assert rollout.requested_by.username and rollout.status == "done"
    assert offered(sandbox, CHECK_ACCOUNT)["packages"]["pkg-gold"] == {
        "name": "黄金套餐",
        "description": "全面调查",
    }
    progress = vendor_ops.get(f"{ADMIN}cataloguerollout/{rollout.pk}/change/").content.decode()
    assert "1 / 1" in progress
    listing = vendor_ops.get(f"{ADMIN}cataloguepush/?rollout={rollout.pk}").content.decode()
    assert "Background-check packages" in listing and "Succeeded" in listing
    # The id is what Feishu knows the package by: fixed once saved.
    change = vendor_ops.get(
        f"{ADMIN}package/{Package.objects.get(code='pkg-gold').pk}/change/"
    ).content.decode()
    assert 'name="code"' not in change
    listing = vendor_ops.get(ADMIN + "package/").content.decode()
    assert "1 customer" in listing and "every customer" in listing


def test_form_field_rules_are_checked_on_the_form(vendor_ops, sandbox, bound_accounts):
    base = {
        "key": "degree",
        "type": "select",
        "name_zh": "学历",
        "name_en": "",
        "display_order": "0",
        "is_active": "on",
    }
    refused = vendor_ops.post(ADMIN + "formfield/add/", {**base, "options": ""})
    assert refused.status_code == 200 and "needs at least one option" in refused.content.decode()
    refused = vendor_ops.post(
        ADMIN + "formfield/add/", {**base, "options": "bachelor | 本科\nbachelor | 本科"}
    )
    assert "used twice" in refused.content.decode()
    refused = vendor_ops.post(ADMIN + "formfield/add/", {**base, "type": "date", "description_zh": "提示"})
    assert "hint on single- and multi-line text fields only" in refused.content.decode()
    assert not FormField.objects.exists()
    saved = vendor_ops.post(
        ADMIN + "formfield/add/", {**base, "options": "bachelor | 本科 | Bachelor\nmaster | 硕士 |"}
    )
    assert saved.status_code == 302
    assert FormField.objects.get().options == [
        {"key": "bachelor", "name_zh": "本科", "name_en": "Bachelor"},
        {"key": "master", "name_zh": "硕士", "name_en": ""},
    ]
    [field] = offered(sandbox, CHECK_ACCOUNT)["fields"]
    assert field["options"] == [
        {"key": "bachelor", "name": {"zh_cn": "本科", "en_us": "Bachelor"}},
        {"key": "master", "name": {"zh_cn": "硕士"}},
    ]


def test_changing_a_papers_window_names_the_exams_it_moves(vendor_ops, sandbox, bound_accounts):
    deliver(vendor_ops, sandbox.create_exam(EXAM_ACCOUNT, paper_id="paper001"))
    exam = Exam.objects.get()
    paper = ExamPaper.objects.get(code="paper001")
    url = f"{ADMIN}exampaper/{paper.pk}/change/"
    form = {
        "name": "春季测评",
        "duration_minutes": "30",
        "question_count": "30",
        "starts_at_0": "2026-12-01",
        "starts_at_1": "09:00:00",
        "ends_at_0": "2026-12-31",
        "ends_at_1": "18:00:00",
        "turnaround_days": "7",
        "display_order": "0",
        "is_active": "on",
    }
    warned = vendor_ops.post(url, form)
    assert warned.status_code == 200
    assert f"This moves 1 exam already arranged on the paper ({exam.exam_id})" in warned.content.decode()
    paper.refresh_from_db()
    assert paper.starts_at is None
    sandbox.clear_requests()
    moved = vendor_ops.post(url, {**form, "move_scheduled_exams": "on"})
    assert moved.status_code == 302
    [sent] = [r for r in sandbox.requests() if r["path"].endswith("/eco_exam_papers/batch_update")]
    assert sent["json"]["paper_list"][0]["start_time"] and sent["json"]["paper_list"][0]["end_time"]


def test_a_failed_push_is_pushed_again_and_accounts_can_be_pushed_on_demand(
    vendor_ops, sandbox, bound_accounts
):
    sandbox.add_fault(
        "/open-apis/hire/v1/eco_background_check_packages",
        "error",
        status=400,
        code=1002001,
        msg="参数错误或系统异常",
    )
    catalogue.entry_save(Package(code="pkg-x", name="X"))
    failed = CataloguePush.objects.get(status=CallStatus.FAILED)
    page = vendor_ops.get(f"{ADMIN}cataloguepush/{failed.pk}/change/").content.decode()
    assert "参数错误或系统异常" in page and "pkg-x" in page  # the call and Feishu's answer
    vendor_ops.post(f"{ADMIN}cataloguepush/", {"action": "push_again", "_selected_action": [failed.pk]})
    assert "pkg-x" in offered(sandbox, CHECK_ACCOUNT)["packages"]
    from bindings.models import EcoAccountBinding

    binding = EcoAccountBinding.objects.get(account_id=CHECK_ACCOUNT)
    before = CataloguePush.objects.count()
    vendor_ops.post(
        "/admin/bindings/ecoaccountbinding/",
        {"action": "push_catalogues_action", "_selected_action": [binding.pk]},
    )
    asked = list(CataloguePush.objects.order_by("pk")[before:])
    assert sorted((p.catalogue, p.reason, p.status) for p in asked) == [
        ("form_fields", "staff", CallStatus.SUCCEEDED),  # nothing to send, and it says so
        ("packages", "staff", CallStatus.SUCCEEDED),
    ]
    assert "Nothing to send" in str(next(p for p in asked if p.catalogue == "form_fields").note)


def test_hr_does_not_see_the_catalogue(client, staff_user, db):
    client.force_login(staff_user("HR"))
    assert client.get(ADMIN + "package/").status_code == 403
