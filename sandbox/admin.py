"""The sandbox in the staff console: shops with their fault switches, tokens, orders, traffic,
and the warehouse emulator's accounts, outbound orders and webhooks."""

from django.conf import settings
from django.contrib import admin

from . import state
from .models import (
    SandboxApp,
    SandboxOrder,
    SandboxOutboundOrder,
    SandboxOutboundShipment,
    SandboxRequest,
    SandboxShop,
    SandboxToken,
    SandboxWarehouseAccount,
    SandboxWarehouseWebhook,
    SandboxWebhook,
)


class SandboxShopAdmin(admin.ModelAdmin):
    list_display = ["domain", "platform", "country_code", "currency", "fail_next_429", "fail_next_500", "slow_seconds"]
    list_filter = ["platform"]
    search_fields = ["domain", "name"]
    fieldsets = [
        (None, {"fields": ["platform", "domain", "name", "country_code", "currency", "next_order_number"]}),
        ("Rate limit (leaky bucket)", {"fields": ["bucket_size", "leak_per_second"]}),
        ("Faults", {"fields": ["fail_next_429", "fault_retry_after", "fail_next_500", "slow_seconds"]}),
        ("WooCommerce", {"fields": ["wc_shipment_tracking"]}),
    ]
    actions = ["expire_access_tokens", "expire_refresh_tokens", "revoke_tokens", "create_five_orders"]

    @admin.action(description="Expire the access tokens (clients must refresh)")
    def expire_access_tokens(self, request, queryset):
        for shop in queryset:
            state.tokens_expire_access(shop)

    @admin.action(description="Expire the refresh tokens too (clients must re-authorize)")
    def expire_refresh_tokens(self, request, queryset):
        for shop in queryset:
            state.tokens_expire_refresh(shop)

    @admin.action(description="Revoke every token (the merchant uninstalled the app)")
    def revoke_tokens(self, request, queryset):
        for shop in queryset:
            state.tokens_revoke(shop)

    @admin.action(description="Create five random orders")
    def create_five_orders(self, request, queryset):
        from . import amazon, shopify, tiktok, woocommerce

        for shop in queryset:
            if shop.platform == "shopify":
                shopify.orders_create_random(shop, count=5)
            elif shop.platform == "woocommerce":
                site_url = f"{settings.SANDBOX_BASE_URL}/woocommerce/{shop.domain}"
                woocommerce.orders_create_random(shop, count=5, site_url=site_url)
            elif shop.platform == "amazon":
                amazon.orders_create_random(shop, count=5)
            elif shop.platform == "tiktok":
                tiktok.orders_create_random(shop, count=5)


class SandboxAppAdmin(admin.ModelAdmin):
    list_display = ["platform", "client_id", "name"]


class SandboxTokenAdmin(admin.ModelAdmin):
    list_display = ["shop", "created_at", "access_expires_at", "refresh_used", "revoked"]
    list_filter = ["revoked", "refresh_used"]
    readonly_fields = ["access_token", "refresh_token"]


class SandboxOrderAdmin(admin.ModelAdmin):
    list_display = ["external_id", "shop", "state", "created_at", "updated_at"]
    list_filter = ["state", "shop"]
    search_fields = ["=external_id"]


class SandboxWebhookAdmin(admin.ModelAdmin):
    list_display = ["shop", "topic", "address", "created_at"]


class SandboxWarehouseAccountAdmin(admin.ModelAdmin):
    list_display = ["shop", "webhook_url", "ship_after_seconds", "split_packages", "timeout_next", "lose_next_create"]
    readonly_fields = ["shop"]
    fieldsets = [
        (None, {"fields": ["shop", "api_token"]}),
        (
            "Shipping",
            {
                "fields": [
                    "ship_after_seconds",
                    "split_packages",
                    "second_package_lag_seconds",
                    "carrier",
                    "carrier_service",
                ]
            },
        ),
        (
            "Webhooks",
            {
                "fields": [
                    "webhook_url",
                    "webhook_secret",
                    "webhook_previous_secret",
                    "webhook_delay_seconds",
                    "webhook_duplicates",
                ]
            },
        ),
        ("Faults", {"fields": ["timeout_next", "timeout_seconds", "lose_next_create", "exception_next"]}),
    ]
    actions = ["advance"]

    @admin.action(description="Ship what is due and send the webhooks that are due")
    def advance(self, request, queryset):
        from . import warehouse

        for account in queryset:
            warehouse.advance(account)
            warehouse.deliver_due(account)


class SandboxOutboundShipmentInline(admin.TabularInline):
    model = SandboxOutboundShipment
    extra = 0
    fields = ["external_id", "status", "products", "ship_at", "tracking"]
    readonly_fields = fields
    can_delete = False


class SandboxOutboundOrderAdmin(admin.ModelAdmin):
    list_display = ["reference_id", "account", "status", "created_at", "updated_at"]
    list_filter = ["status", "account"]
    search_fields = ["=reference_id", "=external_id"]
    inlines = [SandboxOutboundShipmentInline]
    actions = ["ship_now"]

    @admin.action(description="Ship now (the packages leave at once)")
    def ship_now(self, request, queryset):
        from . import warehouse

        for order in queryset.select_related("account"):
            warehouse.ship_now(order.account, order.reference_id)
            warehouse.deliver_due(order.account)


class SandboxWarehouseWebhookAdmin(admin.ModelAdmin):
    list_display = ["message_id", "account", "topic", "due_at", "sent_at", "deliveries", "last_result"]
    list_filter = ["topic", "account"]


class SandboxRequestAdmin(admin.ModelAdmin):
    list_display = ["created_at", "shop", "method", "path", "status"]
    list_filter = ["status", "method"]


# The sandbox is not part of a production deployment: its tables stay out of the console there.
if settings.SANDBOX_ENABLED:
    admin.site.register(SandboxShop, SandboxShopAdmin)
    admin.site.register(SandboxApp, SandboxAppAdmin)
    admin.site.register(SandboxToken, SandboxTokenAdmin)
    admin.site.register(SandboxOrder, SandboxOrderAdmin)
    admin.site.register(SandboxWebhook, SandboxWebhookAdmin)
    admin.site.register(SandboxRequest, SandboxRequestAdmin)
    admin.site.register(SandboxWarehouseAccount, SandboxWarehouseAccountAdmin)
    admin.site.register(SandboxOutboundOrder, SandboxOutboundOrderAdmin)
    admin.site.register(SandboxWarehouseWebhook, SandboxWarehouseWebhookAdmin)
