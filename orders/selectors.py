"""Reads of orders for the portal, tenant-scoped by construction.

The list runs a fixed number of queries whatever the page size (a test pins it): one
for the status tabs (which also gives the paginator its count: the counts the database
keeps, orders/counts.py, or with filters an aggregate), one for the
page of orders with their store, warehouse and platform order, one for their lines. A
search adds its two id lookups (`_search`), and counts only up to SEARCH_COUNT_CAP
matches (one more query when a tab is chosen and the search passes the cap).
Which of a page's orders could be merged is worked out over those rows (`merge_groups`).
The order page's logistics choices are one freight quote for the order
(`order_logistics_choices`).
"""

import copy
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Count, Exists, Prefetch, Q, QuerySet, Window
from django.utils import timezone

from catalog.shipping import MethodQuote
from distribution.errors import ApplicationError
from distribution.models import Distributor
from distribution.money import quantize
from stores.models import Store

from .actions.merge import merge_key
from .counts import counted_by_triggers, status_counts
from .models import (
    IngestionError,
    Logistics,
    Order,
    OrderEvent,
    OrderImport,
    OrderLine,
    OrderStatus,
    PlatformOrder,
    PullRun,
    StorePullState,
)
from .pricing import logistics_apply, logistics_quotes

# The tabs, in the order of an order's life.
STATUS_TABS = [
    OrderStatus.PENDING_MAPPING,
    OrderStatus.AWAITING_PAYMENT,
    OrderStatus.AWAITING_FUNDS,
    OrderStatus.OUTSIDE_AREA,
    OrderStatus.PAID,
    OrderStatus.AT_WAREHOUSE,
    OrderStatus.CANCEL_REQUESTED,
    OrderStatus.SHIPPED,
    OrderStatus.PICKED_UP,
    OrderStatus.CANCELLED,
    OrderStatus.SUPERSEDED,
]


