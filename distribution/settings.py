"""Settings for the distribution platform, read from the environment.

Development needs nothing set: SQLite and Celery's filesystem broker under var/,
console e-mail, DEBUG on. Production (DEBUG off) refuses to start without
SECRET_KEY and ALLOWED_HOSTS, and `manage.py check --deploy` is clean once
the values below are set for it.
"""

import os
import sys
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
TESTING = "pytest" in sys.modules or os.environ.get("TESTING", "").lower() in {"1", "true", "yes", "on"}
# Runtime files (SQLite, broker folders, uploads, beat schedule). Tests get their own
# folder so a development broker queue is never consumed by a test worker.
VAR_DIR = Path(os.environ.get("VAR_DIR") or (BASE_DIR / "var" / "test" if TESTING else BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [part.strip() for part in os.environ.get(name, default).split(",") if part.strip()]


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


DEBUG = env_bool("DEBUG", True)

_DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-7c1f0e9a2b"  # noqa: S105 (DEBUG only)
SECRET_KEY = os.environ.get("SECRET_KEY") or (_DEV_SECRET_KEY if DEBUG else "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver" if DEBUG else "")
if not DEBUG:
    missing = [name for name, value in (("SECRET_KEY", SECRET_KEY), ("ALLOWED_HOSTS", ALLOWED_HOSTS)) if not value]
    if missing:
        raise ImproperlyConfigured(
            f"DEBUG is off, so {' and '.join(missing)} must be set in the environment "
            "(ALLOWED_HOSTS is a comma-separated list of host names)."
        )
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "import_export",
    "bootstrap",
    "crispy_forms",
    "crispy_bootstrap5",
    "distribution",
    "catalog",
    "stores",
    "mapping",
    "orders",
    "finance",
    "fulfillment",
    "sandbox",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
]

ROOT_URLCONF = "distribution.urls"
WSGI_APPLICATION = "distribution.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "distribution.context_processors.portal",
            ],
        },
    },
]

# SQLite in var/ unless DATABASE_URL names another database (PostgreSQL in CI and production).
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DB_CONN_MAX_AGE", 60 if not DEBUG else 0),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Worker, beat and web share one SQLite file in development: wait on locks
    # instead of failing at once, and let readers run beside the one writer.
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]

# English is the source language; every user-facing string is marked for
# translation so that a Chinese catalogue under locale/ needs no code change.
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- Forms: every portal form (allauth's too) is rendered by django-crispy-forms in Bootstrap 5.
CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Accounts (django-allauth): e-mail is the login; sign-up creates a Distributor.
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "portal:home"
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_SIGNUP_FORM_CLASS = "distribution.forms.DistributorSignupForm"
ACCOUNT_ADAPTER = "distribution.adapters.AccountAdapter"
ACCOUNT_EMAIL_VERIFICATION = os.environ.get("ACCOUNT_EMAIL_VERIFICATION", "mandatory")
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
# What the platform is called in its mails (greeting, sign-off, subject), never the host.
SITE_NAME = os.environ.get("SITE_NAME", "Distribution platform")
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{SITE_NAME}] "
# Members are named by their e-mail address: the username allauth fills in is never shown.
ACCOUNT_USER_DISPLAY = "distribution.adapters.user_display"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "no-reply@distribution.local")
EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.console.EmailBackend" if DEBUG else "django.core.mail.backends.smtp.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)

# --- Security. Behind a TLS-terminating proxy set SECURE_PROXY_SSL_HEADER=1 so
# Django trusts X-Forwarded-Proto; SECURE_SSL_REDIRECT can be off when the proxy
# redirects itself.
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("SECURE_PROXY_SSL_HEADER", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Celery. Redis when REDIS_URL is set; otherwise the filesystem transport under
# var/, which lets one machine run web, worker and beat with nothing installed.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_DATA_DIR = VAR_DIR / "celery"
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": 3600}
else:
    CELERY_BROKER_URL = "filesystem://"
    for sub in ("out", "processed", "control"):
        (CELERY_DATA_DIR / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_DATA_DIR / "out"),
        "data_folder_out": str(CELERY_DATA_DIR / "out"),
        "data_folder_processed": str(CELERY_DATA_DIR / "processed"),
        "control_folder": str(CELERY_DATA_DIR / "control"),
        "store_processed": False,
    }
