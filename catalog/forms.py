from django import forms
from django.utils.translation import gettext_lazy as _

from .selectors import ProductFilters


class ProductFilterForm(forms.Form):
    """The catalog list's search and filters (a GET form; bad values are ignored, not fatal)."""

    q = forms.CharField(label=_("Search"), required=False, max_length=100)
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
