"""The only writer of money: post a balanced transaction, exactly once per idempotency key.

`transaction_post` is the primitive every money movement goes through (top-ups,
payments, refunds, adjustments, reversals: finance/services.py builds their legs):

1. the legs are checked: Decimal amounts already at their currency's precision, each
   leg in its account's currency, at least two legs, a zero sum in every currency;
2. the distributor balance accounts it touches are locked, in primary-key order (so
   two postings never wait on each other in a cycle);
3. the idempotency key is looked up under those locks: the same key with the same
   request hash answers the transaction posted before (`replayed=True`), the same key
   with another request is refused;
4. no balance account may end below zero: the refusal names the shortfall;
5. the transaction, its entries (with the balance after each) and the new cached
   balances are written in the caller's database transaction.

On PostgreSQL the database checks the zero sum again at commit and refuses any later
UPDATE or DELETE (migration 0002), so a bug here cannot leave the books unbalanced.
"""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from distribution.money import DEFAULT_CURRENCY, quantize

from .models import Account, Entry, Transaction

KEY_MAX = 120


class LedgerError(ApplicationError):
    """A posting that can never be right (unbalanced, wrong currency, a float)."""


class IdempotencyConflict(ApplicationError):
    """The key was used before for a different request."""


class InsufficientFunds(ApplicationError):
    """A balance would go below zero; `extra["shortfall"]` says by how much (Decimal, USD)."""


@dataclass(frozen=True)
class Leg:
    """One entry to be: a signed amount on an account (positive credits a balance)."""

    account: Account
    amount: Decimal
    reference: str = ""


def balance_account(distributor, currency: str = DEFAULT_CURRENCY) -> Account:
    """The distributor's balance account in `currency`, opened on first use."""
    code = f"balance:{distributor.pk}:{currency}"
    account = Account.objects.filter(code=code).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                code=code, kind=Account.Kind.BALANCE, currency=currency, distributor_id=distributor.pk
            )
    except IntegrityError:
        return Account.objects.get(code=code)


def platform_account(kind: str, currency: str) -> Account:
    """One of the platform's own accounts (cash, FX clearing, revenue, refunds, adjustments)."""
    if kind == Account.Kind.BALANCE:
        raise LedgerError(_("A balance account belongs to a distributor."))
    code = f"platform:{kind}:{currency}"
    account = Account.objects.filter(code=code).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(code=code, kind=kind, currency=currency)
    except IntegrityError:
        return Account.objects.get(code=code)


def request_hash(
    *, kind: str, legs: Sequence[Leg], distributor_id, reference: str, reverses_id, fx: dict | None
) -> str:
    """A fingerprint of what the caller asked for: the same key must mean the same request."""
    document = {
        "kind": kind,
        "distributor": distributor_id,
        "reference": reference,
        "reverses": reverses_id,
        "legs": sorted([leg.account.code, str(leg.amount), leg.reference] for leg in legs),
        "fx": {name: str(value) for name, value in sorted((fx or {}).items())},
    }
    return hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()


def _check_legs(legs: Sequence[Leg]) -> None:
    if len(legs) < 2:
        raise LedgerError(_("A transaction needs at least two entries."))
    sums: dict[str, Decimal] = defaultdict(Decimal)
    for leg in legs:
        if not isinstance(leg.amount, Decimal) or not leg.amount.is_finite():
            raise LedgerError(_("Amounts are Decimal numbers, never floats."))
        currency = leg.account.currency
        if leg.amount != quantize(leg.amount, currency):
            raise LedgerError(
                _("%(amount)s has more decimals than %(currency)s allows.")
                % {"amount": leg.amount, "currency": currency}
            )
        sums[currency] += leg.amount
    unbalanced = {currency: total for currency, total in sums.items() if total != 0}
    if unbalanced:
        raise LedgerError(
            _("The entries do not sum to zero: %(sums)s.")
            % {"sums": ", ".join(f"{total} {currency}" for currency, total in sorted(unbalanced.items()))}
        )


def _existing(key: str, digest: str) -> Transaction | None:
    found = Transaction.objects.filter(idempotency_key=key).first()
    if found is None:
        return None
    if found.request_hash != digest:
        raise IdempotencyConflict(
            _("This request was already made with other details (key %(key)s); nothing was posted.") % {"key": key},
            extra={"transaction": found.pk},
        )
    found.replayed = True
    return found