# The cache holds allauth's rate limits and the like; it must be shared by all
# web processes, so Redis when there is one.
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Platform switches.
SANDBOX_ENABLED = env_bool("SANDBOX_ENABLED", DEBUG)
if SANDBOX_ENABLED and not DEBUG:
    # The emulators answer as Shopify, Amazon ... would, with fake tokens: never in production.
    raise ImproperlyConfigured(
        "SANDBOX_ENABLED is on while DEBUG is off: the emulated platforms would be served in production. "
        "Unset SANDBOX_ENABLED (it defaults to DEBUG)."
    )
PORTAL_PAGE_SIZE = env_int("PORTAL_PAGE_SIZE", 50)
CATALOG_DOCUMENT_MAX_BYTES = env_int("CATALOG_DOCUMENT_MAX_BYTES", 20 * 1024 * 1024)
MAPPING_IMPORT_INLINE_ROWS = env_int("MAPPING_IMPORT_INLINE_ROWS", 2_000)
# A pull renews its store lease after every page; a killed worker's lease lapses after this.
PULL_LEASE_SECONDS = env_int("PULL_LEASE_SECONDS", 300)
# A push attempt holds its order this long; a killed worker's order is pushed again after it.
PUSH_CLAIM_SECONDS = env_int("PUSH_CLAIM_SECONDS", 180)
# The admin's xlsx exports: a cell typed as "=..." leaves as text, never as a formula.
IMPORT_EXPORT_ESCAPE_FORMULAE_ON_EXPORT = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# --- Stores (stores/ owns this block): credential encryption keys and the platform apps.
# STORE_CREDENTIAL_KEYS is a comma-separated list of Fernet keys, NEWEST FIRST: the first
# encrypts, every one decrypts, and `manage.py rotate_store_credentials` re-encrypts all
# stored credentials under the first. Make a key with
#   python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"
# A key that is not a Fernet key fails `manage.py check` (stores.E001). See docs/platforms.md.
STORE_CREDENTIAL_KEYS = env_list("STORE_CREDENTIAL_KEYS")
if not STORE_CREDENTIAL_KEYS and not DEBUG:
    raise ImproperlyConfigured(
        "DEBUG is off, so STORE_CREDENTIAL_KEYS must be set (comma-separated Fernet keys, newest first)."
    )
if not STORE_CREDENTIAL_KEYS:
    import base64
    import hashlib

    # DEVELOPMENT ONLY: a key derived from the (development) SECRET_KEY, so a fresh checkout runs.
    STORE_CREDENTIAL_KEYS = [
        base64.urlsafe_b64encode(hashlib.sha256(b"store-credentials:" + SECRET_KEY.encode()).digest()).decode()
    ]

# The portal's public origin as the platforms must reach it (https://portal.example.com): the
# redirect back from a consent page, and WooCommerce's server-to-server key delivery, which
# only goes to https. Blank: taken from each request (enough in development, where the
# sandbox calls the same server). Register `<this>/stores/authorize/callback/` with Shopify,
# Amazon and TikTok Shop.
STORE_CALLBACK_BASE_URL = os.environ.get("STORE_CALLBACK_BASE_URL", "").rstrip("/")
# The name a WooCommerce seller sees on their shop's "connect this app" page.
WOOCOMMERCE_APP_NAME = os.environ.get("WOOCOMMERCE_APP_NAME", "Distribution platform")

