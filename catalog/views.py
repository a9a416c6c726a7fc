"""The distributor's catalog: list with search and filters, product page, downloads.

Catalog rows are shared by all distributors; the views still go through the
tenancy helpers (which pass shared rows through) so the one rule "portal views read
through a scoped selector" holds here too. Only active rows are found.
"""

from django.conf import settings
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _

from distribution.models import Section
from distribution.tenancy import PortalView

from . import selectors
from .forms import ProductFilterForm
from .pack import pack_filename, product_pack_stream


class CatalogView(PortalView):
    section = Section.CATALOG

    @property
    def sees_money(self) -> bool:
        # Operators see no prices or fees (Membership.sees_money), on the pages or in the pack.
        return self.membership.sees_money


class ProductListView(CatalogView):
    def get(self, request):
        warehouses = selectors.warehouse_list()
        form = ProductFilterForm(
            request.GET or None,
            warehouses=warehouses,
            sites=selectors.site_list(warehouses),
            categories=selectors.category_list(),
        )
        filters = form.filters() if form.is_bound else selectors.ProductFilters()
        products = self.scope(selectors.product_list(filters=filters, warehouses=warehouses))
        page = Paginator(products, settings.PORTAL_PAGE_SIZE).get_page(request.GET.get("page"))
        return render(
            request,
            "catalog/product_list.html",
            {
                "form": form,
                "page": page,
                "products": page.object_list,
                "filters": filters,
                "sees_money": self.sees_money,
            },
        )


class ProductDetailView(CatalogView):
    def get(self, request, product_id: int):
        product = self.get_for_tenant_or_404(selectors.product_detail_queryset(), pk=product_id)
        warehouses = list({item.warehouse.pk: item.warehouse for item in product.visible_items}.values())
        return render(
            request,
            "catalog/product_detail.html",
            {"product": product, "warehouses": warehouses, "sees_money": self.sees_money},
        )


def _open_or_404(field_file):
    try:
        return field_file.open("rb")
    except (FileNotFoundError, ValueError):
        raise Http404(_("The file is missing. Please tell platform staff.")) from None


class DocumentDownloadView(CatalogView):
    def get(self, request, document_id: int):
        document = self.get_for_tenant_or_404(selectors.document_queryset(), pk=document_id)
        filename = f"{document.product.code}-{document.doc_type}-{document.filename}"
        return FileResponse(_open_or_404(document.file), as_attachment=True, filename=filename)


class ProductImageView(CatalogView):
    def get(self, request, product_image_id: int):
        image = self.get_for_tenant_or_404(selectors.product_image_queryset(), pk=product_image_id)
        response = FileResponse(_open_or_404(image.file), filename=image.filename)
        response["Cache-Control"] = "private, max-age=3600"
        return response


class ProductPackView(CatalogView):
    def get(self, request, product_id: int):
        product = self.get_for_tenant_or_404(selectors.product_detail_queryset(), pk=product_id)
        response = StreamingHttpResponse(
            product_pack_stream(product, with_prices=self.sees_money), content_type="application/zip"
        )
        response["Content-Disposition"] = content_disposition_header(True, pack_filename(product))
        return response
