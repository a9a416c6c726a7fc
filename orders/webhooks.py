"""Platform webhooks for orders: outside the portal (the platform signs them; no session)."""

from django.http import HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from stores.models import Platform, Store
from stores.platforms.base import get_client

from .ingest.webhooks import webhook_order_receive


@csrf_exempt
@require_POST
def shopify_orders(request):
    """orders/create and orders/updated. 401 unless signed with our app secret; 200 otherwise,
    also for shops we do not know (a non-2xx answer only makes Shopify retry for 48 hours)."""
    if not get_client(Platform.SHOPIFY).verify_webhook(request.headers, request.body):
        return HttpResponse("invalid signature", status=401, content_type="text/plain")
    webhook_id = request.headers.get("X-Shopify-Webhook-Id", "")
    topic = request.headers.get("X-Shopify-Topic", "")
    shop = request.headers.get("X-Shopify-Shop-Domain", "").strip().lower()
    if not webhook_id:
        return HttpResponse("no webhook id", status=400, content_type="text/plain")
    store = Store.objects.present().filter(platform=Platform.SHOPIFY, shop_domain=shop).first()
    if store is None or store.status != Store.Status.AUTHORIZED:
        return HttpResponse("ignored", content_type="text/plain")
    outcome = webhook_order_receive(
        store=store, platform=Platform.SHOPIFY, webhook_id=webhook_id, topic=topic, body=request.body
    )
    return HttpResponse(outcome, content_type="text/plain")
