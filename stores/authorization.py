"""Authorizing a store: [Authorize Now] -> the platform's consent page -> callback -> saved.

OAuth platforms: `store_authorization_start` records a single-use `state` nonce bound to
the distributor (a StoreAuthorization row) and returns the consent URL;
`store_authorization_complete` finds that row by the callback's state, consumes it,
lets the client check the callback (signature, state, shop) and exchange the code,
and saves the store. Key-based platforms check the keys with a live call and save at
once; a store without an API is simply saved.

WooCommerce's key-issuing flow is the OAuth shape with one more leg: between the consent
and the seller's return, the shop POSTs the keys to our public callback, server to
server. `store_authorization_receive_credentials` keeps them (encrypted) on the row whose
state the shop echoes as `user_id`; the return completes as above, proving the keys by a
live call against the site the distributor named before anything is saved.

HTTP to the platform never runs inside a database transaction.
"""

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from distribution.errors import ApplicationError
from distribution.models import Membership, Section
from distribution.money import CURRENCY_PRECISION
from distribution.tenancy import ensure_can_act

from .crypto import encrypt_credentials
from .models import STORE_MACHINE, Platform, Store, StoreAuthorization, StoreEvent
from .platforms.base import AuthorizationRefused, AuthorizationResult, PlatformHttp, get_client
from .services import store_transition

STATE_LIFETIME = timedelta(minutes=30)
# Authorizations never completed are deleted this long after they expired (with any
# credentials delivered for them), the next time someone starts one.
STALE_AFTER = timedelta(days=1)
# Shop identifiers a form may carry, per platform (all of them non-secret).
IDENTIFIER_FIELDS = ("shop_domain", "site_url", "seller_id", "marketplace_id", "shop_id", "shop_cipher")
# `connect_with`: how a platform with a choice is connected (WooCommerce: at the shop or by keys).
PUBLIC_FORM_FIELDS = ("name", "site", "currency", "connect_with", *IDENTIFIER_FIELDS)


@dataclass(frozen=True)
class AuthorizationOutcome:
    """Either send the person to `redirect_url` (OAuth consent), or the `store` is saved already."""

    redirect_url: str | None = None
    store: Store | None = None


def external_key_for(platform: str, identifiers: Mapping[str, str]) -> str:
    """One normalised key per platform shop, so one shop is connected at most once."""
    if platform == Platform.SHOPIFY:
        return identifiers.get("shop_domain", "").lower()
    if platform == Platform.WOOCOMMERCE:
        url = identifiers.get("site_url", "").lower().rstrip("/")
        return url.removeprefix("https://").removeprefix("http://")
    if platform == Platform.AMAZON:
        return f"{identifiers.get('seller_id', '')}:{identifiers.get('marketplace_id', '')}"
    if platform == Platform.TIKTOK:
        return identifiers.get("shop_id", "")
    return ""


def _clean_common(form: Mapping[str, str], *, store: Store | None) -> dict:
    name = (form.get("name") or (store.name if store else "")).strip()
    site = (form.get("site") or (store.site if store else "")).strip().upper()
    currency = (form.get("currency") or (store.currency if store else "")).strip().upper()
    if not name:
        raise ApplicationError(_("Give the store a name."))
    if len(site) != 2 or not site.isalpha():
        raise ApplicationError(_("The site must be a two-letter country code such as US or JP."))
    if currency not in CURRENCY_PRECISION:
        raise ApplicationError(_("Unknown currency: %(code)s.") % {"code": currency})
    return {"name": name[:120], "site": site, "currency": currency}


