"""What an order costs the distributor: goods at the items' distribution prices, the
warehouse's handling (its fee per order, plus its fee per extra piece for each piece
after the first), and freight by the chosen shipping method (catalog/shipping.py) or,
for self-pickup, the warehouse's self-pickup fee on top of the handling.

Amounts are Decimal in the items' currency, quantized (half up) to the currency's precision.
Unpaid orders only: paying freezes the cost, with the quote that was paid (`paid_quote`),
and nothing here prices a paid order again.
"""

import logging
from collections.abc import Sequence
from datetime import datetime
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


def pieces_of(lines: Sequence) -> int:
    """How many pieces the lines make: their quantities added up."""
    return sum(line.quantity for line in lines)


def handling_of(warehouse: Warehouse, pieces: int, currency: str) -> Decimal:
    """The warehouse's handling of one order of `pieces` pieces: its fee per order plus its
    fee per extra piece for each piece after the first, rounded half up once."""
    extra = warehouse.handling_fee_per_extra_piece or Decimal(0)
    return quantize(warehouse.handling_fee + extra * max(pieces - 1, 0), currency)


def order_costs(warehouse: Warehouse | None, lines: Sequence, missing: Sequence) -> dict:
    """Goods at the items' distribution prices plus the warehouse's handling (per order,
    and per extra piece: `handling_of`).

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
    handling = handling_of(warehouse, pieces_of(lines), currency)
    return {
        "goods_amount": goods,
        "shipping_amount": Decimal("0.00"),
        "handling_amount": handling,
        "total_amount": goods + handling,
        "currency": currency,
    }


# --- logistics: freight by the chosen method, or the self-pickup fee -----------------------------


def parcel_of(order, lines: Sequence, destinations: dict | None = None) -> Parcel | None:
    """The parcel an order's mapped lines make, or None when it cannot be quoted yet.
    `destinations` keeps the Destinations already made (many orders go to one place)."""
    pieces = [Piece(line.item, line.quantity) for line in lines if line.item is not None and line.quantity > 0]
    if not pieces or order.warehouse_id is None or order.missing_skus:
        return None
    where = (order.country, order.province, order.postal_code)
    destinations = {} if destinations is None else destinations
    if where not in destinations:
        destinations[where] = Destination(*where)
    return Parcel(order.warehouse_id, destinations[where], pieces)


def logistics_quotes(orders_lines: Sequence[tuple]) -> list[list[MethodQuote]]:
    """For each (order, lines), its warehouse's methods quoted for it, cheapest first ([]
    when it cannot be quoted yet): many orders at once, in the same four queries."""
    destinations: dict = {}
    parcels = [parcel_of(order, lines, destinations) for order, lines in orders_lines]
    answers = iter(quote_parcels([p for p in parcels if p is not None]) if any(parcels) else [])
    return [next(answers) if parcel is not None else [] for parcel in parcels]


def frozen_refusal(order) -> str:
    """Why `order`'s cost is no longer priced ("" while it is unpaid): paying froze it with
    the quote that was paid, and a cancelled, split or merged order is not paid any more."""
    if order.paid_quote or not order.is_unpaid:
        return _("it is %(status)s; costs are priced only before payment") % {
            "status": order.get_status_display().lower()
        }
    return ""


def logistics_apply(order, lines: Sequence, quotes: Sequence[MethodQuote], *, logistics: str, method_id=None) -> str:
    """Give `order` its logistics and price it (goods + freight + handling); "" when done,
    else why not (nothing is changed then).

    Dropshipping ships by `method_id`, or by the cheapest method that serves the address;
    self-pickup costs no freight but the warehouse's self-pickup fee, added to handling.
    A paid order (or one no longer unpaid) is refused: its cost was frozen at payment.
    """
    from .models import Logistics

    frozen = frozen_refusal(order)
    if frozen:
        return frozen
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

    if frozen_refusal(order) or order.warehouse_id is None or order.missing_skus:
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


# --- the quote that was paid ----------------------------------------------------------------------


def _money(amount) -> str:
    return str(amount)


def _when(moment) -> str | None:
    return moment.isoformat() if moment is not None else None


def paid_quote(order, quote: MethodQuote | None, *, pieces: int, at: datetime) -> dict:
    """What `order` is paid at, as kept on it (`Order.paid_quote`, JSON): its goods, freight,
    handling and total as charged, the method and the quote of it (chargeable weight,
    rate card and version, zone) or self-pickup, the pieces and the moment."""
    from .models import Logistics

    method = quote.method if quote is not None else None
    card = quote.card if quote is not None else None
    return {
        "goods": _money(order.goods_amount),
        "freight": _money(order.shipping_amount),
        "handling": _money(order.handling_amount),
        "total": _money(order.total_amount),
        "currency": order.currency,
        "logistics": order.logistics,
        "self_pickup": order.logistics == Logistics.SELF_PICKUP,
        "warehouse": order.warehouse.code if order.warehouse_id else "",
        "pieces": pieces,
        "method": (
            {
                "id": method.pk,
                "carrier": method.carrier,
                "service": method.service,
                "code": method.code,
                "name": method.name,
            }
            if method is not None
            else None
        ),
        "chargeable_grams": quote.chargeable_grams if quote is not None else None,
        "actual_grams": quote.weight.actual_grams if quote is not None and quote.weight else None,
        "volumetric_grams": quote.weight.volumetric_grams if quote is not None and quote.weight else None,
        "rate_card": (
            {
                "id": card.pk,
                "version": card.version,
                "effective_from": _when(card.effective_from),
                "effective_to": _when(card.effective_to),
                "fuel_surcharge_percent": str(card.fuel_surcharge_percent),
            }
            if card is not None
            else None
        ),
        "zone": quote.zone.name if quote is not None and quote.zone is not None else None,
        "paid_at": at.isoformat(),
    }


def _stale_freight(order, quote: MethodQuote | None) -> str:
    """Why the freight the order carries is not what its method's card in force gives, or ""."""
    warehouse = order.warehouse.code if order.warehouse_id else "?"
    if quote is None:
        return _("its shipping method is no longer offered by %(warehouse)s: choose its logistics again") % {
            "warehouse": warehouse
        }
    if not quote.ok:
        return _("its freight cannot be quoted now (%(why)s): choose its logistics again") % {
            "why": str(quote.refusal).rstrip(".")
        }
    same = (quote.price.amount, quote.price.currency, quote.chargeable_grams) == (
        order.shipping_amount,
        order.currency,
        order.chargeable_grams,
    )
    if same:
        return ""
    return _(
        "its freight by %(method)s is now %(now)s %(currency)s (rate card version %(version)s), not the "
        "%(was)s %(was_currency)s it was priced at: choose its logistics again to take the new price"
    ) % {
        "method": quote.method.name,
        "now": quote.price.amount,
        "currency": quote.price.currency,
        "version": quote.card.version,
        "was": order.shipping_amount,
        "was_currency": order.currency,
    }


