"""The order's timeline: one function per kind of entry, so every entry of a kind reads
the same wherever it is written. Status moves are written by `orders.state` through
`status_moved`; the rest are notes on the order (a flag, a platform change, a re-route).
"""

from functools import cache

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from distribution.bulk import blueprint
from distribution.state import clip

from .models import Order, OrderEvent, PlatformOrder

_SOURCE_LABELS = dict(PlatformOrder.Source.choices)


def source_label(po: PlatformOrder) -> str:
    return str(_SOURCE_LABELS.get(po.source, po.source))


@cache
def _created_texts(language: str) -> tuple[str, str, dict]:
    """The creation entry's sentences in one language, looked up once: a page of new
    orders writes thousands of them, and each gettext costs more than the rest."""
    return (
        _("Created from platform order %(number)s (%(source)s)."),
        _("Waiting for a mapping of: %(skus)s."),
        {source: str(label) for source, label in _SOURCE_LABELS.items()},
    )


def created_message(po: PlatformOrder, missing: list, left_out: str = "", *, language: str | None = None) -> str:
    """`language` is the active language when the caller knows it (asking costs more than
    the sentence: a page of new orders asks once)."""
    created_text, waiting_text, sources = _created_texts((get_language() if language is None else language) or "")
    message = created_text % {
        "number": po.display_number or po.external_id,
        "source": sources.get(po.source, po.source),
    }
    if missing:
        message += " " + waiting_text % {"skus": ", ".join(missing)}
    if left_out:
        message += " " + left_out
    return message


def created(
    order: Order, po: PlatformOrder, missing: list, left_out: str = "", *, language: str | None = None
) -> OrderEvent:
    """The first entry of an order made from a platform order (unsaved: orders are made in
    bulk); `left_out` names the platform order's lines that are not ours."""
    message = created_message(po, missing, left_out, language=language)
    return blueprint(OrderEvent).new(to_status=order.status, message=clip(message))


def status_moved(order: Order, from_status: str, to_status: str, actor, message: str, data: dict) -> OrderEvent:
    """A status move (written by ORDER_MACHINE in the move's transaction)."""
    return OrderEvent.objects.create(
        order=order,
        from_status=from_status,
        to_status=to_status,
        message=clip(message),
        data=data or {},
        actor=actor if getattr(actor, "pk", None) else None,
    )


def _status_moved_bulk(moves) -> list[OrderEvent]:
    """Many status moves at once: (order, from, to, actor, message, data) each, one insert."""
    return OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=order,
                from_status=from_status,
                to_status=to_status,
                message=clip(message),
                data=data or {},
                actor=actor if getattr(actor, "pk", None) else None,
            )
            for order, from_status, to_status, actor, message, data in moves
        ]
    )


status_moved.bulk = _status_moved_bulk


def platform_change_flagged(order: Order, changes: list[str]) -> OrderEvent:
    """The platform changed the order in a way the distributor must look at (order.platform_change_flag)."""
    return OrderEvent.objects.create(
        order=order, message=order.platform_change_flag, data={"platform_changes": changes}
    )


def lines_rewritten(order: Order, message: str) -> OrderEvent:
    """The order's lines were rebuilt (items or quantities changed on the platform, a mapping arrived)."""
    return OrderEvent.objects.create(order=order, message=clip(message))


def address_updated(order: Order) -> OrderEvent:
    return OrderEvent.objects.create(order=order, message=_("Shipping address updated from the platform."))


def note(order: Order, message: str, *, actor=None, data: dict | None = None) -> OrderEvent:
    """A distributor's action that moves no status (hold, release, recipient edited)."""
    return OrderEvent.objects.create(
        order=order, message=clip(message), data=data or {}, actor=actor if getattr(actor, "pk", None) else None
    )
