"""Likely duplicates: reasons and scores, across scripts, never across countries by name."""

import uuid

import pytest
from django.db import connection

from directory.search import normalise
from directory.services.duplicates import (
    SIMILARITY_THRESHOLD,
    Candidate,
    OrganisationIndex,
    _Org,
    find_duplicates,
    find_duplicates_many,
    trigram_similarity,
    website_domain,
)
from tests import factories

pytestmark = pytest.mark.django_db


def reasons(found):
    return {(d.name, d.reason, round(d.score, 2)) for d in found}


def test_same_identifier_scores_1():
    org = factories.OrganisationFactory(name="Adilet", country="KZ")
    factories.IdentifierFactory(organisation=org, scheme="KZ-BIN", value="950440001673")
    found = find_duplicates(Candidate(name="Something else", country="UZ", identifiers=(("kz-bin", "9504 4000 1673"),)))
    assert reasons(found) == {("Adilet", "identifier", 1.0)}


def test_same_website_domain_scores_0_9():
    factories.OrganisationFactory(name="Eco Forum", country="KZ", website="https://www.ecoforum.kz/about")
    found = find_duplicates(Candidate(name="Unrelated words", country="KZ", website="ecoforum.kz"))
    assert reasons(found) == {("Eco Forum", "website", 0.9)}


def test_cyrillic_and_latin_spellings_of_the_same_name_in_the_same_country():
    factories.OrganisationFactory(name="Бир Дуйно", country="KG", city="")
    found = find_duplicates(Candidate(name="Bir Duino", country="KG"))
    assert reasons(found) == {("Бир Дуйно", "name", 0.85)}


def test_an_other_name_counts_as_a_name():
    factories.OrganisationFactory(name="Legal Clinic Adilet", other_names=["Адилет"], country="KZ", city="")
    found = find_duplicates(Candidate(name="Adilet", country="KZ"))
    assert ("Legal Clinic Adilet", "name", 0.85) in reasons(found)


def test_similar_name_in_the_same_country_scores_its_similarity():
    factories.OrganisationFactory(name="Kylym Shamy Human Rights Centre", country="KG", city="Bishkek")
    found = find_duplicates(Candidate(name="Kylym Shamy Centre for Human Rights", country="KG", city="Bishkek"))
    assert [(d.reason, round(d.score, 2)) for d in found] == [("similar_name", 0.9)]


def test_a_look_alike_in_another_country_is_not_a_name_match():
    factories.OrganisationFactory(name="Kylym Shamy", country="KG", city="")
    factories.OrganisationFactory(name="Kylym Shamy Human Rights Centre", country="KG", city="Bishkek")
    found = find_duplicates(Candidate(name="Kylym Shamy", country="KZ"))
    assert found == []


def test_different_organisations_are_not_reported():
    factories.OrganisationFactory(name="Women Support Centre", country="KZ", city="")
    factories.OrganisationFactory(name="Green Salvation", country="KZ", city="")
    assert find_duplicates(Candidate(name="Legal Aid Society", country="KZ")) == []


def test_the_best_reason_wins_and_results_are_ordered():
    a = factories.OrganisationFactory(name="Bir Duino", country="KG", website="https://birduino.kg", city="")
    factories.IdentifierFactory(organisation=a, scheme="KG-OKPO", value="12345678")
    factories.OrganisationFactory(name="Бир Дуйно", country="KG", city="")
    found = find_duplicates(Candidate(name="Bir Duino", country="KG", website="birduino.kg",
                                      identifiers=(("KG-OKPO", "12345678"),)))
    assert [(d.name, d.reason) for d in found] == [("Bir Duino", "identifier"), ("Бир Дуйно", "name")]


def test_only_organisations_the_user_may_see_are_reported():
    factories.OrganisationFactory(name="Hidden Shelter", country="KZ", visibility="restricted", city="")
    staff = factories.staff_user()
    assert find_duplicates(Candidate(name="Hidden Shelter", country="KZ"), user=staff) == []
    assert len(find_duplicates(Candidate(name="Hidden Shelter", country="KZ"))) == 1


