"""The warehouses' webhook endpoint, mounted at /webhooks/warehouse/ by distribution/urls.py
and listed in tests/portal_urls.PUBLIC_URL_NAMES (signed by the warehouse, no login)."""

from django.urls import path

from . import webhooks

app_name = "warehouse_webhooks"
urlpatterns = [
    path("<str:code>/", webhooks.warehouse_events, name="events"),
]
