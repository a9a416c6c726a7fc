"""Reads of mappings, seen SKUs and imports, tenant-scoped by construction.

`mapping_resolve` is what the orders app calls to route order lines. The list pages
run a fixed number of queries whatever the number of rows (the tests pin them).
"""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.utils import timezone

from catalog.models import Item, Product, Warehouse
from distribution.models import Distributor
from distribution.tenancy import scope
from stores.models import Store

from .models import Mapping, MappingImport, SeenSku
from .skus import normalise_item_id, normalise_sku

ITEM_SEARCH_LIMIT = 20
SKU_SEARCH_LIMIT = 20


@dataclass(frozen=True)
class MappingFilters:
    store_id: int | None = None
    q: str = ""


def mapping_resolve(*, store: Store, skus: Iterable[str]) -> dict[str, Item]:
    """Normalised store SKU -> the Item it maps to, for those of `skus` that are mapped.

    One query, however many SKUs. The SKUs are normalised here (skus.normalise_sku), so
    the caller may pass them as the platform sent them; the keys are the normalised
    form. The Item comes with its product and warehouse loaded; it may since have been
    retired (`item.is_active`), which the caller decides about.
    """
    wanted = {normalise_sku(sku) for sku in skus} - {""}
    if not wanted:
        return {}
    mappings = Mapping.objects.filter(store=store, store_sku__any_of=wanted).select_related(
        "item", "item__product", "item__warehouse"
    )
    return {mapping.store_sku: mapping.item for mapping in mappings}


def not_supplied_skus(*, store: Store, skus: Iterable[str]) -> set[str]:
    """Those of `skus` (normalised) the distributor marked "not supplied by this platform". One query."""
    wanted = {normalise_sku(sku) for sku in skus} - {""}
    if not wanted:
        return set()
    return set(
        SeenSku.objects.filter(store=store, sku__any_of=wanted, not_supplied_at__isnull=False).values_list(
            "sku", flat=True
        )
    )


def mapped_exists():
    return Exists(Mapping.objects.filter(store_id=OuterRef("store_id"), store_sku=OuterRef("sku")))


def mapping_list(*, distributor: Distributor, filters: MappingFilters) -> QuerySet[Mapping]:
    """The distributor's mappings (of stores not removed), searched by store SKU, Item ID or product name."""
    mappings = scope(Mapping.objects.all(), distributor).filter(store__removed_at__isnull=True)
    if filters.store_id:
        mappings = mappings.filter(store_id=filters.store_id)
    q = filters.q.strip()
    if q:
        mappings = mappings.filter(
            Q(store_sku__icontains=q) | Q(item__item_id__icontains=q) | Q(item__product__name__icontains=q)
        )
    return mappings.select_related("store", "item", "item__product", "item__warehouse").order_by(
        "store__name", "store_id", "store_sku"
    )


def unmapped_list(
    *, distributor: Distributor, filters: MappingFilters, not_supplied: bool = False
) -> QuerySet[SeenSku]:
    """Store SKUs seen in orders that have no mapping, those holding up most orders first:
    the queue to work through, or (`not_supplied`) those marked "not supplied by this
    platform", which wait on nothing."""
    seen = (
        scope(SeenSku.objects.all(), distributor)
        .filter(store__removed_at__isnull=True, not_supplied_at__isnull=not not_supplied)
        .alias(mapped=mapped_exists())
        .filter(mapped=False)
    )
    if filters.store_id:
        seen = seen.filter(store_id=filters.store_id)
    q = filters.q.strip()
    if q:
        seen = seen.filter(Q(sku__icontains=q) | Q(title__icontains=q))
    return seen.select_related("store").order_by("-waiting_orders", "-last_seen_at", "id")


def unmapped_summary(*, distributor: Distributor) -> dict[str, int]:
    """The home page's figure: how many SKUs wait in the unmapped queue and how many
    orders they hold up (the queue's own count, one aggregate)."""
    totals = (
        unmapped_list(distributor=distributor, filters=MappingFilters())
        .order_by()
        .aggregate(skus=Count("pk"), orders=Sum("waiting_orders"))
    )
    return {"skus": totals["skus"], "orders": totals["orders"] or 0}


def mapping_made(distributor: Distributor) -> Exists:
    """The "Start here" checklist's mapping step: a store (not removed) has a mapping."""
    return Exists(scope(Mapping.objects.all(), distributor).filter(store__removed_at__isnull=True))


def seen_sku_waiting(*, store: Store, sku: str) -> int:
    row = SeenSku.objects.filter(store=store, sku=normalise_sku(sku)).values_list("waiting_orders", flat=True).first()
    return row or 0


def serving_warehouse_ids(site: str) -> list[int]:
    site = (site or "").strip().upper()
    return [w.pk for w in Warehouse.objects.filter(is_active=True) if w.serves(site)]


