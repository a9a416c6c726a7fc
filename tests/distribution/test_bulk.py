"""distribution.bulk: rows written by COPY read back exactly as the ORM writes them.

On SQLite bulk_insert is bulk_create; the COPY path runs under PostgreSQL (CI)."""

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from distribution.bulk import blueprint, bulk_insert
from orders.models import PlatformOrder
from tests.stores.factories import StoreFactory

pytestmark = pytest.mark.django_db

AWKWARD_TEXT = 'Tab\there, "quoted", comma, new\nline, back\\slash, \\N, 中文, émoji 📦'
COMPARED = [
    "external_id",
    "display_number",
    "source",
    "currency",
    "is_cancelled",
    "buyer_name",
    "shipping_address",
    "lines",
    "remark",
    "total",
    "placed_at",
    "platform_updated_at",
    "raw",
]


def _values(store, external_id: str, **overrides) -> dict:
    values = {
        "store_id": store.pk,
        "external_id": external_id,
        "display_number": "#1001",
        "source": PlatformOrder.Source.IMPORT,
        "currency": "USD",
        "is_cancelled": True,
        "buyer_name": AWKWARD_TEXT,
        "shipping_address": {"name": AWKWARD_TEXT, "zip": None, "nested": [1, "二", {"ok": False}]},
        "lines": [{"sku": "A,B", "quantity": 2, "unit_price": "9.99"}],
        "remark": "",
        "total": Decimal("1234.5678"),
        "placed_at": datetime(2026, 1, 31, 10, 0, 5, 123456, tzinfo=UTC),
        "platform_updated_at": None,
        "raw": {"text": AWKWARD_TEXT},
    }
    values.update(overrides)
    return values


def test_copied_rows_read_back_like_orm_rows():
    # given the same values written once by bulk_insert and once by the ORM
    store = StoreFactory()
    copied = [blueprint(PlatformOrder).new(**_values(store, f"C-{n}")) for n in range(3)]
    copied.append(blueprint(PlatformOrder).new(**_values(store, "C-empty", total=None, placed_at=None, remark="")))
    orm = [PlatformOrder(**_values(store, f"O-{n}")) for n in range(3)]
    orm.append(PlatformOrder(**_values(store, "O-empty", total=None, placed_at=None, remark="")))
    # when both are written
    bulk_insert(PlatformOrder, copied)
    PlatformOrder.objects.bulk_create(orm)
    # then every instance has its id and the rows read back field for field
    assert all(po.pk for po in copied)
    assert len({po.pk for po in copied + orm}) == 8
    for mine, theirs in zip(copied, orm, strict=True):
        read_mine = PlatformOrder.objects.get(pk=mine.pk)
        read_theirs = PlatformOrder.objects.get(pk=theirs.pk)
        for name in COMPARED:
            if name == "external_id":
                continue
            assert getattr(read_mine, name) == getattr(read_theirs, name), name
        assert read_mine.received_at is not None and read_mine.updated_at is not None
    empty = PlatformOrder.objects.get(external_id="C-empty")
    assert empty.total is None and empty.placed_at is None and empty.remark == ""


def test_json_already_encoded_is_written_as_the_value_it_encodes():
    import json

    from distribution.bulk import JSONText

    store = StoreFactory()
    payload = {"id": 5, "note": AWKWARD_TEXT, "lines": [{"sku": "A", "price": "1.50"}], "empty": {}}
    po = blueprint(PlatformOrder).new(**_values(store, "J-1", raw=JSONText(json.dumps(payload, ensure_ascii=False))))
    bulk_insert(PlatformOrder, [po])
    assert PlatformOrder.objects.get(pk=po.pk).raw == payload


