"""The one rule for store SKUs, used by the form, the batch import, the admin, the
unmapped-SKU queue (`SeenSku`) and `mapping_resolve` alike.

A store SKU is kept exactly as the store's platform sends it, case included, except
that blanks around it are removed:

- surrounding whitespace goes (spaces, tabs, line breaks, no-break and ideographic
  spaces), and so do the invisible zero-width characters and byte-order marks that
  copying from a web page or a spreadsheet leaves behind;
- upper and lower case are kept apart: `ABC-1` and `abc-1` are two SKUs. Shopify,
  WooCommerce, Amazon and TikTok Shop all hand the SKU back exactly as the seller typed
  it, so folding case would merge SKUs a seller may really use side by side;
- inner characters are kept as they are; a SKU with a line break or tab inside, or
  longer than SKU_MAX_LENGTH, is refused rather than silently changed.

Item IDs are another matter: the catalog stores them upper-case, so an Item ID typed
as `ls228800001-01-01` is found (see `normalise_item_id`).
"""

import re

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from distribution.errors import ApplicationError
from distribution.spreadsheet import excerpt

SKU_MAX_LENGTH = 100
PLATFORM_ID_MAX_LENGTH = 64
# Characters str.strip() keeps but a person never means as part of a SKU.
_INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"
_CONTROL = re.compile(r"[\x00-\x1f]")  # line breaks, tabs and the other control characters

SKU_RULE = gettext_lazy(
    "Store SKUs are matched exactly as your store sends them, upper and lower case included "
    "(ABC-1 and abc-1 are two different SKUs); spaces before and after a SKU are ignored."
)


class InvalidSku(ApplicationError):
    def __init__(self, message):
        super().__init__(message, extra={"field": "store_sku"})


def _strip(value: str) -> str:
    previous = None
    while previous != value:
        previous = value
        value = value.strip().strip(_INVISIBLE)
    return value


def cell_text(value) -> str:
    """A spreadsheet or form value as text: a whole number typed into a cell (12345, read
    back as 12345.0) is the text '12345', not '12345.0'."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def normalise_sku(value) -> str:
    """The store SKU as it is stored and compared; '' when there is none (blank input)."""
    if type(value) is str:
        # The common case, a SKU with no invisible character at either end: one strip.
        stripped = value.strip()
        if not stripped or (stripped[0] not in _INVISIBLE and stripped[-1] not in _INVISIBLE):
            return stripped
    return _strip(cell_text(value))


def clean_sku(value) -> str:
    """normalise_sku, refusing what cannot be a store SKU (InvalidSku says why)."""
    sku = normalise_sku(value)
    if not sku:
        raise InvalidSku(_("The store SKU is empty."))
    if len(sku) > SKU_MAX_LENGTH:
        raise InvalidSku(
            _("The store SKU is longer than %(max)d characters: “%(start)s”.")
            % {"max": SKU_MAX_LENGTH, "start": excerpt(sku)},
        )
    if _CONTROL.search(sku):
        raise InvalidSku(_("The store SKU contains a line break, tab or other control character."))
    return sku


def normalise_item_id(value) -> str:
    return _strip(cell_text(value)).upper()


def clean_platform_id(value, label) -> str:
    text = _strip(cell_text(value))
    if len(text) > PLATFORM_ID_MAX_LENGTH:
        raise ApplicationError(
            _("The %(label)s is longer than %(max)d characters: “%(start)s”.")
            % {"label": label, "max": PLATFORM_ID_MAX_LENGTH, "start": excerpt(text)}
        )
    return text
