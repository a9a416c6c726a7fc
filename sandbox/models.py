"""The emulated outside world's own state: platform apps, shops, grants, tokens, orders,
and the warehouse API's accounts, outbound orders, packages and webhooks.

Nothing here refers to the platform's apps (stores, orders ...): the sandbox is "the
other side" of the wire, and keeps what a platform would keep. Payloads are stored in
the platform's documented JSON shape, exactly as they are served.
"""

from django.db import models


class SandboxApp(models.Model):
    """An app registered with an emulated platform (its client id and secret)."""

    platform = models.CharField(max_length=16)
    client_id = models.CharField(max_length=128)
    client_secret = models.CharField(max_length=256)
    # Amazon: the app's id in Seller Central (the consent URL names it, not the LWA client).
    application_id = models.CharField(max_length=128, blank=True)
    name = models.CharField(max_length=120, default="Distribution platform")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "client_id"], name="sandbox_app_unique_client")]

    def __str__(self) -> str:
        return f"{self.platform}:{self.client_id}"


class SandboxShop(models.Model):
    """A shop on an emulated platform, with its rate-limit bucket and fault switches."""

    platform = models.CharField(max_length=16)
    domain = models.CharField(
        max_length=255,
        help_text=(
            "Shopify: name.myshopify.com; WooCommerce: site name; Amazon: seller id; TikTok: shop id; "
            "warehouse: account name"
        ),
    )
    # TikTok Shop: the shop_cipher most calls must carry.
    cipher = models.CharField(max_length=128, blank=True)
    name = models.CharField(max_length=120, blank=True)
    currency = models.CharField(max_length=3, default="USD")
    country_code = models.CharField(max_length=2, default="US")
    next_order_number = models.PositiveBigIntegerField(default=1001)

    # Leaky bucket (Shopify REST, Standard plan: 40 requests, leaking 2 per second).
    bucket_size = models.PositiveIntegerField(default=40)
    leak_per_second = models.FloatField(default=2.0)
    bucket_level = models.FloatField(default=0.0)
    bucket_updated = models.FloatField(default=0.0, help_text="Unix time of the last bucket update.")

    # Fault switches: the next N API calls fail, or every call is slowed down.
    fail_next_429 = models.PositiveIntegerField(default=0)
    fault_retry_after = models.FloatField(default=1.0)
    fail_next_500 = models.PositiveIntegerField(default=0)
    slow_seconds = models.FloatField(default=0.0)
    # WooCommerce: the shop runs the Shipment Tracking extension (its REST routes answer);
    # off, they answer rest_no_route as on a shop without it.
    wc_shipment_tracking = models.BooleanField(
        default=True, help_text="WooCommerce: the Shipment Tracking extension is installed."
    )

    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["platform", "domain"], name="sandbox_shop_unique_domain")]

    def __str__(self) -> str:
        return f"{self.platform}:{self.domain}"


class SandboxGrant(models.Model):
    """An authorization code handed out by a consent page; single use."""

    shop = models.ForeignKey(SandboxShop, on_delete=models.CASCADE, related_name="grants")
    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="+")
    code = models.CharField(max_length=128, unique=True)
    scopes = models.CharField(max_length=500, blank=True)
    redirect_uri = models.CharField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"grant for {self.shop}"


class SandboxToken(models.Model):
    """An issued access token (and refresh token, for expiring offline tokens)."""

    shop = models.ForeignKey(SandboxShop, on_delete=models.CASCADE, related_name="tokens")
    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="+")
    access_token = models.CharField(max_length=128, unique=True)
    refresh_token = models.CharField(max_length=128, unique=True, null=True, blank=True)
    scopes = models.CharField(max_length=500, blank=True)
    access_expires_at = models.DateTimeField(null=True, blank=True)
    refresh_expires_at = models.DateTimeField(null=True, blank=True)
    # The refresh token was used (it rotates) or the app was uninstalled.
    refresh_used = models.BooleanField(default=False)
    revoked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"token {self.access_token[:10]}… for {self.shop}"


class SandboxOrder(models.Model):
    shop = models.ForeignKey(SandboxShop, on_delete=models.CASCADE, related_name="orders")
    external_id = models.BigIntegerField()
    payload = models.JSONField()
    # Kept beside the payload so list filters are plain queries (Shopify: open, closed or
    # cancelled; WooCommerce: the order's status).
    state = models.CharField(max_length=32, default="open")
    # What the platform keeps beside the order but outside its JSON (WooCommerce's notes).
    extra = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "external_id"], name="sandbox_order_unique_id"),
        ]

    def __str__(self) -> str:
        return f"order {self.external_id} of {self.shop}"


class SandboxFulfillmentOrder(models.Model):
    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="fulfillment_orders")
    external_id = models.BigIntegerField(unique=True)
    payload = models.JSONField()

    def __str__(self) -> str:
        return f"fulfillment order {self.external_id}"


class SandboxFulfillment(models.Model):
    order = models.ForeignKey(SandboxOrder, on_delete=models.CASCADE, related_name="fulfillments")
    external_id = models.BigIntegerField(unique=True)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"fulfillment {self.external_id}"


class SandboxApiKey(models.Model):
    """A REST API key pair issued by a shop (WooCommerce: ck_/cs_); valid until deleted."""

    shop = models.ForeignKey(SandboxShop, on_delete=models.CASCADE, related_name="api_keys")
    consumer_key = models.CharField(max_length=64, unique=True)
    consumer_secret = models.CharField(max_length=64)
    permissions = models.CharField(max_length=16, default="read_write")
    description = models.CharField(max_length=200, blank=True)
    revoked = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"key {self.consumer_key[:10]}… of {self.shop}"


