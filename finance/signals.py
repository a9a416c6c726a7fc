"""What finance tells the apps above it (it imports none of them).

`balance_credited(sender=Transaction, distributor_id, transaction)` is sent on commit
whenever a distributor's balance grows (a top-up approved, a refund, a credit
adjustment): the orders app pays the orders that were waiting for funds.
"""

from django.dispatch import Signal

balance_credited = Signal()