@dataclass(frozen=True)
class OrderFilters:
    status: str = ""
    store_id: int | None = None
    warehouse: str = ""  # a warehouse code
    logistics: str = ""
    date_from: date | None = None
    date_to: date | None = None
    q: str = ""

    @property
    def narrows(self) -> bool:
        """Any filter but the status (the tabs count across statuses)."""
        return any((self.store_id, self.warehouse, self.logistics, self.date_from, self.date_to, self.q.strip()))


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _filtered(distributor: Distributor, filters: OrderFilters) -> QuerySet[Order]:
    """Every filter but the status (the tabs count across statuses)."""
    orders = Order.objects.filter(distributor=distributor)
    if filters.store_id:
        orders = orders.filter(store_id=filters.store_id)
    if filters.warehouse:
        orders = orders.filter(warehouse__code=filters.warehouse.upper())
    if filters.logistics:
        orders = orders.filter(logistics=filters.logistics)
    if filters.date_from:
        orders = orders.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        orders = orders.filter(created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    q = filters.q.strip()
    if q:
        orders = orders.filter(_search(distributor, q))
    return orders


# A search's matches by platform order number and by Item ID are looked up first, and
# when there are at most this many their ids go into the query as a list: then every
# arm of the search is an index condition and PostgreSQL ORs the indexes' answers (a
# BitmapOr over the number, recipient trigram, tracking and id indexes) instead of
# testing each of the distributor's orders against a subquery. More than this many
# (a prefix most orders share) stay a subquery, which is cheaper then.
SEARCH_ID_LIST_MAX = 500


def _few_or_subquery(values: QuerySet) -> list | QuerySet:
    few = list(values[: SEARCH_ID_LIST_MAX + 1])
    return few if len(few) <= SEARCH_ID_LIST_MAX else values


def _search(distributor: Distributor, q: str) -> Q:
    """Identifiers match by prefix, the recipient anywhere in the name (a trigram index
    serves it on PostgreSQL). The partial indexes on tracking number and Item ID hold only
    non-empty values, which the condition must say for the planner to use them."""
    upper = q.upper()
    with_item = (
        OrderLine.objects.filter(order__distributor=distributor, item_code__startswith=upper)
        .exclude(item_code="")
        .order_by()
        .values_list("order_id", flat=True)
    )
    platform = (
        PlatformOrder.objects.filter(store__distributor=distributor, display_number__startswith=q)
        .order_by()
        .values_list("pk", flat=True)
    )
    return (
        Q(number__startswith=upper)
        | Q(platform_order_id__in=_few_or_subquery(platform))
        | Q(recipient_name__icontains=q)
        | (Q(tracking_number__startswith=upper) & ~Q(tracking_number=""))
        | Q(pk__in=_few_or_subquery(with_item))
    )


def order_status_counts(*, distributor: Distributor, filters: OrderFilters) -> dict[str, int]:
    """{status: orders} under the other filters: kept by the database when there are none
    (orders/counts.py), else one aggregate query."""
    return _status_counts(distributor, filters, _filtered(distributor, filters))


def _status_counts(distributor: Distributor, filters: OrderFilters, filtered: QuerySet[Order]) -> dict[str, int]:
    """`filtered` is `_filtered(distributor, filters)`, counted only when the database
    keeps no counts for it."""
    counts = dict.fromkeys(STATUS_TABS, 0)
    if not filters.narrows and counted_by_triggers():
        return {**counts, **status_counts(distributor.pk)}
    # COUNT(*), not COUNT(id): the (distributor, status, created_at) index answers it alone.
    for status, n in filtered.order_by().values_list("status").annotate(n=Count("*")):
        counts[status] = n
    return counts


# A search is counted up to this many matches. Counting every match of a broad one (a
# common surname, the date part of order numbers) reads each of them; past this many the
# list says "more than" and shows the newest, and the tabs show no counts.
SEARCH_COUNT_CAP = 1000


@dataclass(frozen=True)
class OrderListing:
    counts: dict[str, int]  # per status tab, under every filter but the status
    total: int  # orders in the list (the chosen tab), at most SEARCH_COUNT_CAP when capped
    capped: bool  # a search with more than SEARCH_COUNT_CAP matches: `counts` are unknown
    orders: QuerySet[Order]


def order_listing(*, distributor: Distributor, filters: OrderFilters) -> OrderListing:
    """The list page's orders and counts: the tabs' aggregate (or, for a search, its
    statuses up to the cap) and the page's queryset, over one set of filters."""
    filtered = _filtered(distributor, filters)
    orders = _listed(filtered.filter(status=filters.status) if filters.status else filtered)
    if not filters.q.strip():
        counts = _status_counts(distributor, filters, filtered)
        total = counts.get(filters.status, 0) if filters.status else sum(counts.values())
        return OrderListing(counts=counts, total=total, capped=False, orders=orders)
    # Newest first, as listed: the (distributor, created_at) index hands a broad search's
    # matches over in that order and the read stops at the cap. (Without an ORDER BY the
    # planner may bet on a sequential scan that meets other distributors' rows first.)
    statuses = list(filtered.order_by("-created_at").values_list("status", flat=True)[: SEARCH_COUNT_CAP + 1])
    if len(statuses) <= SEARCH_COUNT_CAP:
        counts = dict.fromkeys(STATUS_TABS, 0)
        for status in statuses:
            counts[status] = counts.get(status, 0) + 1
        total = counts.get(filters.status, 0) if filters.status else len(statuses)
        return OrderListing(counts=counts, total=total, capped=False, orders=orders)
    total = SEARCH_COUNT_CAP
    if filters.status:
        chosen = filtered.filter(status=filters.status).order_by("-created_at")
        total = chosen[:SEARCH_COUNT_CAP].count()
    return OrderListing(counts=dict.fromkeys(STATUS_TABS, 0), total=total, capped=True, orders=orders)


def _listed(orders: QuerySet[Order]) -> QuerySet[Order]:
    return (
        orders.select_related("store", "warehouse", "platform_order")
        .defer("platform_order__raw", "platform_order__lines", "platform_order__shipping_address")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=OrderLine.objects.order_by("id").only(
                    "id", "order_id", "store_sku", "item_code", "quantity", "item_id", "unit_price", "currency"
                ),
            )
        )
        .order_by("-created_at", "-id")
    )


