from django.urls import path

from . import views

app_name = "catalog"
urlpatterns = [
    path("", views.ProductListView.as_view(), name="product_list"),
    path("products/<int:product_id>/", views.ProductDetailView.as_view(), name="product_detail"),
    path("products/<int:product_id>/pack/", views.ProductPackView.as_view(), name="product_pack"),
    path("documents/<int:document_id>/download/", views.DocumentDownloadView.as_view(), name="document_download"),
    path("images/<int:product_image_id>/", views.ProductImageView.as_view(), name="product_image"),
]
