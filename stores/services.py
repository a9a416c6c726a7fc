"""Writes on stores: status transitions, credentials, key rotation.

Authorization flows live in stores/authorization.py; they end in `store_save_authorized`.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from distribution.models import Membership, Section
from distribution.state import IllegalTransition
from distribution.tenancy import ensure_can_act

from .crypto import CredentialsUnreadable, rotate_token
from .models import STATUS_TRANSITIONS, STORE_MACHINE, Store, StoreAuthorization
from .platforms.base import PlatformAuthError, PlatformClient, PlatformHttp, StoreConnection, get_client

REASON_MAX = 500
T = TypeVar("T")


def _clip(text: str) -> str:
    text = str(text or "")
    return text if len(text) <= REASON_MAX else text[: REASON_MAX - 1] + "…"


@transaction.atomic
def store_transition(*, store: Store, to_status: str, reason: str = "", actor=None) -> Store:
    """The one way a store's status changes (STORE_MACHINE): the reason shows on the store list."""
    fields = {"status_reason": "" if to_status == Store.Status.AUTHORIZED else _clip(reason)}
    if to_status == Store.Status.AUTHORIZED:
        fields["authorized_at"] = timezone.now()
    try:
        return STORE_MACHINE.move(store, to_status, actor=actor, message=reason, fields=fields)
    except IllegalTransition as exc:
        raise ApplicationError(
            _("A store that is %(from)s cannot become %(to)s.")
            % {"from": STORE_MACHINE.label(exc.extra["from"]), "to": STORE_MACHINE.label(to_status)},
            extra=exc.extra,
        ) from None


def store_mark_lost_authorization(*, store: Store, status: str, reason: str) -> Store:
    """A platform refused our credentials for good (expired or revoked): show why, offer re-authorize.

    Two workers may hit the same refusal; the second finds the store marked (or disabled
    meanwhile) and leaves it, so the platform's error is what the caller sees.
    """
    current = Store.objects.filter(pk=store.pk).values_list("status", flat=True).first()
    if current == status or status not in STATUS_TRANSITIONS.get(current, frozenset()):
        store.refresh_from_db(fields=["status", "status_reason"])
        return store
    try:
        return store_transition(store=store, to_status=status, reason=reason)
    except ApplicationError:
        store.refresh_from_db(fields=["status", "status_reason"])
        return store


@transaction.atomic
def store_update_credentials(*, store: Store, credentials: dict, expires_at=None) -> Store:
    """Persist refreshed credentials (a rotated refresh token must never be lost)."""
    locked = Store.objects.select_for_update().get(pk=store.pk)
    locked.set_credentials(credentials)
    fields = ["credentials_encrypted", "updated_at"]
    if expires_at is not None:
        locked.expires_at = expires_at
        fields.append("expires_at")
    locked.save(update_fields=fields)
    store.credentials_encrypted = locked.credentials_encrypted
    store.expires_at = locked.expires_at
    return locked


@transaction.atomic
def store_disable(*, actor: Membership, store: Store, reason: str = "") -> Store:
    ensure_can_act(actor, Section.STORES)
    return store_transition(
        store=store,
        to_status=Store.Status.DISABLED,
        reason=reason or _("Disabled by %(email)s.") % {"email": actor.user.email},
        actor=actor.user,
    )


def store_notify_buyer_set(*, actor: Membership, store: Store, on: bool) -> Store:
    """Whether the store's platform e-mails the buyer when tracking is sent (Shopify and
    WooCommerce; the others always do). Applies to the tracking sent from now on."""
    ensure_can_act(actor, Section.STORES)
    if not store.buyer_notice_is_ours:
        raise ApplicationError(
            _("%(platform)s tells the buyer about the tracking itself.") % {"platform": store.get_platform_display()}
        )
    Store.objects.filter(pk=store.pk).update(notify_buyer=on, updated_at=timezone.now())
    store.notify_buyer = on
    return store


@transaction.atomic
def store_enable(*, actor: Membership, store: Store) -> Store:
    """Only stores without an API are simply switched back on; the others re-authorize."""
    ensure_can_act(actor, Section.STORES)
    if store.has_api:
        raise ApplicationError(_("Authorize the store again to enable it."))
    return store_transition(store=store, to_status=Store.Status.AUTHORIZED, reason="", actor=actor.user)


