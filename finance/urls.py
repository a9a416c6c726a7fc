from django.urls import path

from . import views

app_name = "finance"
urlpatterns = [
    path("balance/", views.BalanceView.as_view(), name="balance"),
    path("balance/export/", views.BalanceExportView.as_view(), name="balance_export"),
    path("balance/settings/", views.PreferenceView.as_view(), name="preferences"),
    path("balance/top-up/", views.TopUpView.as_view(), name="topup"),
]
