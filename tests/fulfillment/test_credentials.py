"""Warehouse backend secrets (API token, webhook secret) are encrypted at rest like store
credentials: no column, no database dump and no admin page shows them; they rotate with
the store keys."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.urls import reverse

from fulfillment.models import WarehouseBackend
from stores.crypto import is_under_newest_key
from tests.catalog.factories import WarehouseFactory
from tests.fulfillment.factories import WarehouseBackendFactory

pytestmark = pytest.mark.django_db

TOKEN = "pat_0123456789abcdef0123456789abcdef01234567"
SECRET = "whsec_c2VjcmV0LXNpZ25pbmcta2V5LWZvci10ZXN0cw=="
KEY_OLD = Fernet.generate_key().decode()
KEY_NEW = Fernet.generate_key().decode()


@pytest.fixture
def backend_row(settings):
    settings.STORE_CREDENTIAL_KEYS = [KEY_OLD]
    return WarehouseBackendFactory(
        kind="rest", base_url="https://api.warehouse.example/2026-01", token=TOKEN, webhook_secret=SECRET
    )


def test_warehouse_secrets_are_not_readable_in_the_table_or_a_dump(backend_row):
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {WarehouseBackend._meta.db_table}")  # noqa: S608 (constant table name)
        flat = " ".join(str(value) for row in cursor.fetchall() for value in row)
    out = io.StringIO()
    call_command("dumpdata", "fulfillment", stdout=out)
    for text in (flat, out.getvalue()):
        assert TOKEN not in text and SECRET not in text and "whsec_" not in text
    assert '"credentials_encrypted": "gAAAA' in out.getvalue()
    # and the backend reads them back
    row = WarehouseBackend.objects.get(pk=backend_row.pk)
    assert (row.credentials, row.webhook_secret) == ({"token": TOKEN}, SECRET)
    assert row.connection().credentials == {"token": TOKEN}
    assert TOKEN not in repr(row.connection())


def test_warehouse_admin_writes_secrets_and_never_shows_them(backend_row, admin_client):
    url = reverse("admin:fulfillment_warehousebackend_change", args=[backend_row.pk])
    page = admin_client.get(url).content.decode()
    assert TOKEN not in page and SECRET not in page
    # blank keeps the stored secrets; a value replaces one
    form = {"warehouse": backend_row.warehouse_id, "kind": "rest", "base_url": backend_row.base_url}
    assert admin_client.post(url, {**form, "token": "", "webhook_secret": ""}).status_code == 302
    assert WarehouseBackend.objects.get().credentials == {"token": TOKEN}
    assert admin_client.post(url, {**form, "token": "pat_new", "webhook_secret": ""}).status_code == 302
    row = WarehouseBackend.objects.get()
    assert (row.credentials, row.webhook_secret) == ({"token": "pat_new"}, SECRET)


def test_warehouse_admin_refuses_a_rest_backend_without_a_url(admin_client, settings):
    settings.STORE_CREDENTIAL_KEYS = [KEY_OLD]
    warehouse = WarehouseFactory()
    answer = admin_client.post(
        reverse("admin:fulfillment_warehousebackend_add"),
        {"warehouse": warehouse.pk, "kind": "rest", "base_url": "", "token": TOKEN, "webhook_secret": ""},
    )
    assert answer.status_code == 200 and "needs the API" in answer.content.decode()
    assert not WarehouseBackend.objects.exists()


def test_rotate_warehouse_credentials_re_encrypts_under_the_newest_key(backend_row, settings):
    settings.STORE_CREDENTIAL_KEYS = [KEY_NEW, KEY_OLD]
    out = io.StringIO()
    call_command("rotate_warehouse_credentials", "--batch-size", "1", stdout=out)
    assert "Re-encrypted 1 warehouse backend(s); 0 could not be read." in out.getvalue()
    settings.STORE_CREDENTIAL_KEYS = [KEY_NEW]
    row = WarehouseBackend.objects.get()
    assert is_under_newest_key(row.credentials_encrypted) and is_under_newest_key(row.webhook_secret_encrypted)
    assert (row.credentials, row.webhook_secret) == ({"token": TOKEN}, SECRET)


def test_rotate_warehouse_credentials_reports_a_row_no_key_can_read(backend_row, settings):
    settings.STORE_CREDENTIAL_KEYS = [KEY_NEW]
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("rotate_warehouse_credentials", stdout=io.StringIO(), stderr=err)
    assert f"warehouse backend {backend_row.pk}:" in err.getvalue()