# Our app at each platform, and where each platform's API lives. `{shop}` is the Shopify shop
# domain. In development and tests the defaults point at the emulators under /sandbox/
# (SANDBOX_BASE_URL), whose demo apps use the same development client ids and secrets.
SANDBOX_BASE_URL = os.environ.get("SANDBOX_BASE_URL", "http://127.0.0.1:8000/sandbox").rstrip("/")
_SANDBOX_DEFAULTS = SANDBOX_ENABLED and DEBUG
SHOPIFY_CLIENT_ID = os.environ.get("SHOPIFY_CLIENT_ID") or ("sandbox-shopify-client-id" if _SANDBOX_DEFAULTS else "")
SHOPIFY_CLIENT_SECRET = os.environ.get("SHOPIFY_CLIENT_SECRET") or (
    "sandbox-shopify-client-secret" if _SANDBOX_DEFAULTS else ""
)
# While the app's client secret is being rotated, webhooks signed with the old one still verify.
SHOPIFY_CLIENT_SECRET_PREVIOUS = os.environ.get("SHOPIFY_CLIENT_SECRET_PREVIOUS", "")
SHOPIFY_SCOPES = env_list(
    "SHOPIFY_SCOPES",
    "read_orders,read_merchant_managed_fulfillment_orders,write_merchant_managed_fulfillment_orders",
)
SHOPIFY_API_VERSION = os.environ.get("SHOPIFY_API_VERSION", "2024-10")
SHOPIFY_API_BASE = os.environ.get("SHOPIFY_API_BASE") or (
    f"{SANDBOX_BASE_URL}/shopify/{{shop}}" if _SANDBOX_DEFAULTS else "https://{shop}"
)
# Amazon SP-API: a Login with Amazon (LWA) client and the app's id in Seller Central.
# `{host}` is the marketplace's Seller Central host (consent) or its SP-API regional endpoint.
AMAZON_APP_ID = os.environ.get("AMAZON_APP_ID") or ("amzn1.sp.solution.sandbox" if _SANDBOX_DEFAULTS else "")
AMAZON_LWA_CLIENT_ID = os.environ.get("AMAZON_LWA_CLIENT_ID") or (
    "amzn1.application-oa2-client.sandbox" if _SANDBOX_DEFAULTS else ""
)
AMAZON_LWA_CLIENT_SECRET = os.environ.get("AMAZON_LWA_CLIENT_SECRET") or (
    "sandbox-amazon-lwa-secret" if _SANDBOX_DEFAULTS else ""
)
AMAZON_APP_DRAFT = env_bool("AMAZON_APP_DRAFT", _SANDBOX_DEFAULTS)  # adds version=beta to the consent URL
AMAZON_SELLER_CENTRAL_BASE = os.environ.get("AMAZON_SELLER_CENTRAL_BASE") or (
    f"{SANDBOX_BASE_URL}/amazon/{{host}}" if _SANDBOX_DEFAULTS else "https://{host}"
)
AMAZON_SP_API_BASE = os.environ.get("AMAZON_SP_API_BASE") or (
    f"{SANDBOX_BASE_URL}/amazon/{{host}}" if _SANDBOX_DEFAULTS else "https://{host}"
)
AMAZON_LWA_TOKEN_URL = os.environ.get("AMAZON_LWA_TOKEN_URL") or (
    f"{SANDBOX_BASE_URL}/amazon/api.amazon.com/auth/o2/token"
    if _SANDBOX_DEFAULTS
    else "https://api.amazon.com/auth/o2/token"
)

# TikTok Shop: the app's key and secret (every call is signed with the secret) and its service id.
TIKTOK_APP_KEY = os.environ.get("TIKTOK_APP_KEY") or ("sandboxtiktokkey" if _SANDBOX_DEFAULTS else "")
TIKTOK_APP_SECRET = os.environ.get("TIKTOK_APP_SECRET") or ("sandbox-tiktok-secret" if _SANDBOX_DEFAULTS else "")
TIKTOK_SERVICE_ID = os.environ.get("TIKTOK_SERVICE_ID") or ("7000000000000000001" if _SANDBOX_DEFAULTS else "")
# `{host}`: services.tiktokshop.com (services.us.tiktokshop.com for US shops), auth.tiktok-shops.com
# for tokens, open-api.tiktokglobalshop.com for the API.
TIKTOK_BASE = os.environ.get("TIKTOK_BASE") or (
    f"{SANDBOX_BASE_URL}/tiktok/{{host}}" if _SANDBOX_DEFAULTS else "https://{host}"
)

# Sandbox emulators: which apps they know (the same development credentials as above), and how
# many random orders a shop gets when a consent page first names it (so the demo has orders).
SANDBOX_APPS = {
    "shopify": {"client_id": SHOPIFY_CLIENT_ID, "client_secret": SHOPIFY_CLIENT_SECRET},
    "amazon": {
        "client_id": AMAZON_LWA_CLIENT_ID,
        "client_secret": AMAZON_LWA_CLIENT_SECRET,
        "application_id": AMAZON_APP_ID,
    },
    # TikTok sends the seller back to the redirect URL registered with the app, not one in the URL.
    "tiktok": {
        "client_id": TIKTOK_APP_KEY,
        "client_secret": TIKTOK_APP_SECRET,
        "application_id": TIKTOK_SERVICE_ID,
        "redirect_uri": SANDBOX_BASE_URL.rsplit("/sandbox", 1)[0] + "/stores/authorize/callback/",
    },
}
SANDBOX_NEW_SHOP_ORDERS = env_int("SANDBOX_NEW_SHOP_ORDERS", 0 if TESTING else 12)

