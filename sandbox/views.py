"""The sandbox's index: which emulators are mounted, and where.

This app imports nothing from the platform's own apps: its wire formats come from
the platforms' documentation, never from our parsers.
"""

from django.http import JsonResponse

EMULATORS: list[dict] = [
    {
        "platform": "shopify",
        "base": "/sandbox/shopify/{shop}",
        "consent": "/sandbox/shopify/{shop}/admin/oauth/authorize",
        "api": "/sandbox/shopify/{shop}/admin/api/2024-10/",
        "control": "/sandbox/shopify/{shop}/_sandbox/control",
    },
    {
        "platform": "woocommerce",
        "site_url": "/sandbox/woocommerce/{site}",
        "api": "/sandbox/woocommerce/{site}/wp-json/wc/v3/",
        "keys": "/sandbox/woocommerce/{site}/wp-admin/rest-api-keys",
        "authorize": "/sandbox/woocommerce/{site}/wc-auth/v1/authorize",
        "control": "/sandbox/woocommerce/{site}/_sandbox/control",
    },
    {
        "platform": "amazon",
        "consent": "/sandbox/amazon/{seller_central_host}/apps/authorize/consent",
        "lwa_token": "/sandbox/amazon/api.amazon.com/auth/o2/token",
        "sp_api": "/sandbox/amazon/{sp_api_host}/orders/v0/orders",
        "control": "/sandbox/amazon/_sandbox/{seller_id}/control",
    },
    {
        "platform": "tiktok",
        "authorize": "/sandbox/tiktok/services.tiktokshop.com/open/authorize",
        "token": "/sandbox/tiktok/auth.tiktok-shops.com/api/v2/token/get",
        "api": "/sandbox/tiktok/open-api.tiktokglobalshop.com/",
        "control": "/sandbox/tiktok/_sandbox/{shop_id}/control",
    },
    {
        "platform": "warehouse",
        "api": "/sandbox/warehouse/{account}/2026-01/",
        "control": "/sandbox/warehouse/{account}/_sandbox/control",
    },
]


def index(request):
    return JsonResponse({"sandbox": True, "emulators": EMULATORS})
