"""The staff console for the catalog: warehouses, products with their items, images and
documents inline, xlsx import/export of products and items, and stock movements.

Stock on hand is edited here; `reserved` is read-only (only orders move it), and item
saves go through `services.item_save`, which re-reads `reserved` under a row lock.
"""

from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import XLSX

from distribution import spreadsheet
from distribution.errors import ApplicationError

from . import services
from .models import (
    EXPIRY_WARNING_DAYS,
    Category,
    Document,
    Item,
    Product,
    ProductImage,
    StockMovement,
    Warehouse,
)
from .resources import CheckedXLSX, ItemResource, ProductResource

EXPIRY_BADGES = {
    Document.Expiry.EXPIRED: "#b02a37",
    Document.Expiry.EXPIRING: "#997404",
    Document.Expiry.VALID: "#146c43",
    Document.Expiry.UNLIMITED: "#6c757d",
}


def _error_text(exc: Exception) -> str:
    return " ".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)


def expiry_badge(document: Document):
    if not document.file and document.valid_until is None:
        return "—"
    status = document.expiry
    return format_html(
        '<span style="color:#fff;background:{};padding:1px 6px;border-radius:4px;white-space:nowrap">{}</span>',
        EXPIRY_BADGES[status],
        Document.Expiry(status).label,
    )


def _expiry_q(status: str, prefix: str = "") -> Q:
    today = timezone.localdate()
    soon = today + timedelta(days=EXPIRY_WARNING_DAYS)
    field = f"{prefix}valid_until"
    return {
        Document.Expiry.EXPIRED: Q(**{f"{field}__lt": today}),
        Document.Expiry.EXPIRING: Q(**{f"{field}__gte": today, f"{field}__lte": soon}),
        Document.Expiry.VALID: Q(**{f"{field}__gt": soon}),
        Document.Expiry.UNLIMITED: Q(**{f"{field}__isnull": True}),
    }[status]


class DocumentExpiryFilter(admin.SimpleListFilter):
    title = _("validity")
    parameter_name = "expiry"

    def lookups(self, request, model_admin):
        return Document.Expiry.choices

    def queryset(self, request, queryset):
        if self.value() in Document.Expiry.values:
            return queryset.filter(_expiry_q(self.value()))
        return queryset


class ProductDocumentExpiryFilter(admin.SimpleListFilter):
    title = _("documents")
    parameter_name = "documents"

    def lookups(self, request, model_admin):
        return [
            ("attention", _("Expired or expiring within 30 days")),
            ("none", _("No documents")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "attention":
            stale = Document.objects.filter(
                _expiry_q(Document.Expiry.EXPIRED) | _expiry_q(Document.Expiry.EXPIRING)
            ).values("product_id")
            return queryset.filter(pk__in=stale)
        if self.value() == "none":
            return queryset.filter(documents__isnull=True)
        return queryset


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "country", "sites", "handling_fee", "handling_fee_currency", "is_active"]
    list_filter = ["is_active", "country"]
    search_fields = ["code", "name", "country", "sites"]
    readonly_fields = ["created_at", "updated_at"]


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "product_count"]
    search_fields = ["name"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(products_total=Count("products"))

    @admin.display(description=_("products"), ordering="products_total")
    def product_count(self, obj):
        return obj.products_total


class ItemInline(admin.TabularInline):
    model = Item
    extra = 0
    fields = [
        "item_id",
        "warehouse",
        "variant_attributes",
        "barcode",
        "price",
        "currency",
        "weight_grams",
        "stock_on_hand",
        "reserved",
        "is_active",
    ]
    readonly_fields = ["reserved"]
    autocomplete_fields = ["warehouse"]
    show_change_link = True


class DocumentInline(admin.TabularInline):
    model = Document
    extra = 0
    fields = ["doc_type", "title", "file", "valid_until", "validity"]
    readonly_fields = ["validity"]

    @admin.display(description=_("validity"))
    def validity(self, obj):
        return expiry_badge(obj) if obj.pk else "—"


class ProductImageInline(admin.TabularInline):
    model = ProductImage
    extra = 0
    fields = ["file", "alt_text", "position"]


def _count_of(model, **filters):
    counted = (
        model.objects.filter(product=OuterRef("pk"), **filters)
        .order_by()
        .values("product")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), Value(0))


class CheckedImportAdmin(ImportExportModelAdmin):
    """Says why a refused file was refused (import-export would name only the exception)."""

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, spreadsheet.FileRejected):
            form.add_error("import_file", str(e))
        else:
            super().add_data_read_fail_error_to_form(form, e)