@dataclass(frozen=True)
class MappingWait:
    """What a part-mapped order already costs and how much of it is not mapped yet.

    An order waiting for a mapping carries no price (orders/pricing.py prices whole
    orders only), so its stored total is 0.00, which would read as "free". For display
    the mapped lines' snapshot prices are added up instead: goods only, no handling fee.
    """

    # (amount, currency) per currency of the mapped lines; empty when nothing is mapped.
    so_far: tuple[tuple[Decimal, str], ...]
    missing_skus: tuple[str, ...]

    @property
    def missing_count(self) -> int:
        return len(self.missing_skus)

    @property
    def so_far_display(self) -> str:
        return " + ".join(f"{amount} {currency}" for amount, currency in self.so_far)


def mapping_wait(order: Order) -> MappingWait | None:
    """The mapping an order waits for, or None: only an order pending mapping waits (a
    cancelled one keeps its list of unmapped SKUs but waits for nothing). Reads the
    order's prefetched lines, so a page of orders costs no query more."""
    if order.status != OrderStatus.PENDING_MAPPING:
        return None
    sums: dict[str, Decimal] = {}
    unmapped: list[str] = []
    for line in order.lines.all():
        if line.item_id is None or line.unit_price is None:
            unmapped.append(line.store_sku)
            continue
        sums[line.currency] = sums.get(line.currency, Decimal(0)) + line.unit_price * line.quantity
    missing = tuple(order.missing_skus or dict.fromkeys(unmapped))
    so_far = tuple((quantize(amount, currency), currency) for currency, amount in sorted(sums.items()))
    return MappingWait(so_far=so_far, missing_skus=missing)


def merge_groups(orders: Iterable[Order]) -> list[list[Order]]:
    """The orders among `orders` (a page of the list) that could be merged with each
    other, in groups of two or more (orders/actions/merge.py decides what they must
    share); worked out over the rows already loaded, so no query."""
    groups: dict[tuple, list[Order]] = {}
    for order in orders:
        key = merge_key(order)
        if key is not None:
            groups.setdefault(key, []).append(order)
    return [group for group in groups.values() if len(group) > 1]


# The orders an order page links to (a split's parts, a merge's sources): little of each.
_RELATED_FIELDS = ("id", "number", "status", "total_amount", "currency")


def order_detail(*, distributor: Distributor, order_id: int) -> Order:
    from distribution.tenancy import get_for_tenant_or_404

    queryset = Order.objects.select_related(
        "store", "warehouse", "chosen_method", "platform_order", "parent", "merged_into"
    ).prefetch_related(
        # The items' products too: a product's dimensions stand in for an item's in a freight quote.
        Prefetch("lines", queryset=OrderLine.objects.select_related("item__product").order_by("id")),
        Prefetch("events", queryset=OrderEvent.objects.select_related("actor").order_by("created_at", "id")),
        Prefetch("children", queryset=Order.objects.only(*_RELATED_FIELDS, "parent_id").order_by("id")),
        Prefetch("merged_from", queryset=Order.objects.only(*_RELATED_FIELDS, "merged_into_id").order_by("id")),
    )
    return get_for_tenant_or_404(queryset, distributor, pk=order_id)


# --- the order page's logistics choices ----------------------------------------------------------


@dataclass(frozen=True)
class LogisticsOption:
    """One choice of the order page's Logistics card: a shipping method (with its quote) or
    self-pickup, and what the order would cost with it, or why it cannot be chosen."""

    value: str  # what the form posts: the method's id, or "self_pickup"
    quote: MethodQuote | None = None  # None for self-pickup
    refusal: str = ""
    checked: bool = False  # the order's logistics now
    shipping_amount: Decimal | None = None
    handling_amount: Decimal | None = None
    total_amount: Decimal | None = None
    currency: str = ""

    @property
    def ok(self) -> bool:
        return not self.refusal


@dataclass(frozen=True)
class LogisticsChoices:
    methods: list[LogisticsOption]  # cheapest first, the refused ones after them
    self_pickup: LogisticsOption


