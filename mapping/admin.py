"""Mappings, seen SKUs and imports in the staff console.

Staff may add, fix and delete mappings; every save goes through the same services as
the portal, so the site rule and the SKU normalisation hold here too (the form shows a
refusal beside the field). Seen SKUs are written by the orders app and imports by
their distributors: both are read-only here.
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from distribution.errors import ApplicationError

from . import services
from .models import Mapping, MappingImport, SeenSku


class MappingAdminForm(forms.ModelForm):
    class Meta:
        model = Mapping
        fields = ["store", "store_sku", "item", "platform_product_id", "platform_variant_id"]

    def clean(self):
        cleaned = super().clean()
        # On a change the store is read-only (not in the form): it is the mapping's own.
        store = cleaned.get("store") or (self.instance.store if self.instance.pk else None)
        item = cleaned.get("item")
        if store is None or item is None or "store_sku" not in cleaned:
            return cleaned
        try:
            sku, _item = services.mapping_validate(
                store=store, store_sku=cleaned["store_sku"], item=item, exclude_pk=self.instance.pk
            )
        except ApplicationError as exc:
            field = {"item_id": "item", "store_sku": "store_sku"}.get(exc.extra.get("field"))
            self.add_error(field, ValidationError(str(exc)))
            return cleaned
        cleaned["store_sku"] = sku
        return cleaned

    def validate_unique(self):
        # The service reports a taken store SKU with a better message than the constraint's.
        pass


@admin.register(Mapping)
class MappingAdmin(admin.ModelAdmin):
    form = MappingAdminForm
    list_display = ["store_sku", "store", "item", "source", "updated_at"]
    list_filter = ["source", "store__platform", "store__site"]
    search_fields = ["store_sku", "item__item_id", "store__name", "store__distributor__company_name"]
    list_select_related = ["store", "item"]
    autocomplete_fields = ["store", "item"]
    readonly_fields = ["source", "created_by", "created_at", "updated_at"]

    def get_readonly_fields(self, request, obj=None):
        # A mapping's store is fixed once made: delete it and add another instead.
        return [*self.readonly_fields, "store"] if obj else self.readonly_fields

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        fields = {
            "store_sku": data["store_sku"],
            "item": data["item"],
            "platform_product_id": data.get("platform_product_id", ""),
            "platform_variant_id": data.get("platform_variant_id", ""),
        }
        if change:
            saved = services.mapping_update(actor=request.user, mapping=obj, **fields)
        else:
            saved = services.mapping_create(actor=request.user, store=data["store"], **fields)
        obj.pk, obj.store_sku, obj.item = saved.pk, saved.store_sku, saved.item

    def delete_model(self, request, obj):
        services.mapping_delete(actor=request.user, mapping=obj)

    def delete_queryset(self, request, queryset):
        for mapping in queryset.select_related("store"):
            try:
                services.mapping_delete(actor=request.user, mapping=mapping)
            except ApplicationError as exc:
                self.message_user(request, str(exc), messages.ERROR)


class MappedFilter(admin.SimpleListFilter):
    title = _("mapped")
    parameter_name = "mapped"

    def lookups(self, request, model_admin):
        return [("yes", _("Yes")), ("no", _("No"))]

    def queryset(self, request, queryset):
        from .selectors import mapped_exists

        if self.value() in ("yes", "no"):
            return queryset.alias(mapped=mapped_exists()).filter(mapped=self.value() == "yes")
        return queryset


@admin.register(SeenSku)
class SeenSkuAdmin(admin.ModelAdmin):
    list_display = ["sku", "store", "title", "waiting_orders", "last_seen_at"]
    list_filter = [MappedFilter, "store__platform", "store__site"]
    search_fields = ["sku", "title", "store__name", "store__distributor__company_name"]
    list_select_related = ["store"]
    readonly_fields = ["store", "sku", "title", "first_seen_at", "last_seen_at", "waiting_orders"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(MappingImport)
class MappingImportAdmin(admin.ModelAdmin):
    list_display = [
        "original_name",
        "distributor",
        "status",
        "total_rows",
        "new_count",
        "changed_count",
        "rejected_count",
        "created_at",
    ]
    list_filter = ["status"]
    search_fields = ["original_name", "distributor__company_name"]
    list_select_related = ["distributor"]
    exclude = ["rejected_rows", "changes_sample"]

    def get_queryset(self, request):
        return super().get_queryset(request).defer("rejected_rows", "changes_sample")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
