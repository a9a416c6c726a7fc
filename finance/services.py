"""Writes on money: exchange rates, top-ups and their approval, payments, refunds and
manual adjustments. Every amount moves through `ledger.transaction_post`.

Finance knows references (an order number, a top-up's TU-n), never order logic: the
orders app decides what an order costs and whether it may be paid, then asks for the
money here (orders may import finance; finance never imports orders). When a balance is
credited (a top-up approved, a refund, a credit adjustment), `balance_credited` is sent
on commit, so the orders app can pay orders that were waiting for funds.
"""

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.validators import sniff_type
from distribution.errors import ApplicationError, PermissionDeniedError
from distribution.models import Membership, Section
from distribution.money import DEFAULT_CURRENCY, quantize, to_decimal
from distribution.state import clip
from distribution.tenancy import ensure_can_act

from . import low_balance, selectors
from .ledger import (
    IdempotencyConflict,
    InsufficientFunds,
    Leg,
    balance_account,
    balance_ref,
    platform_ref,
    transaction_post,
)
from .models import TOP_UP_MACHINE, Account, BalancePreference, Entry, ExchangeRate, TopUp, Transaction
from .signals import balance_credited

__all__ = [
    "IdempotencyConflict",
    "InsufficientFunds",
    "adjustment_post",
    "payment_post",
    "preference_update",
    "rate_publish",
    "refund_post",
    "topup_approve",
    "topup_reject",
    "topup_request",
]

TOP_UP_CURRENCIES = ("USD", "CNY", "JPY", "EUR", "HKD")
PROOF_MAX_BYTES = 10 * 1024 * 1024
PROOF_TYPES = ("pdf", "jpg", "png", "webp")
# Above this many USD a second staff member must approve a top-up (maker-checker).
DEFAULT_SECOND_APPROVAL_USD = Decimal("5000")
# Which form field a refusal of topup_request is about (`extra["field"]`), for the form to show it there.
AMOUNT_FIELD, CURRENCY_FIELD, PROOF_FIELD = {"field": "amount"}, {"field": "currency"}, {"field": "proof"}


def second_approval_usd() -> Decimal:
    return to_decimal(getattr(settings, "FINANCE_SECOND_APPROVAL_USD", DEFAULT_SECOND_APPROVAL_USD))


def _staff(actor) -> None:
    if not getattr(actor, "is_staff", False):
        raise PermissionDeniedError(_("Only platform staff may do this."))


def _announce_credit(distributor_id: int, posted: Transaction) -> None:
    transaction.on_commit(
        lambda: balance_credited.send(sender=Transaction, distributor_id=distributor_id, transaction=posted)
    )


# --- exchange rates -----------------------------------------------------------------------------


def rate_publish(*, actor, currency: str, usd_per_unit, valid_from=None, source: str = "") -> ExchangeRate:
    """Staff publish a rate (USD per unit of `currency`) in force from `valid_from` (now)."""
    _staff(actor)
    if currency == DEFAULT_CURRENCY or currency not in TOP_UP_CURRENCIES:
        raise ApplicationError(_("Rates are published for %(list)s.") % {"list": ", ".join(TOP_UP_CURRENCIES[1:])})
    rate = to_decimal(usd_per_unit)
    if not rate.is_finite() or rate <= 0:
        raise ApplicationError(_("A rate is a positive number of USD per unit."))
    if rate != rate.quantize(Decimal("1e-10")):
        raise ApplicationError(_("A rate has at most 10 decimal places."))
    try:
        with transaction.atomic():
            return ExchangeRate.objects.create(
                currency=currency,
                usd_per_unit=rate,
                valid_from=valid_from or timezone.now(),
                source=clip(source, 200),
                published_by=actor,
            )
    except IntegrityError:
        raise ApplicationError(
            _("A %(currency)s rate is already published for that moment.") % {"currency": currency}
        ) from None


def usd_for(amount: Decimal, currency: str, rate: Decimal) -> Decimal:
    """The USD an amount gives at `rate`, rounded to the cent, half up (as the pages say)."""
    return quantize(amount * rate, DEFAULT_CURRENCY)