@transaction.atomic
def transaction_post(
    *,
    kind: str,
    idempotency_key: str,
    legs: Sequence[Leg],
    distributor=None,
    reference: str = "",
    memo: str = "",
    actor=None,
    reverses: Transaction | None = None,
    fx: dict | None = None,
) -> Transaction:
    """Post `legs` as one transaction, at most once for `idempotency_key` (see the module doc).

    `fx` = {"rate": Decimal, "source_amount": Decimal, "source_currency": "CNY"} for a conversion.
    Returns the transaction, with `replayed` True when the key had been posted before.
    """
    if not idempotency_key or len(idempotency_key) > KEY_MAX:
        raise LedgerError(_("An idempotency key of 1 to %(max)d characters is required.") % {"max": KEY_MAX})
    _check_legs(legs)
    digest = request_hash(
        kind=kind,
        legs=legs,
        distributor_id=getattr(distributor, "pk", None),
        reference=reference,
        reverses_id=getattr(reverses, "pk", None),
        fx=fx,
    )
    balance_ids = sorted({leg.account.pk for leg in legs if leg.account.kind == Account.Kind.BALANCE})
    locked = {account.pk: account for account in Account.objects.select_for_update().filter(pk__in=balance_ids)}
    found = _existing(idempotency_key, digest)
    if found is not None:
        return found
    running = {pk: account.balance for pk, account in locked.items()}
    deltas: dict[int, Decimal] = defaultdict(Decimal)
    for leg in legs:
        if leg.account.pk in running:
            deltas[leg.account.pk] += leg.amount
    for pk, delta in deltas.items():
        if running[pk] + delta < 0:
            shortfall = quantize(-(running[pk] + delta), locked[pk].currency)
            raise InsufficientFunds(
                _("The balance is %(balance)s %(currency)s; %(short)s %(currency)s more is needed.")
                % {
                    "balance": quantize(running[pk], locked[pk].currency),
                    "short": shortfall,
                    "currency": locked[pk].currency,
                },
                extra={"shortfall": shortfall, "balance": running[pk], "currency": locked[pk].currency},
            )
    fx = fx or {}
    try:
        with transaction.atomic():
            posted = Transaction.objects.create(
                kind=kind,
                idempotency_key=idempotency_key,
                request_hash=digest,
                distributor_id=getattr(distributor, "pk", None),
                reference=reference[:120],
                reverses=reverses,
                memo=memo[:500],
                fx_rate=fx.get("rate"),
                fx_source_amount=fx.get("source_amount"),
                fx_source_currency=fx.get("source_currency", ""),
                created_by=actor if getattr(actor, "pk", None) else None,
            )
    except IntegrityError:
        # The same key posted meanwhile by a request that touched no balance account (no lock to queue on).
        found = _existing(idempotency_key, digest)
        if found is None:
            raise
        return found
    entries = []
    for leg in legs:
        after = None
        if leg.account.pk in running:
            running[leg.account.pk] += leg.amount
            after = running[leg.account.pk]
        entries.append(
            Entry(
                transaction_id=posted.pk,
                account_id=leg.account.pk,
                currency=leg.account.currency,
                amount=leg.amount,
                reference=leg.reference[:120],
                balance_after=after,
            )
        )
    Entry.objects.bulk_create(entries)
    for pk, delta in deltas.items():
        if delta:
            Account.objects.filter(pk=pk).update(balance=F("balance") + delta)
    posted.replayed = False
    return posted


def balance_of(account: Account) -> Decimal:
    """An account's balance: the cache for balance accounts, the sum of entries otherwise."""
    if account.kind == Account.Kind.BALANCE:
        return Account.objects.values_list("balance", flat=True).get(pk=account.pk)
    from django.db.models import Sum

    return Entry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or Decimal(0)


def legs_reversing(original: Transaction, *, references: Iterable[str] | None = None) -> list[Leg]:
    """The legs that undo `original` (all of it, or only its legs for `references`)."""
    wanted = set(references) if references is not None else None
    legs = []
    for entry in original.entries.select_related("account"):
        if wanted is None or entry.reference in wanted:
            legs.append(Leg(entry.account, -entry.amount, entry.reference))
    return legs
