from django.urls import path, re_path

from . import amazon, shopify, tiktok, views, warehouse, woocommerce

app_name = "sandbox"

SHOPIFY_API = "shopify/<str:shop>/admin/api/<str:version>/"
WC_API = "woocommerce/<str:site>/wp-json/wc/v3/"
WC_ST_API = "woocommerce/<str:site>/wp-json/wc-shipment-tracking/v3/"
SP_API = "amazon/<str:host>/orders/v0/orders"
TTS_API = "tiktok/<str:host>/"
WAREHOUSE_API = "warehouse/<str:account>/<str:version>/"

urlpatterns = [
    path("", views.index, name="index"),
    # Shopify: https://{shop}/... lives at /sandbox/shopify/{shop}/...
    path("shopify/<str:shop>/admin/oauth/authorize", shopify.oauth_authorize, name="shopify_authorize"),
    path("shopify/<str:shop>/admin/oauth/access_token", shopify.oauth_access_token, name="shopify_access_token"),
    path(SHOPIFY_API + "orders.json", shopify.orders_list, name="shopify_orders"),
    path(SHOPIFY_API + "orders/<int:order_id>.json", shopify.order_detail, name="shopify_order"),
    path(
        SHOPIFY_API + "orders/<int:order_id>/fulfillment_orders.json",
        shopify.fulfillment_orders_list,
        name="shopify_fulfillment_orders",
    ),
    path(SHOPIFY_API + "fulfillments.json", shopify.fulfillments_create, name="shopify_fulfillments"),
    path(
        SHOPIFY_API + "fulfillments/<int:fulfillment_id>/update_tracking.json",
        shopify.fulfillment_update_tracking,
        name="shopify_update_tracking",
    ),
    path(SHOPIFY_API + "webhooks.json", shopify.webhooks, name="shopify_webhooks"),
    path("shopify/<str:shop>/_sandbox/control", shopify.control, name="shopify_control"),
    re_path(r"^shopify/(?P<shop>[^/]+)/(?P<rest>.*)$", shopify.not_found, name="shopify_not_found"),
    # WooCommerce: https://{site}/... lives at /sandbox/woocommerce/{site}/...
    path(WC_API + "orders", woocommerce.orders, name="woocommerce_orders"),
    path(WC_API + "orders/<int:order_id>", woocommerce.order, name="woocommerce_order"),
    path(WC_API + "orders/<int:order_id>/notes", woocommerce.order_notes, name="woocommerce_order_notes"),
    path(WC_API + "webhooks", woocommerce.webhooks, name="woocommerce_webhooks"),
    path(
        WC_ST_API + "orders/<int:order_id>/shipment-trackings",
        woocommerce.shipment_trackings,
        name="woocommerce_shipment_trackings",
    ),
    path(
        WC_ST_API + "orders/<int:order_id>/shipment-trackings/<str:tracking_id>",
        woocommerce.shipment_tracking,
        name="woocommerce_shipment_tracking",
    ),
    path(
        WC_ST_API + "shipment-trackings/providers",
        woocommerce.shipment_tracking_providers,
        name="woocommerce_shipment_tracking_providers",
    ),
    path("woocommerce/<str:site>/wp-admin/rest-api-keys", woocommerce.keys_page, name="woocommerce_keys"),
    path("woocommerce/<str:site>/wc-auth/v1/authorize", woocommerce.wc_auth_authorize, name="woocommerce_wc_auth"),
    path("woocommerce/<str:site>/_sandbox/control", woocommerce.control, name="woocommerce_control"),
    # Amazon: each host (Seller Central, LWA, SP-API endpoint) becomes /sandbox/amazon/{host}/...
    path("amazon/api.amazon.com/auth/o2/token", amazon.lwa_token, name="amazon_lwa_token"),
    path("amazon/_sandbox/<str:seller_id>/control", amazon.control, name="amazon_control"),
    path("amazon/<str:host>/apps/authorize/consent", amazon.consent, name="amazon_consent"),
    path(
        "amazon/<str:host>/tokens/2021-03-01/restrictedDataToken",
        amazon.restricted_data_token,
        name="amazon_restricted_data_token",
    ),
    path(SP_API, amazon.get_orders, name="amazon_orders"),
    path(SP_API + "/<str:order_id>", amazon.get_order, name="amazon_order"),
    path(SP_API + "/<str:order_id>/orderItems", amazon.get_order_items, name="amazon_order_items"),
    path(SP_API + "/<str:order_id>/shipmentConfirmation", amazon.confirm_shipment, name="amazon_shipment_confirmation"),
    # TikTok Shop: each host (services, auth, open-api) becomes /sandbox/tiktok/{host}/...
    path("tiktok/auth.tiktok-shops.com/api/v2/token/get", tiktok.token_get, name="tiktok_token_get"),
    path("tiktok/auth.tiktok-shops.com/api/v2/token/refresh", tiktok.token_refresh, name="tiktok_token_refresh"),
    path("tiktok/_sandbox/<str:shop_id>/control", tiktok.control, name="tiktok_control"),
    path(TTS_API + "open/authorize", tiktok.authorize, name="tiktok_authorize"),
    path(TTS_API + "authorization/202309/shops", tiktok.authorized_shops, name="tiktok_shops"),
    path(TTS_API + "order/202309/orders/search", tiktok.orders_search, name="tiktok_orders_search"),
    path(TTS_API + "order/202309/orders", tiktok.orders_detail, name="tiktok_orders_detail"),
    path(
        TTS_API + "logistics/202309/delivery_options/<str:delivery_option_id>/shipping_providers",
        tiktok.shipping_providers,
        name="tiktok_shipping_providers",
    ),
    path(
        TTS_API + "fulfillment/202309/orders/<int:order_id>/packages",
        tiktok.mark_package_shipped,
        name="tiktok_mark_package_shipped",
    ),
    path(
        TTS_API + "fulfillment/202309/orders/<int:order_id>/shipping_info/update",
        tiktok.update_shipping_info,
        name="tiktok_update_shipping_info",
    ),
    # The warehouse API (docs/warehouses.md): https://{api host}/{version}/... lives at
    # /sandbox/warehouse/{account}/{version}/...
    path("warehouse/<str:account>/_sandbox/control", warehouse.control, name="warehouse_control"),
    path(WAREHOUSE_API + "order", warehouse.orders, name="warehouse_orders"),
    path(WAREHOUSE_API + "order/<int:order_id>", warehouse.order_detail, name="warehouse_order"),
    path(WAREHOUSE_API + "order/<int:order_id>/cancel", warehouse.order_cancel, name="warehouse_order_cancel"),
]
