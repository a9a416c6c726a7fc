from django.urls import path

from . import views

app_name = "finance"
urlpatterns = [
    path("balance/", views.BalanceView.as_view(), name="balance"),
]
