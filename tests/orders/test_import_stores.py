"""The order-file import offers only the stores without an API: the others send their orders themselves."""

import pytest
from django.urls import reverse
from django.utils import timezone

from orders.forms import OrderImportForm
from stores.models import Platform
from tests.distribution.factories import owner_of
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


def test_import_page_lists_only_stores_without_an_api(client):
    # given a distributor with a store without an API, a Shopify store and a removed offline store
    me = owner_of()
    offline = StoreFactory(distributor=me.distributor, platform=Platform.OTHER, name="Market Stall", site="JP")
    shopify = StoreFactory(distributor=me.distributor, name="Acme US")
    StoreFactory(distributor=me.distributor, platform=Platform.OTHER, name="Closed Stall", removed_at=timezone.now())
    # when the owner opens the order import
    client.force_login(me.user)
    response = client.get(reverse("orders:import"))
    # then the store select offers the offline store by its label, and nothing else
    choices = response.context["form"].fields["store"].choices
    assert [value for value, _label in choices] == ["", offline.pk]
    html = response.content.decode()
    assert "Market Stall · Other platform (no API) · JP" in html
    assert "Acme US" not in html and "Closed Stall" not in html
    # and a store with an API posted anyway is refused by the form
    form = OrderImportForm({"store": shopify.pk}, stores=[offline, shopify])
    form.is_valid()
    assert "store" in form.errors
