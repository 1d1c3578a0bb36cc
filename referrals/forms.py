from datetime import datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Field
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hireops.tenants.forms import tenant_field

from .accounts.services import person
from .models import ExternalReferralReward, ReconciliationRun, ReferralAccount, RewardRuleType, RewardStage
from .rewards import services as rewards


class AccountAddForm(forms.ModelForm):
    class Meta:
        model = ReferralAccount
        fields = ("tenant_key", "name", "mobile_code", "mobile_number", "email")
        help_texts = {
            "mobile_code": _("Digits only, e.g. 86 (the default)."),
            "email": _("The employee's work email as Feishu knows it."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant_key"] = tenant_field(initial="")

    def clean(self):
        super().clean()
        data = self.cleaned_data
        try:
            self.person = person(
                data.get("name", ""),
                data.get("mobile_code", ""),
                data.get("mobile_number", ""),
                data.get("email", ""),
            )
        except ValidationError as exc:
            self.add_error(None, exc)  # on the field each error names (the country code's, …)
        return data


class WithdrawForm(forms.Form):
    points = forms.BooleanField(label=_("points"), required=False, initial=True)
    cash = forms.BooleanField(label=_("cash"), required=False, initial=True)

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if not (data.get("points") or data.get("cash")):
            raise ValidationError(_("Choose points, cash or both."))
        return data

    @property
    def bonus_types(self) -> list[int]:
        return [t for t, on in ((1, self.cleaned_data["points"]), (2, self.cleaned_data["cash"])) if on]


class ReconciliationForm(forms.ModelForm):
    start = forms.DateField(
        label=_("from (inclusive)"), initial=lambda: timezone.localdate() - timedelta(days=1)
    )
    end = forms.DateField(label=_("to (inclusive)"), initial=lambda: timezone.localdate() - timedelta(days=1))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant_key"] = tenant_field(initial="")

    class Meta:
        model = ReconciliationRun
        fields = ("tenant_key",)

    def clean(self):
        super().clean()
        data = self.cleaned_data
        if data.get("start") and data.get("end") and data["end"] < data["start"]:
            raise ValidationError(_("The window must end on or after its start."))
        return data

    def window(self) -> tuple[datetime, datetime]:
        tz = timezone.get_current_timezone()
        start = datetime.combine(self.cleaned_data["start"], time.min, tz)
        end = datetime.combine(self.cleaned_data["end"] + timedelta(days=1), time.min, tz)
        return start, end


class PayoutSelectionForm(forms.Form):
    """Which accounts a new payout run pays: every active account with cash, narrowed by a
    tenant and a minimum amount of one currency."""

    title = forms.CharField(label=_("title"), max_length=120, required=False)
    currency = forms.CharField(
        label=_("currency"), max_length=8, required=False, help_text=_("With a minimum amount, e.g. CNY.")
    )
    min_amount = forms.DecimalField(
        label=_("minimum cash"), required=False, min_value=Decimal("0.01"), max_digits=18, decimal_places=2
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant_key"] = tenant_field(everyone=_("Every tenant"), initial="")
        self.order_fields(["title", "tenant_key", "currency", "min_amount"])

    def clean(self):
        super().clean()
        data = self.cleaned_data
        data["currency"] = (data.get("currency") or "").strip().upper()
        if (data.get("min_amount") is None) != (not data["currency"]):
            raise ValidationError(
                _("A minimum amount needs its currency, and a currency its minimum amount.")
            )
        return data

    def selection(self) -> dict:
        """The selection as ``payouts.select_accounts`` takes it (and the run records it)."""
        data = self.cleaned_data
        chosen = {"tenant_key": data.get("tenant_key") or None}
        if data.get("min_amount") is not None:
            chosen.update(currency=data["currency"], min_amount=str(data["min_amount"]))
        return chosen


class PayoutRejectForm(forms.Form):
    reason = forms.CharField(label=_("reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}))


class PayoutTitleForm(forms.Form):
    title = forms.CharField(label=_("title"), max_length=120, required=False)


class RewardAddForm(forms.ModelForm):
    """One external reward typed in by staff: read as an import file's row is
    (``rewards.RewardInput.from_text``, the same checks), each error on its field; a refused
    form changes nothing. ``reward_input`` is what the admin gives the service."""

    rule_type = forms.TypedChoiceField(label=_("rule type"), choices=RewardRuleType.choices, coerce=int)
    stage = forms.TypedChoiceField(label=_("reward status"), choices=RewardStage.choices, coerce=int)
    points = forms.CharField(label=_("points"), required=False, help_text=_("For a reward in points."))
    currency = forms.CharField(label=_("currency"), required=False, max_length=8, initial="CNY")
    amount = forms.CharField(
        label=_("amount"), required=False, help_text=_("For a cash reward, e.g. 200.00.")
    )
    reason = forms.CharField(label=_("reward reason"), required=False, max_length=200)
    comment = forms.CharField(label=_("comment"), required=False, max_length=500, widget=forms.Textarea)

    class Meta:
        model = ExternalReferralReward
        fields = ("tenant_key", "external_id", "employee_id", "name", "application_id", "talent_id", "job_id")
        help_texts = {
            "external_id": _("Your system's id of the reward: importing it again changes nothing."),
            "employee_id": _("The referrer's Feishu user id."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tenant_key"] = tenant_field(initial="")
        for name in rewards.TIMES:
            column = ExternalReferralReward._meta.get_field(name)
            assert isinstance(column, Field)  # the reward's own date columns, not relations
            self.fields[name] = forms.CharField(
                label=column.verbose_name,
                required=False,
                help_text=_("YYYY-MM-DD, optional."),
            )
        for name in rewards.COLUMNS:
            field = self.fields[name]
            if not isinstance(field, forms.TypedChoiceField):  # a list to choose from is checked as one
                # Shown as its column is (required, its length) and checked by the reward input
                # alone: one place, the import's and the API's words.
                field.clean = field.to_python  # type: ignore[method-assign]  # this field's alone

    def _post_clean(self):
        # Not the model's own validation: the rules are the reward input's, the row is the service's.
        data = {name: self.cleaned_data.get(name) for name in rewards.COLUMNS}
        tenant_key = self.cleaned_data.get("tenant_key") or ""
        try:
            self.reward_input = rewards.RewardInput.from_text(data, tenant_key)
        except ValidationError as exc:
            self._update_errors(exc)  # type: ignore[attr-defined]  # Django's, absent from its stub
            return
        self.instance = self.reward_input.row()  # what the admin names until the service keeps it
        taken = ExternalReferralReward.objects.filter(
            tenant_key=tenant_key, external_id=self.reward_input.external_id
        )
        if taken.exists():
            self.add_error("external_id", _("This external id was imported already: nothing to add."))


class RewardDeleteForm(forms.Form):
    reason = forms.CharField(
        label=_("reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Kept on the reward and in its change history."),
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise ValidationError(_("Give the reason for the deletion."))
        return reason