# DEVELOPMENT ONLY: the demo distributor's sandbox shops, by platform (`manage.py seed_demo`).
# The sandbox creates each shop with this token granted to our app and a few orders of `skus`
# (sandbox/demo.py); the stores demo connects the demo distributor's store to the same shop
# with the same token, authorized at once (stores/demo.py), so the demo pulls orders without a
# consent page. Neither app imports the other: this is all they share. Shopify's is a
# non-expiring offline token; Amazon's is an LWA refresh token, which mints access tokens as
# needed. Empty unless DEBUG and SANDBOX_ENABLED with that platform's API in the sandbox, and
# under tests (a test sets its own).
SANDBOX_DEMO_SHOPS: dict[str, dict] = {}
if _SANDBOX_DEFAULTS and not TESTING:
    import hashlib

    def _sandbox_demo_token(name: str) -> str:
        # Derived, not written here: the same on every run of one checkout, never a literal token.
        return hashlib.sha256(f"sandbox-demo-token:{name}:{SECRET_KEY}".encode()).hexdigest()[:32]

    if SHOPIFY_API_BASE.startswith(SANDBOX_BASE_URL):
        SANDBOX_DEMO_SHOPS["shopify"] = {
            "shop_domain": "demo-trading-us.myshopify.com",
            "site": "US",
            "currency": "USD",
            "access_token": "shpat_" + _sandbox_demo_token("shopify"),
            "scope": ",".join(SHOPIFY_SCOPES),
            "skus": ["SNOWTOX-SERUM-30ML"],
            "orders": 3,
        }
    if AMAZON_SP_API_BASE.startswith(SANDBOX_BASE_URL) and AMAZON_LWA_TOKEN_URL.startswith(SANDBOX_BASE_URL):
        SANDBOX_DEMO_SHOPS["amazon"] = {
            "seller_id": "ADEMOTRADINGJP",
            "marketplace_id": "A1VC38T7YXB528",
            "site": "JP",
            "currency": "JPY",
            "refresh_token": "Atzr|" + _sandbox_demo_token("amazon"),
            "skus": ["SNOWTOX-SERUM-30ML"],
            "orders": 3,
        }

# --- Fulfilment (fulfillment/ owns this block). DEVELOPMENT ONLY: the demo's sandbox warehouse
# accounts, by our warehouse code. The sandbox makes each account with this API token and
# webhook secret (sandbox/demo.py); the fulfilment demo points that warehouse's REST backend at
# {SANDBOX_BASE_URL}/warehouse/{account}/2026-01 with the same secrets (fulfillment/demo.py).
# Empty unless DEBUG and SANDBOX_ENABLED, and under tests. See docs/warehouses.md.
SANDBOX_DEMO_WAREHOUSES: dict[str, dict] = {}
if _SANDBOX_DEFAULTS and not TESTING:
    import base64
    import hashlib

    def _sandbox_demo_secret(name: str) -> bytes:
        # Derived, not written here: the same on every run of one checkout.
        return hashlib.sha256(f"sandbox-demo-warehouse:{name}:{SECRET_KEY}".encode()).digest()

    SANDBOX_DEMO_WAREHOUSES["US-CA"] = {
        "account": "demo-us-ca",
        "api_token": "pat_" + _sandbox_demo_secret("token").hex()[:40],
        "webhook_secret": "whsec_" + base64.b64encode(_sandbox_demo_secret("webhook")).decode(),
        # Packages leave this long after the order arrives (the sandbox ships lazily).
        "ship_after_seconds": 300,
        # Its signed webhooks come to our endpoint (the site the sandbox is served from).
        "webhook_url": SANDBOX_BASE_URL.removesuffix("/sandbox") + "/webhooks/warehouse/US-CA/",
    }

# --- Finance (finance/ owns this block). Top-ups from this many USD need a second staff
# member's approval (maker-checker). The contact shown beside [Top Up Balance], whom the
# distributor asks to confirm the exchange rate before recharging.
FINANCE_SECOND_APPROVAL_USD = os.environ.get("FINANCE_SECOND_APPROVAL_USD", "5000")
FINANCE_CONTACT_NAME = os.environ.get("FINANCE_CONTACT_NAME", "Platform customer service")
FINANCE_CONTACT_EMAIL = os.environ.get("FINANCE_CONTACT_EMAIL", "finance-support@distribution.local")
FINANCE_CONTACT_PHONE = os.environ.get("FINANCE_CONTACT_PHONE", "+86 755 0000 0000 / distribution-cs")
