"""What an order costs the distributor: goods at the items' distribution prices, the
warehouse's handling fee, and freight by the chosen shipping method (catalog/shipping.py)
or, for self-pickup, the warehouse's self-pickup fee.

Amounts are Decimal in the items' currency, quantized to the currency's precision.
"""

import logging
from collections.abc import Sequence
from decimal import Decimal

from django.utils.translation import gettext as _

from catalog.models import Warehouse
from catalog.shipping import Destination, MethodQuote, Parcel, Piece, cheapest, quote_for, quote_parcels
from distribution.errors import ApplicationError
from distribution.money import DEFAULT_CURRENCY, quantize

logger = logging.getLogger(__name__)


def _unit_price(line) -> Decimal:
    snapshot = getattr(line, "unit_price", None)
    return line.item.price if snapshot is None else snapshot


def order_costs(warehouse: Warehouse | None, lines: Sequence, missing: Sequence) -> dict:
    """Goods at the items' distribution prices plus the warehouse's handling fee.

    `lines` are routed lines (an `item` and a `quantity` each), or order lines, which are
    priced at their snapshot `unit_price` (a split or merge keeps the price paid for).

    Freight is added when the logistics are applied (`logistics_apply`), so it is zero
    here. An order waiting for a mapping has no price yet.
    """
    if missing or not lines or warehouse is None:
        zero = Decimal("0.00")
        return {
            "goods_amount": zero,
            "shipping_amount": zero,
            "handling_amount": zero,
            "total_amount": zero,
            "currency": DEFAULT_CURRENCY,
        }
    currency = lines[0].item.currency
    if any(line.item.currency != currency for line in lines):
        raise ApplicationError(_("The items of one order are priced in different currencies."))
    goods = quantize(sum((_unit_price(line) * line.quantity for line in lines), Decimal(0)), currency)
    if warehouse.handling_fee_currency != currency:
        raise ApplicationError(
            _("The handling fee of %(warehouse)s is in %(fee)s but the items are priced in %(items)s.")
            % {"warehouse": warehouse.code, "fee": warehouse.handling_fee_currency, "items": currency}
        )
    handling = quantize(warehouse.handling_fee, currency)
    return {
        "goods_amount": goods,
        "shipping_amount": Decimal("0.00"),
        "handling_amount": handling,
        "total_amount": goods + handling,
        "currency": currency,
    }


# --- logistics: freight by the chosen method, or the self-pickup fee -----------------------------


def parcel_of(order, lines: Sequence) -> Parcel | None:
    """The parcel an order's mapped lines make, or None when it cannot be quoted yet."""
    pieces = [Piece(line.item, line.quantity) for line in lines if line.item is not None and line.quantity > 0]
    if not pieces or order.warehouse_id is None or order.missing_skus:
        return None
    return Parcel(order.warehouse_id, Destination(order.country, order.province, order.postal_code), pieces)


def logistics_quotes(orders_lines: Sequence[tuple]) -> list[list[MethodQuote]]:
    """For each (order, lines), its warehouse's methods quoted for it, cheapest first ([]
    when it cannot be quoted yet): many orders at once, in the same four queries."""
    parcels = [parcel_of(order, lines) for order, lines in orders_lines]
    answers = iter(quote_parcels([p for p in parcels if p is not None]) if any(parcels) else [])
    return [next(answers) if parcel is not None else [] for parcel in parcels]


def logistics_apply(order, lines: Sequence, quotes: Sequence[MethodQuote], *, logistics: str, method_id=None) -> str:
    """Give `order` its logistics and price it (goods + freight + handling); "" when done,
    else why not (nothing is changed then).

    Dropshipping ships by `method_id`, or by the cheapest method that serves the address;
    self-pickup costs no freight but the warehouse's self-pickup fee, added to handling.
    """
    from .models import Logistics

    costs = order_costs(order.warehouse, lines, order.missing_skus)
    if logistics == Logistics.SELF_PICKUP:
        warehouse = order.warehouse
        fee = warehouse.self_pickup_fee or Decimal(0)
        if fee and warehouse.self_pickup_fee_currency != costs["currency"]:
            return _("the self-pickup fee of %(warehouse)s is not in %(currency)s") % {
                "warehouse": warehouse.code,
                "currency": costs["currency"],
            }
        order.chosen_method, order.shipping_method, order.chargeable_grams = None, "", None
        costs["handling_amount"] += quantize(fee, costs["currency"])
    else:
        quote = quote_for(quotes, int(method_id)) if method_id else cheapest(quotes)
        if quote is None:
            return _("no shipping method of %(warehouse)s serves %(country)s") % {
                "warehouse": order.warehouse.code if order.warehouse_id else "?",
                "country": order.country or "?",
            }
        if not quote.ok:
            return str(quote.refusal)
        if quote.price.currency != costs["currency"]:
            return _("%(method)s is priced in %(card)s, the goods in %(goods)s") % {
                "method": quote.method.name,
                "card": quote.price.currency,
                "goods": costs["currency"],
            }
        order.chosen_method, order.shipping_method = quote.method, quote.method.name[:100]
        order.chargeable_grams = quote.chargeable_grams
        costs["shipping_amount"] = quote.price.amount
    order.logistics = logistics
    costs["total_amount"] = costs["goods_amount"] + costs["shipping_amount"] + costs["handling_amount"]
    for name, value in costs.items():
        setattr(order, name, value)
    return ""


LOGISTICS_FIELDS = [
    "logistics",
    "chosen_method",
    "shipping_method",
    "chargeable_grams",
    "goods_amount",
    "shipping_amount",
    "handling_amount",
    "total_amount",
    "currency",
]


def logistics_preselect(orders_lines: Sequence[tuple]) -> None:
    """Price new orders' logistics (in place, no write): dropshipping by the cheapest method
    that serves the address (an order nothing serves keeps no method and no freight),
    self-pickup with the warehouse's fee."""
    from .models import Logistics

    ready = [(o, lines) for o, lines in orders_lines if o.warehouse_id and not o.missing_skus]
    wanted = [(o, lines) for o, lines in ready if o.logistics == Logistics.DROPSHIPPING]
    for (order, lines), quotes in zip(wanted, logistics_quotes(wanted), strict=True):
        if quotes:
            logistics_apply(order, lines, quotes, logistics=order.logistics)
    for order, lines in ready:
        if order.logistics == Logistics.SELF_PICKUP:
            logistics_apply(order, lines, [], logistics=order.logistics)


def logistics_reprice(order, lines: Sequence) -> None:
    """Price an order whose lines or address changed (in place, no write): goods and
    handling, then the freight of the same method if it still serves the order, else of
    the cheapest that does, else none (no freight: the order cannot be paid until a method
    or self-pickup is chosen); self-pickup keeps its fee."""
    from .models import Logistics

    if order.warehouse_id is None or order.missing_skus:
        return
    for name, value in order_costs(order.warehouse, lines, order.missing_skus).items():
        setattr(order, name, value)
    if order.logistics == Logistics.SELF_PICKUP:
        logistics_apply(order, lines, [], logistics=order.logistics)
        return
    [quotes] = logistics_quotes([(order, lines)])
    method = order.chosen_method_id
    if method and not logistics_apply(order, lines, quotes, logistics=order.logistics, method_id=method):
        return
    if logistics_apply(order, lines, quotes, logistics=order.logistics):
        order.chosen_method, order.shipping_method, order.chargeable_grams = None, "", None