@transaction.atomic
def store_remove(*, actor: Membership, store: Store) -> Store:
    """Remove a store from the portal. Its orders stay; its credentials are wiped."""
    ensure_can_act(actor, Section.STORES)
    locked = Store.objects.select_for_update().get(pk=store.pk)
    if locked.removed_at is not None:
        raise ApplicationError(_("This store was already removed."))
    removal = {"status_reason": _("Removed."), "removed_at": timezone.now(), "credentials_encrypted": ""}
    if locked.status == Store.Status.DISABLED:
        for name, value in removal.items():
            setattr(locked, name, value)
        locked.save(update_fields=[*removal, "updated_at"])
        return locked
    return STORE_MACHINE.move(
        locked,
        Store.Status.DISABLED,
        actor=actor.user,
        message=_("Removed by %(email)s.") % {"email": actor.user.email},
        fields=removal,
    )


@dataclass
class RotationResult:
    rotated: int = 0
    # Authorizations in progress holding delivered credentials (WooCommerce keys), re-encrypted too.
    rotated_pending: int = 0
    # (what, error): "store 12", "authorization 3".
    failures: list[tuple[str, str]] = field(default_factory=list)


def store_credentials_rotate_all(*, batch_size: int = 200) -> RotationResult:
    """Re-encrypt every encrypted credential under the newest key: each store's, and those
    delivered to authorizations still in progress.

    Batches of `batch_size` rows are locked and rewritten in their own transaction, in
    primary-key order, so a crash leaves every row readable (under the old or the new
    key) and a re-run simply continues. Cost: one decrypt + encrypt per row (~50 µs).
    """
    result = RotationResult()
    result.rotated = _rotate_rows(Store, "store", batch_size, result.failures)
    result.rotated_pending = _rotate_rows(StoreAuthorization, "authorization", batch_size, result.failures)
    return result


def _rotate_rows(model, label: str, batch_size: int, failures: list) -> int:
    rotated = 0
    last_pk = 0
    while True:
        with transaction.atomic():
            batch = list(
                model.objects.select_for_update()
                .filter(pk__gt=last_pk)
                .exclude(credentials_encrypted="")
                .order_by("pk")[:batch_size]
            )
            if not batch:
                return rotated
            for row in batch:
                try:
                    row.credentials_encrypted = rotate_token(row.credentials_encrypted)
                except CredentialsUnreadable as exc:
                    failures.append((f"{label} {row.pk}", str(exc)))
                    continue
                row.save(update_fields=["credentials_encrypted"])
                rotated += 1
            last_pk = batch[-1].pk


# --- talking to a store's platform ------------------------------------------------------


def store_client(*, store: Store, http: PlatformHttp | None = None) -> PlatformClient:
    """The store's platform client, with its credentials; refreshed credentials are saved at once."""

    def persist(credentials: dict) -> None:
        store_update_credentials(store=store, credentials=credentials)

    connection = StoreConnection(
        platform=store.platform,
        shop_domain=store.shop_domain,
        site_url=store.site_url,
        seller_id=store.seller_id,
        marketplace_id=store.marketplace_id,
        shop_id=store.shop_id,
        shop_cipher=store.shop_cipher,
        credentials=store.credentials,
        on_credentials_changed=persist,
    )
    return get_client(store.platform, connection, http=http)


def store_call(*, store: Store, operation: Callable[[PlatformClient], T], http: PlatformHttp | None = None) -> T:
    """Run `operation` with the store's client. If the platform refuses our credentials for
    good (after one refresh), the store is marked expired/revoked/failed with the reason,
    so the page offers re-authorization, and the error is raised on."""
    if not store.has_api:
        raise ApplicationError(_("This store has no API: its orders come by importing an order file."))
    if store.status != Store.Status.AUTHORIZED or store.removed_at is not None:
        raise ApplicationError(
            _("The store “%(name)s” is %(status)s; authorize it again first.")
            % {"name": store.name, "status": store.get_status_display()}
        )
    client = store_client(store=store, http=http)
    try:
        return operation(client)
    except PlatformAuthError as exc:
        store_mark_lost_authorization(store=store, status=exc.store_status, reason=str(exc))
        raise
