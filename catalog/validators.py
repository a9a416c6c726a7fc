"""Validation of catalog identifiers and uploaded files.

Uploaded files are checked twice: by the name's extension and by the first bytes
of the content, so a renamed executable or a mislabelled file is refused before
it reaches storage. Sizes are capped by settings with safe defaults here (the
project settings stay free of catalog knobs unless someone wants to change them).
"""

import re
import zipfile

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.template.defaultfilters import filesizeformat
from django.utils.translation import gettext_lazy as _

DEFAULT_DOCUMENT_MAX_BYTES = 20 * 1024 * 1024
DEFAULT_IMAGE_MAX_BYTES = 10 * 1024 * 1024

DOCUMENT_EXTENSIONS = ("pdf", "jpg", "jpeg", "png", "webp", "docx", "xlsx")
IMAGE_EXTENSIONS = ("jpg", "jpeg", "png", "webp")

ITEM_ID_PATTERN = r"^[A-Z0-9]+-\d{2}-\d{2}$"
ITEM_ID_RULE = _(
    "Product code, a two-digit variant and a two-digit warehouse number, e.g. LS228800001-01-01 "
    "(capital letters and digits; lower case is turned into upper case)."
)
PRODUCT_CODE_PATTERN = r"^[A-Z0-9]{3,32}$"
WAREHOUSE_CODE_PATTERN = r"^[A-Z]{2}-[A-Z0-9]{2,10}$"
COUNTRY_PATTERN = re.compile(r"^[A-Z]{2}$")
REGION_PATTERN = re.compile(r"^[A-Z]{2}-[A-Z0-9]{1,3}$")
SUBDIVISION_PATTERN = re.compile(r"^[A-Z0-9]{1,3}$")
POSTCODE_PREFIX_PATTERN = re.compile(r"^[A-Z0-9]{1,10}$")

validate_item_id = RegexValidator(
    ITEM_ID_PATTERN,
    _(
        "“%(value)s” is not a valid Item ID. Use the product code, a two-digit variant "
        "and a two-digit warehouse number, e.g. LS228800001-01-01."
    ),
    code="invalid_item_id",
)
validate_product_code = RegexValidator(
    PRODUCT_CODE_PATTERN,
    _("A product code is 3 to 32 capital letters and digits, e.g. LS228800001."),
    code="invalid_product_code",
)
validate_warehouse_code = RegexValidator(
    WAREHOUSE_CODE_PATTERN,
    _("A warehouse code is a country code, a dash and 2 to 10 letters or digits, e.g. US-CA or JP-TYO."),
    code="invalid_warehouse_code",
)
validate_hs_code = RegexValidator(
    r"^\d{6}(\.?\d{2}){0,2}$",
    _("An HS code has 6 to 10 digits, e.g. 330499 or 3304.99.00."),
    code="invalid_hs_code",
)


def document_max_bytes() -> int:
    return int(getattr(settings, "CATALOG_DOCUMENT_MAX_BYTES", DEFAULT_DOCUMENT_MAX_BYTES))


def image_max_bytes() -> int:
    return int(getattr(settings, "CATALOG_IMAGE_MAX_BYTES", DEFAULT_IMAGE_MAX_BYTES))


def split_codes(value) -> list[str]:
    """'us, jp ;US' -> ['US', 'JP']: codes separated by commas, semicolons or blanks, upper-cased, once each."""
    parts = (
        list(value)
        if isinstance(value, list | tuple)
        else str(value or "").replace(";", ",").replace(" ", ",").split(",")
    )
    codes: list[str] = []
    for part in parts:
        code = str(part).strip().upper()
        if code and code not in codes:
            codes.append(code)
    return codes


def _checked_codes(value, pattern: re.Pattern, message, code: str) -> str:
    codes = split_codes(value)
    for item in codes:
        if not pattern.match(item):
            raise ValidationError(message, code=code, params={"code": item})
    return ",".join(codes)


def normalise_sites(value) -> str:
    """'us, jp ,US' -> 'US,JP'. Raises ValidationError for anything not a country code."""
    return _checked_codes(
        value,
        COUNTRY_PATTERN,
        _("“%(code)s” is not a country code. List sites as two-letter codes, e.g. US,CA."),
        "invalid_site",
    )


def normalise_countries(value) -> str:
    """'us, ca' -> 'US,CA'; the countries a shipping method serves."""
    return _checked_codes(
        value,
        COUNTRY_PATTERN,
        _("“%(code)s” is not a country code. List countries as two-letter codes, e.g. US,CA."),
        "invalid_country",
    )


