from datetime import timedelta

from django import forms
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from distribution.forms import DateInput

from .actions.recipient import RECIPIENT_LIMITS, REQUIRED
from .models import Logistics, Order, OrderStatus
from .selectors import OrderFilters

SYNC_MAX_DAYS = 90


class OrderFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=100,
        widget=forms.SearchInput(
            attrs={"placeholder": _("Order No, platform order No, recipient, Item ID, tracking No")}
        ),
    )
    status = forms.ChoiceField(label=_("Status"), required=False)
    store = forms.TypedChoiceField(label=_("Store"), required=False, coerce=int, empty_value=None)
    warehouse = forms.ChoiceField(label=_("Warehouse"), required=False)
    logistics = forms.ChoiceField(label=_("Logistics"), required=False)
    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput())
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput())

    def __init__(self, *args, stores=(), warehouses=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All"))] + list(OrderStatus.choices)
        self.fields["store"].choices = [("", _("All stores"))] + [(s.pk, s.label) for s in stores]
        self.fields["warehouse"].choices = [("", _("All warehouses"))] + [(w.code, w.code) for w in warehouses]
        self.fields["logistics"].choices = [("", _("All"))] + list(Logistics.choices)

    def filters(self) -> OrderFilters:
        if not self.is_bound or not self.is_valid():
            return OrderFilters()
        data = self.cleaned_data
        return OrderFilters(
            status=data["status"],
            store_id=data["store"],
            warehouse=data["warehouse"],
            logistics=data["logistics"],
            date_from=data["date_from"],
            date_to=data["date_to"],
            q=data["q"],
        )

    @property
    def is_filtered(self) -> bool:
        filters = self.filters()
        return any(
            getattr(filters, name) for name in ("store_id", "warehouse", "logistics", "date_from", "date_to", "q")
        )


class OrderImportForm(forms.Form):
    store = forms.TypedChoiceField(
        label=_("Store"),
        required=False,
        coerce=int,
        empty_value=None,
        help_text=_("Or leave empty and name a store in each row's Store column."),
    )
    file = forms.FileField(label=_("Order file (.xlsx or .csv)"))

    def __init__(self, *args, stores=(), **kwargs):
        super().__init__(*args, **kwargs)
        # A store with an API sends its orders itself: the file is for the stores without one.
        self.stores = {store.pk: store for store in stores if not store.has_api}
        self.fields["store"].choices = [("", _("The store named in each row"))] + [
            (store.pk, store.label) for store in self.stores.values()
        ]

    def clean_store(self):
        store_id = self.cleaned_data["store"]
        return self.stores.get(store_id) if store_id else None


class LogisticsChoiceForm(forms.Form):
    """[Save logistics] on the order page (a shipping method's id, or self-pickup) and the
    list's bulk [Set logistics] (dropshipping by the cheapest method, or self-pickup).
    Which method may carry the order is for `orders_logistics_choose` to say."""

    SELF_PICKUP = Logistics.SELF_PICKUP.value
    CHEAPEST = Logistics.DROPSHIPPING.value

    logistics_choice = forms.RegexField(
        regex=rf"^(?:{SELF_PICKUP}|{CHEAPEST}|[0-9]{{1,12}})$",
        error_messages={"required": _("Choose a shipping method or self-pickup.")},
    )

    @property
    def choice(self) -> tuple[str, int | None]:
        """(logistics, method_id) for `orders_logistics_choose`; method_id None is the cheapest."""
        value = self.cleaned_data["logistics_choice"]
        if value == self.SELF_PICKUP:
            return Logistics.SELF_PICKUP, None
        if value == self.CHEAPEST:
            return Logistics.DROPSHIPPING, None
        return Logistics.DROPSHIPPING, int(value)


class SyncNowForm(forms.Form):
    """[Sync now]: an optional date range of at most 90 days (orders placed or changed in it)."""

    date_from = forms.DateField(label=_("From"), required=False, widget=DateInput(attrs={"class": "form-control-sm"}))
    date_to = forms.DateField(label=_("To"), required=False, widget=DateInput(attrs={"class": "form-control-sm"}))

    @classmethod
    def for_store(cls, store_id: int, data=None) -> "SyncNowForm":
        """The form of one store's row: the sync page has one per store, each with its own ids."""
        return cls(data, auto_id=f"sync{store_id}_%s")

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        today = timezone.localdate()
        if end and not start:
            raise forms.ValidationError(_("Give the first day of the range too."))
        if start:
            end = end or today
            if end < start:
                raise forms.ValidationError(_("The range ends before it starts."))
            if (end - start) > timedelta(days=SYNC_MAX_DAYS - 1):
                raise forms.ValidationError(_("The range can be at most %(days)d days.") % {"days": SYNC_MAX_DAYS})
            if start > today:
                raise forms.ValidationError(_("The range starts in the future."))
            data["date_to"] = end
        return data


class RecipientForm(forms.Form):
    """[Edit recipient]: the fields `order_recipient_edit` takes, limited to the lengths it
    keeps. The service checks the address (postcode by country, the service area), and the
    view shows its refusal above the form with what was typed."""

    AUTOCOMPLETE = {
        "recipient_name": "name",
        "recipient_company": "organization",
        "recipient_phone": "tel",
        "recipient_email": "email",
        "address1": "address-line1",
        "address2": "address-line2",
        "city": "address-level2",
        "province": "address-level1",
        "postal_code": "postal-code",
        "country": "country",
    }

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "recipient_%s")  # the order page has other forms
        super().__init__(*args, **kwargs)
        for name, limit in RECIPIENT_LIMITS.items():
            attrs = {"autocomplete": self.AUTOCOMPLETE.get(name, "off")}
            if name == "country":
                attrs["style"] = "text-transform:uppercase"
            self.fields[name] = forms.CharField(
                label=capfirst(Order._meta.get_field(name).verbose_name),
                max_length=limit,
                required=name in REQUIRED,
                widget=forms.TextInput(attrs=attrs),
                help_text=_("Two letters, e.g. US or JP.") if name == "country" else "",
            )

    @classmethod
    def for_order(cls, order: Order) -> "RecipientForm":
        return cls(initial={name: getattr(order, name) for name in RECIPIENT_LIMITS})
