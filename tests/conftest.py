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


@pytest.fixture(autouse=True)
def _settings_for_tests(settings, tmp_path):
    # allauth's rate limits live in the cache; each test starts with none spent.
    cache.clear()
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
