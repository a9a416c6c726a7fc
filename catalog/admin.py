"""The staff console for the catalog: warehouses, products with their items, images and
documents inline, xlsx import/export of products and items, and stock movements; and
logistics: shipping methods (inline on their warehouse too), rate cards with their zones
inline, zones with their weight rows inline, and a rate card's xlsx import and export.

Stock on hand is edited here; `reserved` is read-only (only orders move it), and item
saves go through `services.item_save`, which re-reads `reserved` under a row lock.

A rate card is read-only here once it has started (its zones and rows too): it is the
record of what was charged. Only its end may still be set, to now or later; new prices
are a new version, added here or imported from a file (export, edit, import).
"""

from datetime import datetime, timedelta
from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.forms.models import BaseInlineFormSet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportExportModelAdmin
from import_export.formats.base_formats import XLSX

from distribution import spreadsheet
from distribution.errors import ApplicationError

from . import ratecard_xlsx, services
from .forms import START_GRACE, RateCardImportForm, validate_new_card_start
from .models import (
    EXPIRY_WARNING_DAYS,
    Category,
    Document,
    Item,
    Product,
    ProductImage,
    RateCard,
    RateRow,
    RateZone,
    ShippingMethod,
    StockMovement,
    Warehouse,
)
from .resources import CheckedXLSX, ItemResource, ProductResource
from .shipping import zone_overlaps

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


class ShippingMethodInline(admin.TabularInline):
    model = ShippingMethod
    extra = 0
    fields = [
        "carrier",
        "service",
        "code",
        "countries",
        "excluded_regions",
        "eta_min_days",
        "eta_max_days",
        "volumetric_divisor",
        "is_active",
    ]
    show_change_link = True


