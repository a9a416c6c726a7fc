"""The sandbox's own bookkeeping, shared by the emulators: apps, shops, tokens, rate
limits, fault switches, request log and webhook delivery.

Apps are known from settings.SANDBOX_APPS (the development credentials of the app the
platform has "registered"); a shop springs into existence the first time a consent
page names it, as a new merchant's shop would.
"""

import base64
import hashlib
import hmac
import json
import logging
import math
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta

import requests
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from .models import SandboxApp, SandboxRequest, SandboxShop, SandboxToken, SandboxWebhook

logger = logging.getLogger(__name__)


def new_id() -> int:
    """A large numeric id in Shopify's style (10-13 digits), unique enough for a sandbox."""
    return 1_000_000_000 + secrets.randbelow(9_000_000_000_000)


def app_for(platform: str, client_id: str) -> SandboxApp | None:
    app = SandboxApp.objects.filter(platform=platform, client_id=client_id).first()
    if app is not None:
        return app
    configured = (getattr(settings, "SANDBOX_APPS", {}) or {}).get(platform) or {}
    if configured.get("client_id") and configured.get("client_id") == client_id:
        try:
            app, _ = SandboxApp.objects.get_or_create(
                platform=platform,
                client_id=client_id,
                defaults={
                    "client_secret": configured["client_secret"],
                    "application_id": configured.get("application_id", ""),
                },
            )
        except IntegrityError:  # created by a concurrent request
            app = SandboxApp.objects.get(platform=platform, client_id=client_id)
        return app
    return None


def app_for_application(platform: str, application_id: str) -> SandboxApp | None:
    """Amazon's consent page names the app by its Seller Central application id."""
    configured = (getattr(settings, "SANDBOX_APPS", {}) or {}).get(platform) or {}
    if configured.get("application_id") == application_id and application_id:
        return app_for(platform, configured["client_id"])
    return (
        SandboxApp.objects.filter(platform=platform, application_id=application_id).exclude(application_id="").first()
    )


def shop_get_or_create(platform: str, domain: str, **defaults) -> SandboxShop:
    try:
        shop, _ = SandboxShop.objects.get_or_create(
            platform=platform, domain=domain, defaults={"name": domain.split(".", 1)[0], **defaults}
        )
    except IntegrityError:
        shop = SandboxShop.objects.get(platform=platform, domain=domain)
    return shop


def order_number_take(shop: SandboxShop) -> int:
    """The shop's next order number, taken under a row lock so concurrent creators never share one."""
    with transaction.atomic():
        locked = SandboxShop.objects.select_for_update().get(pk=shop.pk)
        number = locked.next_order_number
        SandboxShop.objects.filter(pk=shop.pk).update(next_order_number=number + 1)
    return number


# --- tokens -----------------------------------------------------------------------------


def token_issue(
    *, shop: SandboxShop, app: SandboxApp, scopes: str, expiring: bool, prefix: str = "shpat_"
) -> SandboxToken:
    now = timezone.now()
    return SandboxToken.objects.create(
        shop=shop,
        app=app,
        access_token=prefix + secrets.token_hex(16),
        refresh_token=("shprt_" + secrets.token_hex(16)) if expiring else None,
        scopes=scopes,
        access_expires_at=now + timedelta(hours=1) if expiring else None,
        refresh_expires_at=now + timedelta(days=90) if expiring else None,
    )


def token_lookup(shop: SandboxShop, access_token: str) -> tuple[SandboxToken | None, str]:
    """The live token, or None and why not ('missing', 'unknown', 'revoked', 'expired')."""
    if not access_token:
        return None, "missing"
    token = SandboxToken.objects.select_related("app").filter(shop=shop, access_token=access_token).first()
    if token is None:
        return None, "unknown"
    if token.revoked:
        return None, "revoked"
    if token.access_expires_at is not None and token.access_expires_at <= timezone.now():
        return None, "expired"
    return token, ""


def tokens_expire_access(shop: SandboxShop) -> int:
    return SandboxToken.objects.filter(shop=shop, revoked=False).update(
        access_expires_at=timezone.now() - timedelta(seconds=1)
    )


def tokens_expire_refresh(shop: SandboxShop) -> int:
    past = timezone.now() - timedelta(seconds=1)
    return SandboxToken.objects.filter(shop=shop, revoked=False).update(access_expires_at=past, refresh_expires_at=past)


def tokens_revoke(shop: SandboxShop) -> int:
    """The merchant uninstalled the app: every token and refresh token stops working."""
    return SandboxToken.objects.filter(shop=shop).update(revoked=True)


