"""Fulfilment's demo rows: how each demo warehouse takes orders.

- With the sandbox on (settings.SANDBOX_DEMO_WAREHOUSES), the warehouses named there get a
  REST backend pointing at the sandbox warehouse account the sandbox's demo made, with the
  same API token and webhook secret (read from the same setting; the sandbox is never
  imported): {SANDBOX_BASE_URL}/warehouse/{account}/2026-01.
- Every other demo warehouse is worked by hand: a manual backend, whose queue staff
  work under Fulfilment > Manual warehouse orders.

- Orders at every stage of fulfilment, made the way a distributor and the warehouse
  staff would, through the services, with no outside system: three orders of the guide's
  serum imported by the demo no-API store (an order file, checked and applied), paid from
  the balance, pushed to the JP-TYO warehouse (whose staff work the manual queue), where
  the staff ship DEMO-F-0001 with Yamato tracking (in that store's tracking file, since it
  has no API), make DEMO-F-0002 ready for pickup (its pickup code on the order page), and
  leave DEMO-F-0003 at the warehouse. Orders pulled from the sandbox's API stores go the
  whole way live once `make run` has the worker and beat going: paid, pushed to the
  sandbox warehouse, shipped after a few minutes, and their tracking sent to the store.

Idempotent: a warehouse that already has a backend keeps it; the demo orders are found
by their order numbers, and each step is taken only where the order has not gone yet.
"""

from django.conf import settings

from catalog.models import Warehouse

from .models import BackendKind, WarehouseBackend
from .services import warehouse_backend_set_secrets

API_VERSION = "2026-01"


def sandbox_base_url(account: str) -> str:
    return f"{settings.SANDBOX_BASE_URL}/warehouse/{account}/{API_VERSION}"


def seed(stdout) -> None:
    _backends(stdout)
    _stages(stdout)


def _backends(stdout) -> None:
    specs = getattr(settings, "SANDBOX_DEMO_WAREHOUSES", {}) or {}
    made = []
    for warehouse in Warehouse.objects.filter(backend__isnull=True).order_by("code"):
        spec = specs.get(warehouse.code) if settings.SANDBOX_ENABLED else None
        if spec is None:
            WarehouseBackend.objects.create(warehouse=warehouse, kind=BackendKind.MANUAL)
            made.append(f"{warehouse.code} manual")
            continue
        backend = WarehouseBackend(
            warehouse=warehouse, kind=BackendKind.REST, base_url=sandbox_base_url(spec["account"])
        )
        warehouse_backend_set_secrets(backend=backend, token=spec["api_token"], webhook_secret=spec["webhook_secret"])
        made.append(f"{warehouse.code} REST at the sandbox")
    if made:
        stdout.write(f"Fulfilment: warehouse backends {', '.join(made)}.")


# --- orders at every stage --------------------------------------------------------------

STAGE_SKU = "SNOWTOX-SERUM-30ML"
# Order No, logistics, what the warehouse staff do with it.
STAGE_ORDERS = [
    ("DEMO-F-0001", "Dropshipping", "ship"),
    ("DEMO-F-0002", "Self-pickup", "ready"),
    ("DEMO-F-0003", "Dropshipping", ""),
]
STAGE_RECIPIENT = ["Hana Kobayashi", "+81 3-5555-0199", "hana@example.com", "JP", "Tokyo", "Shibuya-ku"]
STAGE_TRACKING = ("Yamato Transport", "TA-Q-BIN", "4310-2026-0001")


def _stage_file(store_name: str) -> bytes:
    import io

    from distribution import spreadsheet
    from orders.imports import format as orderfile

    rows = [
        [
            store_name,
            number,
            "2026-11-30",
            STAGE_SKU,
            1,
            *STAGE_RECIPIENT,
            "2-1 Dogenzaka",
            "",
            "150-0043",
            logistics,
            "",
        ]
        for number, logistics, _step in STAGE_ORDERS
    ]
    handle = io.StringIO()
    spreadsheet.write_csv(handle, orderfile.COLUMNS, rows)
    return handle.getvalue().encode("utf-8-sig")


def _stages(stdout) -> None:
    from django.contrib.auth import get_user_model
    from django.core.files.base import ContentFile

    from distribution import demo as distribution_demo
    from distribution.models import Distributor, Role
    from orders.actions import orders_pay
    from orders.imports import services as imports
    from orders.models import Order, OrderImport, OrderStatus
    from stores.models import Platform, Store

    from .changes import warehouse_poll
    from .models import ManualOutbound
    from .push import order_push
    from .services import manual_outbound_move

    try:
        distributor = distribution_demo.demo_distributor()
    except Distributor.DoesNotExist:
        return
    owner = distributor.memberships.get(role=Role.OWNER)
    store = Store.objects.present().filter(distributor=distributor, platform=Platform.OTHER).order_by("id").first()
    if store is None:
        return
    numbers = [number for number, _logistics, _step in STAGE_ORDERS]
    if not store.platform_orders.filter(external_id__in=numbers).exists():
        upload = ContentFile(_stage_file(store.name), name="demo-fulfilment-orders.csv")
        order_import = imports.order_import_create(actor=owner, store=store, upload=upload)
        imports.order_import_check(order_import=order_import)
        order_import.refresh_from_db()
        if order_import.status != OrderImport.Status.READY:
            stdout.write(f"Fulfilment: the demo orders could not be imported: {order_import.message}")
            return
        imports.order_import_start_apply(actor=owner, order_import=order_import)
        imports.order_import_apply(order_import=order_import)
    orders = {
        o.platform_order.external_id: o
        for o in Order.objects.filter(store=store, platform_order__external_id__in=numbers).select_related(
            "platform_order"
        )
    }
    payable = [o for o in orders.values() if o.status == OrderStatus.AWAITING_PAYMENT]
    if payable:
        orders_pay(actor=owner, orders=payable, idempotency_key="demo:fulfilment-stages")
    for order in orders.values():
        order_push(order.pk)
    staff = get_user_model().objects.get(username=distribution_demo.STAFF[0])
    warehouses = set()
    for number, _logistics, step in STAGE_ORDERS:
        order = orders.get(number)
        queued = ManualOutbound.objects.filter(reference=order.number).first() if order else None
        if queued is None or queued.status != ManualOutbound.Status.RECEIVED or not step:
            continue
        warehouses.add(queued.warehouse)
        if step == "ship":
            carrier, service, tracking = STAGE_TRACKING
            manual_outbound_move(
                outbound=queued,
                to_status=ManualOutbound.Status.SHIPPED,
                actor=staff,
                carrier=carrier,
                service=service,
                tracking_number=tracking,
                tracking_url=f"https://toi.kuronekoyamato.co.jp/cgi-bin/tneko?number00=1&number01={tracking}",
            )
        else:
            manual_outbound_move(outbound=queued, to_status=ManualOutbound.Status.READY_FOR_PICKUP, actor=staff)
    for warehouse in warehouses:
        warehouse_poll(warehouse=warehouse)
    stages = ", ".join(
        f"{o.platform_order.external_id} ({o.number}) {o.get_status_display().lower()}"
        for o in Order.objects.filter(pk__in=[o.pk for o in orders.values()])
        .select_related("platform_order")
        .order_by("platform_order__external_id")
    )
    stdout.write(f"Fulfilment: demo orders of “{store.name}”: {stages or 'none'}.")
