from django import forms
from django.utils.translation import gettext_lazy as _

from . import endpoints, events
from .models import WebhookEndpoint


def _lines(text: str) -> list[str]:
    return sorted({line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()})


class EndpointForm(forms.ModelForm):
    url = forms.URLField(label=_("URL"), max_length=2000, assume_scheme="https")
    event_types = forms.MultipleChoiceField(
        label=_("Event types"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("None chosen: every event its scopes allow."),
    )
    tenants = forms.CharField(
        label=_("Tenants"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Tenant keys, one a line or separated by commas. Empty: every tenant."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("Scopes"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "The events' data is what an API key with these scopes reads; an event needs its read scope."
        ),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "tenants", "scopes"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["event_types"].choices = [(n, f"{n}: {t.description}") for n, t in events.types().items()]
        self.fields["scopes"].choices = [(s, s) for s in endpoints.data_scopes()]
        if self.instance.pk:
            self.initial["tenants"] = "\n".join(self.instance.tenants)

    def clean_tenants(self):
        return _lines(self.cleaned_data["tenants"])

    def clean(self):
        data = super().clean()
        changed = set(self.changed_data)
        try:
            endpoints.check(
                url=data.get("url") if "url" in changed or not self.instance.pk else None,
                event_types=data.get("event_types", []),
                scopes=data.get("scopes", []) if "scopes" in changed or not self.instance.pk else None,
                by=self.user,
            )
        except endpoints.EndpointRefused as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc))
        return data


class ResendForm(forms.Form):
    since = forms.DateTimeField(
        label=_("Failed since"),
        help_text=_("Every delivery that failed and was requested since then is sent again."),
    )
