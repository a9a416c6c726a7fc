"""Order webhooks: verified by the store's platform client (in the view), deduplicated
by the platform's delivery id, and ingested like a pulled order; the pull reconciles
what webhooks miss."""

import json
import logging

from django.db import IntegrityError, transaction

from orders import ingest
from orders.models import PlatformOrder, WebhookDelivery
from stores.models import Store
from stores.platforms.base import PayloadError, client_class

logger = logging.getLogger(__name__)

ORDER_TOPICS = frozenset({"orders/create", "orders/updated"})


def webhook_order_receive(*, store: Store, platform: str, webhook_id: str, topic: str, body: bytes) -> str:
    """Take in a verified order webhook once: 'duplicate', 'rejected', or the ingestion outcome.

    The delivery id is recorded in the same transaction as the order, so a delivery that
    failed here is not remembered and the platform's retry is processed.
    """
    if topic not in ORDER_TOPICS:
        return "ignored"
    with transaction.atomic():
        try:
            with transaction.atomic():
                WebhookDelivery.objects.create(
                    platform=platform, webhook_id=webhook_id[:100], store=store, topic=topic[:64]
                )
        except IntegrityError:
            return "duplicate"
        payload = None
        try:
            payload = json.loads(body)
            order = client_class(platform).parse_order(payload)
        except (ValueError, PayloadError) as exc:
            readable = payload if isinstance(payload, dict) else {}
            ingest.ingestion_error_record(
                store=store,
                source=PlatformOrder.Source.WEBHOOK,
                external_id=str(readable.get("id", "")),
                reason=str(exc),
                payload=readable,
            )
            return "rejected"
        WebhookDelivery.objects.filter(platform=platform, webhook_id=webhook_id[:100]).update(
            external_id=order.external_id[:100]
        )
        result = ingest.platform_order_ingest(store=store, order=order, source=PlatformOrder.Source.WEBHOOK)
    return result.outcome.value
