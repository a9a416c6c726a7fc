"""Store credentials at rest: one JSON document per store, encrypted as a whole.

Keys come from settings.STORE_CREDENTIAL_KEYS, newest first (MultiFernet): the newest
encrypts, every listed key decrypts, so a new key is rolled out by putting it first,
running `manage.py rotate_store_credentials`, and only then dropping the old key.
A Fernet token is authenticated, so a tampered or foreign column fails loudly instead
of yielding garbage credentials.
"""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from distribution.errors import ApplicationError


class CredentialsUnreadable(ApplicationError):
    """The stored credentials were encrypted under a key that is no longer configured."""


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "STORE_CREDENTIAL_KEYS must be set when DEBUG is off (comma-separated Fernet keys, newest first)."
        )
    try:
        return MultiFernet([Fernet(key.encode() if isinstance(key, str) else key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(f"STORE_CREDENTIAL_KEYS holds a key that is not a Fernet key: {exc}") from None


def _current() -> MultiFernet:
    return _multifernet(tuple(settings.STORE_CREDENTIAL_KEYS))


def encrypt_credentials(credentials: dict) -> str:
    if not credentials:
        return ""
    plaintext = json.dumps(credentials, sort_keys=True, separators=(",", ":")).encode()
    return _current().encrypt(plaintext).decode()


def decrypt_credentials(token: str) -> dict:
    if not token:
        return {}
    try:
        return json.loads(_current().decrypt(token.encode()))
    except InvalidToken:
        raise CredentialsUnreadable(
            "The store's credentials cannot be decrypted with the configured keys (STORE_CREDENTIAL_KEYS)."
        ) from None


def rotate_token(token: str) -> str:
    """The same credentials, re-encrypted under the newest key."""
    if not token:
        return ""
    try:
        return _current().rotate(token.encode()).decode()
    except InvalidToken:
        raise CredentialsUnreadable(
            "The store's credentials cannot be decrypted with the configured keys (STORE_CREDENTIAL_KEYS)."
        ) from None


def is_under_newest_key(token: str) -> bool:
    if not token:
        return True
    newest = Fernet(settings.STORE_CREDENTIAL_KEYS[0].encode())
    try:
        newest.decrypt(token.encode())
    except InvalidToken:
        return False
    return True
