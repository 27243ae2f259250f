"""List endpoints run a fixed number of queries whatever the number of rows (ARCHITECTURE.md)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory.models import Organisation, Person
from tests import factories

pytestmark = pytest.mark.django_db


def build_orgs(n):
    for i in range(n):
        org = factories.OrganisationFactory(
            name=f"Org {i:03}", focus_areas=["water", "youth"], verified=True, visibility="public"
        )
        factories.IdentifierFactory(organisation=org)
        factories.AffiliationFactory(organisation=org, is_primary=(i % 2 == 0))


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, response.content
    return len(ctx.captured_queries), response


def counts_for(client_factory, url, rows_key="results"):
    counts = []
    for n in (3, 30):
        Organisation.objects.all().delete()
        Person.objects.all().delete()
        build_orgs(n)
        client = client_factory()
        count, response = count_queries(client, url)
        if rows_key:
            assert len(response.json()[rows_key]) == n
        counts.append(count)
    return counts


@pytest.mark.parametrize("role", ["anonymous", "staff", "admin"])
@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/organisations/",
        "/api/v1/organisations/?facets=1",
        "/api/v1/organisations/?facets=1&country=KZ&focus_area=environment&ordering=-updated_at",
    ],
)
def test_organisation_list_query_count_is_constant(api, as_user, role, url):
    def client_factory():
        if role == "anonymous":
            return api
        user = factories.staff_user() if role == "staff" else factories.UserFactory(is_superuser=True)
        return as_user(user)

    small, large = counts_for(client_factory, url)
    assert small == large


def test_organisation_csv_query_count_is_constant(api):
    small, large = counts_for(lambda: api, "/api/v1/organisations/?format=csv", rows_key=None)
    assert small == large


def test_people_list_query_count_is_constant(as_user):
    user = factories.UserFactory(is_superuser=True)
    # A fresh user object per request: roles are cached on the object.
    small, large = counts_for(lambda: as_user(type(user).objects.get(pk=user.pk)), "/api/v1/people/")
    assert small == large
    staff_small, staff_large = counts_for(lambda: as_user(factories.staff_user()), "/api/v1/people/?country=KZ")
    assert staff_small == staff_large


def test_focus_area_list_query_count_is_constant(api):
    small, _ = count_queries(api, "/api/v1/focus-areas/?page_size=3")
    large, response = count_queries(api, "/api/v1/focus-areas/?page_size=30")
    assert len(response.json()["results"]) > 3
    assert small == large
