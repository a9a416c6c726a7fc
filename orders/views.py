from django.shortcuts import render

from distribution.models import Section
from distribution.tenancy import PortalView


class OrderListView(PortalView):
    section = Section.ORDERS

    def get(self, request):
        return render(request, "orders/order_list.html")
