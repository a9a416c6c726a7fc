"""The mapping rules, through the services: the SKU rule, the site rule, uniqueness,
who may act, the announcement to orders, mapping_resolve, the unmapped-SKU queue and
suggestions."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from distribution.errors import ApplicationError, PermissionDeniedError
from distribution.models import Distributor, Role
from mapping import selectors, services
from mapping.models import Mapping, SeenSku
from mapping.signals import mappings_changed
from mapping.skus import InvalidSku, clean_sku, normalise_sku
from tests.catalog.factories import ItemFactory, ProductFactory
from tests.distribution.factories import MembershipFactory, UserFactory, owner_of
from tests.mapping.factories import MappingFactory, SeenSkuFactory
from tests.mapping.test_world import world_fixture  # noqa: F401  (the `world` fixture)
from tests.stores.factories import StoreFactory


@pytest.fixture
def announcements():
    received = []

    def receiver(sender, store, skus, **kwargs):
        received.append((store.pk, skus))

    mappings_changed.connect(receiver, weak=False)
    yield received
    mappings_changed.disconnect(receiver)


# --- the SKU rule ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  SN-30ML ", "SN-30ML"),
        ("\tsn-30ml\n", "sn-30ml"),  # case is kept
        ("\u00a0SN 30 ML\u3000", "SN 30 ML"),  # no-break and ideographic spaces around, inner space kept
        ("\ufeff\u200bSN-30ML\u200b", "SN-30ML"),  # invisible characters from copy and paste
        (" \u200b SN-30ML \u200b ", "SN-30ML"),  # blanks and invisible characters in turn
        ("SN-30ML", "SN-30ML"),
        ("\u200b", ""),
        (12345.0, "12345"),  # a number typed into a spreadsheet cell
        (None, ""),
    ],
)
def test_normalise_sku_trims_and_keeps_case(raw, expected):
    assert normalise_sku(raw) == expected


@pytest.mark.parametrize("raw", ["", "   ", "A" * 101, "SN\n30", "SN\t30"])
def test_clean_sku_refuses_empty_too_long_and_control_characters(raw):
    with pytest.raises(InvalidSku):
        clean_sku(raw)


# --- the site rule --------------------------------------------------------------------------------


def test_mapping_create_us_store_maps_the_serum_to_the_us_item(world, django_capture_on_commit_callbacks):
    mapping = services.mapping_create(
        actor=world.owner, store=world.us_store, store_sku="  SNOWTOX-SERUM ", item="ls228800001-01-01"
    )
    assert (mapping.store_sku, mapping.item) == ("SNOWTOX-SERUM", world.serum_us)
    assert mapping.created_by == world.owner.user
    assert mapping.source == Mapping.Source.MANUAL


def test_mapping_create_us_store_refuses_the_jp_item_and_names_the_us_one(world):
    with pytest.raises(ApplicationError) as excinfo:
        services.mapping_create(actor=world.owner, store=world.us_store, store_sku="SNOWTOX-SERUM", item=world.serum_jp)
    message = str(excinfo.value)
    assert "JP-TYO" in message and "(US)" in message and "LS228800001-01-01" in message
    assert excinfo.value.extra["field"] == "item_id"
    assert not Mapping.objects.exists()


def test_mapping_create_jp_store_the_other_way_round(world):
    mapping = services.mapping_create(
        actor=world.owner, store=world.jp_store, store_sku="SNOWTOX-SERUM", item="LS228800001-01-03"
    )
    assert mapping.item == world.serum_jp
    with pytest.raises(ApplicationError, match="LS228800001-01-03"):
        services.mapping_create(actor=world.owner, store=world.jp_store, store_sku="OTHER", item="LS228800001-01-01")


def test_mapping_create_refuses_a_product_without_an_item_for_the_site(world):
    with pytest.raises(ApplicationError, match="no item in a warehouse serving JP"):
        services.mapping_create(actor=world.owner, store=world.jp_store, store_sku="BOARD", item="VD100-01-01")


def test_mapping_create_refuses_unknown_and_retired_items(world):
    with pytest.raises(ApplicationError, match="Unknown Item ID “NOPE-01-01”"):
        services.mapping_create(actor=world.owner, store=world.us_store, store_sku="A", item="nope-01-01")
    world.board_us.is_active = False
    world.board_us.save()
    with pytest.raises(ApplicationError, match="no longer available"):
        services.mapping_create(actor=world.owner, store=world.us_store, store_sku="A", item="VD100-01-01")


def test_mapping_update_applies_the_site_rule_too(world):
    mapping = MappingFactory(store=world.us_store, store_sku="SERUM", item=world.serum_us)
    with pytest.raises(ApplicationError, match="JP-TYO"):
        services.mapping_update(actor=world.owner, mapping=mapping, store_sku="SERUM", item="LS228800001-01-03")
    mapping.refresh_from_db()
    assert mapping.item == world.serum_us


# --- uniqueness -----------------------------------------------------------------------------------


def test_mapping_create_refuses_a_store_sku_mapped_already_after_trimming(world):
    MappingFactory(store=world.us_store, store_sku="SERUM", item=world.serum_us)
    with pytest.raises(ApplicationError, match="already mapped to LS228800001-01-01") as excinfo:
        services.mapping_create(actor=world.owner, store=world.us_store, store_sku=" SERUM ", item=world.board_us)
    assert excinfo.value.extra["field"] == "store_sku"


def test_mapping_create_treats_other_case_as_another_sku(world):
    MappingFactory(store=world.us_store, store_sku="SERUM", item=world.serum_us)
    mapping = services.mapping_create(actor=world.owner, store=world.us_store, store_sku="serum", item=world.board_us)
    assert Mapping.objects.filter(store=world.us_store).count() == 2
    assert mapping.store_sku == "serum"


def test_mapping_create_same_sku_in_two_stores_is_fine(world):
    services.mapping_create(actor=world.owner, store=world.us_store, store_sku="SERUM", item=world.serum_us)
    services.mapping_create(actor=world.owner, store=world.jp_store, store_sku="SERUM", item=world.serum_jp)
    assert Mapping.objects.count() == 2


def test_mapping_update_and_delete(world):
    mapping = services.mapping_create(actor=world.owner, store=world.us_store, store_sku="A", item=world.board_us)
    services.mapping_update(
        actor=world.owner, mapping=mapping, store_sku="A2", item=world.serum_us, platform_product_id="  8123 "
    )
    mapping.refresh_from_db()
    assert (mapping.store_sku, mapping.item, mapping.platform_product_id) == ("A2", world.serum_us, "8123")
    services.mapping_delete(actor=world.owner, mapping=mapping)
    assert not Mapping.objects.exists()


# --- who may act ----------------------------------------------------------------------------------


def test_mapping_create_refused_for_a_suspended_distributor(world):
    Distributor.objects.filter(pk=world.distributor.pk).update(status=Distributor.Status.SUSPENDED)
    world.owner.distributor.refresh_from_db()
    with pytest.raises(PermissionDeniedError, match="suspended"):
        services.mapping_create(actor=world.owner, store=world.us_store, store_sku="A", item=world.serum_us)


def test_mapping_create_refused_for_finance_members_and_other_distributors(world):
    finance = MembershipFactory(distributor=world.distributor, role=Role.FINANCE)
    with pytest.raises(PermissionDeniedError):
        services.mapping_create(actor=finance, store=world.us_store, store_sku="A", item=world.serum_us)
    stranger = owner_of()
    with pytest.raises(PermissionDeniedError, match="another distributor"):
        services.mapping_create(actor=stranger, store=world.us_store, store_sku="A", item=world.serum_us)
    assert not Mapping.objects.exists()


def test_mapping_create_by_staff_is_recorded_as_staff(world):
    staff = UserFactory(is_staff=True)
    mapping = services.mapping_create(actor=staff, store=world.us_store, store_sku="A", item=world.serum_us)
    assert mapping.source == Mapping.Source.STAFF
    with pytest.raises(PermissionDeniedError):
        services.mapping_create(actor=UserFactory(), store=world.us_store, store_sku="B", item=world.serum_us)


def test_mapping_create_refuses_a_removed_store(world):
    from django.utils import timezone

    world.us_store.removed_at = timezone.now()
    world.us_store.save()
    with pytest.raises(ApplicationError, match="removed"):
        services.mapping_create(actor=world.owner, store=world.us_store, store_sku="A", item=world.serum_us)


# --- orders are told, after commit ------------------------------------------------------------


def test_mapping_create_announces_the_sku_after_commit(world, announcements, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.mapping_create(actor=world.owner, store=world.us_store, store_sku=" SERUM ", item=world.serum_us)
    assert announcements == []  # nothing before the commit
    for callback in callbacks:
        callback()
    assert announcements == [(world.us_store.pk, ("SERUM",))]


def test_mapping_update_announces_only_when_the_item_moves(world, announcements, django_capture_on_commit_callbacks):
    mapping = MappingFactory(store=world.us_store, store_sku="SERUM", item=world.serum_us)
    with django_capture_on_commit_callbacks(execute=True):
        services.mapping_update(
            actor=world.owner, mapping=mapping, store_sku="SERUM", item=world.serum_us, platform_variant_id="77"
        )
    assert announcements == []
    with django_capture_on_commit_callbacks(execute=True):
        services.mapping_update(actor=world.owner, mapping=mapping, store_sku="SERUM", item=world.board_us)
    assert announcements == [(world.us_store.pk, ("SERUM",))]


def test_mapping_create_refused_announces_nothing(world, announcements, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True), pytest.raises(ApplicationError):
        services.mapping_create(actor=world.owner, store=world.us_store, store_sku="SERUM", item=world.serum_jp)
    assert announcements == []


# --- mapping_resolve --------------------------------------------------------------------------------


def test_mapping_resolve_answers_many_skus_in_one_query(world):
    MappingFactory(store=world.us_store, store_sku="SERUM", item=world.serum_us)
    MappingFactory(store=world.us_store, store_sku="BOARD", item=world.board_us)
    MappingFactory(store=world.jp_store, store_sku="SERUM", item=world.serum_jp)
    with CaptureQueriesContext(connection) as queries:
        resolved = selectors.mapping_resolve(store=world.us_store, skus=[" SERUM", "BOARD", "serum", "UNKNOWN", ""])
        names = {sku: (item.item_id, item.product.name, item.warehouse.code) for sku, item in resolved.items()}
    assert len(queries) == 1
    assert names == {
        "SERUM": ("LS228800001-01-01", "SNOWTOX CRYSTAL TREATMENT SERUM", "US-CA"),
        "BOARD": ("VD100-01-01", "BAMBOO CUTTING BOARD", "US-CA"),
    }
    assert selectors.mapping_resolve(store=world.jp_store, skus=["SERUM"])["SERUM"] == world.serum_jp


# --- the unmapped-SKU queue, fed by orders ----------------------------------------------------------


def test_store_skus_seen_records_each_sku_once_with_a_title(world):
    assert services.store_skus_seen(store=world.us_store, skus={" SERUM ": "Serum 30 ml", "BOARD": ""}) == 2
    services.store_skus_seen(store=world.us_store, skus=["SERUM", "BOARD", "   "])
    services.store_skus_seen(store=world.us_store, skus={"BOARD": "Bamboo board"})
    rows = {row.sku: row for row in SeenSku.objects.filter(store=world.us_store)}
    assert set(rows) == {"SERUM", "BOARD"}
    assert rows["SERUM"].title == "Serum 30 ml"
    assert rows["BOARD"].title == "Bamboo board"  # an empty title is filled in later
    assert rows["SERUM"].last_seen_at >= rows["SERUM"].first_seen_at


def test_store_skus_seen_ignores_a_sku_too_long_to_map(world):
    assert services.store_skus_seen(store=world.us_store, skus=["X" * 101]) == 0
    assert not SeenSku.objects.exists()


def test_store_skus_waiting_set_is_absolute_and_can_replace(world):
    services.store_skus_seen(store=world.us_store, skus=["A", "B"])
    services.store_skus_waiting_set(store=world.us_store, waiting={"A": 3, "B": 1, "C": 2})
    services.store_skus_waiting_set(store=world.us_store, waiting={"A": 2})
    counts = dict(SeenSku.objects.values_list("sku", "waiting_orders"))
    assert counts == {"A": 2, "B": 1, "C": 2}
    services.store_skus_waiting_set(store=world.us_store, waiting={"B": 4}, replace=True)
    assert dict(SeenSku.objects.values_list("sku", "waiting_orders")) == {"A": 0, "B": 4, "C": 0}


def test_unmapped_list_is_seen_skus_without_a_mapping_most_waiting_first(world):
    services.store_skus_seen(store=world.us_store, skus=["SERUM", "BOARD", "GIFT"])
    services.store_skus_waiting_set(store=world.us_store, waiting={"SERUM": 1, "BOARD": 5, "GIFT": 2})
    services.store_skus_seen(store=world.jp_store, skus=["SERUM"])
    services.mapping_create(actor=world.owner, store=world.us_store, store_sku="SERUM", item=world.serum_us)
    other = SeenSkuFactory(store=StoreFactory(), sku="FOREIGN")
    rows = selectors.unmapped_list(distributor=world.distributor, filters=selectors.MappingFilters())
    assert [(row.store.name, row.sku) for row in rows] == [
        ("Acme US", "BOARD"),
        ("Acme US", "GIFT"),
        ("Acme JP", "SERUM"),
    ]
    assert other.sku not in {row.sku for row in rows}
    only_jp = selectors.unmapped_list(
        distributor=world.distributor, filters=selectors.MappingFilters(store_id=world.jp_store.pk)
    )
    assert [row.sku for row in only_jp] == ["SERUM"]


# --- suggestions ----------------------------------------------------------------------------------


def test_suggestions_match_item_id_barcode_and_product_code_in_a_serving_warehouse(world):
    by_item_id = SeenSkuFactory(store=world.us_store, sku="LS228800001-01-01")
    jp_item_id_on_us_store = SeenSkuFactory(store=world.us_store, sku="ls228800001-01-03")
    by_barcode = SeenSkuFactory(store=world.jp_store, sku="8800122880000010")  # the US item's barcode
    by_code = SeenSkuFactory(store=world.us_store, sku="VD100")
    code_without_site_item = SeenSkuFactory(store=world.jp_store, sku="VD100")
    nothing = SeenSkuFactory(store=world.us_store, sku="MY-OWN-SKU")
    suggestions = selectors.suggestions_for(
        [by_item_id, jp_item_id_on_us_store, by_barcode, by_code, code_without_site_item, nothing]
    )
    assert {pk: item.item_id for pk, item in suggestions.items()} == {
        by_item_id.pk: "LS228800001-01-01",
        jp_item_id_on_us_store.pk: "LS228800001-01-01",
        by_barcode.pk: "LS228800001-01-03",
        by_code.pk: "VD100-01-01",
    }


def test_suggestions_skip_a_product_code_with_several_variants_for_the_site(world):
    ItemFactory(product=world.board, warehouse=world.us, item_id="VD100-02-01")
    seen = SeenSkuFactory(store=world.us_store, sku="VD100")
    assert selectors.suggestions_for([seen]) == {}


def test_mapping_suggestion_accept_maps_the_suggested_item(world, announcements, django_capture_on_commit_callbacks):
    seen = SeenSkuFactory(store=world.us_store, sku="LS228800001-01-03", waiting_orders=4)
    with django_capture_on_commit_callbacks(execute=True):
        mapping = services.mapping_suggestion_accept(actor=world.operator, seen_sku=seen)
    assert (mapping.item, mapping.source) == (world.serum_us, Mapping.Source.SUGGESTION)
    assert announcements == [(world.us_store.pk, ("LS228800001-01-03",))]
    with pytest.raises(ApplicationError):
        services.mapping_suggestion_accept(actor=world.operator, seen_sku=SeenSkuFactory(store=world.us_store))


def test_mapping_suggestions_accept_all_maps_every_suggested_sku_once(world, django_capture_on_commit_callbacks):
    SeenSkuFactory(store=world.us_store, sku="LS228800001-01-01")
    SeenSkuFactory(store=world.jp_store, sku="LS228800001-01-01")  # suggests the JP item
    SeenSkuFactory(store=world.us_store, sku="VD100")
    SeenSkuFactory(store=world.us_store, sku="MY-OWN-SKU")
    with django_capture_on_commit_callbacks(execute=True):
        assert services.mapping_suggestions_accept_all(actor=world.owner) == 3
    made = set(Mapping.objects.values_list("store__site", "store_sku", "item__item_id"))
    assert made == {
        ("US", "LS228800001-01-01", "LS228800001-01-01"),
        ("JP", "LS228800001-01-01", "LS228800001-01-03"),
        ("US", "VD100", "VD100-01-01"),
    }
    assert services.mapping_suggestions_accept_all(actor=world.owner) == 0


def test_mapping_suggestions_accept_all_limited_to_one_store(world):
    SeenSkuFactory(store=world.us_store, sku="LS228800001-01-01")
    SeenSkuFactory(store=world.jp_store, sku="LS228800001-01-01")
    assert services.mapping_suggestions_accept_all(actor=world.owner, store=world.jp_store) == 1
    assert list(Mapping.objects.values_list("store", flat=True)) == [world.jp_store.pk]


def test_mapping_suggestions_accept_all_never_overwrites_a_mapping(world):
    product = ProductFactory(code="GIFT")
    ItemFactory(product=product, warehouse=world.us, item_id="GIFT-01-01")
    seen = SeenSkuFactory(store=world.us_store, sku="GIFT")
    suggestions = selectors.suggestions_for([seen])
    assert suggestions[seen.pk].item_id == "GIFT-01-01"
    MappingFactory(store=world.us_store, store_sku="GIFT", item=world.board_us)
    assert services.mapping_suggestions_accept_all(actor=world.owner) == 0
    assert Mapping.objects.get(store_sku="GIFT").item == world.board_us
