"""What orders does when another app tells it something.

- mapping sends `mappings_changed(store, skus)` after mappings are created or changed;
  the orders waiting on those SKUs are re-routed in the background once the mapping's
  transaction has committed (so the task sees the new mappings).
- finance sends `balance_credited(distributor_id, transaction)` on commit when a balance
  grows (a top-up approved, a refund, a credit): auto-pay pays the orders that were
  waiting for funds, in the background. Beat's auto-pay sweep catches what a lost
  message would miss.
"""

import logging
from importlib import import_module

from django.db import transaction

logger = logging.getLogger(__name__)


def on_mappings_changed(sender, *, store, skus=None, **kwargs):
    from .tasks import reevaluate_pending_orders

    store_id = store.pk if hasattr(store, "pk") else int(store)
    sku_list = sorted(set(skus)) if skus is not None else None
    transaction.on_commit(lambda: reevaluate_pending_orders.delay(store_id, sku_list))


def mappings_changed_signal():
    """mapping's signal, wherever mapping defines it (signals.py, else services.py)."""
    for module_name in ("mapping.signals", "mapping.services"):
        try:
            module = import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        signal = getattr(module, "mappings_changed", None)
        if signal is not None:
            return signal
    return None


def on_balance_credited(sender, *, distributor_id, **kwargs):
    from .tasks import autopay_distributor

    autopay_distributor.delay(distributor_id)


def connect() -> bool:
    from finance.signals import balance_credited

    balance_credited.connect(on_balance_credited, dispatch_uid="orders.on_balance_credited")
    signal = mappings_changed_signal()
    if signal is None:
        logger.warning("mapping defines no mappings_changed signal yet: pending orders are not re-evaluated")
        return False
    signal.connect(on_mappings_changed, dispatch_uid="orders.on_mappings_changed")
    return True