def store_authorization_start(
    *,
    actor: Membership,
    platform: str,
    form: Mapping[str, str],
    redirect_uri: str,
    server_callback_uri: str = "",
    store: Store | None = None,
    secrets_form: Mapping[str, str] | None = None,
    http: PlatformHttp | None = None,
) -> AuthorizationOutcome:
    """[Authorize Now]: a consent URL to redirect to, or (keys, no API) the saved store.

    `redirect_uri` is where the seller's browser comes back; `server_callback_uri` is where
    a platform posts credentials server to server (WooCommerce's key-issuing flow)."""
    ensure_can_act(actor, Section.STORES)
    if platform not in Platform.values:
        raise ApplicationError(_("Unknown platform: %(p)s.") % {"p": platform})
    if store is not None:
        if store.distributor_id != actor.distributor_id or store.removed_at is not None:
            raise ApplicationError(_("This store cannot be re-authorized."))
        if store.platform != platform:
            raise ApplicationError(_("A store stays on its platform; add a new store instead."))
        # Re-authorizing keeps the shop: its identifiers come from the store, not the form.
        form = {**form, **{field: getattr(store, field) for field in IDENTIFIER_FIELDS if getattr(store, field)}}
    public = {**{k: str(form.get(k) or "").strip() for k in PUBLIC_FORM_FIELDS}, **_clean_common(form, store=store)}
    client = get_client(platform, http=http)
    missing = client.missing_settings()
    if missing:
        raise ApplicationError(
            _("%(platform)s stores cannot be authorized yet: platform staff must configure %(settings)s.")
            % {"platform": Platform(platform).label, "settings": ", ".join(missing)}
        )
    state = secrets.token_urlsafe(32)
    start = client.start_authorization(
        state=state, redirect_uri=redirect_uri, form=public, server_callback_uri=server_callback_uri
    )
    if start.redirect_url:
        _purge_stale_authorizations()
        StoreAuthorization.objects.create(
            distributor=actor.distributor,
            platform=platform,
            store=store,
            state=state,
            form_data=public,
            redirect_uri=redirect_uri,
            created_by=actor.user,
            expires_at=timezone.now() + STATE_LIFETIME,
        )
        return AuthorizationOutcome(redirect_url=start.redirect_url)
    # Keys typed into the form (checked by a live call inside the client), or no API at all.
    result = client.complete_authorization(
        params=dict(secrets_form or {}), expected_state="", redirect_uri=redirect_uri, form=public
    )
    return AuthorizationOutcome(
        store=store_save_authorized(actor=actor, platform=platform, form=public, result=result, store=store)
    )


def _purge_stale_authorizations() -> int:
    """Forget authorizations abandoned long ago, and any credentials delivered for them."""
    deleted, _by_model = StoreAuthorization.objects.filter(expires_at__lt=timezone.now() - STALE_AFTER).delete()
    return deleted


def store_authorization_receive_credentials(
    *, platform: str, body: bytes, http: PlatformHttp | None = None
) -> StoreAuthorization:
    """A platform delivers credentials server to server (WooCommerce: keys to callback_url).

    There is no session here: the delivery is bound to a distributor only through the
    state nonce it echoes, which named an authorization that distributor started. The
    credentials wait encrypted on that row, once, until the seller's return consumes it;
    they are proven by a live call then, against the site the distributor named, so keys
    posted by anyone else who learnt the nonce cannot connect a shop to this account.
    """
    client = get_client(platform, http=http)
    state, credentials = client.accept_delivered_credentials(body)
    with transaction.atomic():
        pending = StoreAuthorization.objects.select_for_update().filter(state=state, platform=platform).first()
        if pending is None:
            raise AuthorizationRefused(_("No authorization was started with this user_id."))
        if pending.consumed_at is not None:
            raise AuthorizationRefused(_("This authorization was already completed."))
        if pending.expires_at <= timezone.now():
            raise AuthorizationRefused(_("This authorization took too long and expired."))
        if pending.credentials_encrypted:
            raise AuthorizationRefused(_("Credentials for this authorization were already delivered."))
        pending.credentials_encrypted = encrypt_credentials(credentials)
        pending.credentials_received_at = timezone.now()
        pending.save(update_fields=["credentials_encrypted", "credentials_received_at"])
    return pending


