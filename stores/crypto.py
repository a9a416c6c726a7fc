"""Store credentials at rest: one JSON document per store, encrypted as a whole.

Keys come from settings.STORE_CREDENTIAL_KEYS, newest first (MultiFernet): the newest
encrypts, every listed key decrypts, so a new key is rolled out by putting it first,
running `manage.py rotate_store_credentials`, and only then dropping the old key.
A Fernet token is authenticated, so a tampered or foreign column fails loudly instead
of yielding garbage credentials.

settings.py refuses to start with DEBUG off and no keys (development derives one from
SECRET_KEY), and the `stores.E001` system check refuses a key that is not a Fernet key,
so the errors below only meet a process whose settings were changed after start-up
(tests overriding the setting, a shell).
"""

import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from distribution.errors import ApplicationError


class CredentialsUnreadable(ApplicationError):
    """The stored credentials were encrypted under a key that is no longer configured."""


def _fernet(key) -> Fernet:
    try:
        return Fernet(key.encode() if isinstance(key, str) else key)
    except (ValueError, TypeError) as exc:
        raise ImproperlyConfigured(
            f"STORE_CREDENTIAL_KEYS holds a key that is not a Fernet key (32 url-safe base64 bytes): {exc}"
        ) from None


@lru_cache(maxsize=4)
def _multifernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured(
            "STORE_CREDENTIAL_KEYS is empty: set it to comma-separated Fernet keys, newest first "
            "(settings.py requires it whenever DEBUG is off)."
        )
    return MultiFernet([_fernet(key) for key in keys])


def _current() -> MultiFernet:
    return _multifernet(tuple(settings.STORE_CREDENTIAL_KEYS))


def key_problems(keys) -> list[str]:
    """What is wrong with a STORE_CREDENTIAL_KEYS value (for the system check); [] when usable."""
    if not keys:
        return ["STORE_CREDENTIAL_KEYS is empty."]
    problems = []
    for position, key in enumerate(keys, start=1):
        try:
            _fernet(key)
        except ImproperlyConfigured:
            problems.append(f"key {position} of {len(keys)} is not a Fernet key (32 url-safe base64 bytes).")
    if len(set(keys)) != len(keys):
        problems.append("a key is listed twice.")
    return problems


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
    _current()  # the same validation as encrypting: no keys or a malformed key is a configuration error
    try:
        _fernet(settings.STORE_CREDENTIAL_KEYS[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True
