"""Report files are PDFs by name and by content (Feishu takes downloadable reports as PDF),
refused with a form error on every page that uploads one otherwise, and served as what they
are: ``application/pdf``, never a type guessed from a name such as ``x.html``."""

from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from orders.models import BackgroundCheck, Exam, OrderWrite, ReportFile
from orders.reports import link_for

from .conftest import CHECK_ACCOUNT, EXAM_ACCOUNT, PDF, deliver

pytestmark = pytest.mark.django_db(transaction=True)
HTML = b"<html><script>alert(1)</script></html>"
MISMATCHED = {
    "x.html": (PDF, "name does not end in .pdf"),  # PDF bytes, a web page's name
    "report.pdf": (HTML, "upload a PDF file"),  # a PDF's name, a web page's bytes
    "report": (PDF, "name does not end in .pdf"),
    "report.pdf.html": (PDF, "name does not end in .pdf"),
}


@pytest.fixture
def orders(vendor_ops, sandbox, bound_accounts):
    deliver(vendor_ops, sandbox.create_background_check(CHECK_ACCOUNT))
    deliver(vendor_ops, sandbox.create_exam(EXAM_ACCOUNT))
    return [BackgroundCheck.objects.get(), Exam.objects.get()]


def upload_pages(client, orders) -> list[str]:
    """Every order page of the admin that takes a report file: each order admin's buttons,
    opened, with a file input named report_file."""
    pages = []
    for order in orders:
        model_admin = admin.site._registry[type(order)]
        info = order._meta.app_label, order._meta.model_name
        for name, _label in model_admin.buttons:
            url = reverse(f"admin:{info[0]}_{info[1]}_{name}", args=[order.pk])
            if 'name="report_file"' in client.get(url).content.decode():
                pages.append(url)
    return pages


def test_every_upload_page_refuses_a_name_and_content_that_disagree(vendor_ops, orders):
    pages = upload_pages(vendor_ops, orders)
    suffixes = sorted(page.rstrip("/").rsplit("/", 1)[-1] for page in pages)
    assert suffixes == ["result", "score", "stage"]  # the enumeration found the known ones
    for page in pages:
        for name, (content, error) in MISMATCHED.items():
            resp = vendor_ops.post(
                page, {"report_file": SimpleUploadedFile(name, content, "application/pdf")}
            )
            assert resp.status_code == 200, (page, name)
            [message] = resp.context["form"].errors["report_file"]
            assert error in message, (page, name, message)
    assert not ReportFile.objects.exists() and not OrderWrite.objects.exists()


def test_a_pdf_is_served_as_a_pdf(vendor_ops, orders, client):
    check = orders[0]
    sent = vendor_ops.post(
        f"/admin/orders/backgroundcheck/{check.pk}/stage/",
        {
            "stage_name": "资料核实",
            "stage_time": "2026-11-20 10:00:00",
            "report_file": SimpleUploadedFile("Stage.PDF", PDF, "application/octet-stream"),
        },
    )
    assert sent.status_code == 302
    report = ReportFile.objects.get()
    fetched = client.get(urlsplit(link_for(report)).path)
    assert fetched.status_code == 200 and fetched["Content-Type"] == "application/pdf"
    assert fetched["X-Content-Type-Options"] == "nosniff" and fetched["Content-Disposition"].startswith(
        "attachment"
    )
    assert b"".join(fetched.streaming_content) == PDF


@pytest.mark.parametrize("name, content", [("x.html", PDF), ("x.pdf", HTML), ("x.html", HTML)])
def test_a_file_kept_from_before_the_rule_is_never_served_as_a_web_page(orders, client, name, content):
    report = ReportFile(background_check=orders[0], name="old")
    report.file.save(name, SimpleUploadedFile(name, content), save=True)
    fetched = client.get(urlsplit(link_for(report)).path)
    assert fetched.status_code == 200 and fetched["Content-Type"] == "application/octet-stream"
