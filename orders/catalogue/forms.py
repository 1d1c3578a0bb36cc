"""Forms of the catalogue, for the admin and the partners' API alike: Feishu's rules checked
before anything is saved or sent."""

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .models import WITH_HINT, WITH_OPTIONS, AdditionalItem, ExamPaper, FormField, Package
from .scheduled import exams_on_paper


class OptionsField(forms.CharField):
    """Choices, one per line: ``key | Chinese name | English name`` (one of the names may be empty)."""

    widget = forms.Textarea(attrs={"rows": 5, "placeholder": "bachelor | 本科 | Bachelor"})

    def prepare_value(self, value):
        if isinstance(value, list):
            return "\n".join(f"{o['key']} | {o.get('name_zh', '')} | {o.get('name_en', '')}" for o in value)
        return value

    def to_python(self, value):
        options, keys = [], set()
        for number, line in enumerate((value or "").splitlines(), 1):
            if not line.strip():
                continue
            parts = [p.strip() for p in line.split("|")] + ["", ""]
            key, name_zh, name_en = parts[:3]
            if not key or not (name_zh or name_en):
                raise ValidationError(
                    _("Line %(n)s: write it as “key | Chinese name | English name”, with at least one name."),
                    params={"n": number},
                )
            if key in keys:
                raise ValidationError(
                    _("Line %(n)s: the key %(key)s is used twice."), params={"n": number, "key": key}
                )
            if len(key) > 64 or len(name_zh) > 100 or len(name_en) > 100:
                raise ValidationError(_("Line %(n)s is too long."), params={"n": number})
            keys.add(key)
            options.append({"key": key, "name_zh": name_zh, "name_en": name_en})
        return options


class FormFieldForm(forms.ModelForm):
    options = OptionsField(
        label=_("options"),
        required=False,
        help_text=_("For single and multiple choice: one per line, “key | Chinese name | English name”."),
    )

    class Meta:
        model = FormField
        fields = (
            "key",
            "type",
            "name_zh",
            "name_en",
            "is_required",
            "description_zh",
            "description_en",
            "options",
            "only_for",
            "is_active",
            "display_order",
        )

    def clean(self):
        super().clean()
        data = self.cleaned_data
        kind, options = data.get("type"), data.get("options") or []
        if kind in WITH_OPTIONS and not options:
            self.add_error("options", _("A single or multiple choice needs at least one option."))
        if kind and kind not in WITH_OPTIONS and options:
            self.add_error("options", _("Only single and multiple choice fields have options."))
        if kind and kind not in WITH_HINT and (data.get("description_zh") or data.get("description_en")):
            self.add_error(
                "description_zh", _("Feishu shows a hint on single- and multi-line text fields only.")
            )
        if not (data.get("name_zh") or "").strip() and not (data.get("name_en") or "").strip():
            self.add_error("name_zh", _("Give the field a name in Chinese or in English."))
        return data


class ExamPaperForm(forms.ModelForm):
    """Changing a paper's window moves the exams already arranged on it (Feishu): the change is
    refused until staff confirm it, seeing which exams it moves."""

    move_scheduled_exams = forms.BooleanField(
        label=_("Move the exams already arranged on this paper"),
        required=False,
        help_text=_("Needed when a change of the window moves exams candidates were already given."),
    )

    class Meta:
        model = ExamPaper
        fields = (
            "code",
            "name",
            "duration_minutes",
            "question_count",
            "starts_at",
            "ends_at",
            "turnaround_days",
            "only_for",
            "is_active",
            "display_order",
        )

    # The window, then the confirmation its change may need.
    admin_fields = (*Meta.fields[:6], "move_scheduled_exams", *Meta.fields[6:])

    def clean(self):
        super().clean()
        data = self.cleaned_data
        starts, ends = data.get("starts_at"), data.get("ends_at")
        if starts and ends and starts >= ends:
            self.add_error("ends_at", _("The paper must close after it opens."))
        paper = self.instance
        window_changed = paper.pk and (paper.starts_at, paper.ends_at) != (starts, ends)
        if window_changed and not data.get("move_scheduled_exams"):
            affected = exams_on_paper(paper.code)
            if affected:
                shown = ", ".join(affected[:10]) + (" …" if len(affected) > 10 else "")
                self.add_error(
                    "move_scheduled_exams",
                    ngettext(
                        "This moves %(n)d exam already arranged on the paper (%(exams)s). Tick the box to "
                        "move it, or keep the window.",
                        "This moves %(n)d exams already arranged on the paper (%(exams)s). Tick the box to "
                        "move them, or keep the window.",
                        len(affected),
                    )
                    % {"n": len(affected), "exams": shown},
                )
        return data


# What staff edit in the admin and partners send through the API, in the admin's order.
PACKAGE_FIELDS = ("code", "name", "description", "turnaround_days", "only_for", "is_active", "display_order")
ADDITIONAL_ITEM_FIELDS = ("code", "name", "description", "only_for", "is_active", "display_order")
PackageForm = forms.modelform_factory(Package, fields=PACKAGE_FIELDS)
AdditionalItemForm = forms.modelform_factory(AdditionalItem, fields=ADDITIONAL_ITEM_FIELDS)
