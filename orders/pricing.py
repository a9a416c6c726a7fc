"""What an order costs the distributor: goods at the items' distribution prices, the
warehouse's handling fee, and freight (zero until logistics pricing exists).

Amounts are Decimal in the items' currency, quantized to the currency's precision.
"""

import logging
from collections.abc import Sequence
from decimal import Decimal

from django.utils.translation import gettext as _

from catalog.models import Warehouse
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

    Shipping is priced when the logistics are chosen (a later step), so it is zero here.
    An order waiting for a mapping has no price yet.
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
