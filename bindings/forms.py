from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import EcoAccountBinding, MatchingRule, VendorCustomer, field_key_validator


class MatchingRuleForm(forms.ModelForm):
    keys = forms.CharField(
        label=_("identifying keys"),
        help_text=_(
            "Custom-field keys, separated by commas. Each one identifies a customer on its own; "
            "values pointing at different customers go to review."
        ),
    )

    class Meta:
        model = MatchingRule
        fields = ("scope", "keys")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.initial["keys"] = ", ".join(self.instance.keys)

    def clean_keys(self):
        keys = [k.strip() for k in self.cleaned_data["keys"].split(",") if k.strip()]
        if not keys:
            raise ValidationError(_("Give at least one key."))
        for key in keys:
            field_key_validator(key)
        return list(dict.fromkeys(keys))


class BindCustomerForm(forms.Form):
    customer = forms.ModelChoiceField(queryset=VendorCustomer.objects.all(), label=_("customer"))
    reason = forms.CharField(label=_("why"), required=False, max_length=500)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The admin's searchable picker (customer names and identifier values), made for this
        # form: it speaks the language active when it is made ("Searching…", "No results").
        customer = self.fields["customer"]
        assert isinstance(customer, forms.ModelChoiceField)
        customer.widget = AutocompleteSelect(EcoAccountBinding._meta.get_field("customer"), admin.site)
        customer.widget.choices = customer.choices


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("why"), max_length=500)
