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
from collections.abc import Sequence
from contextlib import nullcontext
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from django.db import DatabaseError, IntegrityError, connection, transaction
from django.db.models import F, Sum
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from distribution.money import DEFAULT_CURRENCY, quantize

from .models import Account, Entry, Transaction

KEY_MAX = 120
# Transaction.low_balance after a posting: what the low-balance alert has to do (see
# migration 0004): "alert", "release", None (nothing), or unknown (it must look).
LOW_BALANCE_UNKNOWN = "unknown"
# finance_post() raises this when a concurrent posting took the balance below what this one
# needs between its first look and its UPDATE (migration 0006); the call is made again.
RACE_SQLSTATE = "LDG01"
RACE_RETRIES = 3
POST_SQL = "SELECT * FROM finance_post(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"


class LedgerError(ApplicationError):
    """A posting that can never be right (unbalanced, wrong currency, a float)."""


class IdempotencyConflict(ApplicationError):
    """The key was used before for a different request."""


class InsufficientFunds(ApplicationError):
    """A balance would go below zero; `extra["shortfall"]` says by how much (Decimal, USD)."""


@dataclass(frozen=True)
class AccountRef:
    """An account named by its code, without reading it: what a posting needs to know of
    it. (An `Account` row has the same attributes and may stand in its place.)"""

    code: str
    kind: str
    currency: str
    distributor_id: int | None = None


@dataclass(frozen=True)
class Leg:
    """One entry to be: a signed amount on an account (positive credits a balance)."""

    account: Account | AccountRef
    amount: Decimal
    reference: str = ""


def balance_ref(distributor, currency: str = DEFAULT_CURRENCY) -> AccountRef:
    return AccountRef(f"balance:{distributor.pk}:{currency}", Account.Kind.BALANCE, currency, distributor.pk)


def platform_ref(kind: str, currency: str) -> AccountRef:
    if kind == Account.Kind.BALANCE:
        raise LedgerError(_("A balance account belongs to a distributor."))
    return AccountRef(f"platform:{kind}:{currency}", kind, currency)


def account_open(ref: AccountRef | Account) -> Account:
    """The account `ref` names, opened on first use (two racing openers get one account)."""
    account = Account.objects.filter(code=ref.code).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            return Account.objects.create(
                code=ref.code, kind=ref.kind, currency=ref.currency, distributor_id=ref.distributor_id
            )
    except IntegrityError:
        return Account.objects.get(code=ref.code)


def balance_account(distributor, currency: str = DEFAULT_CURRENCY) -> Account:
    """The distributor's balance account in `currency`, opened on first use."""
    return account_open(balance_ref(distributor, currency))


def platform_account(kind: str, currency: str) -> Account:
    """One of the platform's own accounts (cash, FX clearing, revenue, refunds, adjustments)."""
    return account_open(platform_ref(kind, currency))


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
    fx = fx or {}
    posting = {
        "kind": kind,
        "key": idempotency_key,
        "digest": digest,
        "distributor_id": getattr(distributor, "pk", None),
        "reference": reference[:120],
        "reverses_id": getattr(reverses, "pk", None),
        "memo": memo[:500],
        "fx": fx,
        "actor_id": actor.pk if getattr(actor, "pk", None) else None,
    }
    if connection.vendor == "postgresql":
        # One statement: atomic on its own (its guards run when it ends, outside a
        # caller's transaction), so a lone posting costs no BEGIN and COMMIT round trips.
        return _post_in_database(posting, legs)
    with transaction.atomic():
        return _post_in_python(posting, legs)


def _refusal_short(code: str, balance, shortfall, currency: str) -> InsufficientFunds:
    shortfall = quantize(shortfall, currency)
    return InsufficientFunds(
        _("The balance is %(balance)s %(currency)s; %(short)s %(currency)s more is needed.")
        % {"balance": quantize(balance, currency), "short": shortfall, "currency": currency},
        extra={"shortfall": shortfall, "balance": balance, "currency": currency, "account": code},
    )


def _conflict(key: str, pk) -> IdempotencyConflict:
    return IdempotencyConflict(
        _("This request was already made with other details (key %(key)s); nothing was posted.") % {"key": key},
        extra={"transaction": pk},
    )


def _transaction_fields(posting: dict) -> dict:
    fx = posting["fx"]
    return {
        "kind": posting["kind"],
        "idempotency_key": posting["key"],
        "request_hash": posting["digest"],
        "distributor_id": posting["distributor_id"],
        "reference": posting["reference"],
        "reverses_id": posting["reverses_id"],
        "memo": posting["memo"],
        "fx_rate": fx.get("rate"),
        "fx_source_amount": fx.get("source_amount"),
        "fx_source_currency": fx.get("source_currency", ""),
        "created_by_id": posting["actor_id"],
    }


