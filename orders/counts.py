"""How many of a distributor's orders are in each status, without reading the orders.

On PostgreSQL triggers on orders_order (migration 0013) append (distributor, status, n)
rows for every statement that adds, removes or moves orders; the count is the sum of a
distributor's rows, a read of a few rows whatever the number of orders. Rows are only
inserted, so concurrent pulls and payments of one distributor never wait on each other;
`status_counts_compact` (beat, every minute) folds each distributor's rows into one per
status in one statement, so the sums stay short. Other databases (SQLite in development)
have no triggers: there orders/selectors.py counts the orders.
"""

from django.db import connection, transaction
from django.db.models import Count, Sum

from .models import OrderStatusCount

# A distributor's rows are folded once there are more than this many.
COMPACT_ABOVE = 20


def counted_by_triggers() -> bool:
    return connection.vendor == "postgresql"


def status_counts(distributor_id: int) -> dict[str, int]:
    """{status: orders} of the distributor as the triggers keep them (PostgreSQL only:
    elsewhere the caller counts the orders), statuses without orders left out."""
    rows = (
        OrderStatusCount.objects.filter(distributor_id=distributor_id)
        .values_list("order_status")
        .annotate(total=Sum("n"))
        .order_by()
    )
    return {status: n for status, n in rows if n}


# One statement, so one snapshot: the rows summed are exactly the rows deleted, and rows
# other transactions add meanwhile stay for the next fold.
_FOLD = """
WITH folded AS (
    DELETE FROM orders_orderstatuscount WHERE distributor_id = %s RETURNING order_status, n
)
INSERT INTO orders_orderstatuscount (distributor_id, order_status, n)
SELECT %s, order_status, sum(n) FROM folded GROUP BY order_status HAVING sum(n) <> 0
"""


def status_counts_compact() -> int:
    """Fold the rows of every distributor that has more than COMPACT_ABOVE; how many were folded."""
    if not counted_by_triggers():
        return 0
    crowded = list(
        OrderStatusCount.objects.values_list("distributor_id", flat=True)
        .annotate(rows=Count("*"))
        .filter(rows__gt=COMPACT_ABOVE)
        .order_by()
    )
    for distributor_id in crowded:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_FOLD, [distributor_id, distributor_id])
    return len(crowded)
