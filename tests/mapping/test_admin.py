"""Mappings in the staff console obey the same rules (through the services), and the
demo data maps the guide's serum per site when demo stores exist."""

import io

import pytest
from django.urls import reverse

from distribution import demo as core_demo
from mapping import demo
from mapping.models import Mapping, SeenSku
from tests.distribution.factories import UserFactory
from tests.mapping.factories import MappingFactory, MappingImportFactory, SeenSkuFactory
from tests.mapping.test_world import world_fixture  # noqa: F401  (the `world` fixture)
from tests.stores.factories import StoreFactory


@pytest.fixture
def staff_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("name", ["mapping", "seensku", "mappingimport"])
def test_admin_changelists_open(staff_client, world, name):
    MappingFactory(store=world.us_store, item=world.serum_us)
    SeenSkuFactory(store=world.us_store)
    MappingImportFactory(distributor=world.distributor)
    response = staff_client.get(reverse(f"admin:mapping_{name}_changelist"))
    assert response.status_code == 200


def test_admin_add_mapping_refuses_the_wrong_site_beside_the_item(staff_client, world):
    response = staff_client.post(
        reverse("admin:mapping_mapping_add"),
        {"store": world.us_store.pk, "store_sku": "SERUM", "item": world.serum_jp.pk},
    )
    assert response.status_code == 200
    assert "does not serve the store" in " ".join(response.context["adminform"].form.errors["item"])
    assert not Mapping.objects.exists()


def test_admin_add_mapping_normalises_the_sku_and_records_staff(staff_client, world):
    response = staff_client.post(
        reverse("admin:mapping_mapping_add"),
        {"store": world.us_store.pk, "store_sku": "  SERUM ", "item": world.serum_us.pk},
    )
    assert response.status_code == 302
    mapping = Mapping.objects.get()
    assert (mapping.store_sku, mapping.source, mapping.item) == ("SERUM", "staff", world.serum_us)


def test_admin_add_mapping_refuses_a_duplicate_sku(staff_client, world):
    MappingFactory(store=world.us_store, store_sku="SERUM", item=world.serum_us)
    response = staff_client.post(
        reverse("admin:mapping_mapping_add"),
        {"store": world.us_store.pk, "store_sku": "SERUM", "item": world.board_us.pk},
    )
    assert "already mapped" in " ".join(response.context["adminform"].form.errors["store_sku"])


def test_admin_change_mapping_keeps_the_site_rule(staff_client, world):
    mapping = MappingFactory(store=world.us_store, store_sku="SERUM", item=world.serum_us)
    url = reverse("admin:mapping_mapping_change", args=[mapping.pk])
    refused = staff_client.post(url, {"store_sku": "SERUM", "item": world.serum_jp.pk})
    assert "does not serve the store" in refused.content.decode()
    assert staff_client.post(url, {"store_sku": "SERUM", "item": world.board_us.pk}).status_code == 302
    mapping.refresh_from_db()
    assert (mapping.item, mapping.store) == (world.board_us, world.us_store)


def test_admin_delete_selected_mappings_goes_through_the_service(staff_client, world):
    mappings = [MappingFactory(store=world.us_store, item=world.serum_us) for _ in range(2)]
    response = staff_client.post(
        reverse("admin:mapping_mapping_changelist"),
        {"action": "delete_selected", "_selected_action": [m.pk for m in mappings], "post": "yes"},
    )
    assert response.status_code == 302
    assert not Mapping.objects.exists()


# --- demo data -------------------------------------------------------------------------------------


def test_demo_maps_the_serum_per_site_when_demo_stores_exist(world):
    core_demo.seed(io.StringIO())
    distributor = core_demo.demo_distributor()
    us = StoreFactory(distributor=distributor, name="Demo US", site="US")
    jp = StoreFactory(distributor=distributor, name="Demo JP", site="JP")
    out = io.StringIO()
    demo.seed(out)
    demo.seed(out)  # idempotent
    made = set(Mapping.objects.values_list("store__site", "store_sku", "item__item_id"))
    assert made == {("US", demo.GUIDE_SKU, "LS228800001-01-01"), ("JP", demo.GUIDE_SKU, "LS228800001-01-03")}
    waiting = dict(SeenSku.objects.filter(store=us, waiting_orders__gt=0).values_list("sku", "waiting_orders"))
    assert waiting == {"MY-GIFT-BOX-01": 1, "VD100-01-01": 2}  # the Item ID one comes with a suggestion
    assert jp.seen_skus.filter(sku=demo.GUIDE_SKU).exists()


def test_demo_does_nothing_without_demo_stores(world):
    core_demo.seed(io.StringIO())
    demo.seed(io.StringIO())
    assert not Mapping.objects.exists() and not SeenSku.objects.exists()
