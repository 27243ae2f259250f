import pytest
from django.contrib.auth.models import Permission
from django.utils import translation

from tests import factories


def pytest_collection_modifyitems(config, items):
    # PostgreSQL-only tests (row locks, advisory locks, killed connections, pg_dump) run in the
    # PostgreSQL pass of .ci/run and are deselected, not skipped, on SQLite.
    from django.conf import settings

    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        return
    deselected = [item for item in items if item.get_closest_marker("postgresql")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("postgresql")]


def pytest_sessionstart(session):
    # .mo files are build output (not committed): compile them before any page is rendered.
    from directory.i18n import compile_all

    compile_all()


@pytest.fixture(autouse=True)
def _default_language():
    # LocaleMiddleware activates a request's language on the thread and leaves it there:
    # a Russian request must not turn the next test's messages Russian.
    yield
    translation.deactivate()


@pytest.fixture(autouse=True)
def _plain_http(settings):
    # The test client speaks plain HTTP; production defaults would redirect to HTTPS.
    settings.SECURE_SSL_REDIRECT = False
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False


@pytest.fixture
def staff_user(db):
    return factories.staff_user()


@pytest.fixture
def restricted_staff_user(db):
    user = factories.staff_user()
    user.user_permissions.add(Permission.objects.get(codename="view_restricted"))
    return user


@pytest.fixture
def editor_user(db):
    return factories.UserFactory()


@pytest.fixture
def admin_user(db):
    return factories.UserFactory(is_superuser=True, is_staff=True)


@pytest.fixture
def staff_client(client, staff_user):
    client.force_login(staff_user)
    return client


@pytest.fixture(autouse=True)
def _empty_cache():
    # Cached figures (the staff home) must not leak from one test's data into the next.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    # Hashing with the production work factor costs ~0.3 s per password; tests need speed only.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def organiser_user(db):
    user = factories.UserFactory()
    user.user_permissions.add(Permission.objects.get(codename="manage_events"))
    return user


@pytest.fixture
def exporter_user(db):
    """EU staff who may export people (subject access)."""
    return factories.staff_user(perms=("view_internal", "change_person", "export_people"))
