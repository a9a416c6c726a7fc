"""The staff console for orders: platform orders with their raw payload, distribution
orders with lines and timeline, ingestion errors with their reasons, pulls and imports.

Status and money are read-only here: they move only through the services."""

import json

from django.contrib import admin
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from .models import (
    IngestionError,
    Order,
    OrderEvent,
    OrderImport,
    OrderLine,
    PlatformOrder,
    PullRun,
    StorePullState,
    WebhookDelivery,
)


def _pretty(value) -> str:
    return format_html(
        "<pre style='white-space: pre-wrap; max-width: 70rem'>{}</pre>",
        json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True),
    )


@admin.register(PlatformOrder)
class PlatformOrderAdmin(admin.ModelAdmin):
    list_display = [
        "external_id",
        "display_number",
        "store",
        "source",
        "financial_status",
        "fulfillment_status",
        "is_cancelled",
        "disposition",
        "placed_at",
    ]
    list_filter = ["source", "disposition", "is_cancelled", "store__platform"]
    search_fields = ["external_id", "display_number", "buyer_name", "store__name"]
    list_select_related = ["store"]
    autocomplete_fields = ["store"]
    exclude = ["raw", "lines", "shipping_address"]
    readonly_fields = ["raw_payload", "lines_json", "address_json", "content_hash", "received_at", "updated_at"]

    @admin.display(description=_("raw payload"))
    def raw_payload(self, obj):
        return _pretty(obj.raw)

    @admin.display(description=_("lines"))
    def lines_json(self, obj):
        return _pretty(obj.lines)

    @admin.display(description=_("shipping address"))
    def address_json(self, obj):
        return _pretty(obj.shipping_address)

    def has_add_permission(self, request):
        return False


class OrderLineInline(admin.TabularInline):
    model = OrderLine
    extra = 0
    can_delete = False
    fields = ["store_sku", "item_code", "product_name", "warehouse_code", "quantity", "unit_price", "currency"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


class OrderEventInline(admin.TabularInline):
    model = OrderEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "message", "actor"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["number", "distributor", "store", "status", "warehouse", "total_amount", "currency", "created_at"]
    list_filter = ["status", "logistics", "warehouse"]
    search_fields = [
        "number",
        "recipient_name",
        "platform_order__display_number",
        "platform_order__external_id",
        "tracking_number",
    ]
    list_select_related = ["distributor", "store", "warehouse"]
    autocomplete_fields = ["store", "platform_order", "parent"]
    readonly_fields = [
        "status",
        "goods_amount",
        "shipping_amount",
        "handling_amount",
        "total_amount",
        "currency",
        "missing_skus",
        "platform_change_flag",
        "created_at",
        "updated_at",
    ]
    inlines = [OrderLineInline, OrderEventInline]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(IngestionError)
class IngestionErrorAdmin(admin.ModelAdmin):
    """Orders that could not be taken in, with the reason: the staff's view of what went wrong."""

    list_display = ["last_seen_at", "store", "source", "external_id", "reason", "occurrences"]
    list_filter = ["source", "store__platform"]
    search_fields = ["external_id", "reason", "store__name"]
    list_select_related = ["store"]
    exclude = ["payload", "fingerprint"]
    readonly_fields = [
        "store",
        "source",
        "external_id",
        "reason",
        "occurrences",
        "created_at",
        "last_seen_at",
        "payload_json",
    ]

    @admin.display(description=_("payload"))
    def payload_json(self, obj):
        return _pretty(obj.payload)

    def has_add_permission(self, request):
        return False


@admin.register(PullRun)
class PullRunAdmin(admin.ModelAdmin):
    list_display = ["created_at", "store", "trigger", "status", "fetched", "created", "updated", "failed", "message"]
    list_filter = ["status", "trigger"]
    search_fields = ["store__name", "message"]
    list_select_related = ["store"]
    readonly_fields = [f.name for f in PullRun._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(StorePullState)
class StorePullStateAdmin(admin.ModelAdmin):
    list_display = ["store", "pull_interval", "last_pull_at", "last_result", "last_order_count", "lease_until"]
    list_filter = ["last_result"]
    search_fields = ["store__name", "store__distributor__company_name"]
    list_select_related = ["store"]
    # Staff may change how often a store is pulled; the rest is the pull's own record.
    readonly_fields = [
        "store",
        "cursor",
        "last_pull_at",
        "last_result",
        "last_message",
        "last_order_count",
        "lease_owner",
        "lease_until",
        "enqueued_at",
    ]

    def has_add_permission(self, request):
        return False


@admin.register(OrderImport)
class OrderImportAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "original_name",
        "distributor",
        "store",
        "status",
        "total_rows",
        "order_count",
        "new_count",
        "error_count",
    ]
    list_filter = ["status"]
    search_fields = ["original_name", "distributor__company_name"]
    list_select_related = ["distributor", "store"]
    readonly_fields = [f.name for f in OrderImport._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = ["received_at", "platform", "topic", "webhook_id", "store", "external_id"]
    list_filter = ["platform", "topic"]
    search_fields = ["webhook_id", "external_id"]
    list_select_related = ["store"]
    readonly_fields = [f.name for f in WebhookDelivery._meta.fields]

    def has_add_permission(self, request):
        return False