def test_repeated_times_and_amounts_are_written_as_the_values_they_are():
    from datetime import timedelta
    from datetime import timezone as tz

    store = StoreFactory()
    instant = datetime(2026, 1, 31, 10, 0, tzinfo=UTC)
    tokyo = instant.astimezone(tz(timedelta(hours=9)))  # the same instant, equal and written from its own text
    rows = [
        blueprint(PlatformOrder).new(**_values(store, "R-1", placed_at=instant, total=Decimal("1.5"))),
        blueprint(PlatformOrder).new(**_values(store, "R-2", placed_at=tokyo, total=Decimal("1.50"))),
        blueprint(PlatformOrder).new(**_values(store, "R-3", placed_at=instant + timedelta(seconds=1), total=None)),
    ]
    bulk_insert(PlatformOrder, rows)
    read = dict(PlatformOrder.objects.filter(store=store).values_list("external_id", "placed_at"))
    assert read == {"R-1": instant, "R-2": instant, "R-3": instant + timedelta(seconds=1)}
    totals = dict(PlatformOrder.objects.filter(store=store).values_list("external_id", "total"))
    assert totals == {"R-1": Decimal("1.50"), "R-2": Decimal("1.50"), "R-3": None}


def test_the_ids_taken_do_not_collide_with_later_inserts():
    # given rows written by bulk_insert
    store = StoreFactory()
    copied = bulk_insert(PlatformOrder, [blueprint(PlatformOrder).new(**_values(store, f"S-{n}")) for n in range(5)])
    # when the ORM inserts one more row afterwards
    later = PlatformOrder.objects.create(**_values(store, "S-later"))
    # then its id comes after theirs (the sequence moved past them)
    assert later.pk > max(po.pk for po in copied)


