"""Store credentials are encrypted at rest under rotatable keys."""

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from stores.crypto import CredentialsUnreadable, decrypt_credentials, encrypt_credentials, is_under_newest_key
from stores.models import Store

from .factories import StoreFactory

SECRET_TOKEN = "shpat_0123456789abcdef0123456789abcdef"
SECRET_REFRESH = "shprt_fedcba9876543210"

KEY_OLD = Fernet.generate_key().decode()
KEY_NEW = Fernet.generate_key().decode()


@pytest.fixture
def old_key(settings):
    settings.STORE_CREDENTIAL_KEYS = [KEY_OLD]


def _raw_rows() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {Store._meta.db_table}")  # noqa: S608 (constant table name)
        return cursor.fetchall()


@pytest.mark.django_db
def test_store_credentials_raw_column_holds_no_token(old_key):
    # given
    store = StoreFactory(credentials={"access_token": SECRET_TOKEN, "refresh_token": SECRET_REFRESH})
    # when
    rows = _raw_rows()
    # then no column of the row holds the token, and the model still reads it back
    flat = " ".join(str(value) for row in rows for value in row)
    assert SECRET_TOKEN not in flat and SECRET_REFRESH not in flat
    assert "access_token" not in flat
    assert Store.objects.get(pk=store.pk).credentials == {"access_token": SECRET_TOKEN, "refresh_token": SECRET_REFRESH}


@pytest.mark.django_db
def test_store_credentials_database_dump_shows_no_token(old_key):
    StoreFactory(credentials={"access_token": SECRET_TOKEN})
    out = io.StringIO()
    call_command("dumpdata", "stores", stdout=out)
    assert '"credentials_encrypted": "gAAAA' in out.getvalue()  # a Fernet token
    assert SECRET_TOKEN not in out.getvalue()


def test_credentials_decrypt_with_an_unknown_key_is_refused(settings):
    settings.STORE_CREDENTIAL_KEYS = [KEY_OLD]
    token = encrypt_credentials({"access_token": SECRET_TOKEN})
    settings.STORE_CREDENTIAL_KEYS = [KEY_NEW]
    with pytest.raises(CredentialsUnreadable):
        decrypt_credentials(token)


def test_credentials_empty_document_is_stored_as_blank(old_key):
    assert encrypt_credentials({}) == ""
    assert decrypt_credentials("") == {}


@pytest.mark.django_db
def test_rotate_store_credentials_re_encrypts_every_store_under_the_newest_key(settings):
    # given two stores encrypted under the old key
    settings.STORE_CREDENTIAL_KEYS = [KEY_OLD]
    first = StoreFactory(credentials={"access_token": SECRET_TOKEN})
    second = StoreFactory(credentials={"consumer_key": "ck_1", "consumer_secret": "cs_1"})
    StoreFactory()  # no credentials: nothing to rotate
    # when a new key is put first and the command runs
    settings.STORE_CREDENTIAL_KEYS = [KEY_NEW, KEY_OLD]
    out = io.StringIO()
    call_command("rotate_store_credentials", "--batch-size", "1", stdout=out)
    # then every token is under the new key, and the old key can be dropped
    assert "Re-encrypted 2 store(s)" in out.getvalue()
    for store in Store.objects.filter(pk__in=[first.pk, second.pk]):
        assert is_under_newest_key(store.credentials_encrypted)
    settings.STORE_CREDENTIAL_KEYS = [KEY_NEW]
    assert Store.objects.get(pk=first.pk).credentials == {"access_token": SECRET_TOKEN}
    assert Store.objects.get(pk=second.pk).credentials == {"consumer_key": "ck_1", "consumer_secret": "cs_1"}


@pytest.mark.django_db
def test_rotate_store_credentials_reports_stores_no_key_can_read(settings):
    settings.STORE_CREDENTIAL_KEYS = [KEY_OLD]
    store = StoreFactory(credentials={"access_token": SECRET_TOKEN})
    settings.STORE_CREDENTIAL_KEYS = [KEY_NEW]  # the old key was dropped too early
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command("rotate_store_credentials", stdout=io.StringIO(), stderr=err)
    assert f"store {store.pk}:" in err.getvalue()


def test_credentials_without_keys_refuse_to_work(settings):
    from django.core.exceptions import ImproperlyConfigured

    settings.STORE_CREDENTIAL_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="STORE_CREDENTIAL_KEYS"):
        encrypt_credentials({"access_token": SECRET_TOKEN})
