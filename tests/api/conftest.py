import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests import factories


@pytest.fixture(autouse=True)
def _clear_throttle_cache():
    # Throttle counters live in the cache; every test starts from zero.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def as_user(db):
    def login(user):
        client = APIClient()
        client.force_authenticate(user)
        return client

    return login


@pytest.fixture
def staff_api(as_user, staff_user):
    return as_user(staff_user)


@pytest.fixture
def org(db):
    return factories.OrganisationFactory(name="Bir Duino", name_local="Бир Дуйно", country="KG", city="Bishkek")