def _posted(posting: dict, pk: int) -> Transaction:
    """The transaction just written, built from what was sent (no query to read it back;
    built as Django builds a row it read: a lone payment's Python time counts on a hot
    account, and keyword construction of a model took a fifth of it)."""
    fields = _transaction_fields(posting)
    fields["id"] = pk
    fields["created_at"] = None  # the database's clock; read the row again to know it
    posted = Transaction.from_db("default", None, [fields[name] for name in _transaction_columns()])
    posted.replayed = False
    posted.low_balance = None
    return posted


@cache
def _transaction_columns() -> list[str]:
    return [field.attname for field in Transaction._meta.concrete_fields]


def _replayed(pk: int) -> Transaction:
    found = Transaction.objects.get(pk=pk)
    found.replayed = True
    return found


def _call_post(args: list) -> tuple:
    """One call of finance_post(). Inside a caller's transaction it runs in a savepoint, so
    the race it may raise (RACE_SQLSTATE) undoes only itself; alone it is one statement,
    atomic on its own."""
    with transaction.atomic() if connection.in_atomic_block else nullcontext(), connection.cursor() as cursor:
        cursor.execute(POST_SQL, args)
        return cursor.fetchone()


def _post_in_database(posting: dict, legs: Sequence[Leg]) -> Transaction:
    """PostgreSQL: finance_post() (migration 0004) does the locked part in one statement."""
    fx = posting["fx"]
    args = [
        posting["kind"],
        posting["key"],
        posting["digest"],
        posting["distributor_id"],
        posting["reference"],
        posting["reverses_id"],
        posting["memo"],
        fx.get("rate"),
        fx.get("source_amount"),
        fx.get("source_currency"),
        posting["actor_id"],
        [leg.account.code for leg in legs],
        [leg.amount for leg in legs],
        [leg.reference[:120] for leg in legs],
    ]
    for _attempt in range(len(legs) + RACE_RETRIES + 1):
        try:
            status, pk, shortfall, code, low_balance = _call_post(args)
        except DatabaseError as exc:
            if getattr(exc.__cause__, "pgcode", None) != RACE_SQLSTATE:
                raise
            continue  # a concurrent posting emptied the balance: ask again, to be answered 'short'
        if status == "posted":
            posted = _posted(posting, pk)
            posted.low_balance = low_balance
            return posted
        if status == "replayed":
            return _replayed(pk)
        if status == "conflict":
            raise _conflict(posting["key"], pk)
        if status == "short":
            account = Account.objects.get(code=code)
            raise _refusal_short(code, account.balance, shortfall, account.currency)
        # 'missing': open the account the legs name and try again.
        account_open(next(leg.account for leg in legs if leg.account.code == code))
    raise LedgerError(_("The accounts of this posting could not be opened."))


def _post_in_python(posting: dict, legs: Sequence[Leg]) -> Transaction:
    """Other databases (SQLite in development): the same steps through the ORM."""
    accounts = {
        account.code: account for account in Account.objects.filter(code__in={leg.account.code for leg in legs})
    }
    for leg in legs:
        if leg.account.code not in accounts:
            accounts[leg.account.code] = account_open(leg.account)
    balance_ids = sorted({a.pk for a in accounts.values() if a.kind == Account.Kind.BALANCE})
    locked = {account.pk: account for account in Account.objects.select_for_update().filter(pk__in=balance_ids)}
    found = Transaction.objects.filter(idempotency_key=posting["key"]).first()
    if found is not None:
        if found.request_hash != posting["digest"]:
            raise _conflict(posting["key"], found.pk)
        found.replayed = True
        return found
    running = {pk: account.balance for pk, account in locked.items()}
    deltas: dict[int, Decimal] = defaultdict(Decimal)
    for leg in legs:
        pk = accounts[leg.account.code].pk
        if pk in running:
            deltas[pk] += leg.amount
    for pk, delta in deltas.items():
        if running[pk] + delta < 0:
            raise _refusal_short(locked[pk].code, running[pk], -(running[pk] + delta), locked[pk].currency)
    try:
        with transaction.atomic():
            posted = Transaction.objects.create(**_transaction_fields(posting))
    except IntegrityError:
        # The same key posted meanwhile by a request that touched no balance account (no lock to queue on).
        found = Transaction.objects.filter(idempotency_key=posting["key"]).first()
        if found is None:
            raise
        if found.request_hash != posting["digest"]:
            raise _conflict(posting["key"], found.pk) from None
        found.replayed = True
        return found
    entries = []
    for leg in legs:
        account = accounts[leg.account.code]
        after = None
        if account.pk in running:
            running[account.pk] += leg.amount
            after = running[account.pk]
        entries.append(
            Entry(
                transaction_id=posted.pk,
                account_id=account.pk,
                currency=account.currency,
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
    # Unknown here: the low-balance alert looks for itself (one query) after the commit.
    posted.low_balance = LOW_BALANCE_UNKNOWN
    return posted


def balance_of(account: Account) -> Decimal:
    """An account's balance: the cache for balance accounts, the sum of entries otherwise."""
    if account.kind == Account.Kind.BALANCE:
        return Account.objects.values_list("balance", flat=True).get(pk=account.pk)
    return Entry.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or Decimal(0)
