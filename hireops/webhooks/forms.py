from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from hireops.api.models import ApiKey

from . import endpoints, events
from .models import WebhookEndpoint

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    # Django's form classes are generic to the checker only (no ``[...]`` at run time).
    _KeyChoiceField = forms.ModelChoiceField[ApiKey]
    _EndpointModelForm = forms.ModelForm[WebhookEndpoint]
else:
    _KeyChoiceField = forms.ModelChoiceField
    _EndpointModelForm = forms.ModelForm


def _lines(text: str) -> list[str]:
    return sorted({line.strip() for line in text.replace(",", "\n").splitlines() if line.strip()})


class OwnerKeyField(_KeyChoiceField):
    def label_from_instance(self, obj: ApiKey) -> str:
        return f"{obj.name} ({obj.prefix}…): {', '.join(obj.scopes)}"


class EndpointForm(_EndpointModelForm):
    """An endpoint as a person makes or changes it. The endpoint as it will be is checked
    against what the person may read (``endpoints.Reach.of_person``), whatever field changed:
    pointing an endpoint elsewhere is as telling as giving it a scope. A superuser may also hand
    it to another API key (``owner_key``), one that may read all it is sent."""

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
            "The events' data is what an API key with these scopes reads; an event needs its read scope. "
            "None chosen: the read scopes its event types need among those you may give (personal data "
            "only when chosen)."
        ),
    )
    owner_key = OwnerKeyField(
        label=_("Owner (API key)"),
        queryset=ApiKey.objects.filter(revoked_at__isnull=True),
        required=False,
        help_text=_(
            "The API key that alone reaches this endpoint through the API (superusers only). Handing it "
            "to another key keeps its secret: rotate it if the previous key should no longer know it."
        ),
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["url", "description", "event_types", "tenants", "scopes", "owner_key"]

    def __init__(self, *args: Any, user: "User", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        event_types, scopes = self.fields["event_types"], self.fields["scopes"]
        assert isinstance(event_types, forms.ChoiceField) and isinstance(
            scopes, forms.ChoiceField
        )  # declared above
        event_types.choices = [(n, f"{n}: {t.description}") for n, t in events.types().items()]
        scopes.choices = [(s, s) for s in endpoints.data_scopes()]
        if self.instance.pk:
            self.initial["tenants"] = "\n".join(self.instance.tenants)
        if not (self.instance.pk and user is not None and user.is_superuser):
            del self.fields["owner_key"]

    def clean_tenants(self) -> list[str]:
        return _lines(self.cleaned_data["tenants"])

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        if self.errors:
            return data
        reach = endpoints.Reach.of_person(self.user)
        types, tenants = sorted(data.get("event_types") or []), data.get("tenants") or []
        data["scopes"] = endpoints.resolved_scopes(reach, types, data.get("scopes") or [])
        new = not self.instance.pk
        moved = new or data.get("url") != WebhookEndpoint.objects.get(pk=self.instance.pk).url
        try:
            if not new:  # as it is now: one who may not read what it is sent changes nothing of it
                endpoints.refuse_unless_covered(reach, WebhookEndpoint.objects.get(pk=self.instance.pk))
            endpoints.check(
                reach,
                url=data.get("url") if moved else None,
                event_types=types,
                scopes=data["scopes"],
                tenants=tenants,
            )
        except endpoints.EndpointRefused as exc:
            self.add_error(exc.field if exc.field in self.fields else None, str(exc))
            return data
        owner = data.get("owner_key")
        if "owner_key" in self.fields and owner is not None:
            as_it_will_be = WebhookEndpoint(scopes=data["scopes"], tenants=tenants)
            if not owner.usable or not endpoints.Reach.of_key(owner).covers(as_it_will_be):
                self.add_error("owner_key", endpoints.NOT_THAT_KEY)
        return data


class ResendForm(forms.Form):
    since = forms.DateTimeField(
        label=_("Failed since"),
        help_text=_("Every delivery that failed and was requested since then is sent again."),
    )
