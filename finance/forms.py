"""The finance forms: the portal's (history filters, [Top Up Balance], balance settings)
and the staff console's (publish a rate, approve or reject a top-up, adjust a balance).
They check shapes only; the rules are the services'."""

import uuid
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.utils.translation import gettext_lazy as _

from distribution.forms import DateInput
from distribution.models import Distributor

from .models import Account, TopUp, Transaction
from .selectors import HistoryFilters
from .services import TOP_UP_CURRENCIES


class HistoryFilterForm(forms.Form):
    kind = forms.ChoiceField(label=_("Type"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [("", _("All types"))] + list(Transaction.Kind.choices)

    def filters(self) -> HistoryFilters:
        if not self.is_bound or not self.is_valid():
            return HistoryFilters()
        data = self.cleaned_data
        return HistoryFilters(kind=data["kind"], date_from=data["date_from"], date_to=data["date_to"])

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError(_("The start date is after the end date."))
        return data


class TopUpForm(forms.Form):
    amount = forms.DecimalField(
        label=_("Amount transferred"),
        min_value=Decimal("0.01"),
        max_digits=14,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    currency = forms.ChoiceField(
        label=_("Currency"),
        choices=[(code, code) for code in TOP_UP_CURRENCIES],
    )
    method = forms.ChoiceField(label=_("Payment method"), choices=TopUp.Method.choices)
    transfer_reference = forms.CharField(
        label=_("Transfer reference"),
        max_length=120,
        help_text=_("The reference or serial number of your transfer, as your bank or wallet shows it."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    proof = forms.FileField(
        label=_("Proof of payment"),
        help_text=_("A screenshot or scan of the transfer: PDF, JPEG, PNG or WebP, up to 10 MB."),
        widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,.webp,application/pdf,image/*"}),
    )


class PreferenceForm(forms.Form):
    low_balance_threshold = forms.DecimalField(
        label=_("E-mail me when the balance falls below (USD)"),
        min_value=Decimal("0"),
        max_digits=14,
        decimal_places=2,
        help_text=_("0 turns the alert off. The owner and the finance members get one e-mail per fall."),
        widget=forms.NumberInput(attrs={"step": "0.01", "inputmode": "decimal"}),
    )
    auto_pay = forms.BooleanField(
        label=_("Pay orders from the balance automatically"),
        required=False,
        help_text=_("Payable orders are paid as they arrive while the balance covers them."),
    )


# --- the staff console -------------------------------------------------------------------------


class RatePublishForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=[(code, code) for code in TOP_UP_CURRENCIES[1:]])
    usd_per_unit = forms.DecimalField(
        label=_("USD per unit"), max_digits=20, decimal_places=10, min_value=Decimal("0.0000000001")
    )
    valid_from = forms.SplitDateTimeField(
        label=_("Valid from"),
        required=False,
        widget=admin.widgets.AdminSplitDateTime,
        help_text=_("Leave empty for now. A rate is never changed once published: publish a new one instead."),
    )
    source = forms.CharField(label=_("Source or note"), max_length=200, required=False)


class TopUpApproveForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount received"), max_digits=19, decimal_places=4, min_value=Decimal("0"))
    rate = forms.DecimalField(
        label=_("Rate applied (USD per unit)"), max_digits=20, decimal_places=10, min_value=Decimal("0")
    )

    def __init__(self, *args, top_up: TopUp, **kwargs):
        super().__init__(*args, **kwargs)
        if top_up.status == TopUp.Status.FIRST_APPROVAL or top_up.currency == "USD":
            # The second approval confirms the first one's figures; USD has no rate to set.
            self.fields["rate"].disabled = True
        if top_up.status == TopUp.Status.FIRST_APPROVAL:
            self.fields["amount"].disabled = True


class TopUpRejectForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (the distributor sees it)"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
    )


class AdjustmentForm(forms.Form):
    CREDIT, DEBIT = "credit", "debit"

    distributor = forms.ModelChoiceField(
        label=_("Distributor"),
        queryset=Distributor.objects.all(),
        widget=AutocompleteSelect(Account._meta.get_field("distributor"), admin.site),
    )
    direction = forms.ChoiceField(
        label=_("Direction"),
        choices=[(CREDIT, _("Credit (add to the balance)")), (DEBIT, _("Debit (take from the balance)"))],
        widget=forms.RadioSelect,
    )
    amount = forms.DecimalField(label=_("Amount (USD)"), max_digits=14, decimal_places=2, min_value=Decimal("0.01"))
    reason = forms.CharField(label=_("Reason"), max_length=500, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))
    # Made once when the form is shown: a second submit of the same form posts nothing more.
    key = forms.UUIDField(widget=forms.HiddenInput)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("key", uuid.uuid4())
        super().__init__(*args, **kwargs)

    def signed_amount(self) -> Decimal:
        amount = self.cleaned_data["amount"]
        return -amount if self.cleaned_data["direction"] == self.DEBIT else amount
