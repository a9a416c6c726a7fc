from django.urls import path

from . import views

app_name = "mapping"
urlpatterns = [
    path("", views.MappingListView.as_view(), name="mapping_list"),
    path("add/", views.MappingAddView.as_view(), name="mapping_add"),
    path("<int:mapping_id>/edit/", views.MappingEditView.as_view(), name="mapping_edit"),
    path("<int:mapping_id>/delete/", views.MappingDeleteView.as_view(), name="mapping_delete"),
    path("items/", views.ItemSearchView.as_view(), name="item_search"),
    path("skus/", views.SkuSearchView.as_view(), name="sku_search"),
    path("export/", views.MappingExportView.as_view(), name="mapping_export"),
    path("unmapped/<int:seensku_id>/map/", views.SeenSkuMapView.as_view(), name="seensku_map"),
    path("unmapped/<int:seensku_id>/accept/", views.SeenSkuAcceptView.as_view(), name="seensku_accept"),
    path(
        "unmapped/<int:seensku_id>/not-supplied/", views.SeenSkuNotSuppliedView.as_view(), name="seensku_not_supplied"
    ),
    path("unmapped/accept-all/", views.SuggestionsAcceptAllView.as_view(), name="suggestions_accept_all"),
    path("import/", views.ImportView.as_view(), name="import"),
    path("import/template/", views.ImportTemplateView.as_view(), name="import_template"),
    path("import/<int:mappingimport_id>/", views.ImportDetailView.as_view(), name="import_detail"),
    path("import/<int:mappingimport_id>/progress/", views.ImportProgressView.as_view(), name="import_progress"),
    path("import/<int:mappingimport_id>/confirm/", views.ImportConfirmView.as_view(), name="import_confirm"),
    path("import/<int:mappingimport_id>/resume/", views.ImportResumeView.as_view(), name="import_resume"),
    path("import/<int:mappingimport_id>/rejected.xlsx", views.ImportRejectsView.as_view(), name="import_rejects"),
]