def _logistics_option(order: Order, lines, quotes, quote: MethodQuote | None) -> LogisticsOption:
    # Priced by the rule itself (orders/pricing.py) on a copy of the order: nothing is written.
    preview = copy.copy(order)
    if quote is None:
        value, logistics, method_id = Logistics.SELF_PICKUP.value, Logistics.SELF_PICKUP, None
        checked = order.logistics == Logistics.SELF_PICKUP
    else:
        value, logistics, method_id = str(quote.method.pk), Logistics.DROPSHIPPING, quote.method.pk
        checked = order.logistics == Logistics.DROPSHIPPING and order.chosen_method_id == quote.method.pk
    try:
        why = logistics_apply(preview, lines, quotes, logistics=logistics, method_id=method_id)
    except ApplicationError as exc:
        why = str(exc)
    if why:
        return LogisticsOption(value=value, quote=quote, refusal=why, checked=checked)
    return LogisticsOption(
        value=value,
        quote=quote,
        checked=checked,
        shipping_amount=preview.shipping_amount,
        handling_amount=preview.handling_amount,
        total_amount=preview.total_amount,
        currency=preview.currency,
    )


def order_logistics_choices(order: Order) -> LogisticsChoices:
    """The order's warehouse's shipping methods quoted for it, and self-pickup, each with the
    cost choosing it would give the order. One freight quote (four queries); reads the
    order's prefetched lines (`order_detail`)."""
    lines = list(order.lines.all())
    [quotes] = logistics_quotes([(order, lines)])
    return LogisticsChoices(
        methods=[_logistics_option(order, lines, quotes, quote) for quote in quotes],
        self_pickup=_logistics_option(order, lines, [], None),
    )


def orders_logistics_chosen(*, distributor: Distributor, numbers) -> list[Order]:
    """What the orders were given (their method and freight), to say so after choosing."""
    return list(
        Order.objects.filter(distributor=distributor, number__in=list(numbers))
        .select_related("warehouse")
        .only("number", "logistics", "shipping_method", "shipping_amount", "currency", "warehouse__code")
        .order_by("number")
    )


def orders_for_ids(*, distributor: Distributor, ids) -> QuerySet[Order]:
    return Order.objects.filter(distributor=distributor, pk__in=ids).select_related("store", "warehouse")


def order_import_recent(*, distributor: Distributor, limit: int = 10) -> list[OrderImport]:
    return list(OrderImport.objects.filter(distributor=distributor).select_related("store")[:limit])


def order_placed(distributor: Distributor) -> Exists:
    """The "Start here" checklist's order step: the distributor has an order."""
    return Exists(Order.objects.filter(distributor=distributor))


# How many failing stores the home page names; a distributor has a handful of stores.
FAILING_STORES_SHOWN = 10


def stores_failing_to_pull(*, distributor: Distributor) -> tuple[list[Store], int]:
    """The stores whose orders are not coming in: a store with an API (not disabled by
    the distributor) whose authorization lapsed, was revoked or failed, or whose last
    pull failed. The first few with their pull state, and how many there are, in one
    query (a window count)."""
    failing = (
        Store.objects.with_api()
        .filter(distributor=distributor)
        .exclude(status=Store.Status.DISABLED)
        .filter(Q(status__in=Store.REAUTHORIZE_STATUSES) | Q(pull_state__last_result=StorePullState.Result.FAILED))
        .select_related("pull_state")
        .annotate(failing_total=Window(Count("pk")))
        .order_by("name", "id")
    )
    rows = list(failing[:FAILING_STORES_SHOWN])
    return rows, (rows[0].failing_total if rows else 0)


def pull_runs_recent(*, distributor: Distributor, limit: int = 20) -> list[PullRun]:
    return list(PullRun.objects.filter(store__distributor=distributor).select_related("store", "requested_by")[:limit])


def ingestion_errors_recent(*, distributor: Distributor, limit: int = 20) -> list[IngestionError]:
    return list(
        IngestionError.objects.filter(store__distributor=distributor).select_related("store").defer("payload")[:limit]
    )
