from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from .scopes import all_scopes


class NewKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What the key is for, e.g. “payroll sync”.")
    )
    scopes = forms.MultipleChoiceField(label=_("Scopes"), widget=forms.CheckboxSelectMultiple)
    tenants = forms.CharField(
        label=_("Tenants"),
        required=False,
        help_text=_("Tenant keys, one a line or separated by commas. Empty: every tenant."),
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    expires_in_days = forms.IntegerField(
        label=_("Expires in (days)"),
        min_value=1,
        max_value=3650,
        required=False,
        help_text=_("Empty: never."),
    )

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        cast(forms.MultipleChoiceField, self.fields["scopes"]).choices = [
            (s.name, f"{s.name}: {s.description}") for s in all_scopes().values()
        ]

    def clean_tenants(self) -> list[str]:
        raw = self.cleaned_data["tenants"].replace(",", "\n")
        return sorted({line.strip() for line in raw.splitlines() if line.strip()})
