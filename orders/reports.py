"""Report files: kept by hireops, handed to Feishu as expiring signed links, never listed.

A file lives in the ``reports`` storage (``STORAGES["reports"]``: a local directory outside
every served path by default, S3-compatible storage by setting). Feishu gets a link to
``/orders/reports/<signed>/<name>``: the signature names the report and when the link was
made, and the link stops working ``ORDER_REPORT_LINK_DAYS`` after that (default 180, the
same as personal data is kept after an order ends). There is no index of reports and no
other way in from outside: an unsigned or expired link is a 404, like a file that never
existed. Staff download a report from its order's page (``orders.admin.orders``), signed in,
with the order's view permission and ``core.view_personal_data``: a report is the
candidate's personal data, purged with it.

Feishu takes a downloadable report as a PDF (docs/feishu.md §3: ``report_url_type`` 1), so
a file is accepted only when its name and its content both say PDF (``is_pdf``), and it is
served as what it is: ``application/pdf``, or ``application/octet-stream`` for a file kept
from before that rule whose bytes are not a PDF's.
"""

from urllib.parse import quote

from django.conf import settings
from django.core import signing
from django.http import FileResponse, Http404
from django.views.decorators.http import require_GET

from hireops.feishu.eco import ExamReport, ReportFile, ReportUrlType

SALT = "orders.report-link"
PDF_MAGIC = b"%PDF-"
PDF = "application/pdf"


def is_pdf(name: str, head: bytes) -> bool:
    """A PDF by both its name (``.pdf``) and its first bytes (``%PDF-``)."""
    return name.lower().endswith(".pdf") and head.startswith(PDF_MAGIC)


def link_for(report) -> str:
    """The URL Feishu is sent for a report: its signed download link, or its preview page."""
    if not report.file:
        return report.preview_url
    token = signing.TimestampSigner(salt=SALT).sign(str(report.pk))
    base = settings.ORDER_REPORT_BASE_URL.rstrip("/")
    return f"{base}/orders/reports/{token}/{quote(report.file.name.rsplit('/', 1)[-1])}"


def as_check_report(report) -> ReportFile:
    kind = ReportUrlType.DOWNLOAD if report.file else ReportUrlType.PREVIEW
    return ReportFile(name=report.name, url=link_for(report), url_type=kind)


def as_exam_report(report) -> ExamReport:
    return ExamReport(name=report.name, url=link_for(report))


@require_GET
def report_download(request, token: str, filename: str):
    from .models import ReportFile as Report

    max_age = settings.ORDER_REPORT_LINK_DAYS * 86400
    try:
        pk = int(signing.TimestampSigner(salt=SALT).unsign(token, max_age=max_age))
    except (signing.BadSignature, ValueError):
        raise Http404 from None
    report = Report.objects.filter(pk=pk).exclude(file="").first()
    if report is None:  # purged since
        raise Http404
    return serve(report)


def serve(report) -> FileResponse:
    """The report's file as a download, never cached (to Feishu by a signed link, to staff
    from the order's page); a file gone from the storage is a 404."""
    try:
        handle = report.file.open("rb")
    except FileNotFoundError:
        raise Http404 from None
    name = report.file.name.rsplit("/", 1)[-1]
    head = handle.read(len(PDF_MAGIC))
    handle.seek(0)
    # Never a type guessed from the name: "x.html" holding a PDF's bytes is no web page.
    content_type = PDF if is_pdf(name, head) else "application/octet-stream"
    response = FileResponse(handle, as_attachment=True, filename=name, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response
