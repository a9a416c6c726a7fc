"""What mapping tells the apps downstream of it, without importing them.

`mappings_changed` is sent after the transaction that created or re-pointed mappings
has committed (never for a rolled-back one), once per store:

    mappings_changed.send(sender=Mapping, store=<Store>, skus=("SKU-1", "SKU-2"))

`skus` are normalised store SKUs that now map to an Item (new mappings, or mappings
moved to another Item). The orders app subscribes to re-evaluate the orders waiting
in "pending mapping" for these SKUs: an order whose SKUs are now all mapped moves on to
awaiting payment. Receivers should be quick (enqueue a task) and must not raise: the
mappings are saved whatever a receiver does. Deleted mappings are not announced; lines
routed earlier keep their snapshot.
"""

from django.dispatch import Signal

mappings_changed = Signal()
