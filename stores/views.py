from django.shortcuts import render

from distribution.models import Section
from distribution.tenancy import PortalView


class StoreListView(PortalView):
    section = Section.STORES

    def get(self, request):
        return render(request, "stores/store_list.html")
