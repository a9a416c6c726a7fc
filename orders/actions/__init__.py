"""Steps 7 and 9: what the distributor does with orders, one module per action.

Each action is a service (row-locked, its moves through `orders.state`, written to the
order's timeline); the portal offers only the actions the order's state allows.
"""

from .cancel import BulkResult, orders_cancel

__all__ = ["BulkResult", "orders_cancel"]
