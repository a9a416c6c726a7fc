from django.urls import path

from . import views

app_name = "orders"
urlpatterns = [
    path("", views.OrderListView.as_view(), name="order_list"),
    path("<int:order_id>/", views.OrderDetailView.as_view(), name="order_detail"),
    path("<int:order_id>/split/", views.OrderSplitView.as_view(), name="order_split"),
    path("merge/", views.OrderMergeView.as_view(), name="merge"),
    path("pay/", views.OrderPayView.as_view(), name="pay"),
    path("import/", views.OrderImportView.as_view(), name="import"),
    path("import/template/", views.OrderImportTemplateView.as_view(), name="import_template"),
    path("import/<int:orderimport_id>/", views.OrderImportDetailView.as_view(), name="import_detail"),
    path("import/<int:orderimport_id>/status/", views.OrderImportStatusView.as_view(), name="import_status"),
    path("import/<int:orderimport_id>/confirm/", views.OrderImportConfirmView.as_view(), name="import_confirm"),
    path("sync/", views.StoreSyncView.as_view(), name="sync"),
    path("sync/<int:store_id>/", views.StoreSyncNowView.as_view(), name="sync_now"),
    path("sync/runs/<int:pullrun_id>/", views.PullRunStatusView.as_view(), name="pullrun_status"),
]