def item_search(*, store: Store, q: str, limit: int = ITEM_SEARCH_LIMIT) -> list[Item]:
    """Items the store may map to (visible, in a warehouse serving its site), by Item ID,
    product name or code, or barcode."""
    items = Item.objects.visible().filter(warehouse_id__in=serving_warehouse_ids(store.site))
    q = q.strip()
    if q:
        items = items.filter(
            Q(item_id__icontains=q) | Q(product__name__icontains=q) | Q(product__code__icontains=q) | Q(barcode=q)
        )
    return list(items.select_related("product", "warehouse").order_by("product__name", "item_id")[:limit])


def sku_search(*, store: Store, q: str, limit: int = SKU_SEARCH_LIMIT) -> list[SeenSku]:
    """Unmapped SKUs seen in the store's orders, to pick from on [Add]."""
    seen = SeenSku.objects.filter(store=store).alias(mapped=mapped_exists()).filter(mapped=False)
    q = q.strip()
    if q:
        seen = seen.filter(Q(sku__icontains=q) | Q(title__icontains=q))
    return list(seen.order_by("-waiting_orders", "-last_seen_at", "id")[:limit])


def mapping_import_recent(*, distributor: Distributor, limit: int = 10) -> list[MappingImport]:
    return list(
        scope(MappingImport.objects.defer("rejected_rows", "changes_sample"), distributor).order_by("-created_at")[
            :limit
        ]
    )


def mapping_export_rows(*, distributor: Distributor, store_id: int | None = None):
    """Rows for the export, in the import's column order first; streamed from the database."""
    from .importer import StoreResolver

    resolver = StoreResolver(distributor)
    mappings = Mapping.objects.filter(store_id__in=resolver.by_id).order_by("store__name", "store_id", "store_sku")
    if store_id:
        mappings = mappings.filter(store_id=store_id)
    values = mappings.values_list(
        "store_id",
        "store_sku",
        "item__item_id",
        "platform_product_id",
        "platform_variant_id",
        "item__product__name",
        "item__warehouse__code",
        "updated_at",
    )
    for store_pk, sku, item_id, product_id, variant_id, name, warehouse, updated_at in values.iterator(
        chunk_size=5_000
    ):
        store = resolver.by_id[store_pk]
        yield (
            resolver.reference(store),
            sku,
            item_id,
            product_id,
            variant_id,
            name,
            warehouse,
            store.site,
            timezone.localtime(updated_at).replace(tzinfo=None, microsecond=0),
        )


# --- suggestions --------------------------------------------------------------------------------


def suggestions_for(seen_skus: list[SeenSku]) -> dict[int, Item]:
    """SeenSku id -> the suggested Item, where the store SKU equals an Item ID, a barcode
    or a product code and that product has an item in a warehouse serving the store's site.

    Matching an Item ID or a barcode names a product variant: the suggestion is that
    variant in a warehouse serving the site (a US store whose SKU is LS228800001-01-03,
    the JP item, is offered LS228800001-01-01). A product code is suggested only when
    the product has exactly one variant there. Four queries for any number of SKUs.
    """
    if not seen_skus:
        return {}
    skus = {seen.sku for seen in seen_skus}
    codes = {normalise_item_id(sku) for sku in skus}
    by_item_id: dict[str, tuple[int, str]] = {}
    by_barcode: dict[str, tuple[int, str]] = {}
    for item_id, barcode, product_id in Item.objects.filter(Q(item_id__in=codes) | Q(barcode__in=skus)).values_list(
        "item_id", "barcode", "product_id"
    ):
        variant = item_id.rsplit("-", 1)[0] + "-"
        by_item_id[item_id] = (product_id, variant)
        if barcode:
            by_barcode[barcode] = (product_id, variant)
    by_code = dict(Product.objects.filter(code__in=codes, is_active=True).values_list("code", "pk"))

    wanted: dict[int, tuple[int, str]] = {}
    for seen in seen_skus:
        code = normalise_item_id(seen.sku)
        if code in by_item_id:
            wanted[seen.pk] = by_item_id[code]
        elif seen.sku in by_barcode:
            wanted[seen.pk] = by_barcode[seen.sku]
        elif code in by_code:
            wanted[seen.pk] = (by_code[code], "")
    if not wanted:
        return {}

    warehouses = list(Warehouse.objects.filter(is_active=True))
    items_by_product: dict[int, list[Item]] = defaultdict(list)
    for item in (
        Item.objects.visible()
        .filter(product_id__in={product_id for product_id, _v in wanted.values()})
        .select_related("product", "warehouse")
        .order_by("item_id")
    ):
        items_by_product[item.product_id].append(item)

    result = {}
    for seen in seen_skus:
        if seen.pk not in wanted:
            continue
        product_id, variant = wanted[seen.pk]
        site = seen.store.site.upper()
        serving = {w.pk for w in warehouses if w.serves(site)}
        options = [
            item
            for item in items_by_product[product_id]
            if item.warehouse_id in serving and item.item_id.startswith(variant)
        ]
        variants = {item.item_id.rsplit("-", 1)[0] for item in options}
        if options and len(variants) == 1:
            # Several warehouses serving the site: the one with stock, then the first.
            result[seen.pk] = sorted(options, key=lambda item: (item.available <= 0, item.item_id))[0]
    return result
