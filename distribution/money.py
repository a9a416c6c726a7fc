"""Money helpers: Decimal amounts with a currency, quantized by the currency's precision.

Floats never enter: `to_decimal` refuses them, because 0.1 + 0.2 is not 0.3.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.utils.translation import gettext_lazy as _

from .errors import ApplicationError

DEFAULT_CURRENCY = "USD"
# Minor-unit digits per ISO 4217 for the currencies the platform deals in.
CURRENCY_PRECISION: dict[str, int] = {
    "USD": 2,
    "EUR": 2,
    "GBP": 2,
    "CNY": 2,
    "HKD": 2,
    "CAD": 2,
    "AUD": 2,
    "JPY": 0,
    "KRW": 0,
}
CURRENCY_CHOICES = [(code, code) for code in CURRENCY_PRECISION]


def currency_precision(currency: str) -> int:
    try:
        return CURRENCY_PRECISION[currency]
    except KeyError:
        raise ApplicationError(_("Unknown currency: %(code)s.") % {"code": currency}) from None


def to_decimal(value) -> Decimal:
    if isinstance(value, float):
        raise TypeError("Money must not be a float; pass a str, int or Decimal.")
    if isinstance(value, Decimal):
        return value
    try:
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise ApplicationError(_("“%(value)s” is not an amount.") % {"value": value}) from None


def quantize(amount, currency: str) -> Decimal:
    exponent = Decimal(1).scaleb(-currency_precision(currency))
    return to_decimal(amount).quantize(exponent, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class Money:
    amount: Decimal
    currency: str

    def __post_init__(self):
        object.__setattr__(self, "amount", quantize(self.amount, self.currency))

    def _same_currency(self, other: "Money") -> None:
        if not isinstance(other, Money) or other.currency != self.currency:
            raise ApplicationError(_("Cannot combine amounts in different currencies."))

    def __add__(self, other: "Money") -> "Money":
        self._same_currency(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: "Money") -> "Money":
        self._same_currency(other)
        return Money(self.amount - other.amount, self.currency)

    def __neg__(self) -> "Money":
        return Money(-self.amount, self.currency)

    def __mul__(self, factor) -> "Money":
        return Money(self.amount * to_decimal(factor), self.currency)

    def __lt__(self, other: "Money") -> bool:
        self._same_currency(other)
        return self.amount < other.amount

    def __le__(self, other: "Money") -> bool:
        self._same_currency(other)
        return self.amount <= other.amount

    def __str__(self) -> str:
        return f"{self.amount} {self.currency}"

    @classmethod
    def zero(cls, currency: str = DEFAULT_CURRENCY) -> "Money":
        return cls(Decimal(0), currency)

    def convert(self, *, rate, to_currency: str) -> "Money":
        """`rate` is units of `to_currency` per one unit of this currency."""
        return Money(self.amount * to_decimal(rate), to_currency)
