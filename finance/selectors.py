"""Reads on money, tenant-scoped by construction."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.apps import apps
from django.db.models import Exists, Max, Q, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from distribution.models import Distributor, Membership, Role
from distribution.money import DEFAULT_CURRENCY

from .models import Account, BalancePreference, Entry, ExchangeRate, TopUp

# How long a rejected top-up stays in the distributor's list of top-ups (with its reason).
REJECTED_SHOWN_DAYS = 30
TOPUPS_SHOWN = 20


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


def balance_available(*, distributor: Distributor | int) -> Decimal:
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


def topup_approved(distributor: Distributor) -> Exists:
    """The "Start here" checklist's top-up step is done once staff approved a top-up
    (the money is on the balance), not when one is merely sent."""
    return Exists(TopUp.objects.filter(distributor=distributor, status=TopUp.Status.APPROVED))


def topup_waiting(distributor: Distributor) -> Exists:
    return Exists(topups_pending(distributor=distributor))


def topups_open(*, distributor: Distributor) -> list[TopUp]:
    """What the distributor's list of top-ups shows: those waiting for staff, and those
    rejected lately (with the reason staff gave). Approved ones are in the history."""
    since = timezone.now() - timedelta(days=REJECTED_SHOWN_DAYS)
    waiting = Q(status__in=[TopUp.Status.PENDING, TopUp.Status.FIRST_APPROVAL])
    rejected = Q(status=TopUp.Status.REJECTED, updated_at__gte=since)
    return list(
        TopUp.objects.filter(waiting | rejected, distributor=distributor)
        .defer("proof", "proof_sha256")
        .order_by("-created_at", "-id")[:TOPUPS_SHOWN]
    )


@dataclass(frozen=True)
class HistoryFilters:
    kind: str = ""  # a Transaction.Kind
    date_from: date | None = None
    date_to: date | None = None

    @property
    def active(self) -> bool:
        return bool(self.kind or self.date_from or self.date_to)


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _balance_entries(distributor: Distributor) -> QuerySet[Entry]:
    return Entry.objects.filter(
        account__distributor=distributor, account__kind=Account.Kind.BALANCE, account__currency=DEFAULT_CURRENCY
    )


def balance_history(*, distributor: Distributor, filters: HistoryFilters | None = None) -> QuerySet[Entry]:
    """The entries on the distributor's balance, newest first, with their transactions."""
    entries = _balance_entries(distributor)
    filters = filters or HistoryFilters()
    if filters.kind:
        entries = entries.filter(transaction__kind=filters.kind)
    if filters.date_from:
        entries = entries.filter(transaction__created_at__gte=_day_start(filters.date_from))
    if filters.date_to:
        entries = entries.filter(transaction__created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    return entries.select_related("transaction").order_by("-id")


def balance_series(*, distributor: Distributor, days: int = 30) -> list[tuple[date, Decimal]]:
    """The balance at the end of each of the last `days` days (today included), oldest first.

    Two queries whatever the traffic: the balance before the first day, and the last
    entry of each day that has one (days without entries carry the day before's)."""
    today = timezone.localdate()
    first_day = today - timedelta(days=days - 1)
    start = _day_start(first_day)
    entries = _balance_entries(distributor)
    opening = (
        entries.filter(transaction__created_at__lt=start)
        .order_by("-id")
        .values_list("balance_after", flat=True)
        .first()
    )
    day = TruncDate("transaction__created_at", tzinfo=timezone.get_current_timezone())
    last_of_day = entries.filter(transaction__created_at__gte=start).values(day=day).annotate(last=Max("id"))
    closing = dict(
        Entry.objects.filter(pk__in=last_of_day.values("last")).annotate(day=day).values_list("day", "balance_after")
    )
    series, running = [], opening or Decimal(0)
    for offset in range(days):
        current = first_day + timedelta(days=offset)
        running = closing.get(current, running)
        series.append((current, running))
    return series


def order_ids_by_number(*, distributor: Distributor, numbers) -> dict[str, int]:
    """Order ids for the order numbers a page of history names, in one query, so the
    history can link each reference to its order page. Finance never imports orders
    (docs/design.md): the model is looked up by name, and only the distributor's own
    orders are found."""
    wanted = {number for number in numbers if number}
    if not wanted:
        return {}
    try:
        order_model = apps.get_model("orders", "Order")
    except LookupError:
        return {}
    return dict(order_model.objects.filter(distributor=distributor, number__in=wanted).values_list("number", "pk"))


def balance_preference(*, distributor: Distributor) -> BalancePreference:
    """The distributor's balance settings (the defaults, unsaved, until they are first changed)."""
    found = BalancePreference.objects.filter(distributor=distributor).first()
    return found or BalancePreference(distributor=distributor)


def auto_pay_enabled(distributor: Distributor) -> bool:
    """Whether orders of `distributor` are paid from the balance without a click (read by orders)."""
    return BalancePreference.objects.filter(distributor=distributor, auto_pay=True).exists()


def low_balance_recipients(*, distributor_id: int) -> list[str]:
    """Who hears of a low balance: the owner and the finance members."""
    emails = (
        Membership.objects.filter(distributor_id=distributor_id, role__in=[Role.OWNER, Role.FINANCE])
        .exclude(user__email="")
        .order_by("created_at", "id")
        .values_list("user__email", flat=True)
    )
    return list(dict.fromkeys(emails))


def home_panel(membership) -> dict:
    """The home page's balance panel: the balance, top-ups waiting, and the low-balance
    warning when the balance is under the distributor's alert threshold."""
    distributor = membership.distributor
    balance = balance_available(distributor=distributor)
    preference = BalancePreference.objects.filter(distributor=distributor).first()
    threshold = preference.low_balance_threshold if preference else Decimal(0)
    return {
        "balance": balance,
        "pending": topups_pending(distributor=distributor).count(),
        "threshold": threshold,
        "low": threshold > 0 and balance < threshold,
        "auto_pay": bool(preference and preference.auto_pay),
    }
