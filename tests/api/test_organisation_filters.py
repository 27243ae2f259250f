"""Every filter of API.md on /api/v1/organisations/, through the shared OrganisationFilterSet."""

from datetime import UTC, datetime

import pytest

from directory.models import Organisation
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/api/v1/organisations/"


def names(response):
    assert response.status_code == 200, response.content
    return [row["name"] for row in response.json()["results"]]


def name_set(response):
    return set(names(response))


@pytest.fixture
def orgs(db):
    a = factories.OrganisationFactory(
        name="Bir Duino", name_local="Бир Дуйно", country="KG", city="Bishkek", type="ngo",
        focus_areas=["domestic-violence"], languages=["ru", "ky"], verified=True, founded_year=2000,
    )
    factories.IdentifierFactory(organisation=a, scheme="KG-OKPO", value="12345678")
    b = factories.OrganisationFactory(
        name="Kazakhstan Water Forum", country="KZ", city="Almaty", type="foundation",
        focus_areas=["water", "health"], languages=["kk"], founded_year=1995,
    )
    c = factories.OrganisationFactory(
        name="Tajik Youth Network", country="TJ", city="Dushanbe", type="network",
        focus_areas=["youth"], languages=["tg", "en"], founded_year=2010,
    )
    d = factories.OrganisationFactory(
        name="Almaty Press Club", country="KZ", city="Алматы", type="media",
        focus_areas=["media-freedom", "human-rights"], languages=["ru"], founded_year=2005,
    )
    stamps = {
        a: datetime(2024, 1, 1, tzinfo=UTC),
        b: datetime(2025, 6, 1, 10, 0, tzinfo=UTC),
        c: datetime(2025, 6, 2, tzinfo=UTC),
        d: datetime(2023, 5, 5, tzinfo=UTC),
    }
    for org, stamp in stamps.items():
        Organisation.objects.filter(pk=org.pk).update(updated_at=stamp)
    return {"a": a, "b": b, "c": c, "d": d}


ALL = {"Bir Duino", "Kazakhstan Water Forum", "Tajik Youth Network", "Almaty Press Club"}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("", ALL),
        ("country=KZ", {"Kazakhstan Water Forum", "Almaty Press Club"}),
        ("country=KZ&country=KG", {"Kazakhstan Water Forum", "Almaty Press Club", "Bir Duino"}),
        ("focus_area=human-rights", {"Bir Duino", "Almaty Press Club"}),  # parent includes children
        ("focus_area=domestic-violence", {"Bir Duino"}),
        ("focus_area=youth&focus_area=water", {"Tajik Youth Network", "Kazakhstan Water Forum"}),
        ("focus_area=environment", {"Kazakhstan Water Forum"}),
        ("focus_area_all=human-rights&focus_area_all=civic-space", {"Almaty Press Club"}),
        ("focus_area_all=environment&focus_area_all=health", {"Kazakhstan Water Forum"}),
        ("focus_area_all=human-rights&focus_area_all=water", set()),
        ("type=ngo", {"Bir Duino"}),
        ("type=ngo&type=network", {"Bir Duino", "Tajik Youth Network"}),
        ("city=almaty", {"Kazakhstan Water Forum", "Almaty Press Club"}),  # Latin finds Cyrillic
        ("city=АЛМАТЫ", {"Kazakhstan Water Forum", "Almaty Press Club"}),
        ("city=BISHKEK", {"Bir Duino"}),
        ("language=kk", {"Kazakhstan Water Forum"}),
        ("language=kk&language=tg", {"Kazakhstan Water Forum", "Tajik Youth Network"}),
        ("language=ru", {"Bir Duino", "Almaty Press Club"}),
        ("verified=true", {"Bir Duino"}),
        ("verified=false", ALL - {"Bir Duino"}),
        ("updated_since=2025-01-01", {"Kazakhstan Water Forum", "Tajik Youth Network"}),
        ("updated_since=2025-06-01T12:00:00Z", {"Tajik Youth Network"}),
        ("updated_since=2025-06-01T09:00:00%2B00:00", {"Kazakhstan Water Forum", "Tajik Youth Network"}),
        ("identifier=KG-OKPO-12345678", {"Bir Duino"}),
        ("identifier=KG-OKPO-87654321", set()),
        ("q=Бир Дуйно", {"Bir Duino"}),
        ("q=bir duino", {"Bir Duino"}),
        ("q=BIR", {"Bir Duino"}),
        ("q=water forum", {"Kazakhstan Water Forum"}),
        ("q=water bishkek", set()),  # every word must match
        ("country=KZ&focus_area=environment", {"Kazakhstan Water Forum"}),
        ("country=KZ&type=media&language=ru", {"Almaty Press Club"}),
        ("country=KZ&verified=true", set()),
        ("q=almaty&type=foundation", {"Kazakhstan Water Forum"}),
    ],
)
def test_filters(api, orgs, query, expected):
    assert name_set(api.get(f"{URL}?{query}")) == expected


