from django.shortcuts import render

from distribution.models import Section
from distribution.tenancy import PortalView


class ProductListView(PortalView):
    section = Section.CATALOG

    def get(self, request):
        return render(request, "catalog/product_list.html")
