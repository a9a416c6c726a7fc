"""Reads of the catalog: for the portal, and the logistics data freight quotes read.

Distributors see only active products, and of those only active items in active
warehouses. Every list here runs a fixed number of queries whatever the number of
rows (the tests pin it): one for the page, one for its items, one for its images.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Prefetch, Q, QuerySet

from .models import (
    Category,
    Document,
    Item,
    Product,
    ProductImage,
    RateCard,
    RateRow,
    RateZone,
    ShippingMethod,
    Warehouse,
)


@dataclass(frozen=True)
class ProductFilters:
    q: str = ""
    warehouse: str = ""  # a warehouse code, e.g. JP-TYO
    site: str = ""  # a store site (country code), e.g. JP
    category_id: int | None = None
    in_stock: bool = False

    @property
    def narrows_items(self) -> bool:
        return bool(self.warehouse or self.site)


def warehouse_list() -> list[Warehouse]:
    return list(Warehouse.objects.filter(is_active=True).order_by("code"))


def site_list(warehouses: list[Warehouse]) -> list[str]:
    return sorted({site for warehouse in warehouses for site in warehouse.site_codes})


def warehouse_ids_serving(site: str, warehouses: list[Warehouse] | None = None) -> list[int]:
    """Active warehouses that ship to `site`; answered in Python from the few warehouses."""
    warehouses = warehouse_list() if warehouses is None else warehouses
    return [warehouse.pk for warehouse in warehouses if warehouse.serves(site)]


def category_list() -> QuerySet[Category]:
    return Category.objects.order_by("name")


def _visible_items() -> QuerySet[Item]:
    # The product's own activity is checked on the product query; here only the item's and the warehouse's.
    return Item.objects.filter(is_active=True, warehouse__is_active=True)


def _item_scope(filters: ProductFilters, warehouses: list[Warehouse] | None) -> QuerySet[Item]:
    items = _visible_items()
    if filters.warehouse:
        items = items.filter(warehouse__code=filters.warehouse.upper())
    if filters.site:
        items = items.filter(warehouse_id__in=warehouse_ids_serving(filters.site, warehouses))
    return items


def product_list(*, filters: ProductFilters, warehouses: list[Warehouse] | None = None) -> QuerySet[Product]:
    """Active products matching the filters, with their visible items and images prefetched.

    Search matches the product name, brand, product code or any Item ID. The warehouse,
    site and in-stock filters keep products having an item that meets all of them,
    and the items shown are narrowed to the chosen warehouse or site.
    """
    products = Product.objects.filter(is_active=True).select_related("category")
    if filters.category_id:
        products = products.filter(category_id=filters.category_id)
    q = filters.q.strip()
    if q:
        matching_items = _visible_items().filter(item_id__icontains=q).values("product_id")
        products = products.filter(
            Q(name__icontains=q) | Q(code__icontains=q) | Q(brand__icontains=q) | Q(pk__in=matching_items)
        )
    items = _item_scope(filters, warehouses)
    if filters.narrows_items or filters.in_stock:
        wanted = items.in_stock() if filters.in_stock else items
        products = products.filter(pk__in=wanted.values("product_id"))
    return products.order_by("name", "id").prefetch_related(
        Prefetch(
            "items",
            queryset=items.select_related("warehouse").order_by("warehouse__code", "item_id"),
            to_attr="visible_items",
        ),
        Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"), to_attr="image_list"),
    )


def product_detail_queryset() -> QuerySet[Product]:
    """One product with all it shows on its page; an inactive product is not found."""
    return (
        Product.objects.filter(is_active=True)
        .select_related("category")
        .prefetch_related(
            Prefetch(
                "items",
                queryset=_visible_items().select_related("warehouse").order_by("warehouse__code", "item_id"),
                to_attr="visible_items",
            ),
            Prefetch("documents", queryset=Document.objects.order_by("doc_type", "id"), to_attr="document_list"),
            Prefetch("images", queryset=ProductImage.objects.order_by("position", "id"), to_attr="image_list"),
        )
    )


def document_queryset() -> QuerySet[Document]:
    return Document.objects.filter(product__is_active=True).select_related("product")


def product_image_queryset() -> QuerySet[ProductImage]:
    return ProductImage.objects.filter(product__is_active=True).select_related("product")


def shipping_methods_by_warehouse(warehouse_ids: Iterable[int]) -> dict[int, list[ShippingMethod]]:
    """The active shipping methods of each warehouse, in one query."""
    methods: dict[int, list[ShippingMethod]] = {}
    queryset = ShippingMethod.objects.filter(warehouse_id__in=set(warehouse_ids), is_active=True)
    for method in queryset.select_related("warehouse").order_by("carrier", "service", "id"):
        methods.setdefault(method.warehouse_id, []).append(method)
    return methods


def rate_cards_in_force(method_ids: Iterable[int], at: datetime) -> dict[int, RateCard]:
    """The rate card in force at `at` for each method that has one, with its zones and
    their weight rows: three queries whatever the number of methods.

    A card is in force while `effective_from <= at < effective_to` (no end: open). Where
    two cards of a method both hold `at`, the one that started later wins, so a new
    version takes over at its start without the old one's end being edited.
    """
    method_ids = set(method_ids)
    if not method_ids:
        return {}
    rows = Prefetch("rows", queryset=RateRow.objects.order_by("max_grams"))
    zones = Prefetch("zones", queryset=RateZone.objects.order_by("id").prefetch_related(rows))
    cards = (
        RateCard.objects.in_force(at)
        .filter(method_id__in=method_ids)
        .order_by("method_id", "-effective_from")
        .prefetch_related(zones)
    )
    chosen: dict[int, RateCard] = {}
    for card in cards:
        chosen.setdefault(card.method_id, card)
    return chosen
