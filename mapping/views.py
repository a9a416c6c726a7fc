from django.shortcuts import render

from distribution.models import Section
from distribution.tenancy import PortalView


class MappingListView(PortalView):
    section = Section.MAPPING

    def get(self, request):
        return render(request, "mapping/mapping_list.html")
