"""An order's pages as staff read them: its title in their language, the catalogue's names for
its package or paper, the forms that send to Feishu in the admin's own markup, and its stored
reports to download for those who may see them."""

import re
from datetime import timedelta

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from orders.models import BackgroundCheck, Exam, OrderWrite, ReportFile, WriteKind

from .conftest import PDF

pytestmark = pytest.mark.django_db
CHECKS = "/admin/orders/backgroundcheck/"
EXAMS = "/admin/orders/exam/"
ZH = {"HTTP_ACCEPT_LANGUAGE": "zh-CN"}


@pytest.fixture
def check(catalogue):
    return BackgroundCheck.objects.create(
        app_id="cli_a",
        tenant_key="",
        account_id="acc-1",
        background_check_id="7300675657947577002",
        package_id="pkg-basic",
        additional_item_ids=["ext002", "ext-gone"],
        candidate_name="王二",
    )


@pytest.fixture
def exam(catalogue):
    return Exam.objects.create(
        app_id="cli_a", tenant_key="", account_id="acc-2", exam_id="7300675657947577003", paper_id="paper001"
    )


def text(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def title(page: str) -> str:
    return re.search(r"<title>(.*?)</title>", page, re.S).group(1)


def breadcrumbs(page: str) -> str:
    return re.search(r'<div class="breadcrumbs">(.*?)</div>', page, re.S).group(1)


def test_an_order_is_titled_in_the_readers_language(admin_client, check, exam):
    OrderWrite.objects.create(
        kind=WriteKind.PROGRESS, background_check=check, stage_id="s1", stage_name="核实"
    )
    OrderWrite.objects.create(kind=WriteKind.SCORE, exam=exam, result="60")

    page = text(admin_client.get(f"{CHECKS}{check.pk}/change/", **ZH))
    assert "背调订单 7300675657947577002" in title(page)
    assert "背调订单 7300675657947577002" in breadcrumbs(page)
    assert "Background check" not in page
    form = text(admin_client.get(f"{CHECKS}{check.pk}/stage/", **ZH))
    assert "背调订单 7300675657947577002 · 王二" in form and "Background check" not in form
    login = text(admin_client.get(f"{EXAMS}{exam.pk}/login/", **ZH))
    assert "笔试订单 7300675657947577003" in breadcrumbs(login) and "Exam 73" not in login
    writes = text(admin_client.get("/admin/orders/orderwrite/", **ZH))
    assert "背调订单 7300675657947577002" in writes and "笔试订单 7300675657947577003" in writes

    english = text(admin_client.get(f"{CHECKS}{check.pk}/change/", HTTP_ACCEPT_LANGUAGE="en"))
    assert "Background check 7300675657947577002" in title(english)


def test_packages_and_papers_go_by_the_catalogues_names(admin_client, check, exam):
    BackgroundCheck.objects.create(
        app_id="cli_a", tenant_key="", account_id="acc-1", background_check_id="old", package_id="pkg-gone"
    )
    listing = text(admin_client.get(CHECKS, **ZH))
    assert "基础套餐 (pkg-basic)" in listing
    assert re.search(r'class="field-package">pkg-gone<', listing)  # no longer in the catalogue: its id
    page = text(admin_client.get(f"{CHECKS}{check.pk}/change/", **ZH))
    assert "基础套餐 (pkg-basic)" in page
    assert "工作履历信息验证X2 (ext002), ext-gone" in page
    assert "春季测评 (paper001)" in text(admin_client.get(EXAMS, **ZH))
    assert "春季测评 (paper001)" in text(admin_client.get(f"{EXAMS}{exam.pk}/change/", **ZH))
    check.refresh_from_db()
    assert check.package_id == "pkg-basic"  # the order keeps the id it was ordered with


@pytest.mark.parametrize("form", ["stage", "result", "terminate"])
def test_the_forms_use_the_admins_markup_and_lead_back_to_the_order(admin_client, check, form):
    page = text(admin_client.get(f"{CHECKS}{check.pk}/{form}/", **ZH))
    assert '<fieldset class="module aligned' in page and 'class="form-row' in page
    assert '<div class="submit-row">' in page and 'id="order-form"' in page
    assert "existing_reports" not in page  # the order has no report to choose yet
    crumbs = re.findall(r'<a href="([^"]+)">([^<]+)</a>', breadcrumbs(page))
    assert crumbs == [
        ("/admin/", "首页"),
        ("/admin/orders/", "供应商订单"),
        (CHECKS, "背调"),
        (f"{CHECKS}{check.pk}/change/", "背调订单 7300675657947577002"),
    ]


EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def labels(page: str) -> list[str]:
    return re.findall(r"<label[^>]*>([^<]+)</label>", page)


@pytest.mark.parametrize(
    ("orders", "order", "form"),
    [
        (CHECKS, "check", "stage"),
        (CHECKS, "check", "result"),
        (EXAMS, "exam", "login"),
        (EXAMS, "exam", "score"),
    ],
)
def test_the_forms_labels_start_with_a_capital_as_djangos_own(admin_client, request, orders, order, form):
    """The forms reuse the models' lower-case verbose names ("stage"): shown as Django shows a
    model form's, "Stage:"."""
    obj = request.getfixturevalue(order)
    shown = labels(text(admin_client.get(f"{orders}{obj.pk}/{form}/", **EN)))
    assert shown and all(label[0].isupper() for label in shown), shown
    if form == "stage":
        assert {"Stage:", "Stage time:", "Report name:"} <= set(shown)


def test_a_report_is_named_once_on_its_orders_page(admin_client, check, reports):
    """Django heads each inline row with its object; a column of the name too said it twice."""
    page = text(admin_client.get(f"{CHECKS}{check.pk}/change/", **EN))
    assert page.count("王二背调报告") == 1


def test_a_refused_form_says_so_where_the_admin_does(admin_client, check):
    page = admin_client.post(f"{CHECKS}{check.pk}/stage/", {"stage_name": ""}, **ZH).content.decode()
    assert '<p class="errornote">' in page and "form-row errors field-stage_name" in page
    assert OrderWrite.objects.count() == 0


def test_a_stage_the_service_refuses_leaves_no_report_file(admin_client, check, tmp_path):
    """The form is valid but Feishu's rule refuses the stage (its time is not after the last
    stage's): the page says why, and nothing of it is kept, the uploaded report's file included
    (orders.sending removes it, as it does for the API)."""
    later = timezone.now() + timedelta(days=1)
    OrderWrite.objects.create(
        kind=WriteKind.PROGRESS,
        background_check=check,
        stage_id="s1",
        stage_name="一",
        time_ms=int(later.timestamp() * 1000),
    )
    upload = SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")
    stage = {"stage_name": "二", "stage_time": timezone.localtime().strftime("%Y-%m-%d %H:%M:%S")}
    page = admin_client.post(f"{CHECKS}{check.pk}/stage/", {**stage, "report_file": upload}, **ZH)
    assert '<p class="errornote">' in text(page)
    assert OrderWrite.objects.count() == 1 and not ReportFile.objects.exists()
    assert not [f for f in (tmp_path / "reports").rglob("*") if f.is_file()]


@pytest.fixture
def reports(check, exam):
    kept = ReportFile(background_check=check, name="王二背调报告")
    kept.file.save("report.pdf", ContentFile(PDF), save=True)
    link = ReportFile.objects.create(
        background_check=check, name="预览", preview_url="https://vendor.example/r/1"
    )
    other = ReportFile(exam=exam, name="笔试报告")
    other.file.save("exam.pdf", ContentFile(PDF), save=True)
    return kept, link, other


def test_staff_who_may_see_personal_data_download_the_stored_report(client, staff_user, check, reports):
    kept, _link, other = reports
    url = f"{CHECKS}{check.pk}/reports/{kept.pk}/"
    client.force_login(staff_user("Vendor operations", perms=["core.view_personal_data"]))
    page = text(client.get(f"{CHECKS}{check.pk}/change/"))
    assert f'href="{url}"' in page and "https://vendor.example/r/1" in page
    assert f'name="existing_reports" value="{kept.pk}"' in text(client.get(f"{CHECKS}{check.pk}/result/"))
    download = client.get(url)
    assert download.status_code == 200 and b"".join(download.streaming_content) == PDF
    assert download["Content-Type"] == "application/pdf" and "no-store" in download["Cache-Control"]
    assert "attachment" in download["Content-Disposition"]
    # Only the order's own reports, and only stored files, through the order's page.
    assert client.get(f"{CHECKS}{check.pk}/reports/{other.pk}/").status_code == 404
    assert client.get(f"{EXAMS}{other.exam_id}/reports/{other.pk}/").status_code == 200


@pytest.mark.parametrize(
    ("roles", "perms", "status"),
    [
        (("Vendor operations",), (), 403),  # may work the order, may not see personal data
        (("Auditor",), (), 403),
        (("HR",), ("core.view_personal_data",), 403),  # may not view orders at all
    ],
)
def test_others_may_not_download_a_report(client, staff_user, check, reports, roles, perms, status):
    kept = reports[0]
    client.force_login(staff_user(*roles, perms=perms))
    assert client.get(f"{CHECKS}{check.pk}/reports/{kept.pk}/").status_code == status
    if "HR" not in roles:
        page = text(client.get(f"{CHECKS}{check.pk}/change/"))
        assert "/reports/" not in page and "needs the permission to see personal data" in page


def test_a_purged_or_missing_report_is_not_found(admin_client, check, reports):
    kept, link = reports[:2]
    url = f"{CHECKS}{check.pk}/reports/{kept.pk}/"
    assert admin_client.get(f"{CHECKS}{check.pk}/reports/{link.pk}/").status_code == 404  # a link, no file
    kept.file.storage.delete(kept.file.name)
    assert admin_client.get(url).status_code == 404
    kept.delete()
    assert admin_client.get(url).status_code == 404