# --- rate limit and faults --------------------------------------------------------------


@dataclass(frozen=True)
class BucketResult:
    allowed: bool
    used: int
    size: int
    retry_after: float


# PostgreSQL: the bucket in one statement (its row locked for that statement only, not
# across a transaction's round trips: every API call of a shop passes through it).
BUCKET_SQL = """
UPDATE {table} AS s
   SET bucket_level = CASE WHEN old.level + 1 <= old.size THEN old.level + 1 ELSE old.level END,
       bucket_updated = %(now)s
  FROM (SELECT id, GREATEST(0, bucket_level - (%(now)s - bucket_updated) * leak_per_second) AS level,
               bucket_size AS size, leak_per_second AS leak
          FROM {table} WHERE id = %(id)s FOR UPDATE) AS old
 WHERE s.id = old.id
RETURNING old.level, old.size, old.leak
"""


def _bucket_decide(level: float, size: int, leak: float) -> tuple[BucketResult, float]:
    """One request against a bucket at `level` (already drained to now): the answer and
    the bucket's new level."""
    allowed = level + 1 <= size
    retry_after = 0.0 if allowed else (level + 1 - size) / leak
    level = level + 1 if allowed else level
    return BucketResult(allowed, min(size, math.ceil(level)), size, retry_after), level


def bucket_take(shop: SandboxShop) -> BucketResult:
    """One request from the shop's leaky bucket: it drains at `leak_per_second`."""
    if connection.vendor == "postgresql":
        # The database applies the same rule as _bucket_decide, in the statement itself.
        with connection.cursor() as cursor:
            cursor.execute(BUCKET_SQL.format(table=SandboxShop._meta.db_table), {"now": time.time(), "id": shop.pk})
            level, size, leak = cursor.fetchone()
        return _bucket_decide(level, size, leak)[0]
    with transaction.atomic():
        locked = SandboxShop.objects.select_for_update().get(pk=shop.pk)
        now = time.time()
        drained = max(0.0, locked.bucket_level - (now - locked.bucket_updated) * locked.leak_per_second)
        result, level = _bucket_decide(drained, locked.bucket_size, locked.leak_per_second)
        SandboxShop.objects.filter(pk=locked.pk).update(bucket_level=level, bucket_updated=now)
    return result


def fault_take(shop: SandboxShop, switch: str) -> bool:
    """Consume one scheduled fault (`fail_next_429` / `fail_next_500`); True if one was due.
    `shop` is the row as this request read it: none scheduled then, none taken (no write)."""
    if getattr(shop, switch, 0) <= 0:
        return False
    return SandboxShop.objects.filter(pk=shop.pk, **{f"{switch}__gt": 0}).update(**{switch: F(switch) - 1}) == 1


def faults_set(shop: SandboxShop, **switches) -> SandboxShop:
    allowed = {"fail_next_429", "fault_retry_after", "fail_next_500", "slow_seconds", "bucket_size", "leak_per_second"}
    unknown = set(switches) - allowed
    if unknown:
        raise ValueError(f"unknown switches: {', '.join(sorted(unknown))}")
    if switches:
        SandboxShop.objects.filter(pk=shop.pk).update(**switches)
    shop.refresh_from_db()
    return shop


def request_log(*, shop: SandboxShop | None, request, status: int) -> None:
    SandboxRequest.objects.create(
        shop=shop,
        method=request.method,
        path=request.path[:500],
        query=request.META.get("QUERY_STRING", ""),
        status=status,
    )


# --- webhooks ---------------------------------------------------------------------------


def webhook_deliver(*, shop: SandboxShop, topic: str, payload: dict, api_version: str = "2024-10") -> int:
    """POST the payload to every Shopify subscription of `topic`, signed as Shopify signs webhooks."""
    delivered = 0
    body = json.dumps(payload).encode()
    for webhook in SandboxWebhook.objects.select_related("app").filter(shop=shop, topic=topic, app__isnull=False):
        digest = hmac.new(webhook.app.client_secret.encode(), body, hashlib.sha256).digest()
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Hmac-Sha256": base64.b64encode(digest).decode(),
            "X-Shopify-Shop-Domain": shop.domain,
            "X-Shopify-API-Version": api_version,
            "X-Shopify-Webhook-Id": str(uuid.uuid4()),
            "X-Shopify-Triggered-At": timezone.now().isoformat(),
        }
        try:
            requests.post(webhook.address, data=body, headers=headers, timeout=5)
            delivered += 1
        except requests.RequestException as exc:
            logger.warning("sandbox webhook %s to %s failed: %s", topic, webhook.address, exc)
    return delivered