def test_blueprint_refuses_an_unknown_field_and_fills_defaults():
    store = StoreFactory()
    with pytest.raises(TypeError, match="no field store"):
        blueprint(PlatformOrder).new(store=store)
    # given two instances made without the JSON fields
    first = blueprint(PlatformOrder).new(store_id=store.pk, external_id="D-1", source="import")
    second = blueprint(PlatformOrder).new(store_id=store.pk, external_id="D-2", source="import")
    # then each has its own default, as Model() gives
    assert first.lines == [] and first.shipping_address == {} and first.is_cancelled is False
    first.lines.append({"sku": "X"})
    assert second.lines == []


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's")
def test_a_field_type_copy_cannot_write_is_refused():
    from orders.models import OrderImport

    # given a model with a FileField, which COPY here does not write
    with pytest.raises(TypeError, match="cannot write"):
        bulk_insert(OrderImport, [OrderImport(distributor_id=1)])


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's")
def test_a_failed_copy_raises_djangos_errors_and_writes_nothing():
    from django.db import IntegrityError, transaction

    store = StoreFactory()
    PlatformOrder.objects.create(**_values(store, "DUP-1"))
    # when a COPY meets a row that breaks the unique key (a webhook inserted it meanwhile)
    batch = [blueprint(PlatformOrder).new(**_values(store, f"DUP-{n}")) for n in (2, 1)]
    with pytest.raises(IntegrityError), transaction.atomic():
        bulk_insert(PlatformOrder, batch)
    # and when a NOT NULL column holds None
    with pytest.raises(IntegrityError, match="external_id"), transaction.atomic():
        bulk_insert(PlatformOrder, [blueprint(PlatformOrder).new(**_values(store, None))])
    # then Django's IntegrityError is raised (what the ingest's fallback catches) and no row was written
    assert list(PlatformOrder.objects.filter(store=store).values_list("external_id", flat=True)) == ["DUP-1"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the COPY path is PostgreSQL's")
def test_a_page_meeting_a_concurrent_insert_falls_back_to_one_by_one(monkeypatch):
    from orders.ingest import service
    from orders.models import PlatformOrder as PO
    from tests.orders.test_ingest import platform_order

    store = StoreFactory()
    orders = [platform_order(external_id=f"RACE-{n}") for n in range(3)]
    real_known = service.PlatformOrder.objects.filter

    # given a webhook that inserts RACE-1 after the page looked up what exists
    def filter_then_race(*args, **kwargs):
        result = real_known(*args, **kwargs)
        if "external_id__in" in kwargs and not PO.objects.filter(store=store, external_id="RACE-1").exists():
            list(result)
            PO.objects.create(**_values(store, "RACE-1"))
        return result

    monkeypatch.setattr(service.PlatformOrder.objects, "filter", filter_then_race)
    # when the page is ingested
    summary = service.platform_orders_ingest(store=store, orders=orders, source=PO.Source.PULL)
    # then the COPY's unique violation sent the page one by one: every order once
    assert PO.objects.filter(store=store).count() == 3
    assert summary.failed == 0 and summary.created + summary.updated == 3


# --- copy_tuples and the any_of lookup -----------------------------------------------------------

MAPPING_COLUMNS = ("store_id", "store_sku", "item_id", "platform_product_id", "platform_variant_id", "source")


def test_copied_tuples_read_back_like_orm_rows():
    from mapping.models import Mapping
    from tests.catalog.factories import ItemFactory
    from tests.distribution.factories import owner_of

    store = StoreFactory()
    owner_of(store.distributor)
    item = ItemFactory()
    from distribution.bulk import copy_tuples

    before = timezone.now()
    now = datetime(2026, 12, 4, 10, 30, tzinfo=UTC)  # auto_now_add: stamped anew, as bulk_create does
    rows = [
        (store.pk, AWKWARD_TEXT[:100], item.pk, "8000", "", "import", None, now, now),
        (store.pk, "SKU-2", item.pk, "", "42", "import", None, now, now),
    ]
    copy_tuples(Mapping, (*MAPPING_COLUMNS, "created_by_id", "created_at", "updated_at"), rows)
    got = {m.store_sku: m for m in Mapping.objects.filter(store=store)}
    assert set(got) == {AWKWARD_TEXT[:100], "SKU-2"}
    first = got[AWKWARD_TEXT[:100]]
    assert (first.item_id, first.platform_product_id, first.created_by_id) == (item.pk, "8000", None)
    assert first.created_at >= before and first.updated_at >= before
    assert got["SKU-2"].platform_variant_id == "42"


def test_copied_tuples_refuse_a_null_where_the_column_needs_a_value_and_write_nothing():
    from django.db import IntegrityError, transaction

    from distribution.bulk import copy_tuples
    from mapping.models import Mapping
    from tests.catalog.factories import ItemFactory

    store, item = StoreFactory(), ItemFactory()
    now = datetime(2026, 12, 4, tzinfo=UTC)
    rows = [
        (store.pk, "SKU-1", item.pk, "", "", "import", None, now, now),
        (store.pk, None, item.pk, "", "", "import", None, now, now),
    ]
    with pytest.raises(IntegrityError), transaction.atomic():
        copy_tuples(Mapping, (*MAPPING_COLUMNS, "created_by_id", "created_at", "updated_at"), rows)
    assert not Mapping.objects.filter(store=store).exists()


def test_any_of_finds_the_rows_whose_value_is_in_the_list_as_in_does():
    from mapping.models import Mapping
    from tests.mapping.factories import MappingFactory

    store = StoreFactory()
    made = [MappingFactory(store=store, store_sku=sku) for sku in ("A-1", "a-1", "B 2", "中文-3")]
    wanted = ["a-1", "中文-3", "not there", "it's"]
    by_any = set(Mapping.objects.filter(store=store, store_sku__any_of=wanted).values_list("pk", flat=True))
    by_in = set(Mapping.objects.filter(store=store, store_sku__in=wanted).values_list("pk", flat=True))
    assert by_any == by_in == {made[1].pk, made[3].pk}
    assert not Mapping.objects.filter(store_sku__any_of=[]).exists()
    assert set(Mapping.objects.filter(pk__any_of=[made[0].pk]).values_list("store_sku", flat=True)) == {"A-1"}
