from datetime import timedelta

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from distribution.money import CURRENCY_CHOICES, DEFAULT_CURRENCY

from .models import ShippingMethod
from .selectors import ProductFilters

# A card set to start "now" is typed a minute or two before it is saved.
START_GRACE = timedelta(minutes=10)


class ProductFilterForm(forms.Form):
    """The catalog list's search and filters (a GET form; bad values are ignored, not fatal)."""

    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.SearchInput(attrs={"placeholder": _("Name, product code or Item ID")}),
    )
    warehouse = forms.ChoiceField(label=_("Warehouse"), required=False)
    site = forms.ChoiceField(label=_("Site"), required=False)
    category = forms.TypedChoiceField(label=_("Category"), required=False, coerce=int, empty_value=None)
    in_stock = forms.BooleanField(label=_("In stock only"), required=False)

    def __init__(self, data=None, *, warehouses, sites, categories):
        super().__init__(data)
        self.fields["warehouse"].choices = [("", _("All warehouses"))] + [(w.code, str(w)) for w in warehouses]
        self.fields["site"].choices = [("", _("All sites"))] + [(code, code) for code in sites]
        self.fields["category"].choices = [("", _("All categories"))] + [(c.pk, c.name) for c in categories]

    def filters(self) -> ProductFilters:
        if not self.is_valid():
            # Keep what is valid: a stale warehouse code in a bookmarked URL should not hide the search.
            data = {name: value for name, value in self.cleaned_data.items() if name not in self.errors}
        else:
            data = self.cleaned_data
        return ProductFilters(
            q=data.get("q") or "",
            warehouse=data.get("warehouse") or "",
            site=data.get("site") or "",
            category_id=data.get("category"),
            in_stock=bool(data.get("in_stock")),
        )

    @property
    def is_filtered(self) -> bool:
        return any(self.data.get(name) for name in self.fields)


def validate_new_card_start(value) -> None:
    """A new card starts now or later: the cards that were in force are history, and a
    quote (or an order priced) at a past moment must keep the answer it had."""
    if value is not None and value < timezone.now() - START_GRACE:
        raise ValidationError(_("A new rate card cannot start in the past; choose now or a later moment."))


class RateCardImportForm(forms.Form):
    """The import page: the new card's method and terms, and its zones and rows as a file."""

    method = forms.ModelChoiceField(
        label=_("Shipping method"),
        queryset=ShippingMethod.objects.select_related("warehouse").order_by("warehouse__code", "carrier", "service"),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=CURRENCY_CHOICES, initial=DEFAULT_CURRENCY)
    fuel_surcharge_percent = forms.DecimalField(
        label=_("Fuel surcharge (%)"), min_value=0, max_value=100, max_digits=5, decimal_places=2, initial=0
    )
    effective_from = forms.DateTimeField(
        label=_("Effective from"),
        validators=[validate_new_card_start],
        help_text=_("E.g. 2027-01-01 00:00 (the site's time zone)."),
    )
    effective_to = forms.DateTimeField(label=_("Effective until"), required=False, help_text=_("Optional."))
    note = forms.CharField(label=_("Note"), max_length=200, required=False)
    file = forms.FileField(label=_("Rate card file"), help_text=_("xlsx (or CSV) in the template's columns."))

    def clean(self):
        data = super().clean()
        start, end = data.get("effective_from"), data.get("effective_to")
        if start and end and end <= start:
            self.add_error("effective_to", _("A rate card must end after it starts."))
        return data