def normalise_regions(value) -> str:
    """'us-hi, US-AK' -> 'US-HI,US-AK': ISO 3166-2 codes, country included (a method's exclusions)."""
    return _checked_codes(
        value,
        REGION_PATTERN,
        _("“%(code)s” is not a region code. Write the country and the region, e.g. US-HI or JP-47."),
        "invalid_region",
    )


def region_code(value, country: str) -> str:
    """A region of `country` as stored on a zone: 'US-ca' and 'ca' are both 'CA'."""
    code = str(value or "").strip().upper()
    prefix = f"{str(country or '').strip().upper()}-"
    return code[len(prefix) :] if prefix != "-" and code.startswith(prefix) else code


def normalise_subdivisions(value, country: str) -> str:
    """'ca, US-or' -> 'CA,OR' for a zone in the US: the regions of the zone's own country."""
    codes = [region_code(code, country) for code in split_codes(value)]
    return _checked_codes(
        codes,
        SUBDIVISION_PATTERN,
        _("“%(code)s” is not a region code of the zone's country, e.g. CA or HI for the US, 47 for Okinawa."),
        "invalid_subdivision",
    )


def postcode_key(value) -> str:
    """A postcode as prefixes are compared: upper case, without blanks and dashes (100-0001 -> 1000001)."""
    key = str(value or "").upper()
    if key.isalnum():
        return key  # the common case, nothing to drop
    key = key.replace(" ", "").replace("-", "")
    return key if key.isalnum() or not key else "".join(char for char in key if char.isalnum())


def normalise_postcode_prefixes(value) -> str:
    """'100-, 27498' -> '100,27498': postcode beginnings, compared without blanks and dashes."""
    return _checked_codes(
        [key for key in (postcode_key(code) for code in split_codes(value)) if key],
        POSTCODE_PREFIX_PATTERN,
        _("“%(code)s” is not the beginning of a postcode (letters and digits, at most 10)."),
        "invalid_postcode_prefix",
    )


validate_service_code = RegexValidator(
    r"^[A-Z0-9][A-Z0-9_.-]{0,39}$",
    _("A service code is up to 40 capital letters, digits, dots, dashes or underscores, e.g. USPS_GA."),
    code="invalid_service_code",
)


def _extension(name: str) -> str:
    return name.rsplit(".", 1)[-1].lower() if "." in name else ""


def _head(file, size: int = 16) -> bytes:
    position = file.tell() if hasattr(file, "tell") else 0
    file.seek(0)
    head = file.read(size)
    file.seek(position)
    return head


def _zip_names(file) -> set[str]:
    position = file.tell()
    file.seek(0)
    try:
        with zipfile.ZipFile(file) as archive:
            return set(archive.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return set()
    finally:
        file.seek(position)


def sniff_type(file) -> str | None:
    """The file's real type from its content: pdf, jpg, png, webp, docx, xlsx, or None."""
    head = _head(file)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head.startswith(b"PK\x03\x04"):
        names = _zip_names(file)
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    return None


def _validate_upload(file, *, allowed: tuple[str, ...], max_bytes: int) -> None:
    if getattr(file, "_committed", False):
        return  # already in storage: it was checked when it was uploaded
    name = getattr(file, "name", "") or ""
    extension = _extension(name)
    if extension not in allowed:
        raise ValidationError(
            _("Files of type “%(ext)s” are not allowed. Allowed types: %(allowed)s."),
            code="file_type",
            params={"ext": extension or "?", "allowed": ", ".join(sorted(set(allowed) - {"jpeg"}))},
        )
    size = getattr(file, "size", None)
    if size is not None and size > max_bytes:
        raise ValidationError(
            _("The file is %(size)s; the largest allowed is %(max)s."),
            code="file_size",
            params={"size": filesizeformat(size), "max": filesizeformat(max_bytes)},
        )
    if not size:
        raise ValidationError(_("The file is empty."), code="file_empty")
    real = sniff_type(file)
    expected = "jpg" if extension == "jpeg" else extension
    if real != expected:
        raise ValidationError(
            _("The content of “%(name)s” is not a %(ext)s file. Upload the real file, not a renamed one."),
            code="file_content",
            params={"name": name.rsplit("/", 1)[-1], "ext": extension.upper()},
        )


def validate_document_file(file) -> None:
    _validate_upload(file, allowed=DOCUMENT_EXTENSIONS, max_bytes=document_max_bytes())


def validate_image_file(file) -> None:
    _validate_upload(file, allowed=IMAGE_EXTENSIONS, max_bytes=image_max_bytes())
