from django.shortcuts import render

from distribution.models import Section
from distribution.tenancy import PortalView


class BalanceView(PortalView):
    section = Section.FINANCE

    def get(self, request):
        return render(request, "finance/balance.html")
