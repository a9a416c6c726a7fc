"""How stores are named and how their authorize page reads: one label, "Name · Platform ·
Site", everywhere a store is listed or chosen; a heading per platform with its article right."""

import pytest
from django.urls import reverse

from mapping.forms import MappingFilterForm
from orders.forms import OrderFilterForm
from stores.models import Platform
from tests.distribution.factories import UserFactory, owner_of
from tests.mapping.factories import MappingFactory
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def me():
    return owner_of()


def test_store_label_is_name_platform_site_and_str_is_the_label(me):
    # given a store without an API and a Shopify one
    offline = StoreFactory(distributor=me.distributor, platform=Platform.OTHER, name="Demo Market JP", site="JP")
    shopify = StoreFactory(distributor=me.distributor, name="Acme US", site="US")
    # then each reads "Name · Platform · Site", and str() is the same label
    assert offline.label == "Demo Market JP · Other platform (no API) · JP"
    assert shopify.label == "Acme US · Shopify · US"
    assert str(offline) == offline.label and str(shopify) == shopify.label


def test_store_selects_offer_the_label(me):
    store = StoreFactory(distributor=me.distributor, name="Acme US")
    # the order list's and the mapping list's store filters
    assert (store.pk, store.label) in OrderFilterForm(stores=[store]).fields["store"].choices
    assert (store.pk, store.label) in MappingFilterForm(stores=[store]).fields["store"].choices


def test_mapping_form_store_select_reads_the_label(client, me):
    store = StoreFactory(distributor=me.distributor, name="Acme US")
    client.force_login(me.user)
    html = client.get(reverse("mapping:mapping_add")).content.decode()
    assert f'<option value="{store.pk}">Acme US · Shopify · US</option>' in html


def test_admin_names_a_store_by_its_label(client, me):
    # given a store and staff in the admin
    store = StoreFactory(distributor=me.distributor, name="Acme US")
    mapping = MappingFactory(store=store)
    staff = UserFactory(email="admin@example.com", is_staff=True, is_superuser=True)
    client.force_login(staff)
    # when they open the store and a mapping of it
    store_page = client.get(reverse("admin:stores_store_change", args=[store.pk])).content.decode()
    mapping_page = client.get(reverse("admin:mapping_mapping_change", args=[mapping.pk])).content.decode()
    # then both name the store by its label
    assert "Acme US · Shopify · US" in store_page
    assert "Acme US · Shopify · US" in mapping_page


@pytest.mark.parametrize(
    ("platform", "heading"),
    [
        (Platform.SHOPIFY, "Authorize a Shopify store"),
        (Platform.WOOCOMMERCE, "Authorize a WooCommerce store"),
        (Platform.AMAZON, "Authorize an Amazon store"),
        (Platform.TIKTOK, "Authorize a TikTok Shop store"),
        (Platform.OTHER, "Add a store without an API"),
    ],
)
def test_authorize_page_heading_has_its_article_right(client, me, platform, heading):
    # when the owner opens the platform's authorize form
    client.force_login(me.user)
    html = client.get(reverse("stores:authorize"), {"platform": platform}).content.decode()
    # then the heading is the platform's own sentence
    assert f">{heading}</h1>" in html
    assert "Authorize a Amazon" not in html and "Authorize a Other" not in html
