"""Stores: one distributor's shop on one platform, with its authorization.

A Store's credentials (tokens, keys, refresh tokens) live in one encrypted column,
`credentials_encrypted` (see stores/crypto.py); nothing else on the row is secret, so
a database dump shows shop identifiers but no token. Status changes go through
`STORE_MACHINE` (distribution/state.py), which checks STATUS_TRANSITIONS, locks the
row and writes a StoreEvent, so each store has a timeline of why it stopped working.

A removed store is kept (soft delete, `removed_at`): its orders still point at it.
How and when a store is pulled (schedule, cursor, lease, last result) is the orders
app's business: orders.StorePullState, one row per store.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from distribution.models import Distributor
from distribution.money import CURRENCY_CHOICES, DEFAULT_CURRENCY
from distribution.state import StateMachine, clip

from .crypto import decrypt_credentials, encrypt_credentials


class Platform(models.TextChoices):
    SHOPIFY = "shopify", "Shopify"
    WOOCOMMERCE = "woocommerce", "WooCommerce"
    AMAZON = "amazon", "Amazon"
    TIKTOK = "tiktok", "TikTok Shop"
    # No API: the store's orders come by importing an order file.
    OTHER = "other", _("Other platform (no API)")


class StoreQuerySet(models.QuerySet):
    def present(self):
        """Stores that have not been removed (removed ones only keep their orders company)."""
        return self.filter(removed_at__isnull=True)

    def with_api(self):
        """Present stores whose orders come through their platform's API (not an order file)."""
        return self.present().exclude(platform=Platform.OTHER)

    def pullable(self):
        return self.with_api().filter(status=Store.Status.AUTHORIZED)


class Store(models.Model):
    class Status(models.TextChoices):
        AUTHORIZED = "authorized", _("Authorized")
        # The authorization lapsed (refresh token expired, yearly consent due): re-authorize.
        EXPIRED = "expired", _("Expired")
        # Authorization or the last call failed for a reason other than the credentials.
        FAILED = "failed", _("Failed")
        # The seller withdrew our access at the platform (app uninstalled, keys deleted).
        REVOKED = "revoked", _("Revoked")
        # Switched off by the distributor: never pulled, kept with its orders.
        DISABLED = "disabled", _("Disabled")

    # An authorization in these states must be given again before the store pulls.
    REAUTHORIZE_STATUSES = frozenset({Status.EXPIRED, Status.REVOKED, Status.FAILED})

    distributor = models.ForeignKey(
        Distributor, on_delete=models.PROTECT, related_name="stores", verbose_name=_("distributor")
    )
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    name = models.CharField(_("store name"), max_length=120)
    # The country the store sells to (ISO 3166-1 alpha-2; for Amazon the marketplace's
    # country). It decides which warehouses may serve the store's orders.
    site = models.CharField(_("site"), max_length=2, help_text=_("Country the store sells to, e.g. US or JP."))
    currency = models.CharField(_("currency"), max_length=3, choices=CURRENCY_CHOICES, default=DEFAULT_CURRENCY)

    # Shop identifiers, one set per platform (blank for the others).
    shop_domain = models.CharField(_("Shopify shop domain"), max_length=255, blank=True)
    site_url = models.URLField(_("WooCommerce site URL"), max_length=255, blank=True)
    seller_id = models.CharField(_("Amazon seller ID"), max_length=64, blank=True)
    marketplace_id = models.CharField(_("Amazon marketplace ID"), max_length=32, blank=True)
    shop_id = models.CharField(_("TikTok shop ID"), max_length=64, blank=True)
    shop_cipher = models.CharField(_("TikTok shop cipher"), max_length=128, blank=True)
    # One normalised identifier per platform shop, so one shop is connected at most once.
    external_key = models.CharField(max_length=300, blank=True, editable=False)

    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.AUTHORIZED)
    status_reason = models.CharField(_("status reason"), max_length=500, blank=True)
    authorized_at = models.DateTimeField(_("authorized at"), null=True, blank=True)
    # Whether the platform e-mails the buyer when we send the tracking (Shopify's
    # notify_customer, a WooCommerce note to the customer). Off by default: many
    # distributors' stores send their own shipping e-mails. Amazon and TikTok Shop
    # always tell the buyer themselves.
    notify_buyer = models.BooleanField(_("e-mail the buyer the tracking"), default=False)
    # When the authorization itself lapses (not the short-lived access token), if known.
    expires_at = models.DateTimeField(_("authorization expires at"), null=True, blank=True)

    # Secret: tokens, keys and refresh tokens as one encrypted JSON document.
    credentials_encrypted = models.TextField(blank=True, editable=False)
    scopes = models.CharField(_("granted scopes"), max_length=500, blank=True)

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)

    objects = StoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["platform", "external_key"],
                condition=Q(removed_at__isnull=True) & ~Q(external_key=""),
                name="store_one_live_connection_per_platform_shop",
            ),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        """The store as every list, select and admin page names it: "Name · Platform · Site"."""
        return f"{self.name} · {self.get_platform_display()} · {self.site}"

    @property
    def credentials(self) -> dict:
        return decrypt_credentials(self.credentials_encrypted)

    def set_credentials(self, credentials: dict) -> None:
        self.credentials_encrypted = encrypt_credentials(credentials)

    @property
    def has_api(self) -> bool:
        return self.platform != Platform.OTHER

    @property
    def buyer_notice_is_ours(self) -> bool:
        """The platform e-mails the buyer about the tracking only if we ask it to."""
        return self.platform in (Platform.SHOPIFY, Platform.WOOCOMMERCE)

    @property
    def needs_reauthorization(self) -> bool:
        return self.has_api and self.status in self.REAUTHORIZE_STATUSES

    @property
    def shop_identifier(self) -> str:
        if self.platform == Platform.SHOPIFY:
            return self.shop_domain
        if self.platform == Platform.WOOCOMMERCE:
            return self.site_url
        if self.platform == Platform.AMAZON:
            return f"{self.seller_id} · {self.marketplace_id}" if self.seller_id else self.marketplace_id
        if self.platform == Platform.TIKTOK:
            return self.shop_id
        return ""