def test_shared_hosts_are_not_a_website_match():
    assert website_domain("https://www.facebook.com/somengo") == ""
    assert website_domain("t.me/somengo") == ""
    assert website_domain("HTTPS://WWW.Example.ORG/x") == "example.org"


def test_python_similarity_is_pg_trgm_similarity():
    pairs = [
        ("Kylym Shamy Human Rights Centre Bishkek", "Kylym Shamy Centre for Human Rights Bishkek"),
        ("Youth Centre Almaty", "Women Centre Almaty"),
        ("Eco Forum of Kazakhstan", "Ecoforum Kazakhstan"),
    ]
    expected = [0.902439, 0.56, 0.68]
    for (a, b), value in zip(pairs, expected, strict=True):
        ours = trigram_similarity(normalise(a), normalise(b))
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT similarity(%s, %s)", [normalise(a), normalise(b)])
                value = cursor.fetchone()[0]
        assert ours == pytest.approx(value, abs=1e-4)


def test_staff_duplicates_page(client):
    factories.OrganisationFactory(name="Бир Дуйно", country="KG", city="")
    url = "/organisations/duplicates/"
    assert client.get(url).status_code == 302  # sign in first
    client.force_login(factories.UserFactory())
    assert client.get(url).status_code == 404
    client.force_login(factories.staff_user())
    assert client.get(url).status_code == 200
    response = client.get(url, {"name": "Bir Duino", "country": "KG"})
    assert response.status_code == 200
    assert "Бир Дуйно" in response.content.decode() and b"Same name in the same country" in response.content
    assert client.get(url, {"name": "Bir Duino", "country": "KG", "identifier": "nonsense"}).status_code == 400


def _index(names, country="KZ"):
    orgs = [_Org(uuid.UUID(int=n + 1), name, "", [], country, "", normalise(name)) for n, name in enumerate(names)]
    return OrganisationIndex(orgs, {})


LOOK_ALIKES = [
    "Women Support Centre", "Women's Support Center Almaty", "Support Centre for Women", "Youth Centre Almaty",
    "Eco Centre Almaty", "Ecocentre", "Centre Women", "Women Centre Support Almaty Region", "Almaty Women",
    "Shelter for Women Almaty", "Women Support Network", "Support Women", "Центр поддержки женщин", "Zhenshchiny",
    "Women Support Centre Astana", "Women Support Centre Shymkent", "Women Support Fund", "Legal Support Centre",
]


@pytest.mark.parametrize("query", ["Women Support Centre Almaty", "Support Centre", "Youth Eco Centre", "Almaty"])
def test_similar_names_are_exactly_those_pg_trgm_finds(query):
    """The bitset filter neither misses nor adds a pair: the same set as scoring every pair."""
    index = _index(LOOK_ALIKES)
    candidate = Candidate(name=query, country="KZ")
    expected = {}
    for org in index.orgs.values():
        score = trigram_similarity(candidate.search_key, org.search_key)
        if score >= SIMILARITY_THRESHOLD:
            expected[org.id] = score
    assert expected  # the table has look-alikes of every query
    assert index.similar(candidate) == pytest.approx(expected)


def test_a_limit_lists_the_best_and_counts_all():
    index = _index(LOOK_ALIKES)
    candidate = Candidate(name="Women Support Centre Almaty", country="KZ")
    everything = find_duplicates_many([candidate], index=index)[0]
    assert len(everything) > 4 and everything.total == len(everything)
    for limit in (1, 3, 4):
        best = find_duplicates_many([candidate], index=_index(LOOK_ALIKES), limit=limit)[0]
        assert [(d.organisation_id, d.score) for d in best] == [
            (d.organisation_id, d.score) for d in everything[:limit]]
        assert best.total == len(everything)
