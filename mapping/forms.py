"""Forms of the mapping pages. They only shape input; the rules live in services."""

from django import forms
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .selectors import MappingFilters
from .skus import PLATFORM_ID_MAX_LENGTH, SKU_MAX_LENGTH, SKU_RULE

STATUS_MAPPED = "mapped"
STATUS_UNMAPPED = "unmapped"
STATUS_NOT_SUPPLIED = "not_supplied"


class MappingFilterForm(forms.Form):
    """The list's filters (GET; a bad value is ignored rather than fatal)."""

    status = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[
            (STATUS_MAPPED, _("Mapped")),
            (STATUS_UNMAPPED, _("Unmapped")),
            (STATUS_NOT_SUPPLIED, _("Not supplied by this platform")),
        ],
    )
    store = forms.TypedChoiceField(label=_("Store"), required=False, coerce=int, empty_value=None)
    q = forms.CharField(label=_("Search"), required=False, max_length=100, widget=forms.SearchInput)

    def __init__(self, data=None, *, stores):
        super().__init__(data)
        self.fields["store"].choices = [("", _("All stores"))] + [(s.pk, str(s)) for s in stores]
        # The SKU queues have no Item ID to search by.
        queue = self.shown_status in (STATUS_UNMAPPED, STATUS_NOT_SUPPLIED)
        self.fields["q"].widget.attrs["placeholder"] = (
            _("Store SKU or product title") if queue else _("Store SKU, Item ID or product name")
        )

    def _data(self) -> dict:
        if not self.is_bound:
            return {}
        self.is_valid()
        return {name: value for name, value in self.cleaned_data.items() if name not in self.errors}

    @property
    def shown_status(self) -> str:
        return self._data().get("status") or STATUS_MAPPED

    def filters(self) -> MappingFilters:
        data = self._data()
        return MappingFilters(store_id=data.get("store"), q=data.get("q") or "")

    @property
    def is_filtered(self) -> bool:
        return bool(self.data.get("store") or self.data.get("q"))


class MappingForm(forms.Form):
    store = forms.ModelChoiceField(label=_("Store"), queryset=None, empty_label=_("Choose a store"))
    store_sku = forms.CharField(
        label=_("Store SKU"),
        max_length=SKU_MAX_LENGTH + 20,  # blanks around it are trimmed by the service
        strip=False,
        help_text=SKU_RULE,
    )
    item_id = forms.CharField(
        label=_("Item ID"),
        max_length=64,
        help_text=_("Only items in a warehouse serving the store's site are offered."),
    )
    platform_product_id = forms.CharField(
        label=_("Platform product ID (optional)"), max_length=PLATFORM_ID_MAX_LENGTH, required=False
    )
    platform_variant_id = forms.CharField(
        label=_("Platform variant ID (optional)"), max_length=PLATFORM_ID_MAX_LENGTH, required=False
    )

    def __init__(self, *args, stores, fixed_store=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = stores
        if fixed_store is not None:
            self.fields["store"].disabled = True
            self.fields["store"].initial = fixed_store.pk
        # The search-as-you-type of static/mapping/mapping.js: each box names its suggestions
        # list, the URL it asks and the store field (or, editing, the fixed store) it filters by.
        store_field = {"data-store-field": self["store"].auto_id}
        if fixed_store is not None:
            store_field["data-store-id"] = fixed_store.pk
        self.fields["store_sku"].widget.attrs.update(
            {
                "autocomplete": "off",
                "class": "font-monospace",
                "list": "seen-skus",
                "data-sku-search": reverse("mapping:sku_search"),
                "placeholder": _("Type a SKU or pick one seen in its orders"),
                **store_field,
            }
        )
        self.fields["item_id"].widget.attrs.update(
            {
                "autocomplete": "off",
                "class": "font-monospace",
                "list": "site-items",
                "data-item-search": reverse("mapping:item_search"),
                "placeholder": _("Search by Item ID, product name or code"),
                **store_field,
            }
        )


class ImportUploadForm(forms.Form):
    file = forms.FileField(
        label=_("Excel file (.xlsx)"),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".xlsx,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
        ),
    )
