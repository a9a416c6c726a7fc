import os

import pytest
from django.core.cache import cache

from distribution.models import Role
from tests.browser import _playwright_browser, page  # noqa: F401  (fixtures)
from tests.distribution.factories import DistributorFactory, MembershipFactory, owner_of


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    # Lets fixtures see whether the test failed (the browser fixture takes a screenshot).
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def _cache_reset(settings) -> None:
    """Each test starts with an empty cache (allauth's rate limits, the sandbox's nonces
    live there). On Redis, shared by the xdist workers, each worker keeps its own key
    prefix and deletes only its own keys: a FLUSHDB would empty the other worker's cache
    in the middle of its test."""
    if "redis" not in settings.CACHES["default"]["BACKEND"].lower():
        cache.clear()
        return
    prefix = f"test-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}"
    if settings.CACHES["default"].get("KEY_PREFIX") != prefix:
        settings.CACHES = {"default": {**settings.CACHES["default"], "KEY_PREFIX": prefix}}
    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    if keys:
        client.delete(*keys)


@pytest.fixture(autouse=True)
def _settings_for_tests(settings, tmp_path):
    _cache_reset(settings)
    # Hashing at full strength costs ~0.3 s a user; the tests are not about it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def outbox(mailoutbox):
    return mailoutbox


@pytest.fixture
def owner(db):
    return owner_of(DistributorFactory(company_name="Acme Distribution"))


@pytest.fixture
def other_owner(db):
    return owner_of(DistributorFactory(company_name="Other Distribution"))


@pytest.fixture
def member_factory(db):
    def make(distributor, role=Role.OPERATOR):
        return MembershipFactory(distributor=distributor, role=role)

    return make


@pytest.fixture
def portal_client(client):
    """A test client logged in as the given membership's user."""

    def login(membership):
        client.force_login(membership.user)
        return client

    return login


def using_postgres() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))