@admin.register(Warehouse)
class WarehouseAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "country",
        "sites",
        "handling_fee",
        "handling_fee_currency",
        "handling_fee_per_extra_piece",
        "self_pickup_fee",
        "self_pickup_fee_currency",
        "is_active",
    ]
    list_filter = ["is_active", "country"]
    search_fields = ["code", "name", "country", "sites"]
    readonly_fields = ["created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["code", "name", "country", "sites", "is_active"]}),
        (
            _("Fees"),
            {
                "fields": [
                    "handling_fee",
                    "handling_fee_currency",
                    "handling_fee_per_extra_piece",
                    "self_pickup_fee",
                    "self_pickup_fee_currency",
                ]
            },
        ),
        (_("Self-pickup"), {"fields": ["address", "opening_hours"]}),
        (_("History"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]
    inlines = [ShippingMethodInline]


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
        "length_cm",
        "width_cm",
        "height_cm",
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


# --- logistics ------------------------------------------------------------------------------------


def _card_frozen(card: RateCard | None) -> bool:
    """A card that has started is history: nothing of it changes but its end."""
    return card is not None and card.pk is not None and card.has_started()


def _zone_from(data: dict, card: RateCard | None) -> RateZone | None:
    """The zone a form describes, normalised; None when its own fields are wrong (the
    form says why)."""
    zone = RateZone(
        card=card,
        name=data.get("name") or "",
        country=data.get("country") or "",
        regions=data.get("regions") or "",
        postcode_prefixes=data.get("postcode_prefixes") or "",
    )
    try:
        zone.clean()
    except ValidationError:
        return None
    return zone


@admin.register(ShippingMethod)
class ShippingMethodAdmin(admin.ModelAdmin):
    list_display = ["name", "warehouse", "code", "countries", "eta", "volumetric_divisor", "card_in_force", "is_active"]
    list_filter = ["is_active", "warehouse", "carrier"]
    search_fields = ["carrier", "service", "code", "warehouse__code"]
    list_select_related = ["warehouse"]
    autocomplete_fields = ["warehouse"]
    readonly_fields = ["created_at", "updated_at"]
    ordering = ["warehouse__code", "carrier", "service"]
    fieldsets = [
        (None, {"fields": ["warehouse", "carrier", "service", "code", "is_active"]}),
        (_("Where it goes"), {"fields": ["countries", "excluded_regions"]}),
        (_("Delivery and weight"), {"fields": ["eta_min_days", "eta_max_days", "volumetric_divisor"]}),
        (_("History"), {"fields": ["created_at", "updated_at"], "classes": ["collapse"]}),
    ]

    def get_queryset(self, request):
        in_force = (
            RateCard.objects.in_force(timezone.now())
            .filter(method=OuterRef("pk"))
            .order_by("-effective_from")
            .values("version")[:1]
        )
        queryset = super().get_queryset(request).select_related("warehouse")
        return queryset.annotate(version_in_force=Subquery(in_force))

    @admin.display(description=_("name"), ordering="carrier")
    def name(self, obj):
        return obj.name

    @admin.display(description=_("delivery (business days)"))
    def eta(self, obj):
        return f"{obj.eta_min_days}–{obj.eta_max_days}"

    @admin.display(description=_("rate card in force"))
    def card_in_force(self, obj):
        if obj.version_in_force is None:
            return format_html('<span style="color:#b02a37">{}</span>', _("none"))
        return _("version %(version)s") % {"version": obj.version_in_force}


class RateZoneFormSet(BaseInlineFormSet):
    """The card's zones must not claim one destination twice (catalog.shipping.zone_overlaps)."""

    def clean(self):
        super().clean()
        zones = []
        for form in self.forms:
            if self._should_delete_form(form) or not getattr(form, "cleaned_data", None):
                continue
            zone = _zone_from(form.cleaned_data, self.instance)
            if zone is not None:
                zones.append(zone)
        problems = [problem for _index, problem in zone_overlaps(zones)]
        if problems:
            raise ValidationError(problems)


class FrozenWithCardInline(admin.TabularInline):
    """An inline that stops changing once its card has started."""

    def _card(self, obj) -> RateCard | None:
        raise NotImplementedError

    def has_add_permission(self, request, obj=None):
        return not _card_frozen(self._card(obj)) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _card_frozen(self._card(obj)) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _card_frozen(self._card(obj)) and super().has_delete_permission(request, obj)


class RateZoneInline(FrozenWithCardInline):
    model = RateZone
    formset = RateZoneFormSet
    extra = 0
    fields = ["name", "country", "regions", "postcode_prefixes", "row_count"]
    readonly_fields = ["row_count"]
    show_change_link = True

    def _card(self, obj):
        return obj

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rows_total=Count("rows"))

    @admin.display(description=_("weight rows"))
    def row_count(self, obj):
        return getattr(obj, "rows_total", "—") if obj.pk else "—"


class RateCardAdminForm(forms.ModelForm):
    class Meta:
        model = RateCard
        fields = ["method", "currency", "fuel_surcharge_percent", "effective_from", "effective_to", "note"]

    def clean_effective_from(self):
        value = self.cleaned_data["effective_from"]
        if self.instance.pk is None or "effective_from" in self.changed_data:
            validate_new_card_start(value)
        return value

    def clean_effective_to(self):
        value = self.cleaned_data.get("effective_to")
        ending_late = value is not None and value < timezone.now() - START_GRACE
        if _card_frozen(self.instance) and "effective_to" in self.changed_data and ending_late:
            raise ValidationError(_("A card in force can only be given an end from now on."))
        return value


@admin.register(RateCard)
class RateCardAdmin(admin.ModelAdmin):
    form = RateCardAdminForm
    change_list_template = "catalog/admin/ratecard_change_list.html"
    change_form_template = "catalog/admin/ratecard_change_form.html"
    list_display = [
        "method",
        "version",
        "effective_from",
        "effective_to",
        "state",
        "currency",
        "fuel_surcharge_percent",
        "zones_total",
    ]
    list_filter = ["method__warehouse", "method", "currency"]
    search_fields = ["method__carrier", "method__service", "method__code", "note"]
    list_select_related = ["method__warehouse"]
    autocomplete_fields = ["method"]
    date_hierarchy = "effective_from"
    inlines = [RateZoneInline]
    frozen_fields = ["method", "currency", "fuel_surcharge_percent", "effective_from"]
    always_read_only = ["version", "created_by", "created_at"]

    def get_queryset(self, request):
        current = (
            RateCard.objects.in_force(timezone.now())
            .filter(method=OuterRef("method"))
            .order_by("-effective_from")
            .values("pk")[:1]
        )
        return super().get_queryset(request).annotate(zone_count=Count("zones"), current_pk=Subquery(current))

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.has_ended():
            return [*self.always_read_only, *self.frozen_fields, "effective_to"]
        if _card_frozen(obj):
            return [*self.always_read_only, *self.frozen_fields]
        return self.always_read_only

    def has_delete_permission(self, request, obj=None):
        return not _card_frozen(obj) and super().has_delete_permission(request, obj)

    @admin.display(description=_("zones"), ordering="zone_count")
    def zones_total(self, obj):
        return obj.zone_count

    @admin.display(description=_("state"))
    def state(self, obj):
        if not obj.has_started():
            return _("upcoming")
        if obj.pk == obj.current_pk:
            return _("in force")
        return _("ended") if obj.has_ended() else _("superseded")

    def save_model(self, request, obj, form, change):
        services.rate_card_save(card=obj, actor=request.user)

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [
            path("import/", wrap(self.import_view), name="catalog_ratecard_import"),
            path("import/template/", wrap(self.template_view), name="catalog_ratecard_template"),
            path("<int:object_id>/export/", wrap(self.export_view), name="catalog_ratecard_export"),
            *super().get_urls(),
        ]

    def export_view(self, request, object_id):
        card = get_object_or_404(RateCard.objects.select_related("method__warehouse"), pk=object_id)
        if not self.has_view_permission(request, card):
            raise PermissionDenied
        name = f"rate-card-{card.method.warehouse.code}-{card.method.code}-v{card.version}.xlsx"
        return _xlsx_response(ratecard_xlsx.rate_card_bytes(card), name)

    def template_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        return _xlsx_response(ratecard_xlsx.template_bytes(), "rate-card-template.xlsx")

    def import_view(self, request):
        """Upload, preview (row errors, or the zones read), confirm. A file with any wrong
        row is refused whole; the confirm step saves what the preview showed, signed
        into the page, so nothing is stored between the two steps."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        if request.method == "POST" and "payload" in request.POST:
            return self._import_confirm(request)
        read = None
        if request.method == "POST":
            form = RateCardImportForm(request.POST, request.FILES)
            if form.is_valid():
                read = self._read_upload(form)
        else:
            form = RateCardImportForm(initial=request.GET.dict())
        payload = _signed_payload(form.cleaned_data, read) if read is not None and read.ok else ""
        return self._import_page(request, form, read, payload)

    def _read_upload(self, form) -> ratecard_xlsx.ReadCard | None:
        upload = form.cleaned_data["file"]
        try:
            return ratecard_xlsx.read_rate_card(upload, name=upload.name, currency=form.cleaned_data["currency"])
        except ApplicationError as exc:  # spreadsheet.FileRejected among them
            form.add_error("file", str(exc))
            return None

    def _import_confirm(self, request):
        try:
            data = signing.loads(request.POST["payload"], salt=IMPORT_SALT, max_age=IMPORT_MAX_AGE)
        except signing.BadSignature:  # expired ones included
            self.message_user(request, _("The preview has expired; upload the file again."), messages.ERROR)
            return redirect("admin:catalog_ratecard_import")
        effective_from = datetime.fromisoformat(data["effective_from"])
        try:
            validate_new_card_start(effective_from)
            card = services.rate_card_create(
                method=get_object_or_404(ShippingMethod, pk=data["method"]),
                currency=data["currency"],
                fuel_surcharge_percent=Decimal(data["fuel_surcharge_percent"]),
                effective_from=effective_from,
                effective_to=datetime.fromisoformat(data["effective_to"]) if data["effective_to"] else None,
                note=data["note"],
                zones=ratecard_xlsx.zones_from_data(data["zones"]),
                actor=request.user,
            )
        except (ApplicationError, ValidationError) as exc:
            self.message_user(request, _error_text(exc), messages.ERROR)
            return redirect("admin:catalog_ratecard_import")
        self.message_user(
            request,
            _("Imported %(card)s: %(zones)d zones, %(rows)d weight rows.")
            % {"card": card, "zones": card.zones.count(), "rows": RateRow.objects.filter(zone__card=card).count()},
            messages.SUCCESS,
        )
        return redirect("admin:catalog_ratecard_change", card.pk)

    def _import_page(self, request, form, read, payload):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Import a rate card"),
            "form": form,
            "media": self.media + form.media,
            "read": read,
            "errors_shown": read.errors[:MAX_ERRORS_SHOWN] if read else [],
            "errors_hidden": max(0, len(read.errors) - MAX_ERRORS_SHOWN) if read else 0,
            "payload": payload,
            "instructions": ratecard_xlsx.instructions(),
        }
        return TemplateResponse(request, "catalog/admin/ratecard_import.html", context)


IMPORT_SALT = "catalog.ratecard.import"
IMPORT_MAX_AGE = 3600
MAX_ERRORS_SHOWN = 200


def _signed_payload(data: dict, read: ratecard_xlsx.ReadCard) -> str:
    return signing.dumps(
        {
            "method": data["method"].pk,
            "currency": data["currency"],
            "fuel_surcharge_percent": str(data["fuel_surcharge_percent"]),
            "effective_from": data["effective_from"].isoformat(),
            "effective_to": data["effective_to"].isoformat() if data.get("effective_to") else "",
            "note": data.get("note") or "",
            "zones": ratecard_xlsx.zones_to_data(read.zones),
        },
        salt=IMPORT_SALT,
        compress=True,
    )


def _xlsx_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=spreadsheet.XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


class RateRowInline(FrozenWithCardInline):
    model = RateRow
    extra = 0
    fields = ["max_grams", "first_grams", "first_price", "step_grams", "step_price", "min_charge"]

    def _card(self, obj):
        return obj.card if obj is not None else None


class RateZoneAdminForm(forms.ModelForm):
    class Meta:
        model = RateZone
        fields = ["card", "name", "country", "regions", "postcode_prefixes"]

    def clean(self):
        data = super().clean()
        card = data.get("card")
        zone = _zone_from(data, card) if card is not None else None
        if zone is not None:
            siblings = list(card.zones.exclude(pk=self.instance.pk)) if self.instance.pk else list(card.zones.all())
            problems = [problem for index, problem in zone_overlaps([*siblings, zone]) if index == len(siblings)]
            if problems:
                raise ValidationError(problems)
        return data


@admin.register(RateZone)
class RateZoneAdmin(admin.ModelAdmin):
    form = RateZoneAdminForm
    list_display = ["name", "card", "country", "regions", "postcode_prefixes", "row_count"]
    list_filter = ["card__method__warehouse", "country"]
    search_fields = ["name", "country", "regions", "postcode_prefixes", "card__method__code"]
    list_select_related = ["card__method__warehouse"]
    inlines = [RateRowInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(rows_total=Count("rows"))

    @admin.display(description=_("weight rows"), ordering="rows_total")
    def row_count(self, obj):
        return obj.rows_total

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and _card_frozen(obj.card):
            return ["card", "name", "country", "regions", "postcode_prefixes"]
        return []

    def has_delete_permission(self, request, obj=None):
        return not (obj is not None and _card_frozen(obj.card)) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "card":
            # Zones are added only to cards that have not started.
            kwargs["queryset"] = RateCard.objects.filter(effective_from__gt=timezone.now()).select_related(
                "method__warehouse"
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
