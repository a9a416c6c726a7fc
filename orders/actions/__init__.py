"""Steps 7 and 9: what the distributor does with orders, one module per action.

Each action is a service (row-locked, its moves through `orders.state`, written to the
order's timeline); the portal offers only the actions the order's state allows.
"""

from .cancel import BulkResult, orders_cancel
from .pay import PayQuote, PayResult, orders_autopay, orders_pay, orders_pay_quote, pay_refusal

__all__ = [
    "BulkResult",
    "PayQuote",
    "PayResult",
    "orders_autopay",
    "orders_cancel",
    "orders_pay",
    "orders_pay_quote",
    "pay_refusal",
]
