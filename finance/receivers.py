"""What finance does when its own signals fire.

A credit (`balance_credited`, sent on commit) may bring a balance back to its
low-balance threshold: the alert is re-armed then, so that the next fall below it sends
the e-mail again (finance/low_balance.py)."""

from django.dispatch import receiver

from . import low_balance
from .signals import balance_credited


@receiver(balance_credited, dispatch_uid="finance.low_balance_rearm")
def low_balance_rearm(sender, distributor_id: int, **kwargs) -> None:
    low_balance.watch(distributor_id, may_notify=False)