class SandboxWebhook(models.Model):
    """A webhook subscription; deliveries are signed with the app's secret (Shopify) or
    the subscription's own secret (WooCommerce)."""

    shop = models.ForeignKey(SandboxShop, on_delete=models.CASCADE, related_name="webhooks")
    app = models.ForeignKey(SandboxApp, on_delete=models.CASCADE, related_name="+", null=True, blank=True)
    secret = models.CharField(max_length=128, blank=True)
    name = models.CharField(max_length=200, blank=True)
    external_id = models.BigIntegerField(unique=True)
    topic = models.CharField(max_length=64)
    address = models.URLField(max_length=500)
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.topic} -> {self.address}"


class SandboxRequest(models.Model):
    """A log of API calls the emulators answered, so tests and people can see the traffic."""

    shop = models.ForeignKey(SandboxShop, on_delete=models.CASCADE, related_name="requests", null=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=500)
    query = models.TextField(blank=True)
    status = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


class SandboxWarehouseAccount(models.Model):
    """A merchant's account at the emulated warehouse API (docs/warehouses.md, "The rest API").

    It extends a SandboxShop of platform "warehouse" (named by the account), which holds
    the rate-limit bucket, the shared fault switches and the request log; what only a
    warehouse has lives here."""

    shop = models.OneToOneField(SandboxShop, on_delete=models.CASCADE, related_name="warehouse_account")
    api_token = models.CharField(max_length=128, unique=True, help_text="The personal access token calls must carry.")
    webhook_url = models.URLField(max_length=500, blank=True, help_text="Where webhooks go; blank sends none.")
    webhook_secret = models.CharField(max_length=128, help_text="whsec_<base64>: signs every webhook.")
    webhook_previous_secret = models.CharField(
        max_length=128, blank=True, help_text="While rotating: deliveries carry a second signature made with this."
    )
    webhook_delay_seconds = models.FloatField(default=0.0, help_text="Webhooks wait this long before they are due.")
    webhook_duplicates = models.PositiveIntegerField(
        default=0, help_text="Every webhook is delivered this many extra times, with the same webhook-id."
    )
    ship_after_seconds = models.FloatField(default=60.0, help_text="Packages leave this long after the order.")
    split_packages = models.BooleanField(default=False, help_text="Orders of two units or more leave in two packages.")
    second_package_lag_seconds = models.FloatField(default=0.0, help_text="The second package leaves this much later.")
    carrier = models.CharField(max_length=64, default="USPS")
    carrier_service = models.CharField(max_length=64, default="Ground Advantage")
    # Faults a warehouse client must survive, beside the shop's 429/500/slow switches.
    timeout_next = models.PositiveIntegerField(
        default=0, help_text="The next n calls hang for timeout_seconds, then answer 504 having done nothing."
    )
    timeout_seconds = models.FloatField(default=35.0)
    lose_next_create = models.PositiveIntegerField(
        default=0, help_text="The next n creates store the order, then answer 504 as if the answer was lost."
    )
    exception_next = models.PositiveIntegerField(
        default=0, help_text="The next n new orders go to Exception (out of stock) instead of shipping."
    )

    def __str__(self) -> str:
        return f"warehouse account {self.shop.domain}"


class SandboxOutboundOrder(models.Model):
    """An order a client created at the emulated warehouse, unique by its reference_id."""

    account = models.ForeignKey(SandboxWarehouseAccount, on_delete=models.CASCADE, related_name="orders")
    external_id = models.BigIntegerField(unique=True)
    reference_id = models.CharField(max_length=100)
    status = models.CharField(max_length=32, default="Processing")
    # The order as created (ids, reference_id, recipient, products, shipping_method ...);
    # status and shipments are added from the rows when it is served.
    payload = models.JSONField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["external_id"]
        constraints = [
            models.UniqueConstraint(fields=["account", "reference_id"], name="sandbox_outbound_unique_reference"),
        ]

    def __str__(self) -> str:
        return f"outbound {self.reference_id} ({self.status})"


class SandboxOutboundShipment(models.Model):
    """One package of an outbound order; it leaves when `ship_at` has passed and someone looks."""

    order = models.ForeignKey(SandboxOutboundOrder, on_delete=models.CASCADE, related_name="shipments")
    external_id = models.BigIntegerField(unique=True)
    status = models.CharField(max_length=32, default="Processing")
    status_details = models.JSONField(default=list, blank=True)
    # [{"reference_id", "name", "quantity"}] in this package.
    products = models.JSONField()
    tracking = models.JSONField(null=True, blank=True)
    ship_at = models.DateTimeField()
    shipped_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        ordering = ["external_id"]

    def __str__(self) -> str:
        return f"shipment {self.external_id} ({self.status})"


class SandboxWarehouseWebhook(models.Model):
    """A webhook the emulated warehouse owes an account, sent once due (on the next call
    or `sandbox_trickle` tick: no background thread)."""

    account = models.ForeignKey(SandboxWarehouseAccount, on_delete=models.CASCADE, related_name="webhooks")
    message_id = models.CharField(max_length=64, unique=True)
    topic = models.CharField(max_length=64)
    # The exact bytes that are signed and sent.
    body = models.TextField()
    due_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    deliveries = models.PositiveIntegerField(default=0)
    last_result = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.topic} {self.message_id}"
