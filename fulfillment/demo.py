"""Fulfilment's demo rows: how each demo warehouse takes orders.

- With the sandbox on (settings.SANDBOX_DEMO_WAREHOUSES), the warehouses named there get a
  REST backend pointing at the sandbox warehouse account the sandbox's demo made, with the
  same API token and webhook secret (read from the same setting; the sandbox is never
  imported): {SANDBOX_BASE_URL}/warehouse/{account}/2026-01.
- Every other demo warehouse is worked by hand: a manual backend, whose queue staff
  work under Fulfilment > Manual warehouse orders.

Idempotent: a warehouse that already has a backend keeps it.
"""

from django.conf import settings

from catalog.models import Warehouse

from .models import BackendKind, WarehouseBackend
from .services import warehouse_backend_set_secrets

API_VERSION = "2026-01"


def sandbox_base_url(account: str) -> str:
    return f"{settings.SANDBOX_BASE_URL}/warehouse/{account}/{API_VERSION}"


def seed(stdout) -> None:
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
