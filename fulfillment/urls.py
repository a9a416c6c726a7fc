"""The distributor's fulfilment actions (the order page's Fulfilment card) and tracking files."""

from django.urls import path

from . import views

app_name = "fulfillment"
urlpatterns = [
    path("orders/<int:order_id>/retry-push/", views.PushRetryView.as_view(), name="push_retry"),
    path("tracking/<int:trackingsync_id>/retry/", views.TrackingSyncRetryView.as_view(), name="sync_retry"),
    path("stores/<int:store_id>/tracking-file/", views.TrackingFileView.as_view(), name="tracking_file"),
]
