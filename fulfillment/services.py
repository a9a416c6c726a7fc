"""Fulfilment's writes so far: the warehouses' backend secrets and the manual queue.

The push of paid orders, shipments and the tracking sync build on the backends in
`fulfillment/warehouses/` and are not here yet.
"""

from dataclasses import dataclass, field

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from catalog.models import Warehouse
from distribution.errors import ApplicationError
from stores.crypto import CredentialsUnreadable, rotate_token

from .models import MANUAL_OUTBOUND_MACHINE, ManualOutbound, WarehouseBackend
from .warehouses.base import OutboundRequest

Status = ManualOutbound.Status


def warehouse_backend_set_secrets(
    *, backend: WarehouseBackend, token: str | None = None, webhook_secret: str | None = None
) -> WarehouseBackend:
    """Store new secrets for a backend, encrypted; None keeps what is stored, "" clears it."""
    if token is not None:
        backend.set_credentials({"token": token} if token else {})
    if webhook_secret is not None:
        backend.set_webhook_secret(webhook_secret)
    backend.full_clean()
    backend.save()
    return backend


@dataclass
class RotationResult:
    rotated: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)


def warehouse_credentials_rotate_all(*, batch_size: int = 200) -> RotationResult:
    """Re-encrypt every backend's secrets under the newest STORE_CREDENTIAL_KEYS key.

    Batches of `batch_size` rows, each locked and rewritten in its own transaction, so the
    command can be stopped and run again; a row no configured key can read is reported
    and left as it is."""
    result = RotationResult()
    ids = list(WarehouseBackend.objects.order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        with transaction.atomic():
            for backend in WarehouseBackend.objects.select_for_update().filter(pk__in=ids[start : start + batch_size]):
                try:
                    backend.credentials_encrypted = rotate_token(backend.credentials_encrypted)
                    backend.webhook_secret_encrypted = rotate_token(backend.webhook_secret_encrypted)
                except CredentialsUnreadable as exc:
                    result.failures.append((f"warehouse backend {backend.pk}", str(exc)))
                    continue
                backend.save(update_fields=["credentials_encrypted", "webhook_secret_encrypted"])
                result.rotated += 1
    return result


# --- the manual queue -------------------------------------------------------------------


def manual_outbound_create(*, warehouse: Warehouse, request: OutboundRequest) -> ManualOutbound:
    """Put an order in the warehouse's staff queue; the row already there if it was handed over before."""
    recipient = request.recipient
    try:
        with transaction.atomic():
            row, _created = ManualOutbound.objects.get_or_create(
                warehouse=warehouse,
                reference=request.reference,
                defaults={
                    "self_pickup": request.self_pickup,
                    "service_code": request.service_code,
                    "pickup_code": request.pickup_code,
                    "recipient_name": recipient.name,
                    "recipient_company": recipient.company,
                    "recipient_phone": recipient.phone,
                    "recipient_email": recipient.email,
                    "address1": recipient.address1,
                    "address2": recipient.address2,
                    "city": recipient.city,
                    "region": recipient.region,
                    "postcode": recipient.postcode,
                    "country": recipient.country,
                    "lines": [
                        {"item_id": line.item_id, "quantity": line.quantity, "name": line.name}
                        for line in request.lines
                    ],
                },
            )
    except IntegrityError:  # handed over by a concurrent push
        row = ManualOutbound.objects.get(warehouse=warehouse, reference=request.reference)
    return row


def manual_outbound_check(*, outbound: ManualOutbound, to_status: str, carrier: str = "", tracking_number: str = ""):
    """The rule of the staff's moves: a dropshipped order ships, with its carrier and
    tracking number; a self-pickup order becomes ready for pickup, then picked up; either
    may be cancelled until then. Raises ApplicationError naming what is wrong."""
    if to_status == Status.SHIPPED:
        if outbound.self_pickup:
            raise ApplicationError(_("A self-pickup order is not shipped: mark it ready for pickup."))
        if not carrier.strip() or not tracking_number.strip():
            raise ApplicationError(_("A shipped order needs its carrier and tracking number."))
    if to_status in (Status.READY_FOR_PICKUP, Status.PICKED_UP) and not outbound.self_pickup:
        raise ApplicationError(_("Only a self-pickup order is made ready for pickup or picked up."))
    if not MANUAL_OUTBOUND_MACHINE.allowed(outbound.status, to_status):
        raise MANUAL_OUTBOUND_MACHINE.refusal(outbound, outbound.status, to_status)


def manual_outbound_move(
    *,
    outbound: ManualOutbound,
    to_status: str,
    actor=None,
    carrier: str = "",
    service: str = "",
    tracking_number: str = "",
    tracking_url: str = "",
    message: str = "",
) -> ManualOutbound:
    """Record what the warehouse staff did with an order (or what we asked of it: a cancel)."""
    with transaction.atomic():
        locked = ManualOutbound.objects.select_for_update().get(pk=outbound.pk)
        manual_outbound_check(outbound=locked, to_status=to_status, carrier=carrier, tracking_number=tracking_number)
        fields = {"message": message.strip()[:500], "handled_by": actor if getattr(actor, "pk", None) else None}
        if to_status == Status.SHIPPED:
            fields.update(
                carrier=carrier.strip(),
                service=service.strip(),
                tracking_number=tracking_number.strip(),
                tracking_url=tracking_url.strip(),
                shipped_at=timezone.now(),
            )
        return MANUAL_OUTBOUND_MACHINE.move(outbound, to_status, actor=actor, message=message, fields=fields)
