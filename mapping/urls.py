from django.urls import path

from . import views

app_name = "mapping"
urlpatterns = [
    path("", views.MappingListView.as_view(), name="mapping_list"),
]