# Which status may follow which. Re-authorizing is the way back from every state; a
# disabled store is only re-enabled by authorizing it again (or, without an API, enabling it).
_S = Store.Status
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    _S.AUTHORIZED: frozenset({_S.AUTHORIZED, _S.EXPIRED, _S.FAILED, _S.REVOKED, _S.DISABLED}),
    _S.EXPIRED: frozenset({_S.AUTHORIZED, _S.EXPIRED, _S.REVOKED, _S.DISABLED}),
    _S.FAILED: frozenset({_S.AUTHORIZED, _S.FAILED, _S.EXPIRED, _S.REVOKED, _S.DISABLED}),
    _S.REVOKED: frozenset({_S.AUTHORIZED, _S.DISABLED}),
    _S.DISABLED: frozenset({_S.AUTHORIZED}),
}


class StoreEvent(models.Model):
    """The store's timeline: each status change, with who or what caused it and why."""

    tenant_path = "store__distributor"

    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, blank=True)
    to_status = models.CharField(max_length=16)
    reason = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("store event")
        verbose_name_plural = _("store events")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.store}: {self.from_status or '-'} -> {self.to_status}"


class StoreAuthorization(models.Model):
    """One authorization in progress: the OAuth `state` nonce and what the form said.

    Created by [Authorize Now] before the redirect to the platform's consent page and
    consumed exactly once by the callback. The state is single-use and short-lived, and
    it binds the callback to the distributor that started it (CSRF on the OAuth flow).

    WooCommerce's key-issuing flow sends the keys server to server, before the seller's
    browser comes back: they wait here, encrypted like a store's credentials, until the
    return consumes the row and wipes them (or the row expires and is purged).
    """

    tenant_path = "distributor"

    distributor = models.ForeignKey(Distributor, on_delete=models.CASCADE, related_name="+")
    platform = models.CharField(max_length=16, choices=Platform.choices)
    # Set when re-authorizing an existing store.
    store = models.ForeignKey(Store, on_delete=models.CASCADE, null=True, blank=True, related_name="+")
    state = models.CharField(max_length=64, unique=True)
    # The form's non-secret fields (name, site, currency, shop domain ...).
    form_data = models.JSONField(default=dict)
    redirect_uri = models.CharField(max_length=500)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    consumed_at = models.DateTimeField(null=True, blank=True)
    # Secret: credentials the platform delivered server to server (WooCommerce's keys).
    credentials_encrypted = models.TextField(blank=True, editable=False)
    credentials_received_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("store authorization in progress")
        verbose_name_plural = _("store authorizations in progress")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.platform} authorization for {self.distributor}"

    @property
    def delivered_credentials(self) -> dict:
        return decrypt_credentials(self.credentials_encrypted)


def _record_store_event(store: Store, from_status: str, to_status: str, actor, message: str, data: dict) -> None:
    StoreEvent.objects.create(
        store=store,
        from_status=from_status,
        to_status=to_status,
        reason=clip(message),
        actor=actor if getattr(actor, "pk", None) else None,
    )


STORE_MACHINE = StateMachine(
    model=Store,
    transitions=STATUS_TRANSITIONS,
    initial=frozenset({_S.AUTHORIZED}),
    record=_record_store_event,
    describe=lambda store: _("The store “%(name)s”") % {"name": store.name},
)
