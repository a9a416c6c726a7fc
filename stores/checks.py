"""System checks for stores: the credential keys are usable before any store needs them.

settings.py already refuses to start with DEBUG off and no STORE_CREDENTIAL_KEYS; this
check catches a malformed key at `manage.py check` / `migrate` / `runserver` time rather
than at the first authorization, when the seller is halfway through a platform's consent.
"""

from django.conf import settings
from django.core.checks import Error, register

from .crypto import key_problems


@register()
def check_store_credential_keys(app_configs=None, **kwargs):
    return [
        Error(
            f"STORE_CREDENTIAL_KEYS: {problem}",
            hint="Comma-separated Fernet keys, newest first; make one with "
            '`python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"`.',
            id="stores.E001",
        )
        for problem in key_problems(list(getattr(settings, "STORE_CREDENTIAL_KEYS", []) or []))
    ]
