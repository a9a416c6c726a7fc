"""Platform webhooks for orders: outside the portal (the platform signs them; no session)."""

import json
import logging

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from stores.models import Platform, Store
from stores.platforms.base import get_client
from stores.platforms.shopify import payload_shop_domain

from .ingest.webhooks import webhook_order_receive

logger = logging.getLogger(__name__)


@csrf_exempt
@require_POST
def shopify_orders(request):
    """orders/create and orders/updated. 401 unless signed with our app secret; 200 otherwise,
    also for shops we do not know (a non-2xx answer only makes Shopify retry for 48 hours).

    Every shop that installs our app shares the app secret, so the signature alone does not
    say whose order this is, and the shop-domain header is not signed: the delivery is tied
    to the shop the signed body names (`payload_shop_domain`). A body naming another shop
    than the header is refused; one naming none is left to the store's scheduled pull,
    which fetches it with that store's own credentials."""
    if not get_client(Platform.SHOPIFY).verify_webhook(request.headers, request.body):
        return HttpResponse("invalid signature", status=401, content_type="text/plain")
    webhook_id = request.headers.get("X-Shopify-Webhook-Id", "")
    topic = request.headers.get("X-Shopify-Topic", "")
    shop = request.headers.get("X-Shopify-Shop-Domain", "").strip().lower()
    if not webhook_id:
        return HttpResponse("no webhook id", status=400, content_type="text/plain")
    try:
        named = payload_shop_domain(json.loads(request.body))
    except ValueError:
        named = ""  # unreadable: the ingestion below records why
    if named and named != shop:
        logger.warning("shopify webhook %s: header says %s, the signed order says %s", webhook_id, shop, named)
        return HttpResponse("shop mismatch", status=403, content_type="text/plain")
    if not named:
        logger.info("shopify webhook %s names no shop in its body; left to the pull of %s", webhook_id, shop)
        return HttpResponse("unverified shop: left to the scheduled pull", content_type="text/plain")
    store = Store.objects.present().filter(platform=Platform.SHOPIFY, shop_domain=shop).first()
    if store is None or store.status != Store.Status.AUTHORIZED:
        return HttpResponse("ignored", content_type="text/plain")
    outcome = webhook_order_receive(
        store=store, platform=Platform.SHOPIFY, webhook_id=webhook_id, topic=topic, body=request.body
    )
    return HttpResponse(outcome, content_type="text/plain")
