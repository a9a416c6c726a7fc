"""Money: a double-entry, append-only ledger, exchange rates and top-ups.

The ledger (finance/ledger.py is its only writer):

- An Account holds money in one currency. Each distributor has one USD *balance*
  account (its prepaid balance); the platform has cash, FX clearing, revenue, refunds
  and adjustments accounts, one per currency, made on first use.
- A Transaction moves money between accounts through its Entries. Amounts are signed
  and every transaction's entries sum to zero in each currency; a top-up in CNY goes
  cash(CNY) -> FX clearing(CNY) | FX clearing(USD) -> balance(USD) at the approved rate
  (TigerBeetle's currency-exchange recipe), so both currencies balance on their own.
- Nothing is ever edited or deleted: a correction is a new transaction that points at
  the one it reverses. On PostgreSQL the database itself refuses an UPDATE or DELETE of
  entries and transactions, and, at commit, a transaction whose entries do not sum to
  zero per currency (triggers in migration 0002).
- A balance account caches its balance, updated in the same database transaction as
  its entries, under the account's row lock; a CHECK constraint keeps it at or above
  zero. Platform accounts keep no cache: every payment of every distributor touches
  the revenue account, and a cached row there would make all payments queue on one
  lock; their balance is the sum of their entries.
- Every transaction carries a unique idempotency key and the hash of its request: the
  same key again with the same request answers the first transaction; with another
  request it is refused.

`manage.py check_ledger` proves all of this on the data as it is.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from distribution.models import Distributor
from distribution.money import CURRENCY_CHOICES, DEFAULT_CURRENCY
from distribution.state import StateMachine

# Amounts: up to 10^15 in any currency, four places so that no currency's minor unit is
# cut (amounts are quantized to the currency's own precision before they are posted).
AMOUNT = {"max_digits": 19, "decimal_places": 4}
# Rates: USD per one unit of the currency, ten places (JPY is about 0.0066).
RATE = {"max_digits": 20, "decimal_places": 10}


class Account(models.Model):
    class Kind(models.TextChoices):
        BALANCE = "balance", _("Distributor balance")
        CASH = "cash", _("Cash received")
        FX = "fx", _("FX clearing")
        REVENUE = "revenue", _("Order revenue")
        REFUNDS = "refunds", _("Refunds")
        ADJUSTMENTS = "adjustments", _("Manual adjustments")

    # Platform accounts belong to no distributor; a balance account to exactly one.
    tenant_path = "distributor"

    code = models.CharField(_("code"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, null=True, blank=True, related_name="accounts", db_index=False
    )
    # Balance accounts only (see the module docstring); the sum of the entries otherwise.
    balance = models.DecimalField(_("balance"), default=0, **AMOUNT)
    created_at = models.DateTimeField(_("opened at"), auto_now_add=True)

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["distributor", "currency"],
                condition=Q(kind="balance"),
                name="finance_account_one_balance_per_currency",
            ),
            models.CheckConstraint(
                condition=Q(kind="balance", distributor__isnull=False)
                | (~Q(kind="balance") & Q(distributor__isnull=True)),
                name="finance_account_balance_belongs_to_a_distributor",
            ),
            models.CheckConstraint(
                condition=~Q(kind="balance") | Q(balance__gte=0), name="finance_account_balance_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(kind="balance") | Q(balance=0), name="finance_account_platform_no_cache"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Transaction(models.Model):
    """One posting: its entries sum to zero per currency. Never changed once written."""

    class Kind(models.TextChoices):
        TOP_UP = "top_up", _("Top-up")
        PAYMENT = "payment", _("Order payment")
        REFUND = "refund", _("Refund")
        ADJUSTMENT = "adjustment", _("Manual adjustment")
        REVERSAL = "reversal", _("Reversal")

    # The distributor whose balance it moves (every kind so far moves one).
    tenant_path = "distributor"

    kind = models.CharField(_("type"), max_length=16, choices=Kind.choices)
    idempotency_key = models.CharField(_("idempotency key"), max_length=120, unique=True)
    # SHA-256 of the request (kind, legs, references): the same key with another request is refused.
    request_hash = models.CharField(max_length=64)
    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, null=True, blank=True, related_name="ledger_transactions", db_index=False
    )
    # What it is for, as the other app names it: "TU-12" (a top-up), "DO2612..." (an order),
    # "PAY-..." (a payment of several orders; each entry names its order).
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    reverses = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversals",
        verbose_name=_("reverses"),
        db_index=False,
    )
    memo = models.CharField(_("memo"), max_length=500, blank=True)
    # A conversion keeps its rate and source amount beside it.
    fx_rate = models.DecimalField(_("rate (USD per unit)"), null=True, blank=True, **RATE)
    fx_source_amount = models.DecimalField(_("amount paid"), null=True, blank=True, **AMOUNT)
    fx_source_currency = models.CharField(_("currency paid"), max_length=3, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("posted at"), auto_now_add=True)

    class Meta:
        verbose_name = _("ledger transaction")
        verbose_name_plural = _("ledger transactions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["distributor", "-created_at"], name="finance_txn_tenant_recent"),
            models.Index(fields=["reverses"], condition=Q(reverses__isnull=False), name="finance_txn_reverses"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.reference or self.pk}"


class Entry(models.Model):
    """One leg of a transaction: a signed amount on one account."""

    tenant_path = "account__distributor"

    # No foreign-key constraints in the database for these two: on PostgreSQL the entry
    # trigger of migration 0007 refuses an entry whose transaction or account does not
    # exist, once per INSERT statement instead of two checks per row at commit, and
    # neither a transaction nor an account can ever be deleted (migration 0002).
    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="entries", db_constraint=False)
    account = models.ForeignKey(
        Account, on_delete=models.PROTECT, related_name="entries", db_index=False, db_constraint=False
    )
    # The account's currency, kept on the entry so the per-currency sum needs no join.
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    amount = models.DecimalField(_("amount"), **AMOUNT)
    # The order (or other unit) this leg is for: refunds of an order are capped by what was paid for it.
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    # Balance accounts only: the account's balance just after this entry (the history's last column).
    balance_after = models.DecimalField(_("balance after"), null=True, blank=True, **AMOUNT)

    class Meta:
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["account", "id"], name="finance_entry_account"),
            models.Index(fields=["reference"], condition=~Q(reference=""), name="finance_entry_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id}: {self.amount} {self.currency}"


class ExchangeRate(models.Model):
    """A published rate: how many USD one unit of `currency` buys, from `valid_from` on.

    Rates are never edited: a new rate is a new row, so the history shows what was in
    force at any moment (finance.selectors.rate_at)."""

    tenant_path = None  # published to every distributor

    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    usd_per_unit = models.DecimalField(_("USD per unit"), **RATE)
    valid_from = models.DateTimeField(_("valid from"))
    source = models.CharField(_("source or note"), max_length=200, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("published at"), auto_now_add=True)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["currency", "-valid_from", "-id"]
        indexes = [models.Index(fields=["currency", "-valid_from"], name="finance_rate_in_force")]
        constraints = [
            models.CheckConstraint(condition=Q(usd_per_unit__gt=0), name="finance_rate_positive"),
            models.UniqueConstraint(fields=["currency", "valid_from"], name="finance_rate_one_per_moment"),
        ]

    def __str__(self) -> str:
        return f"1 {self.currency} = {self.usd_per_unit.normalize():f} USD from {self.valid_from:%Y-%m-%d %H:%M}"


def _proof_path(instance, filename: str) -> str:
    # Private storage (MEDIA_ROOT is never served as is); the name says nothing of the content.
    extension = filename.rsplit(".", 1)[-1].lower()[:5] if "." in filename else "bin"
    return f"finance/proofs/{instance.distributor_id}/{instance.proof_sha256[:32]}.{extension}"


class TopUp(models.Model):
    """[Top Up Balance]: a distributor's transfer, credited once staff approve it."""

    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("Bank transfer")
        PAYPAL = "paypal", "PayPal"
        ALIPAY = "alipay", _("Alipay")
        WECHAT_PAY = "wechat_pay", _("WeChat Pay")
        WISE = "wise", "Wise"

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending approval")
        # Above the maker-checker threshold: one staff member approved, a second must.
        FIRST_APPROVAL = "first_approval", _("Awaiting second approval")
        APPROVED = "approved", _("Approved")
        REJECTED = "rejected", _("Rejected")

    distributor = models.ForeignKey(Distributor, on_delete=models.PROTECT, related_name="top_ups", db_index=False)
    amount = models.DecimalField(_("amount"), **AMOUNT)
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES)
    method = models.CharField(_("payment method"), max_length=16, choices=Method.choices)
    transfer_reference = models.CharField(_("transfer reference"), max_length=120)
    proof = models.FileField(_("proof of payment"), upload_to=_proof_path, max_length=255)
    proof_name = models.CharField(_("proof file name"), max_length=255, blank=True)
    # One transfer proof, one top-up: a second upload of the same file is refused.
    proof_sha256 = models.CharField(max_length=64, unique=True)
    # The rate published when the distributor asked, and the USD it would give (shown on the page).
    quoted_rate = models.DecimalField(_("published rate"), null=True, blank=True, **RATE)
    quoted_usd = models.DecimalField(_("USD at the published rate"), null=True, blank=True, **AMOUNT)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    # What staff confirmed (maybe adjusted): the amount received, the rate, the USD credited.
    approved_amount = models.DecimalField(_("amount received"), null=True, blank=True, **AMOUNT)
    approved_rate = models.DecimalField(_("rate applied"), null=True, blank=True, **RATE)
    credited_usd = models.DecimalField(_("USD credited"), null=True, blank=True, **AMOUNT)
    first_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    first_approved_at = models.DateTimeField(_("first approved at"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)
    rejection_reason = models.CharField(_("reason for rejection"), max_length=500, blank=True)
    transaction = models.OneToOneField(
        Transaction, on_delete=models.PROTECT, null=True, blank=True, related_name="top_up"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+", db_index=False
    )
    created_at = models.DateTimeField(_("requested at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("top-up")
        verbose_name_plural = _("top-ups")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["distributor", "-created_at"], name="finance_topup_tenant_recent"),
            models.Index(fields=["status", "created_at"], name="finance_topup_queue"),
        ]
        constraints = [models.CheckConstraint(condition=Q(amount__gt=0), name="finance_topup_amount_positive")]

    def __str__(self) -> str:
        return f"{self.reference} {self.amount.normalize():f} {self.currency}"

    @property
    def reference(self) -> str:
        return f"TU-{self.pk}"


_T = TopUp.Status
TOP_UP_MACHINE = StateMachine(
    model=TopUp,
    transitions={
        _T.PENDING: frozenset({_T.FIRST_APPROVAL, _T.APPROVED, _T.REJECTED}),
        _T.FIRST_APPROVAL: frozenset({_T.APPROVED, _T.REJECTED}),
        _T.APPROVED: frozenset(),
        _T.REJECTED: frozenset(),
    },
    initial=frozenset({_T.PENDING}),
    describe=lambda top_up: _("Top-up %(ref)s") % {"ref": top_up.reference},
)


class LedgerCheck(models.Model):
    """One run of `check_ledger` (nightly by beat, or by hand): staff see the latest in the admin."""

    tenant_path = None

    ok = models.BooleanField(_("all invariants hold"))
    problems = models.JSONField(_("problems"), default=list, blank=True)
    transactions = models.PositiveBigIntegerField(_("transactions checked"), default=0)
    entries = models.PositiveBigIntegerField(_("entries checked"), default=0)
    started_at = models.DateTimeField(_("started at"))
    finished_at = models.DateTimeField(_("finished at"))

    class Meta:
        verbose_name = _("ledger check")
        verbose_name_plural = _("ledger checks")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{'OK' if self.ok else 'FAILED'} {self.started_at:%Y-%m-%d %H:%M}"


class BalancePreference(models.Model):
    """A distributor's balance settings, edited on [Balance Management].

    `low_balance_notified_at` is set when the low-balance e-mail goes out and cleared once
    the balance is back at or above the threshold, so one crossing sends one e-mail
    (finance/low_balance.py). `auto_pay` is read by the orders app
    (finance.selectors.auto_pay_enabled) to pay orders from the balance by itself."""

    distributor = models.OneToOneField(
        Distributor, on_delete=models.CASCADE, related_name="balance_preference", verbose_name=_("distributor")
    )
    auto_pay = models.BooleanField(_("pay orders automatically"), default=False)
    # USD; 0 turns the alert off.
    low_balance_threshold = models.DecimalField(
        _("low-balance alert below (USD)"), max_digits=19, decimal_places=2, default=0
    )
    low_balance_notified_at = models.DateTimeField(_("low-balance e-mail sent at"), null=True, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("balance preference")
        verbose_name_plural = _("balance preferences")
        constraints = [
            models.CheckConstraint(
                condition=Q(low_balance_threshold__gte=0), name="finance_pref_threshold_not_negative"
            )
        ]

    def __str__(self) -> str:
        return str(self.distributor)


__all__ = [
    "DEFAULT_CURRENCY",
    "Account",
    "BalancePreference",
    "Entry",
    "ExchangeRate",
    "LedgerCheck",
    "TopUp",
    "Transaction",
]
