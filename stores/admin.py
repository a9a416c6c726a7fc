"""Stores in the staff console: find a store, see its status history; never its credentials."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from .models import Store, StoreEvent


class StoreEventInline(admin.TabularInline):
    model = StoreEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "from_status", "to_status", "reason", "actor"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["name", "distributor", "platform", "site", "status", "has_credentials"]
    list_filter = ["platform", "status", "site"]
    search_fields = ["name", "shop_domain", "site_url", "seller_id", "shop_id", "distributor__company_name"]
    autocomplete_fields = ["distributor"]
    # Status moves through services (with an event); credentials are never shown.
    readonly_fields = [
        "status",
        "status_reason",
        "authorized_at",
        "expires_at",
        "scopes",
        "created_by",
        "created_at",
        "updated_at",
        "removed_at",
    ]
    exclude = ["credentials_encrypted", "external_key"]
    inlines = [StoreEventInline]

    @admin.display(description=_("credentials stored"), boolean=True)
    def has_credentials(self, obj):
        return bool(obj.credentials_encrypted)
