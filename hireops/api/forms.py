from typing import Any, cast

from django import forms
from django.utils.translation import gettext_lazy as _

from . import keys
from .scopes import all_scopes

# The tenants field's help and its refusal, to a maker who may not view tenants.
TENANTS_NEED_VIEW = _("Limiting a key to tenants needs the permission to view tenants.")


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

    def __init__(self, *args: Any, may_name_tenants: bool = True, **kwargs: Any):
        """``may_name_tenants``: whether the maker may view tenants. Whether a tenant key is
        known is itself something about tenants: a maker who may not view them cannot limit a
        key to some (the field is shown disabled, and a value sent anyway is refused without
        asking which tenants exist), or the form would tell them which keys hireops knows."""
        super().__init__(*args, **kwargs)
        self.may_name_tenants = may_name_tenants
        cast(forms.MultipleChoiceField, self.fields["scopes"]).choices = [
            (s.name, f"{s.name}: {s.description}") for s in all_scopes().values()
        ]
        if not may_name_tenants:
            tenants = self.fields["tenants"]
            tenants.widget.attrs["disabled"] = True
            tenants.help_text = TENANTS_NEED_VIEW

    def clean_tenants(self) -> list[str]:
        """Tenants hireops knows (from their events or the store app's install), as
        ``create_api_key`` asks: a key limited to another would see nothing, ever."""
        raw = self.cleaned_data["tenants"].replace(",", "\n")
        named = sorted({line.strip() for line in raw.splitlines() if line.strip()})
        if named and not self.may_name_tenants:
            raise forms.ValidationError(TENANTS_NEED_VIEW, code="tenants_not_viewable")
        if unknown := keys.unknown_tenants(named):
            raise forms.ValidationError(
                _(
                    "Unknown tenant: %(tenants)s. "
                    "A key limited to a tenant hireops does not know would see nothing."
                ),
                params={"tenants": ", ".join(unknown)},
                code="unknown_tenant",
            )
        return named
