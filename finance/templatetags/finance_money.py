"""Money as the finance pages show it: quantized to the currency (half up), with
thousands separators; rates without trailing zeros."""

from decimal import Decimal

from django import template

from distribution.money import DEFAULT_CURRENCY, quantize

register = template.Library()


@register.filter
def money(value, currency: str = DEFAULT_CURRENCY) -> str:
    """1234.5 -> "1,234.50" (USD); 3 -> "3" (JPY)."""
    if value is None or value == "":
        return ""
    return f"{quantize(value, currency or DEFAULT_CURRENCY):,}"


@register.filter
def rate(value) -> str:
    """0.1380000000 -> "0.138"."""
    if value is None:
        return ""
    text = f"{Decimal(value):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