@pytest.mark.parametrize(
    "ordering, key",
    [
        ("name", lambda o: o.name),
        ("country", lambda o: o.country.code),
        ("updated_at", lambda o: o.updated_at),
        ("founded_year", lambda o: o.founded_year),
    ],
)
@pytest.mark.parametrize("descending", [False, True])
def test_ordering(api, orgs, ordering, key, descending):
    param = f"-{ordering}" if descending else ordering
    got = api.get(f"{URL}?ordering={param}").json()["results"]
    expected = sorted(Organisation.objects.all(), key=key, reverse=descending)
    assert [key(Organisation.objects.get(pk=row["id"])) for row in got] == [key(o) for o in expected]
    if ordering != "country":  # unique values here: the whole order is fixed
        assert [row["id"] for row in got] == [str(o.pk) for o in expected]


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("country=XX", "country"),
        ("country=KZ&country=ZZ", "country"),
        ("focus_area=not-a-focus-area", "focus_area"),
        ("focus_area_all=nope", "focus_area_all"),
        ("type=party", "type"),
        ("language=xx", "language"),
        ("updated_since=yesterday", "updated_since"),
        ("updated_since=2025-13-01", "updated_since"),
        ("ordering=-password", "ordering"),
        ("ordering=internal_notes", "ordering"),
        ("verified=maybe", "verified"),
        ("identifier=nonsense", "identifier"),
        ("facets=yes", "facets"),
    ],
)
def test_bad_filter_values_are_400_naming_the_parameter(api, orgs, query, parameter):
    response = api.get(f"{URL}?{query}")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert list(body) == [parameter]
    assert isinstance(body[parameter], list) and body[parameter]


def test_facets(api, orgs):
    body = api.get(f"{URL}?facets=1&country=KZ&page_size=1").json()
    assert len(body["results"]) == 1
    assert body["facets"]["country"] == {"KZ": 2}
    assert body["facets"]["type"] == {"foundation": 1, "media": 1}
    fa = body["facets"]["focus_area"]
    assert fa["water"] == 1 and fa["environment"] == 1 and fa["human-rights"] == 1
    assert fa["media-freedom"] == 1 and fa["civic-space"] == 1 and fa["health"] == 1
    assert "youth" not in fa


@pytest.mark.parametrize("value", ["0", "false"])
def test_facets_off(api, orgs, value):
    assert "facets" not in api.get(f"{URL}?facets={value}").json()


def test_facets_count_only_visible(api, orgs):
    factories.OrganisationFactory(country="TM", visibility="restricted")
    body = api.get(f"{URL}?facets=true").json()
    assert "TM" not in body["facets"]["country"]
    assert body["count"] == 4


def test_staff_only_filters_ignored_for_public(api, as_user, staff_user, orgs):
    factories.OrganisationFactory(name="Staff Only", visibility="staff")
    assert name_set(api.get(f"{URL}?visibility=staff")) == ALL
    assert name_set(as_user(staff_user).get(f"{URL}?visibility=staff")) == {"Staff Only"}