def store_authorization_complete(
    *, actor: Membership, params: Mapping, platform: str | None = None, http: PlatformHttp | None = None
) -> Store:
    """The platform's redirect back: check everything, exchange the code, save the store.

    The state names the authorization, and so the platform; `platform`, if given, must agree.
    """
    ensure_can_act(actor, Section.STORES)
    state = params.get("state")
    with transaction.atomic():
        pending = (
            StoreAuthorization.objects.select_for_update().filter(state=state).first()
            if isinstance(state, str) and state
            else None
        )
        # Another distributor's (or platform's) state is as unknown as a made-up one.
        if (
            pending is None
            or pending.distributor_id != actor.distributor_id
            or (platform is not None and pending.platform != platform)
        ):
            raise AuthorizationRefused(
                _("This authorization was not started here (unknown state). Please start again.")
            )
        if pending.consumed_at is not None:
            raise AuthorizationRefused(_("This authorization was already completed. Please start again."))
        if pending.expires_at <= timezone.now():
            raise AuthorizationRefused(_("This authorization took too long and expired. Please start again."))
        # Single use: consumed, and any delivered credentials leave the row with it.
        delivered = pending.delivered_credentials if pending.credentials_encrypted else None
        pending.consumed_at = timezone.now()
        pending.credentials_encrypted = ""
        pending.save(update_fields=["consumed_at", "credentials_encrypted"])
    platform = pending.platform
    client = get_client(platform, http=http)
    result = client.complete_authorization(
        params=params,
        expected_state=pending.state,
        redirect_uri=pending.redirect_uri,
        form=pending.form_data,
        delivered_credentials=delivered,
    )
    store = None
    if pending.store_id:
        store = Store.objects.get(pk=pending.store_id)
    return store_save_authorized(actor=actor, platform=platform, form=pending.form_data, result=result, store=store)


@transaction.atomic
def store_save_authorized(
    *, actor: Membership, platform: str, form: Mapping[str, str], result: AuthorizationResult, store: Store | None
) -> Store:
    """Create the store, or update the one being re-authorized, with fresh credentials."""
    identifiers = {field: str(form.get(field) or "") for field in IDENTIFIER_FIELDS}
    identifiers.update({k: str(v) for k, v in result.identifiers.items() if k in IDENTIFIER_FIELDS})
    external_key = external_key_for(platform, identifiers)
    if external_key:
        existing = (
            Store.objects.select_for_update()
            .present()
            .filter(platform=platform, external_key=external_key)
            .exclude(pk=store.pk if store else None)
            .first()
        )
        if existing is not None:
            if existing.distributor_id != actor.distributor_id:
                raise ApplicationError(_("This shop is already connected to another distributor account."))
            if store is not None:
                raise ApplicationError(
                    _("This shop is already connected as the store “%(name)s”.") % {"name": existing.name}
                )
            store = existing  # authorizing a connected shop again re-authorizes it
    reason = _("Authorized by %(email)s.") % {"email": actor.user.email}
    if store is None:
        store = Store(
            distributor=actor.distributor,
            platform=platform,
            created_by=actor.user,
            status=STORE_MACHINE.initial_status(Store.Status.AUTHORIZED),
        )
        store.name, store.site, store.currency = form["name"], form["site"], form["currency"]
        is_new = True
    else:
        store = Store.objects.select_for_update().get(pk=store.pk)
        is_new = False
    for field, value in identifiers.items():
        setattr(store, field, value)
    store.external_key = external_key
    store.set_credentials(result.credentials)
    store.scopes = result.scopes[:500]
    store.expires_at = result.expires_at
    if is_new:
        store.authorized_at = timezone.now()
        store.save()
        StoreEvent.objects.create(store=store, to_status=Store.Status.AUTHORIZED, reason=reason, actor=actor.user)
        return store
    store.save()
    return store_transition(store=store, to_status=Store.Status.AUTHORIZED, reason=reason, actor=actor.user)
