from decimal import Decimal

import pytest

from distribution.errors import ApplicationError
from distribution.money import Money, quantize, to_decimal


def test_quantize_uses_the_currency_precision_and_rounds_half_up():
    assert quantize("1.005", "USD") == Decimal("1.01")
    assert quantize("1234.5", "JPY") == Decimal("1235")
    assert quantize(Decimal("2"), "EUR") == Decimal("2.00")


def test_floats_are_refused():
    with pytest.raises(TypeError):
        to_decimal(0.1)
    with pytest.raises(TypeError):
        Money(0.1, "USD")


def test_money_arithmetic_keeps_currency_and_precision():
    total = Money("0.10", "USD") + Money("0.20", "USD")
    assert total == Money("0.30", "USD")
    assert (Money("10.00", "USD") * "0.333").amount == Decimal("3.33")
    assert -Money("1", "USD") < Money.zero("USD")


def test_mixing_currencies_is_an_error():
    with pytest.raises(ApplicationError):
        Money("1", "USD") + Money("1", "EUR")


def test_conversion_quantizes_in_the_target_currency():
    assert Money("10.00", "USD").convert(rate="151.237", to_currency="JPY") == Money("1512", "JPY")


def test_bad_input_is_a_clear_error():
    with pytest.raises(ApplicationError, match="is not an amount"):
        to_decimal("12,50")
    with pytest.raises(ApplicationError, match="Unknown currency"):
        quantize("1", "XXX")
