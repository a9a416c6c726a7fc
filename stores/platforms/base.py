"""The one interface every platform client implements, and what the clients return.

A client speaks to one platform for one store. It knows nothing of our models: it is
given a `StoreConnection` (shop identifiers + decrypted credentials + a callback that
persists refreshed credentials) and returns `NormalizedOrder`s. Failures come back as
exceptions: `CredentialsExpired` / `CredentialsRevoked` mean the store must be
re-authorized (the service layer marks it), `PlatformUnavailable` means retry later.

Parsers (`parse_order`) are pure functions of a payload shaped like the platform's
documented JSON: no HTTP, no database, so staff can run them on a saved payload.
"""

from __future__ import annotations

import email.utils
import json
import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Any, ClassVar

import requests

from distribution.errors import ApplicationError

logger = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------
# What a client returns


class FinancialStatus(StrEnum):
    PENDING = "pending"
    AUTHORIZED = "authorized"
    PARTIALLY_PAID = "partially_paid"
    PAID = "paid"
    PARTIALLY_REFUNDED = "partially_refunded"
    REFUNDED = "refunded"
    VOIDED = "voided"
    UNKNOWN = "unknown"


class FulfillmentStatus(StrEnum):
    UNFULFILLED = "unfulfilled"
    PARTIAL = "partial"
    FULFILLED = "fulfilled"
    UNKNOWN = "unknown"


class CancelStatus(StrEnum):
    NONE = "none"
    # The buyer asked to cancel; the seller has not decided yet.
    REQUESTED = "requested"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class NormalizedAddress:
    name: str = ""
    company: str = ""
    phone: str = ""
    email: str = ""
    address1: str = ""
    address2: str = ""
    address3: str = ""
    city: str = ""
    province: str = ""
    province_code: str = ""
    # Text, never a number: "02134", "12345-000", "SW1A 1AA" keep their shape.
    postal_code: str = ""
    country_code: str = ""

    def is_empty(self) -> bool:
        return not any(getattr(self, f.name) for f in fields(self))


@dataclass(frozen=True)
class NormalizedBuyer:
    external_id: str = ""
    name: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class NormalizedLine:
    external_line_id: str
    sku: str
    quantity: int
    # Price of one unit in the order's currency; None when the platform withholds it
    # (Amazon omits prices on Pending orders).
    unit_price: Decimal | None
    title: str = ""
    variant_title: str = ""
    product_id: str = ""
    variant_id: str = ""
    line_total: Decimal | None = None
    # False where the payload says the line ships nothing (Shopify's `requires_shipping`:
    # gift wrapping, shipping protection); platforms that do not say ship every line.
    requires_shipping: bool = True


@dataclass(frozen=True)
class NormalizedOrder:
    platform: str
    external_id: str
    display_number: str
    created_at: datetime | None
    updated_at: datetime | None
    currency: str
    financial_status: FinancialStatus
    fulfillment_status: FulfillmentStatus
    cancel_status: CancelStatus
    # The platform's own status words, for people diagnosing an order.
    platform_status: str = ""
    buyer: NormalizedBuyer = field(default_factory=NormalizedBuyer)
    shipping_address: NormalizedAddress = field(default_factory=NormalizedAddress)
    lines: tuple[NormalizedLine, ...] = ()
    shipping_method: str = ""
    total: Decimal | None = None
    raw: Any = field(default=None, compare=False, repr=False)

    def to_dict(self, *, include_raw: bool = False) -> dict:
        data = {f.name: _jsonable(getattr(self, f.name)) for f in fields(self) if f.name != "raw"}
        if include_raw:
            data["raw"] = self.raw
        return data

    def to_json(self, *, include_raw: bool = False, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(include_raw=include_raw), indent=indent, ensure_ascii=False)