def requoted_at_payment(order) -> bool:
    """Whether paying `order` quotes its freight again (dropshipping by a method)."""
    from .models import Logistics

    return order.logistics == Logistics.DROPSHIPPING and order.chosen_method_id is not None


def paid_quotes(orders_lines: Sequence[tuple], *, at: datetime) -> list[tuple[dict | None, str]]:
    """For each (order, lines) about to be paid: (the quote it is paid at, "") or (None, why
    it cannot be paid at its price now). Nothing is written.

    The cost paid is the order's own (goods, freight, handling, total: what the pay page
    showed). A dropshipping order's freight is quoted again by its method at `at`, all the
    orders in the same four queries, so the paid quote names the rate card, version and
    zone that give that freight; when the card in force prices it differently (a new
    version has started since the order was priced, an item's weight or size was
    corrected, the method stopped serving the address or was withdrawn) the order is not
    paid at a price no card gives, and says so. Self-pickup, and dropshipping from a
    warehouse without methods, need no quote (their lines need only a `quantity`).
    """
    shipped = [(order, lines) for order, lines in orders_lines if requoted_at_payment(order)]
    parcels = [parcel_of(order, lines) for order, lines in shipped]
    known = [parcel for parcel in parcels if parcel is not None]
    answers = iter(quote_parcels(known, at=at) if known else [])
    quotes = {
        order.pk: (quote_for(next(answers), order.chosen_method_id) if parcel is not None else None)
        for (order, _lines), parcel in zip(shipped, parcels, strict=True)
    }
    result = []
    for order, lines in orders_lines:
        quote = quotes.get(order.pk)
        if order.pk in quotes:
            why = _stale_freight(order, quote)
            if why:
                result.append((None, why))
                continue
        result.append((paid_quote(order, quote, pieces=pieces_of(lines), at=at), ""))
    return result