@admin.register(Product)
class ProductAdmin(CheckedImportAdmin):
    resource_classes = [ProductResource]
    import_formats = [CheckedXLSX]
    export_formats = [XLSX]
    list_display = ["code", "name", "brand", "category", "items_total", "documents_badge", "is_active"]
    list_filter = ["is_active", ProductDocumentExpiryFilter, "category"]
    search_fields = ["code", "name", "brand", "items__item_id"]
    list_select_related = ["category"]
    autocomplete_fields = ["category"]
    readonly_fields = ["created_at", "updated_at"]
    inlines = [ItemInline, DocumentInline, ProductImageInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
    fieldsets = [
        (None, {"fields": ["code", "name", "brand", "category", "is_active"]}),
        (_("Description"), {"fields": ["description", "attributes"]}),
        (
            _("Customs and shipping"),
            {
                "fields": [
                    "hs_code",
                    "declared_value",
                    "declared_value_currency",
                    "weight_grams",
                    "length_cm",
                    "width_cm",
                    "height_cm",
                ]
            },  # noqa: E501
        ),
        (_("Cloud drive"), {"fields": ["cloud_drive_url", "cloud_drive_access_code"]}),
        (_("History"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        today = timezone.localdate()
        soon = today + timedelta(days=EXPIRY_WARNING_DAYS)
        return (
            super()
            .get_queryset(request)
            .annotate(
                item_count=_count_of(Item),
                expired_count=_count_of(Document, valid_until__lt=today),
                expiring_count=_count_of(Document, valid_until__gte=today, valid_until__lte=soon),
            )
        )

    @admin.display(description=_("items"), ordering="item_count")
    def items_total(self, obj):
        return obj.item_count

    @admin.display(description=_("documents"))
    def documents_badge(self, obj):
        if obj.expired_count:
            return format_html(
                '<span style="color:#fff;background:{};padding:1px 6px;border-radius:4px">{}</span>',
                EXPIRY_BADGES[Document.Expiry.EXPIRED],
                _("%(n)d expired") % {"n": obj.expired_count},
            )
        if obj.expiring_count:
            return format_html(
                '<span style="color:#fff;background:{};padding:1px 6px;border-radius:4px">{}</span>',
                EXPIRY_BADGES[Document.Expiry.EXPIRING],
                _("%(n)d expiring") % {"n": obj.expiring_count},
            )
        return "—"

    def save_formset(self, request, form, formset, change):
        if formset.model is not Item:
            return super().save_formset(request, form, formset, change)
        items = formset.save(commit=False)
        for item in formset.deleted_objects:
            item.delete()
        for item in items:
            try:
                services.item_save(item=item, reference=f"admin: {request.user}")
            except (ApplicationError, ValidationError) as exc:
                self.message_user(request, f"{item.item_id}: {_error_text(exc)}", messages.ERROR)
        formset.save_m2m()


@admin.register(Item)
class ItemAdmin(CheckedImportAdmin):
    resource_classes = [ItemResource]
    import_formats = [CheckedXLSX]
    export_formats = [XLSX]
    list_display = [
        "item_id",
        "product",
        "warehouse",
        "price",
        "currency",
        "stock_on_hand",
        "reserved",
        "available_stock",
        "is_active",
    ]
    list_filter = ["is_active", "warehouse", "currency"]
    search_fields = ["item_id", "barcode", "product__code", "product__name"]
    list_select_related = ["product", "warehouse"]
    autocomplete_fields = ["product", "warehouse"]
    readonly_fields = ["reserved", "created_at", "updated_at"]

    @admin.display(description=_("available"))
    def available_stock(self, obj):
        return obj.available

    def save_model(self, request, obj, form, change):
        try:
            services.item_save(item=obj, reference=f"admin: {request.user}")
        except (ApplicationError, ValidationError) as exc:
            self.message_user(request, f"{obj.item_id}: {_error_text(exc)}", messages.ERROR)


@admin.register(Document)
class DocumentAdmin(admin.ModelAdmin):
    list_display = ["product", "doc_type", "display_title", "valid_until", "validity", "created_at"]
    list_filter = [DocumentExpiryFilter, "doc_type"]
    search_fields = ["title", "product__code", "product__name"]
    list_select_related = ["product"]
    autocomplete_fields = ["product"]
    date_hierarchy = "valid_until"
    readonly_fields = ["created_at"]

    @admin.display(description=_("validity"), ordering="valid_until")
    def validity(self, obj):
        return expiry_badge(obj)


@admin.register(StockMovement)
class StockMovementAdmin(admin.ModelAdmin):
    """The stock history; written only by the stock services."""

    list_display = ["created_at", "item", "kind", "quantity", "reference", "stock_on_hand_after", "reserved_after"]
    list_filter = ["kind"]
    search_fields = ["item__item_id", "reference"]
    list_select_related = ["item"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
