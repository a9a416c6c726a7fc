"""What a postcode looks like in each destination country, and how we write it.

One rule, one place: the order file import (`orders/imports/format.py`) refuses a row
whose postcode does not fit its country, and the ingestion of pulled orders asks
`postcode_problem` to flag one, so both read a postcode the same way.

A value is read as a person would: full-width digits and letters (１００－０００１), the
Japanese postal mark (〒), any kind of dash and stray blanks are forgiven, and letters
are upper-cased. Spreadsheets turn postcodes into numbers and drop their leading
zeros (02134 becomes 2134); for a numeric cell the zeros are put back wherever the
country's postcodes have a fixed number of digits (a number of one or two digits is
refused, not padded). A US postcode typed with four
digits gets its zero back from text too, because Excel saves the number 2134 to CSV as
"2134"; a three-digit one only from a numeric cell (00501 exists, 501 typed by hand is
more likely a mistake). Countries without a rule here are accepted as written, trimmed,
up to MAX_LENGTH characters. An empty postcode is not this module's business: whether
one is required is the caller's.
"""

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from distribution.spreadsheet import excerpt

MAX_LENGTH = 20  # the postcode column of an order (Order.postal_code)
_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−－ー"), "-")
_POSTAL_MARKS = str.maketrans("", "", "〒〶")


class PostcodeError(ValueError):
    """A postcode that cannot be one of its country's; the message says what one looks like."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class Rule:
    # What the compacted value (no blanks or dashes, upper case) must match.
    pattern: re.Pattern
    # How the match is written: the groups of `pattern`, joined the country's way.
    write: Callable[[re.Match], str]
    # "“%(value)s” is not a … postcode: …": what a person should type instead.
    refusal: Promise
    # Digits a numeric cell may have lost in front (0 for postcodes with letters).
    digits: int = 0


def _digits(count: int) -> re.Pattern:
    return re.compile(rf"(\d{{{count}}})")


def _whole(match: re.Match) -> str:
    return match.group(1)


def _joined(separator: str) -> Callable[[re.Match], str]:
    return lambda match: separator.join(part for part in match.groups() if part)


def _five_digits(country: str) -> Promise:
    return {
        "DE": _("“%(value)s” is not a German postcode: 5 digits, e.g. 10115."),
        "FR": _("“%(value)s” is not a French postcode: 5 digits, e.g. 75001."),
        "IT": _("“%(value)s” is not an Italian postcode: 5 digits, e.g. 00184."),
        "ES": _("“%(value)s” is not a Spanish postcode: 5 digits, e.g. 28013."),
        "KR": _("“%(value)s” is not a South Korean postcode: 5 digits, e.g. 04524."),
    }[country]


RULES: dict[str, Rule] = {
    "US": Rule(
        re.compile(r"(\d{5})(\d{4})?"),
        _joined("-"),
        _("“%(value)s” is not a US ZIP code: 5 digits (02134), or ZIP+4 (02134-1234)."),
        digits=5,
    ),
    "JP": Rule(
        re.compile(r"(\d{3})(\d{4})"),
        _joined("-"),
        _("“%(value)s” is not a Japanese postcode: 7 digits, written 100-0001."),
        digits=7,
    ),
    "CA": Rule(
        # Canada Post leaves out D, F, I, O, Q and U, and W and Z in first place.
        re.compile(r"([ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z])(\d[ABCEGHJ-NPRSTV-Z]\d)"),
        _joined(" "),
        _("“%(value)s” is not a Canadian postal code: letter, digit, letter, digit, letter, digit, e.g. K1A 0B1."),
    ),
    "GB": Rule(
        # Outward code (area, district, sub-district) then the inward code: SW1A 1AA, M1 1AE.
        re.compile(r"([A-Z]{1,2}\d[A-Z\d]?|GIR)(\d[A-Z]{2})"),
        _joined(" "),
        _("“%(value)s” is not a UK postcode: e.g. SW1A 1AA or M1 1AE."),
    ),
    "NL": Rule(
        re.compile(r"([1-9]\d{3})((?!SA|SD|SS)[A-Z]{2})"),
        _joined(" "),
        _("“%(value)s” is not a Dutch postcode: 4 digits and 2 letters, written 1234 AB."),
    ),
    "AU": Rule(_digits(4), _whole, _("“%(value)s” is not an Australian postcode: 4 digits, e.g. 2000."), digits=4),
    "CN": Rule(_digits(6), _whole, _("“%(value)s” is not a Chinese postcode: 6 digits, e.g. 100000."), digits=6),
    **{
        country: Rule(_digits(5), _whole, _five_digits(country), digits=5) for country in ("DE", "FR", "IT", "ES", "KR")
    },
}


def postcode_normalise(country: str | None, value) -> str:
    """The postcode as the destination country writes it; PostcodeError when it cannot be one.

    `country` is an ISO alpha-2 code (or None/"" when unknown: no rule applies); `value`
    a cell as read (text, or a number when a spreadsheet took the postcode for one)."""
    if value is None:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            raise PostcodeError(
                gettext("“%(value)s” is not a postcode: a postcode has no decimals.") % {"value": excerpt(value, 40)}
            )
        return _normalise((country or "").upper(), str(int(value)), True)
    return _normalise((country or "").upper(), str(value), False)


def postcode_problem(country: str | None, value) -> str | None:
    """Why `value` is not a postcode of `country`, for a person; None when it is one (or is empty)."""
    try:
        postcode_normalise(country, value)
    except PostcodeError as exc:
        return exc.message
    return None


@lru_cache(maxsize=4096)  # an order file repeats its postcodes over many rows
def _normalise(country: str, raw: str, numeric: bool) -> str:
    written = " ".join(unicodedata.normalize("NFKC", raw).translate(_POSTAL_MARKS).translate(_DASHES).split())
    if not written:
        return ""
    rule = RULES.get(country)
    if rule is None:
        if len(written) > MAX_LENGTH:
            raise PostcodeError(
                gettext("“%(value)s” is too long for a postcode: at most %(max)d characters.")
                % {"value": excerpt(raw.strip(), 40), "max": MAX_LENGTH}
            )
        return written
    compact = written.replace(" ", "").replace("-", "").upper()
    if rule.digits and compact.isdigit() and len(compact) < rule.digits:
        compact = _lost_zeros(country, compact, rule.digits, numeric)
    match = rule.pattern.fullmatch(compact)
    if match is None and country == "US" and numeric and compact.isdigit() and len(compact) == 8:
        match = rule.pattern.fullmatch(compact.zfill(9))  # ZIP+4 typed as one number, 0 lost
    if match is None:
        raise PostcodeError(str(rule.refusal) % {"value": excerpt(raw.strip(), 40)})
    return rule.write(match)


def _lost_zeros(country: str, digits: str, length: int, numeric: bool) -> str:
    if numeric and len(digits) >= 3:  # 7 or 42 is no postcode that lost its zeros
        return digits.zfill(length)
    if country == "US" and len(digits) == 4:
        return digits.zfill(length)  # Excel's CSV of a ZIP code it had taken for a number
    return digits
