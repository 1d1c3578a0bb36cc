"""Forms staff fill to send something to Feishu about an order."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .models import ReportFile
from .reports import PDF_MAGIC, is_pdf

MAX_REPORT_BYTES = 50 * 1024 * 1024


def _ms(value) -> int:
    return int(value.timestamp() * 1000)


class ReportsField(forms.ModelMultipleChoiceField):
    def label_from_instance(self, obj):
        return obj.name


class WithReports(forms.Form):
    """A new report (a PDF uploaded here, or a link to a preview page) and/or reports the
    order already has."""

    report_file = forms.FileField(label=_("report file (PDF)"), required=False)
    report_link = forms.URLField(
        label=_("or a preview link"), required=False, max_length=1000, assume_scheme="https"
    )
    report_name = forms.CharField(label=_("report name"), required=False, max_length=200)
    existing_reports = ReportsField(
        queryset=ReportFile.objects.none(),
        label=_("reports already uploaded"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, order_field: str, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_field, self.order = order_field, order
        existing = ReportFile.objects.filter(**{order_field: order}).order_by("pk")
        if existing.exists():
            self.fields["existing_reports"].queryset = existing  # type: ignore[attr-defined]  # a ModelMultipleChoiceField
        else:  # nothing to choose from: no empty row on the page
            del self.fields["existing_reports"]

    def clean_report_file(self):
        upload = self.cleaned_data.get("report_file")
        if not upload:
            return upload
        if upload.size > MAX_REPORT_BYTES:
            raise forms.ValidationError(_("A report file may have at most 50 MB."))
        head = upload.read(len(PDF_MAGIC))
        upload.seek(0)
        if not is_pdf(upload.name, head):  # its name and its content must both say PDF
            if head.startswith(PDF_MAGIC):
                raise forms.ValidationError(
                    _("This PDF's name does not end in .pdf: rename it, then upload it.")
                )
            raise forms.ValidationError(_("Feishu shows downloadable reports as PDF: upload a PDF file."))
        return upload

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("report_file") and data.get("report_link"):
            raise forms.ValidationError(_("Give a file or a link, not both."))
        return data

    def reports(self, user) -> list[ReportFile]:
        """The reports chosen; an uploaded file or a link becomes a new report of the order
        (call inside the transaction that uses them)."""
        chosen = list(self.cleaned_data.get("existing_reports") or [])
        upload, link = self.cleaned_data.get("report_file"), self.cleaned_data.get("report_link")
        if upload or link:
            name = self.cleaned_data.get("report_name") or (upload.name if upload else link)
            report = ReportFile(**{self.order_field: self.order}, name=name[:200], uploaded_by=user)  # type: ignore[index]  # a file or a link: clean() asks for one
            if upload:
                report.file.save(upload.name, upload, save=False)
            else:
                report.preview_url = link  # type: ignore[assignment]
            report.save()
            chosen.append(report)
        return chosen


class StageForm(WithReports):
    stage_name = forms.CharField(label=_("stage"), max_length=100, initial="阶段报告")
    stage_en_name = forms.CharField(label=_("stage (English)"), max_length=100, required=False)
    stage_time = forms.DateTimeField(label=_("stage time"), help_text=_("Later than the order's last stage."))
    stage_id = forms.CharField(
        label=_("stage id"),
        max_length=64,
        required=False,
        help_text=_("Unique in this order; left empty, one is made up."),
    )
    result = forms.CharField(
        label=_("stage result"),
        max_length=500,
        required=False,
        help_text=_("With a result, Feishu requires a report file."),
    )
    field_order = ["stage_name", "stage_en_name", "stage_time", "stage_id", "result"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["stage_time"].initial = timezone.localtime().replace(microsecond=0)

    def time_ms(self) -> int:
        return _ms(self.cleaned_data["stage_time"])


class ResultForm(WithReports):
    result = forms.CharField(label=_("final result"), max_length=500, initial="无差异")
    result_time = forms.DateTimeField(label=_("result time"))
    field_order = ["result", "result_time"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["result_time"].initial = timezone.localtime().replace(microsecond=0)

    def time_ms(self) -> int:
        return _ms(self.cleaned_data["result_time"])


class ConfirmForm(forms.Form):
    confirm = forms.BooleanField(label=_("Yes, terminate this background check in Feishu Hire"))


class LoginForm(forms.Form):
    exam_url = forms.URLField(label=_("exam link"), max_length=1000, assume_scheme="https")
    username = forms.CharField(label=_("user name"), max_length=200, required=False)
    password = forms.CharField(
        label=_("password"),
        max_length=200,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text=_("Kept encrypted; never shown again."),
    )


class ScoreForm(WithReports):
    score = forms.CharField(
        label=_("score"), max_length=64, help_text=_("Feishu recommends a number from 0 to 100, e.g. 60.5.")
    )
    result_time = forms.DateTimeField(label=_("answered at"), required=False)
    details = forms.CharField(
        label=_("per-section results"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One per line: section: result (e.g. Fundamentals: excellent)."),
    )
    field_order = ["score", "result_time", "details"]

    def clean_details(self):
        rows = []
        for n, line in enumerate((self.cleaned_data.get("details") or "").splitlines(), 1):
            if not line.strip():
                continue
            name, sep, result = line.replace("：", ":").partition(":")
            if not sep or not name.strip() or not result.strip():
                raise forms.ValidationError(_("Line %(n)s: write section: result.") % {"n": n})
            rows.append({"name": name.strip()[:100], "result": result.strip()[:200]})
        return rows

    def time_ms(self) -> int | None:
        value = self.cleaned_data.get("result_time")
        return _ms(value) if value else None
