from django.urls import path

from . import views

app_name = "stores"
urlpatterns = [
    path("", views.StoreListView.as_view(), name="store_list"),
    # ?platform=shopify; the list's [Authorize Now] opens it.
    path("authorize/", views.StoreAuthorizeView.as_view(), name="authorize"),
    # Where every platform's consent page sends the person back; the state names the platform.
    path("authorize/callback/", views.StoreAuthorizeCallbackView.as_view(), name="authorize_callback"),
    # WooCommerce's key-issuing flow: the shop posts the keys here (public, server to server),
    # then sends the seller back to the return view.
    path(
        "authorize/woocommerce/keys/",
        views.WooCommerceKeysCallbackView.as_view(),
        name="woocommerce_keys_callback",
    ),
    path("authorize/woocommerce/return/", views.WooCommerceReturnView.as_view(), name="woocommerce_return"),
    path("<int:store_id>/reauthorize/", views.StoreReauthorizeView.as_view(), name="reauthorize"),
    path("<int:store_id>/disable/", views.StoreDisableView.as_view(), name="disable"),
    path("<int:store_id>/enable/", views.StoreEnableView.as_view(), name="enable"),
    path("<int:store_id>/notify-buyer/", views.StoreNotifyBuyerView.as_view(), name="notify_buyer"),
    path("<int:store_id>/remove/", views.StoreRemoveView.as_view(), name="remove"),
]
