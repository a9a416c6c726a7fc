"""Step 5, first: is this platform order one we can take, and what do we keep of it.

`validate` refuses what cannot be an order of ours (the reason becomes an
IngestionError); `content_hash` fingerprints what we take, so an unchanged replay of a
poll, webhook, import or retry is a no-op; `platform_fields` are the PlatformOrder's
columns, clipped to their lengths.
"""

import hashlib
import json
import logging
from dataclasses import dataclass, fields

from django.utils.translation import gettext as _

from distribution.bulk import JSONText
from distribution.state import clip
from orders import mapping_port
from stores.platforms.base import (
    CancelStatus,
    NormalizedAddress,
    NormalizedOrder,
    PayloadError,
)

logger = logging.getLogger(__name__)


NUMBER_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford's base 32: no I, L, O, U
SKU_MAX = 100


@dataclass(frozen=True)
class OrderExtras:
    """What an order file says beyond the platform's own fields."""

    logistics: str = ""  # a Logistics value, or "" for the default
    remark: str = ""


def validate(order: NormalizedOrder) -> None:
    """Refuse what cannot be an order of ours; the reason becomes an IngestionError."""
    if not order.external_id:
        raise PayloadError(_("The order has no id."))
    if len(order.external_id) > 100:
        raise PayloadError(_("The order id is longer than 100 characters."))
    for number, line in enumerate(order.lines, start=1):
        if not isinstance(line.quantity, int) or line.quantity < 0:
            raise PayloadError(_("Line %(n)d has an invalid quantity: %(q)r.") % {"n": number, "q": line.quantity})
        if line.quantity == 0:
            continue
        # A line without a SKU is not refused: routing leaves it out and says so.
        sku = mapping_port.normalise_sku(line.sku)
        if len(sku) > SKU_MAX:
            raise PayloadError(
                _("Line %(n)d has a SKU longer than %(max)d characters.") % {"n": number, "max": SKU_MAX}
            )
    if order.total is not None and not order.total.is_finite():
        raise PayloadError(_("The order total is not a number."))


def content_hash(order: NormalizedOrder, extras: OrderExtras) -> str:
    """A fingerprint of everything we take from the order (not the raw payload, whose
    incidental fields may change without the order changing for us)."""
    address = order.shipping_address
    buyer = order.buyer
    data = (
        order.external_id,
        order.display_number,
        order.created_at.isoformat() if order.created_at else "",
        order.updated_at.isoformat() if order.updated_at else "",
        order.currency,
        str(order.financial_status),
        str(order.fulfillment_status),
        str(order.cancel_status),
        order.platform_status,
        (buyer.external_id, buyer.name, buyer.email, buyer.phone),
        tuple(getattr(address, name) for name in ADDRESS_FIELDS),
        [
            (line.external_line_id, line.sku, line.quantity, str(line.unit_price), line.title, line.variant_title)
            # only a line that ships nothing says so, so the fingerprints of other orders stay as they were
            + (() if line.requires_shipping else ("ships nothing",))
            for line in order.lines
        ],
        order.shipping_method,
        str(order.total),
        extras.logistics,
        extras.remark,
    )
    return hashlib.sha256(json.dumps(data, ensure_ascii=False).encode()).hexdigest()


ADDRESS_FIELDS = [f.name for f in fields(NormalizedAddress)]


def raw_payload(order: NormalizedOrder):
    return raw_payload_encoded(order)[0]


def raw_payload_encoded(order: NormalizedOrder) -> tuple[object, str | None]:
    """The payload we keep (the platform's own when it is JSON, else what we read of it)
    and, for the platform's own, its JSON text: checking that it encodes is encoding it."""
    raw = order.raw
    if raw is None:
        return order.to_dict(), None
    try:
        return raw, json.dumps(raw, ensure_ascii=False)
    except (TypeError, ValueError):
        return order.to_dict(), None


def platform_fields(
    order: NormalizedOrder, *, source: str, extras: OrderExtras, digest: str, raw_as_text: bool = False
) -> dict:
    """The platform order's fields; `raw_as_text`: the raw payload as its JSON text
    (`distribution.bulk.JSONText`, for bulk_insert, which then does not encode it again)."""
    address = order.shipping_address
    raw, raw_text = raw_payload_encoded(order)
    lines = [
        {
            "id": clip(line.external_line_id, 100),
            "sku": mapping_port.normalise_sku(line.sku),
            "quantity": line.quantity,
            "unit_price": None if line.unit_price is None else str(line.unit_price),
            "title": clip(" - ".join(t for t in (line.title, line.variant_title) if t), 300),
            "ships": line.requires_shipping,
        }
        for line in order.lines
    ]
    return {
        "display_number": clip(order.display_number, 100),
        "source": source,
        "currency": (order.currency or "")[:3],
        "financial_status": clip(order.financial_status, 40),
        "fulfillment_status": clip(order.fulfillment_status, 40),
        "is_cancelled": order.cancel_status == CancelStatus.CANCELLED,
        "platform_status": clip(order.platform_status, 200),
        "buyer_name": clip(order.buyer.name or address.name, 200),
        "buyer_email": clip(order.buyer.email or address.email, 254),
        "shipping_address": {name: getattr(address, name) for name in ADDRESS_FIELDS},
        "lines": lines,
        "requested_shipping": clip(order.shipping_method, 200),
        "requested_logistics": extras.logistics,
        "remark": clip(extras.remark, 500),
        "placed_at": order.created_at,
        "platform_updated_at": order.updated_at,
        "total": order.total,
        "content_hash": digest,
        "raw": JSONText(raw_text) if raw_as_text and raw_text is not None else raw,
    }