# --- top-ups -------------------------------------------------------------------------------------


def _proof_digest(upload) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks() if hasattr(upload, "chunks") else iter(lambda: upload.read(1 << 16), b""):
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def topup_request(*, actor: Membership, amount, currency: str, method: str, transfer_reference: str, proof) -> TopUp:
    """[Top Up Balance]: the distributor says what they sent; it waits for staff approval."""
    ensure_can_act(actor, Section.FINANCE)
    if currency not in TOP_UP_CURRENCIES:
        raise ApplicationError(_("Top up in %(list)s.") % {"list": ", ".join(TOP_UP_CURRENCIES)}, CURRENCY_FIELD)
    if method not in TopUp.Method.values:
        raise ApplicationError(_("Choose how you paid."), {"field": "method"})
    value = to_decimal(amount)
    if not value.is_finite() or value <= 0:
        raise ApplicationError(_("The amount must be more than zero."), AMOUNT_FIELD)
    if value != quantize(value, currency):
        raise ApplicationError(
            _("%(currency)s amounts have at most %(places)d decimals.")
            % {"currency": currency, "places": -quantize(Decimal(1), currency).as_tuple().exponent},
            AMOUNT_FIELD,
        )
    if value > Decimal("1000000000"):
        raise ApplicationError(_("The amount is too large."), AMOUNT_FIELD)
    reference = " ".join(str(transfer_reference or "").split())
    if not reference:
        raise ApplicationError(
            _("Give the transfer reference, so staff can find your payment."), {"field": "transfer_reference"}
        )
    if proof is None:
        raise ApplicationError(_("Attach the proof of payment (an image or a PDF)."), PROOF_FIELD)
    if proof.size > PROOF_MAX_BYTES:
        raise ApplicationError(
            _("The proof is larger than %(mb)d MB; send a smaller image or PDF.") % {"mb": PROOF_MAX_BYTES // 2**20},
            PROOF_FIELD,
        )
    if sniff_type(proof) not in PROOF_TYPES:
        raise ApplicationError(
            _("The proof must be a PDF, JPEG, PNG or WebP file (checked by its content)."), PROOF_FIELD
        )
    digest = _proof_digest(proof)
    earlier = TopUp.objects.filter(proof_sha256=digest).first()
    if earlier is not None:
        raise ApplicationError(
            _("This proof was already sent with top-up %(ref)s on %(date)s.")
            % {"ref": earlier.reference, "date": timezone.localtime(earlier.created_at).strftime("%Y-%m-%d")},
            PROOF_FIELD,
        )
    rate = Decimal(1) if currency == DEFAULT_CURRENCY else getattr(selectors.rate_at(currency), "usd_per_unit", None)
    if rate is None:
        raise ApplicationError(
            _("No %(currency)s rate is published yet: contact customer service to confirm the rate first.")
            % {"currency": currency},
            CURRENCY_FIELD,
        )
    name = os.path.basename(getattr(proof, "name", "") or "proof")
    try:
        with transaction.atomic():
            top_up = TopUp(
                distributor=actor.distributor,
                amount=value,
                currency=currency,
                method=method,
                transfer_reference=clip(reference, 120),
                proof_name=clip(name, 255),
                proof_sha256=digest,
                quoted_rate=rate,
                quoted_usd=usd_for(value, currency, rate),
                status=TOP_UP_MACHINE.initial_status(TopUp.Status.PENDING),
                requested_by=actor.user,
            )
            top_up.proof.save(name, File(proof), save=False)
            top_up.save()
    except IntegrityError:
        earlier = TopUp.objects.get(proof_sha256=digest)
        raise ApplicationError(
            _("This proof was already sent with top-up %(ref)s.") % {"ref": earlier.reference}, PROOF_FIELD
        ) from None
    return top_up


def _topup_legs(top_up: TopUp, amount: Decimal, usd: Decimal) -> list[Leg]:
    """Cash received in the paid currency, through FX clearing when it is not USD."""
    balance = balance_ref(top_up.distributor)
    reference = top_up.reference
    if top_up.currency == DEFAULT_CURRENCY:
        return [Leg(platform_ref(Account.Kind.CASH, "USD"), -usd, reference), Leg(balance, usd, reference)]
    return [
        Leg(platform_ref(Account.Kind.CASH, top_up.currency), -amount, reference),
        Leg(platform_ref(Account.Kind.FX, top_up.currency), amount, reference),
        Leg(platform_ref(Account.Kind.FX, DEFAULT_CURRENCY), -usd, reference),
        Leg(balance, usd, reference),
    ]


@transaction.atomic
def topup_approve(*, actor, top_up: TopUp, amount=None, rate=None) -> TopUp:
    """Staff confirm (or adjust) the amount received and the rate; the balance is credited
    exactly once however often this runs. Above `second_approval_usd()` a second staff
    member must approve what the first confirmed."""
    _staff(actor)
    locked = TopUp.objects.select_for_update().select_related("distributor").get(pk=top_up.pk)
    if locked.status == TopUp.Status.APPROVED:
        return locked
    if locked.status == TopUp.Status.REJECTED:
        raise ApplicationError(_("Top-up %(ref)s was rejected; it cannot be approved.") % {"ref": locked.reference})
    now = timezone.now()
    if locked.status == TopUp.Status.FIRST_APPROVAL:
        if locked.first_approved_by_id == actor.pk:
            raise ApplicationError(_("A second staff member must approve top-up %(ref)s.") % {"ref": locked.reference})
        received, applied = locked.approved_amount, locked.approved_rate
        if (amount is not None and to_decimal(amount) != received) or (
            rate is not None and to_decimal(rate) != applied
        ):
            raise ApplicationError(
                _("The second approval confirms the first one's amount and rate; reject the top-up to change them.")
            )
    else:
        received = to_decimal(amount) if amount is not None else locked.amount
        applied = to_decimal(rate) if rate is not None else locked.quoted_rate
        if locked.currency == DEFAULT_CURRENCY:
            applied = Decimal(1)
        if not received.is_finite() or received <= 0 or received != quantize(received, locked.currency):
            raise ApplicationError(_("The amount received must be a positive %(c)s amount.") % {"c": locked.currency})
        if not applied.is_finite() or applied <= 0:
            raise ApplicationError(_("The rate must be a positive number of USD per unit."))
    usd = usd_for(received, locked.currency, applied)
    confirmed = {"approved_amount": received, "approved_rate": applied, "credited_usd": usd}
    if locked.status == TopUp.Status.PENDING and usd >= second_approval_usd():
        return TOP_UP_MACHINE.move(
            locked,
            TopUp.Status.FIRST_APPROVAL,
            actor=actor,
            message=_("First approval: %(usd)s USD.") % {"usd": usd},
            fields={**confirmed, "first_approved_by": actor, "first_approved_at": now},
        )
    posted = transaction_post(
        kind=Transaction.Kind.TOP_UP,
        idempotency_key=f"top-up:{locked.pk}",
        legs=_topup_legs(locked, received, usd),
        distributor=locked.distributor,
        reference=locked.reference,
        memo=_("Top-up by %(method)s, ref. %(ref)s")
        % {"method": locked.get_method_display(), "ref": locked.transfer_reference},
        actor=actor,
        fx=None
        if locked.currency == DEFAULT_CURRENCY
        else {"rate": applied, "source_amount": received, "source_currency": locked.currency},
    )
    approved = TOP_UP_MACHINE.move(
        locked,
        TopUp.Status.APPROVED,
        actor=actor,
        message=_("Approved: %(usd)s USD credited.") % {"usd": usd},
        fields={**confirmed, "approved_by": actor, "approved_at": now, "transaction": posted},
    )
    _announce_credit(locked.distributor_id, posted)
    return approved


@transaction.atomic
def topup_reject(*, actor, top_up: TopUp, reason: str) -> TopUp:
    _staff(actor)
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ApplicationError(_("Say why the top-up is rejected: the distributor sees the reason."))
    locked = TopUp.objects.select_for_update().get(pk=top_up.pk)
    if locked.status == TopUp.Status.REJECTED:
        return locked
    if locked.status == TopUp.Status.APPROVED:
        raise ApplicationError(
            _("Top-up %(ref)s is approved and credited; post an adjustment instead.") % {"ref": locked.reference}
        )
    return TOP_UP_MACHINE.move(
        locked, TopUp.Status.REJECTED, actor=actor, message=reason, fields={"rejection_reason": clip(reason, 500)}
    )


# --- manual adjustments --------------------------------------------------------------------------


def adjustment_post(*, actor, distributor, amount, reason: str, idempotency_key: str) -> Transaction:
    """Staff credit (positive) or debit (negative) a balance, with a reason: a ledger
    transaction like any other, never an edit."""
    _staff(actor)
    value = to_decimal(amount)
    if not value.is_finite() or value == 0 or value != quantize(value, DEFAULT_CURRENCY):
        raise ApplicationError(_("An adjustment is a non-zero USD amount in cents."))
    reason = " ".join(str(reason or "").split())
    if not reason:
        raise ApplicationError(_("Give the reason for the adjustment."))
    with transaction.atomic():
        posted = transaction_post(
            kind=Transaction.Kind.ADJUSTMENT,
            idempotency_key=idempotency_key,
            legs=[
                Leg(balance_ref(distributor), value),
                Leg(platform_ref(Account.Kind.ADJUSTMENTS, DEFAULT_CURRENCY), -value),
            ],
            distributor=distributor,
            memo=clip(reason, 500),
            actor=actor,
        )
        if not posted.replayed:
            if value > 0:
                _announce_credit(distributor.pk, posted)
            elif posted.low_balance:
                low_balance.watch(distributor.pk)
    return posted


# --- payments and refunds (asked for by orders) --------------------------------------------------


@dataclass(frozen=True)
class Charge:
    """One order's share of a payment: its number and its cost in USD."""

    reference: str
    amount: Decimal


def payment_post(
    *, distributor, idempotency_key: str, charges: Sequence[Charge], actor=None, reference: str = ""
) -> Transaction:
    """Debit the balance for `charges` in one transaction (one entry per order, so each
    order's refund is capped by what was paid for it). Refused whole, charging nothing,
    when the balance does not cover the total (InsufficientFunds names the shortfall)."""
    if not charges:
        raise ApplicationError(_("Nothing to pay."))
    references = [charge.reference for charge in charges]
    if len(set(references)) != len(references):
        raise ApplicationError(_("An order appears twice in one payment."))
    total = Decimal(0)
    legs = []
    # Accounts named, not read: a payment is one statement on PostgreSQL (ledger.finance_post).
    balance = balance_ref(distributor)
    for charge in charges:
        amount = quantize(charge.amount, DEFAULT_CURRENCY)
        if amount <= 0:
            raise ApplicationError(_("Order %(ref)s costs nothing to pay.") % {"ref": charge.reference})
        legs.append(Leg(balance, -amount, charge.reference))
        total += amount
    legs.append(Leg(platform_ref(Account.Kind.REVENUE, DEFAULT_CURRENCY), total, reference))
    posted = transaction_post(
        kind=Transaction.Kind.PAYMENT,
        idempotency_key=idempotency_key,
        legs=legs,
        distributor=distributor,
        reference=reference or (references[0] if len(references) == 1 else ""),
        memo=_("Payment of %(n)d order(s)") % {"n": len(charges)},
        actor=actor,
    )
    if not posted.replayed and posted.low_balance:
        # On PostgreSQL the posting itself says whether the alert has anything to do.
        low_balance.watch(distributor.pk)
    return posted


def refundable(*, distributor, reference: str) -> Decimal:
    """What may still be refunded for `reference`: paid for it minus refunded for it."""
    return _refundable(balance_account(distributor), reference)


def _refundable(account: Account, reference: str) -> Decimal:
    totals = (
        Entry.objects.filter(account=account, reference=reference)
        .values("transaction__kind")
        .annotate(total=Sum("amount"))
    )
    by_kind = {row["transaction__kind"]: row["total"] for row in totals}
    paid = -(by_kind.get(Transaction.Kind.PAYMENT) or Decimal(0))
    refunded = by_kind.get(Transaction.Kind.REFUND) or Decimal(0)
    return quantize(max(paid - refunded, Decimal(0)), DEFAULT_CURRENCY)


@transaction.atomic
def refund_post(
    *, distributor, reference: str, idempotency_key: str, amount=None, actor=None, reason: str = ""
) -> Transaction:
    """Give back what was paid for `reference` (all that is left, or `amount`), never more.

    The balance account is locked before the check, so two refunds of one order cannot
    both pass; the refund points at the payment it reverses. The same key again answers
    the first refund."""
    account = balance_account(distributor)
    Account.objects.select_for_update().filter(pk=account.pk).first()
    earlier = Transaction.objects.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        same = earlier.kind == Transaction.Kind.REFUND and earlier.reference == reference
        credited = earlier.entries.filter(account=account).values_list("amount", flat=True).first()
        if same and (amount is None or quantize(to_decimal(amount), DEFAULT_CURRENCY) == credited):
            earlier.replayed = True
            return earlier
        raise IdempotencyConflict(
            _("This request was already made with other details (key %(key)s); nothing was posted.")
            % {"key": idempotency_key}
        )
    payment = (
        Transaction.objects.filter(
            kind=Transaction.Kind.PAYMENT, entries__account=account, entries__reference=reference
        )
        .order_by("-created_at", "-id")
        .first()
    )
    if payment is None:
        raise ApplicationError(_("Nothing was paid for %(ref)s; there is nothing to refund.") % {"ref": reference})
    left = _refundable(account, reference)
    value = left if amount is None else quantize(to_decimal(amount), DEFAULT_CURRENCY)
    if left <= 0:
        raise ApplicationError(_("%(ref)s was refunded in full already.") % {"ref": reference})
    if value <= 0 or value > left:
        raise ApplicationError(
            _("At most %(left)s USD can be refunded for %(ref)s (what was paid, less earlier refunds).")
            % {"left": left, "ref": reference}
        )
    posted = transaction_post(
        kind=Transaction.Kind.REFUND,
        idempotency_key=idempotency_key,
        legs=[
            Leg(account, value, reference),
            Leg(platform_ref(Account.Kind.REFUNDS, DEFAULT_CURRENCY), -value, reference),
        ],
        distributor=distributor,
        reference=reference,
        reverses=payment,
        memo=clip(reason or _("Refund of %(ref)s") % {"ref": reference}, 500),
        actor=actor,
    )
    _announce_credit(distributor.pk, posted)
    return posted


# --- the distributor's balance settings ----------------------------------------------------------


@transaction.atomic
def preference_update(*, actor: Membership, auto_pay: bool, low_balance_threshold) -> BalancePreference:
    """[Balance Management]: pay orders automatically, and the low-balance alert (0 = off).
    A new threshold re-arms the alert: the next posting below it sends the e-mail."""
    ensure_can_act(actor, Section.FINANCE)
    threshold = to_decimal(low_balance_threshold)
    if not threshold.is_finite() or threshold < 0 or threshold != quantize(threshold, DEFAULT_CURRENCY):
        raise ApplicationError(
            _("The alert threshold is a USD amount in cents, 0 or more."), {"field": "low_balance_threshold"}
        )
    if threshold > Decimal("1000000000"):
        raise ApplicationError(_("The amount is too large."), {"field": "low_balance_threshold"})
    preference, _created = BalancePreference.objects.select_for_update().get_or_create(distributor=actor.distributor)
    if preference.low_balance_threshold != threshold:
        preference.low_balance_notified_at = None
    preference.auto_pay = bool(auto_pay)
    preference.low_balance_threshold = threshold
    preference.updated_by = actor.user
    preference.save()
    return preference
