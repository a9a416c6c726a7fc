"""Steps 7 and 9: what the distributor does with orders, one module per action.

Each action is a service (row-locked, its moves through `orders.state`, written to the
order's timeline); the portal offers only the actions the order's state allows.
"""

from .cancel import orders_cancel
from .common import BulkResult
from .hold import orders_hold, orders_release
from .logistics import orders_logistics_choose
from .merge import merge_refusal, orders_merge
from .pay import PayQuote, PayResult, orders_autopay, orders_pay, orders_pay_quote, pay_refusal
from .recipient import order_recipient_edit
from .split import order_split, split_refusal

__all__ = [
    "BulkResult",
    "PayQuote",
    "PayResult",
    "merge_refusal",
    "order_recipient_edit",
    "order_split",
    "orders_autopay",
    "orders_cancel",
    "orders_hold",
    "orders_logistics_choose",
    "orders_merge",
    "orders_release",
    "orders_pay",
    "orders_pay_quote",
    "pay_refusal",
    "split_refusal",
]
