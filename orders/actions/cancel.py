"""Step 7: the distributor cancels orders."""

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from distribution.models import Membership, Section
from distribution.tenancy import ensure_can_act
from orders.ingest.reevaluate import waiting_refresh
from orders.models import (
    Order,
    OrderStatus,
)
from orders.state import IllegalTransition, order_transition

logger = logging.getLogger(__name__)


@dataclass
class BulkResult:
    done: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)


def orders_cancel(*, actor: Membership, orders: Iterable[Order]) -> BulkResult:
    """Cancel unpaid orders (a paid order's cancellation refunds: that is finance's service)."""
    ensure_can_act(actor, Section.ORDERS)
    result = BulkResult()
    waiting_stores = {}
    for order in orders:
        if order.distributor_id != actor.distributor_id:
            raise ApplicationError(_("Not found."))
        if not order.is_unpaid:
            result.refused.append(order.number)
            continue
        try:
            order_transition(
                order=order,
                to_status=OrderStatus.CANCELLED,
                actor=actor.user,
                message=_("Cancelled by %(email)s.") % {"email": actor.user.email},
            )
        except IllegalTransition:
            result.refused.append(order.number)
        else:
            result.done.append(order.number)
            if order.missing_skus:
                waiting_stores[order.store_id] = order.store
    for store in waiting_stores.values():
        waiting_refresh(store=store)  # a cancelled order no longer waits for a mapping
    return result
