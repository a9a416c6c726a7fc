"""Reads on money, tenant-scoped by construction."""

from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet
from django.utils import timezone

from distribution.models import Distributor
from distribution.money import DEFAULT_CURRENCY

from .models import Account, Entry, ExchangeRate, TopUp


def rate_at(currency: str, moment: datetime | None = None) -> ExchangeRate | None:
    """The rate of `currency` in force at `moment` (now): the latest published before it."""
    return (
        ExchangeRate.objects.filter(currency=currency, valid_from__lte=moment or timezone.now())
        .order_by("-valid_from", "-id")
        .first()
    )


def rates_in_force(moment: datetime | None = None) -> dict[str, ExchangeRate]:
    moment = moment or timezone.now()
    found = {}
    for rate in ExchangeRate.objects.filter(valid_from__lte=moment).order_by("currency", "-valid_from", "-id"):
        found.setdefault(rate.currency, rate)
    return found


def balance_available(*, distributor: Distributor) -> Decimal:
    value = (
        Account.objects.filter(kind=Account.Kind.BALANCE, distributor=distributor, currency=DEFAULT_CURRENCY)
        .values_list("balance", flat=True)
        .first()
    )
    return value if value is not None else Decimal("0.00")


def topups_pending(*, distributor: Distributor) -> QuerySet[TopUp]:
    return TopUp.objects.filter(
        distributor=distributor, status__in=[TopUp.Status.PENDING, TopUp.Status.FIRST_APPROVAL]
    ).order_by("-created_at", "-id")


def balance_history(*, distributor: Distributor) -> QuerySet[Entry]:
    """The entries on the distributor's balance, newest first, with their transactions."""
    return (
        Entry.objects.filter(account__distributor=distributor, account__kind=Account.Kind.BALANCE)
        .select_related("transaction")
        .order_by("-id")
    )
