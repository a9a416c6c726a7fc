"""Step 5: platform orders in, distribution orders out.

- normalize.py: what we refuse and what we keep of a platform order;
- routing.py: its lines through the mapping, one order per warehouse;
- changes.py: the platform changed an order we have;
- service.py: the entry points (one order, a page of orders) and ingestion errors;
- reevaluate.py: orders waiting for a mapping;
- webhooks.py: a verified order webhook, taken in once.
"""

from .normalize import OrderExtras
from .reevaluate import orders_reevaluate_pending, waiting_refresh
from .routing import new_order_number
from .service import (
    IngestResult,
    IngestSummary,
    Outcome,
    ingestion_error_record,
    platform_order_ingest,
    platform_orders_ingest,
)

__all__ = [
    "IngestResult",
    "IngestSummary",
    "OrderExtras",
    "Outcome",
    "ingestion_error_record",
    "new_order_number",
    "orders_reevaluate_pending",
    "platform_order_ingest",
    "platform_orders_ingest",
    "waiting_refresh",
]
