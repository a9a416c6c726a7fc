"""Webhook endpoints (outside the portal). To be mounted at /webhooks/ by distribution/urls.py:

    path("webhooks/", include("orders.webhook_urls")),

and "webhooks:shopify_orders" listed in tests/portal_urls.PUBLIC_URL_NAMES (it is no
PortalView: the platform signs the request instead of a person logging in).
"""

from django.urls import path

from . import webhooks

app_name = "webhooks"
urlpatterns = [
    path("shopify/orders/", webhooks.shopify_orders, name="shopify_orders"),
]
