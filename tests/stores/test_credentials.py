"""Store credentials are encrypted at rest under rotatable keys: each store's, and the
WooCommerce keys delivered to an authorization still in progress."""

import io
from datetime import timedelta

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError, SystemCheckError
from django.db import connection
from django.utils import timezone

from stores.authorization import store_authorization_start
from stores.crypto import (
    CredentialsUnreadable,
    decrypt_credentials,
    encrypt_credentials,
    is_under_newest_key,
    key_problems,
)
from stores.models import Store, StoreAuthorization
from tests.distribution.factories import owner_of
from tests.stores.factories import StoreFactory

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
    # settings.py refuses to start without keys when DEBUG is off (tests/test_settings.py);
    # a process whose setting is emptied afterwards still never stores a token in clear.
    settings.STORE_CREDENTIAL_KEYS = []
    with pytest.raises(ImproperlyConfigured, match="STORE_CREDENTIAL_KEYS is empty"):
        encrypt_credentials({"access_token": SECRET_TOKEN})
    with pytest.raises(ImproperlyConfigured, match="STORE_CREDENTIAL_KEYS is empty"):
        is_under_newest_key("gAAAA-anything")


def test_credentials_with_a_malformed_key_refuse_to_work(settings):
    settings.STORE_CREDENTIAL_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured, match="not a Fernet key"):
        encrypt_credentials({"access_token": SECRET_TOKEN})


def test_development_settings_derive_a_usable_key():
    from django.conf import settings

    assert settings.STORE_CREDENTIAL_KEYS  # derived from SECRET_KEY when DEBUG and unset
    assert key_problems(settings.STORE_CREDENTIAL_KEYS) == []


def test_store_credential_keys_check_names_what_is_wrong(settings):
    assert key_problems([KEY_NEW, KEY_OLD]) == []
    assert key_problems([]) == ["STORE_CREDENTIAL_KEYS is empty."]
    assert key_problems([KEY_NEW, "short"]) == ["key 2 of 2 is not a Fernet key (32 url-safe base64 bytes)."]
    assert key_problems([KEY_NEW, KEY_NEW]) == ["a key is listed twice."]
    # and `manage.py check` (so migrate, runserver, check --deploy) refuses a malformed key
    settings.STORE_CREDENTIAL_KEYS = ["short"]
    with pytest.raises(SystemCheckError, match=r"stores\.E001"):
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())
    settings.STORE_CREDENTIAL_KEYS = [KEY_NEW]
    call_command("check", stdout=io.StringIO(), stderr=io.StringIO())


# --- keys delivered to an authorization in progress (WooCommerce's key-issuing flow) ----


def _pending_with_keys(**keys) -> StoreAuthorization:
    member = owner_of()
    return StoreAuthorization.objects.create(
        distributor=member.distributor,
        platform="woocommerce",
        state=f"state-{StoreAuthorization.objects.count()}",
        form_data={"site_url": "https://shop.example"},
        redirect_uri="https://portal.example/stores/authorize/woocommerce/return/",
        expires_at=timezone.now() + timedelta(minutes=30),
        credentials_encrypted=encrypt_credentials(keys),
        credentials_received_at=timezone.now(),
    )


@pytest.mark.django_db
def test_delivered_keys_wait_encrypted_and_a_dump_shows_none(old_key):
    pending = _pending_with_keys(consumer_key="ck_waiting", consumer_secret="cs_waiting_secret")
    out = io.StringIO()
    call_command("dumpdata", "stores.storeauthorization", stdout=out)
    assert "cs_waiting_secret" not in out.getvalue() and "ck_waiting" not in out.getvalue()
    assert pending.delivered_credentials == {"consumer_key": "ck_waiting", "consumer_secret": "cs_waiting_secret"}


@pytest.mark.django_db
def test_rotate_store_credentials_re_encrypts_delivered_keys_too(settings):
    settings.STORE_CREDENTIAL_KEYS = [KEY_OLD]
    pending = _pending_with_keys(consumer_key="ck_1", consumer_secret="cs_1")
    StoreFactory(credentials={"access_token": SECRET_TOKEN})
    settings.STORE_CREDENTIAL_KEYS = [KEY_NEW, KEY_OLD]
    out = io.StringIO()
    call_command("rotate_store_credentials", stdout=out)
    assert "Re-encrypted 1 store(s) and 1 authorization(s) in progress; 0 could not be read." in out.getvalue()
    pending.refresh_from_db()
    assert is_under_newest_key(pending.credentials_encrypted)
    settings.STORE_CREDENTIAL_KEYS = [KEY_NEW]
    assert pending.delivered_credentials == {"consumer_key": "ck_1", "consumer_secret": "cs_1"}


@pytest.mark.django_db
def test_abandoned_authorizations_and_their_keys_are_purged_when_the_next_one_starts(old_key):
    # given an authorization that expired two days ago with keys still waiting, and a fresh one
    abandoned = _pending_with_keys(consumer_key="ck_old", consumer_secret="cs_old")
    StoreAuthorization.objects.filter(pk=abandoned.pk).update(expires_at=timezone.now() - timedelta(days=2))
    recent = _pending_with_keys(consumer_key="ck_new", consumer_secret="cs_new")
    # when someone starts an authorization
    store_authorization_start(
        actor=owner_of(),
        platform="shopify",
        form={"name": "S", "site": "US", "currency": "USD", "shop_domain": "purge-test.myshopify.com"},
        redirect_uri="https://portal.example/stores/authorize/callback/",
    )
    # then the abandoned one is gone, keys and all; the recent one stays
    assert not StoreAuthorization.objects.filter(pk=abandoned.pk).exists()
    assert StoreAuthorization.objects.filter(pk=recent.pk).exists()