def _jsonable(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return str(value)
    if is_dataclass(value):
        return {k: _jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


@dataclass(frozen=True)
class RejectedOrder:
    """An order of a page that the parser could not read: set aside with the reason, so
    one malformed payload does not fail the page (the caller records it for staff)."""

    external_id: str
    reason: str
    payload: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class OrderPage:
    orders: list[NormalizedOrder]
    # Opaque: hand it back to fetch_orders for the next page; None on the last page.
    next_cursor: str | None = None
    rejected: list[RejectedOrder] = field(default_factory=list)


@dataclass(frozen=True)
class TrackingInfo:
    number: str
    # The carrier as this platform names it (fulfillment/carriers.py).
    carrier: str
    url: str = ""
    # [(external line id, quantity)]; None ships every open line of the order.
    lines: list[tuple[str, int]] | None = None
    notify_customer: bool = False
    shipped_at: datetime | None = None
    # The platform's own code for the carrier where it keeps a list: Amazon's carrierCode
    # ("Other" sends `carrier` as carrierName), TikTok Shop's shipping provider id,
    # WooCommerce Shipment Tracking's predefined provider. Blank: the client goes by `carrier`.
    carrier_code: str = ""
    # The carrier's service ("Ground Advantage"), where the platform takes one.
    service: str = ""
    # Whether every line of ours on the store order has now shipped (WooCommerce then
    # completes the order). None: complete exactly when `lines` is None.
    complete: bool | None = None

    @property
    def completes_order(self) -> bool:
        return self.lines is None if self.complete is None else self.complete


@dataclass(frozen=True)
class TrackingResult:
    external_id: str = ""
    raw: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class AuthorizationStart:
    """Where to send the seller: the platform's consent page (OAuth), or nowhere (keys)."""

    redirect_url: str | None


@dataclass(frozen=True)
class AuthorizationResult:
    credentials: dict
    # Identifiers learned during authorization (shop domain, seller id, shop cipher ...).
    identifiers: dict = field(default_factory=dict)
    scopes: str = ""
    # When the authorization itself lapses, if the platform says.
    expires_at: datetime | None = None


@dataclass
class StoreConnection:
    """What a client needs to know about a store, without knowing our Store model."""

    platform: str
    shop_domain: str = ""
    site_url: str = ""
    seller_id: str = ""
    marketplace_id: str = ""
    shop_id: str = ""
    shop_cipher: str = ""
    credentials: dict = field(default_factory=dict)
    # Called with the new credentials after a refresh; must persist them before returning,
    # because some platforms rotate the refresh token on every use.
    on_credentials_changed: Callable[[dict], None] | None = None


# ---------------------------------------------------------------------------------------
# Errors


class PlatformError(ApplicationError):
    """A platform call failed."""

    def __init__(self, message, extra: dict | None = None, *, status_code: int | None = None):
        super().__init__(message, extra)
        self.status_code = status_code


class PlatformUnavailable(PlatformError):
    """Transient: rate limited, server error or network trouble, still failing after the retries."""


class PlatformRequestRejected(PlatformError):
    """The platform refused the request itself (4xx other than authentication)."""


class PlatformAuthError(PlatformError):
    """Our credentials no longer work; the store must be re-authorized."""

    store_status: ClassVar[str] = "failed"


class CredentialsExpired(PlatformAuthError):
    store_status = "expired"


class CredentialsRevoked(PlatformAuthError):
    store_status = "revoked"


class AuthorizationRefused(PlatformError):
    """An authorization callback or key check failed (state, signature, shop, code, keys)."""


class PayloadError(ApplicationError):
    """A payload does not have the shape the platform documents."""


# ---------------------------------------------------------------------------------------
# HTTP with retries


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 30.0
    # A Retry-After longer than this is not waited out in-process: the caller retries later.
    max_retry_after: float = 60.0


RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header: delta-seconds (Shopify sends "2.0") or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


class PlatformHttp:
    """requests with bounded retries: Retry-After is honoured, otherwise jittered backoff.

    429 is always retried (the platform did nothing). 5xx and network errors are retried
    for idempotent methods only, unless the caller says a POST is safe to repeat, so a
    tracking push is never doubled by a timeout. `sleep` and `rng` are injectable, so
    tests neither wait nor depend on chance.
    """

    def __init__(
        self,
        *,
        platform: str,
        session: requests.Session | None = None,
        policy: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: Callable[[], float] = random.random,
        timeout: tuple[float, float] = (5.0, 30.0),
    ):
        self.platform = platform
        self.session = session or requests.Session()
        self.policy = policy or RetryPolicy()
        self.sleep = sleep
        self.rng = rng
        self.timeout = timeout

    def backoff(self, attempt: int, retry_after: float | None) -> float:
        """Delay before attempt `attempt + 1`: Retry-After plus a little jitter, or equal-jitter backoff."""
        policy = self.policy
        if retry_after is not None:
            return min(retry_after, policy.max_retry_after) + self.rng() * policy.base_delay
        ceiling = min(policy.max_delay, policy.base_delay * (2 ** (attempt - 1)))
        return ceiling / 2 + self.rng() * ceiling / 2

    def request(self, method: str, url: str, *, retry_unsafe: bool = False, **kwargs) -> requests.Response:
        method = method.upper()
        may_retry_failure = retry_unsafe or method in IDEMPOTENT_METHODS
        kwargs.setdefault("timeout", self.timeout)
        attempts = self.policy.max_attempts
        for attempt in range(1, attempts + 1):
            try:
                response = self.session.request(method, url, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as exc:
                if not may_retry_failure or attempt == attempts:
                    raise PlatformUnavailable(
                        f"{self.platform}: {method} {_short(url)} failed: {exc.__class__.__name__}",
                        extra={"url": url},
                    ) from exc
                delay = self.backoff(attempt, None)
                logger.info("%s: %s %s: %s; retry %d in %.2fs", self.platform, method, url, exc, attempt, delay)
                self.sleep(delay)
                continue
            status = response.status_code
            retryable = status == 429 or (status in RETRYABLE_STATUS and may_retry_failure)
            if not retryable:
                return response
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            if attempt == attempts or (retry_after is not None and retry_after > self.policy.max_retry_after):
                raise PlatformUnavailable(
                    f"{self.platform}: {method} {_short(url)} answered {status} after {attempt} attempt(s).",
                    extra={"url": url, "retry_after": retry_after},
                    status_code=status,
                )
            delay = self.backoff(attempt, retry_after)
            logger.info("%s: %s %s -> %s; retry %d in %.2fs", self.platform, method, url, status, attempt, delay)
            self.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover


def _short(url: str) -> str:
    return url.split("?", 1)[0]


# ---------------------------------------------------------------------------------------
# The client interface


class PlatformClient(ABC):
    """One platform, one store. Subclasses register themselves with `@register`."""

    platform: ClassVar[str]
    # "oauth": redirect to the platform's consent page and back; "keys": a form of keys
    # checked by a live call; "none": no API (orders come by import).
    auth_kind: ClassVar[str]

    def __init__(self, connection: StoreConnection | None = None, *, http: PlatformHttp | None = None):
        self.connection = connection or StoreConnection(platform=self.platform)
        self.http = http or PlatformHttp(platform=self.platform)

    @property
    def credentials(self) -> dict:
        return self.connection.credentials

    # Settings naming our app at the platform (client id, secret ...); stores of a platform
    # whose app is not configured are not offered for authorization.
    required_settings: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def missing_settings(cls) -> list[str]:
        from django.conf import settings

        return [name for name in cls.required_settings if not getattr(settings, name, "")]

    # --- authorization -----------------------------------------------------------------
    @abstractmethod
    def start_authorization(
        self, *, state: str, redirect_uri: str, form: Mapping[str, str], server_callback_uri: str = ""
    ) -> AuthorizationStart:
        """The consent URL for OAuth platforms; `redirect_url=None` when the form alone suffices.

        `server_callback_uri` is where a platform that hands over credentials server to
        server (WooCommerce's key-issuing flow) posts them; redirect-only platforms ignore it.
        """

    def accept_delivered_credentials(self, body: bytes) -> tuple[str, dict]:
        """A server-to-server credential delivery -> (the state it names, the credentials).

        Checks the delivery's shape only: the caller matches the state to an authorization
        it started, and the credentials are proven by a live call when the seller returns.
        """
        raise AuthorizationRefused(f"{self.platform}: credentials are not delivered server to server.")

    @abstractmethod
    def complete_authorization(
        self,
        *,
        params: Mapping[str, str],
        expected_state: str,
        redirect_uri: str,
        form: Mapping[str, str],
        delivered_credentials: Mapping | None = None,
    ) -> AuthorizationResult:
        """Check the callback (or the keys, by a live call) and return the credentials.

        `delivered_credentials` are what `accept_delivered_credentials` kept for this
        authorization (None when the platform delivered nothing server to server)."""

    def refresh_credentials(self) -> dict:
        """New credentials from the refresh token, persisted through the connection callback."""
        raise CredentialsExpired(f"{self.platform}: these credentials cannot be refreshed; authorize again.")

    # --- orders ------------------------------------------------------------------------
    @abstractmethod
    def fetch_orders(self, *, since: datetime | None, cursor: str | None = None) -> OrderPage:
        """One page of orders created or updated since `since`; pass `next_cursor` back for the next."""

    def iter_orders(self, *, since: datetime | None, cursor: str | None = None) -> Iterator[OrderPage]:
        while True:
            page = self.fetch_orders(since=since, cursor=cursor)
            yield page
            if not page.next_cursor:
                return
            cursor = page.next_cursor

    @abstractmethod
    def get_order(self, external_id: str) -> NormalizedOrder: ...

    @abstractmethod
    def push_tracking(self, *, external_order_id: str, tracking: TrackingInfo) -> TrackingResult: ...

    @abstractmethod
    def verify_webhook(self, headers: Mapping[str, str], body: bytes) -> bool:
        """True only if the body carries the platform's valid signature (checked before parsing)."""

    @classmethod
    @abstractmethod
    def parse_order(cls, payload: Mapping) -> NormalizedOrder: ...

    @classmethod
    def parse_document(cls, document: Any) -> list[NormalizedOrder]:
        """Every order in a saved response (a single order, a list page, an envelope)."""
        return [cls.parse_order(document)]

    # --- shared plumbing ---------------------------------------------------------------
    def _save_credentials(self, credentials: dict) -> None:
        self.connection.credentials = credentials
        if self.connection.on_credentials_changed is not None:
            self.connection.on_credentials_changed(credentials)


# ---------------------------------------------------------------------------------------
# Registry


_REGISTRY: dict[str, type[PlatformClient]] = {}


def register(cls: type[PlatformClient]) -> type[PlatformClient]:
    _REGISTRY[cls.platform] = cls
    return cls


def client_class(platform: str) -> type[PlatformClient]:
    from . import load_all

    load_all()
    try:
        return _REGISTRY[platform]
    except KeyError:
        raise ApplicationError(f"No client for platform {platform!r}.") from None


def get_client(platform: str, connection: StoreConnection | None = None, **kwargs) -> PlatformClient:
    return client_class(platform)(connection, **kwargs)


def registered_platforms() -> list[str]:
    from . import load_all

    load_all()
    return list(_REGISTRY)


# ---------------------------------------------------------------------------------------
# Parsing helpers shared by the parsers


def text(value) -> str:
    """A field as trimmed text; None and missing become ""."""
    if value is None:
        return ""
    return str(value).strip()


def ident(value) -> str:
    """An id as text: 450789469 and "450789469" are the same id; never a float."""
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        raise PayloadError(f"An id must not be a float: {value!r}")
    return str(value).strip()


def money(value) -> Decimal | None:
    """A price as Decimal. JSON numbers may arrive as int, str or (from a careless loader) float."""
    if value is None or value == "":
        return None
    if isinstance(value, Decimal):
        return value
    try:
        # str() of a float gives its shortest round-trip form (12.1 -> "12.1"), never binary noise.
        return Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise PayloadError(f"Not an amount: {value!r}") from None


def quantity(value) -> int:
    if value is None or value == "":
        return 0
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise PayloadError(f"Not a quantity: {value!r}") from None
    if number != number.to_integral_value():
        raise PayloadError(f"A quantity must be whole: {value!r}")
    return int(number)


def iso_datetime(value) -> datetime | None:
    """ISO 8601 with an offset or Z; naive values are taken as UTC (say so where that is wrong)."""
    if not value:
        return None
    raw = str(value).strip()
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(raw)
    except ValueError:
        raise PayloadError(f"Not an ISO 8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed


def unix_datetime(value) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return datetime.fromtimestamp(int(value), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        raise PayloadError(f"Not a unix time: {value!r}") from None


def require_mapping(payload, what: str) -> Mapping:
    if not isinstance(payload, Mapping):
        raise PayloadError(f"Expected {what} as a JSON object, got {type(payload).__name__}.")
    return payload


# What a parser meets on an order of the wrong shape besides its own PayloadError (a list
# where the platform documents an object, a field missing): about that one order, too.
UNREADABLE_ORDER = (PayloadError, KeyError, TypeError, AttributeError, ValueError)


def rejected_order(payload, problem: Exception, *, id_field: str) -> RejectedOrder:
    """A payload the parser could not read, named by its id if it has one."""
    external_id = text(payload.get(id_field)) if isinstance(payload, Mapping) else ""
    reason = str(problem) if isinstance(problem, PayloadError) else f"{type(problem).__name__}: {problem}"
    return RejectedOrder(external_id=external_id, reason=reason, payload=payload)


def parse_page(
    payloads, parse: Callable[[Any], NormalizedOrder], *, id_field: str
) -> tuple[list[NormalizedOrder], list[RejectedOrder]]:
    """Parse a page's orders one at a time: those the parser cannot read are set aside as
    RejectedOrders (with the reason and the payload) instead of failing the whole page.
    `parse` must not call the platform: only reading errors are caught here."""
    orders: list[NormalizedOrder] = []
    rejected: list[RejectedOrder] = []
    for payload in payloads:
        try:
            orders.append(parse(payload))
        except UNREADABLE_ORDER as exc:
            rejected.append(rejected_order(payload, exc, id_field=id_field))
    return orders, rejected
