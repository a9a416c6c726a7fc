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


def test_the_service_refuses_a_store_with_an_api_and_rows_naming_one(db):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from distribution import spreadsheet
    from distribution.errors import ApplicationError
    from orders.imports import format as orderfile
    from orders.imports.services import order_import_check, order_import_create

    owner = owner_of()
    shopify = StoreFactory(distributor=owner.distributor, platform="shopify", name="Web Shop", site="US")
    row = ["Web Shop", "A-1", "2026-01-31", "SERUM", 1, "Ada", "", "", "US", "NY", "NYC", "1 Main"]
    content = spreadsheet.csv_bytes(orderfile.COLUMNS, [row])
    # when a file is uploaded for the store with an API
    with pytest.raises(ApplicationError, match="order files are for stores without an API"):
        order_import_create(actor=owner, store=shopify, upload=SimpleUploadedFile("o.csv", content))
    # and when a file for no chosen store names it in a row
    order_import = order_import_create(actor=owner, store=None, upload=SimpleUploadedFile("o.csv", content))
    order_import = order_import_check(order_import=order_import)
    # then the row is refused with the reason, and nothing is to import
    [error] = [error for error in order_import.errors if error["column"] == "Store"]
    assert "sends its orders through its platform's API" in error["message"]
    assert order_import.status == order_import.Status.INVALID
