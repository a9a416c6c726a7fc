"""The warehouses' webhook endpoint: /webhooks/warehouse/<code>/ (outside the portal;
the warehouse signs each delivery per Standard Webhooks instead of a person logging in).

The delivery is verified (signature, then its age) before anything in it is read, stored
once by its event id and applied in the background; a replay answers 200 and changes
nothing, a forgery 401 and stores nothing."""

import logging

from django.http import HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from catalog.models import Warehouse

from .changes import warehouse_webhook_receive
from .warehouses import BackendNotConfigured
from .warehouses.base import WebhookRejected

logger = logging.getLogger(__name__)

# A warehouse event is a few kB; anything much larger is not one.
BODY_MAX = 1_000_000


@csrf_exempt
@require_POST
def warehouse_events(request, code: str):
    warehouse = get_object_or_404(Warehouse, code=code.upper())
    body = request.body
    if len(body) > BODY_MAX:
        return HttpResponse("too large", status=413)
    try:
        outcome, row = warehouse_webhook_receive(warehouse=warehouse, headers=request.headers, body=body)
    except BackendNotConfigured:
        return HttpResponse("no backend", status=404)
    except WebhookRejected as exc:
        logger.warning("warehouse %s webhook refused: %s", warehouse.code, exc)
        return HttpResponse(str(exc)[:200], status=401, content_type="text/plain; charset=utf-8")
    return JsonResponse({"status": outcome, "id": row.event_id})
