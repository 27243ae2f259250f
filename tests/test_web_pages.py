"""The web pages: organisation list and detail, people, login; filters, facets, pagination,
query counts, access (404 not 403) and escaping."""

import re
import uuid
from html import unescape

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests import factories

pytestmark = pytest.mark.django_db

LIST_URL = "/organisations/"


def card_names(response):
    """Organisation names shown as result cards, in page order."""
    html = response.content.decode()
    return [unescape(n) for n in re.findall(r'<li class="card">\s*<h3><a href="[^"]+">([^<]+)</a>', html)]


def facet_counts(response, name):
    html = response.content.decode()
    pattern = (
        rf'<input type="checkbox" name="{name}" value="([^"]+)"[^>]*>[^<]*'
        r'<span class="count"[^>]*>(\d+)</span>'
    )
    return {value: int(count) for value, count in re.findall(pattern, html)}


# --- list ----------------------------------------------------------------------------------


def test_list_renders_for_anonymous(client):
    factories.OrganisationFactory(name="Bir Duino Kyrgyzstan", country="KG", focus_areas=["human-rights"])
    response = client.get(LIST_URL)
    assert response.status_code == 200
    html = response.content.decode()
    assert "<title>Organisations · CA Civil Society Directory</title>" in html
    assert "<h1>Organisations</h1>" in html
    assert "1 organisation matches." in html
    for label in ("Search names, acronyms and cities", "Country", "Focus area", "Type", "Working language",
                  "Verified", "Order by", "Sign in"):
        assert label in html
    assert card_names(response) == ["Bir Duino Kyrgyzstan"]
    assert 'href="/people/"' not in html


def test_root_redirects_to_list(client):
    response = client.get("/")
    assert response.status_code == 302
    assert response["Location"] == LIST_URL


def test_filters_in_the_url(client):
    factories.OrganisationFactory(name="KZ water", country="KZ", focus_areas=["water"])
    factories.OrganisationFactory(name="KZ environment", country="KZ", focus_areas=["environment", "youth"])
    factories.OrganisationFactory(name="KZ youth", country="KZ", focus_areas=["youth"])
    factories.OrganisationFactory(name="KG climate", country="KG", focus_areas=["climate"])
    factories.OrganisationFactory(name="KZ staff water", country="KZ", focus_areas=["water"], visibility="staff")
    response = client.get(LIST_URL, {"country": "KZ", "focus_area": "environment"})
    assert response.status_code == 200
    assert card_names(response) == ["KZ environment", "KZ water"]
    assert "2 organisations match." in response.content.decode()
    # The chosen filters stay checked.
    assert re.search(r'name="country" value="KZ" checked', response.content.decode())


def test_facet_counts_match_the_filtered_set(client):
    factories.OrganisationFactory(name="KZ water", country="KZ", focus_areas=["water", "climate"], type="ngo")
    factories.OrganisationFactory(name="KZ env", country="KZ", focus_areas=["environment"], type="media")
    factories.OrganisationFactory(name="KZ youth", country="KZ", focus_areas=["youth"], type="ngo",
                                  languages=["kk", "en"], verified=True)
    factories.OrganisationFactory(name="KG water", country="KG", focus_areas=["water"], type="ngo")
    factories.OrganisationFactory(name="KZ hidden", country="KZ", focus_areas=["water"], visibility="staff")

    response = client.get(LIST_URL)
    assert facet_counts(response, "country") == {"KZ": 3, "KG": 1}
    assert facet_counts(response, "focus_area") == {"environment": 3, "water": 2, "climate": 1, "youth": 1}
    assert facet_counts(response, "type") == {"ngo": 3, "media": 1}
    assert facet_counts(response, "language") == {"ru": 3, "kk": 1, "en": 1}

    response = client.get(LIST_URL, {"country": "KZ"})
    assert len(card_names(response)) == 3
    # The selected dimension is counted with the OTHER filters, so a second country can be added.
    assert facet_counts(response, "country") == {"KZ": 3, "KG": 1}
    # A parent counts an organisation once even with several of its children.
    assert facet_counts(response, "focus_area") == {"environment": 2, "water": 1, "climate": 1, "youth": 1}
    assert facet_counts(response, "type") == {"ngo": 2, "media": 1}
    html = response.content.decode()
    assert re.search(r'value="true"[^>]*> Verified <span class="count">1</span>', html)
    assert re.search(r'value="false"[^>]*> Not verified <span class="count">2</span>', html)

    response = client.get(LIST_URL, {"country": "KZ", "focus_area": "water"})
    assert card_names(response) == ["KZ water"]
    assert facet_counts(response, "country") == {"KZ": 1, "KG": 1}
    assert facet_counts(response, "focus_area") == {"environment": 2, "water": 1, "climate": 1, "youth": 1}
    assert facet_counts(response, "type") == {"ngo": 1}


def test_pagination(client):
    for i in range(30):
        factories.OrganisationFactory(name=f"Org {i:02d}")
    first = client.get(LIST_URL)
    assert card_names(first) == [f"Org {i:02d}" for i in range(25)]
    assert "Page 1 of 2" in first.content.decode()

    second = client.get(LIST_URL, {"page": "2"})
    assert second.status_code == 200
    assert card_names(second) == [f"Org {i:02d}" for i in range(25, 30)]

    junk = client.get(LIST_URL, {"page": "abc"})
    assert junk.status_code == 200
    assert card_names(junk) == card_names(first)

    huge = client.get(LIST_URL, {"page": "99999"})
    assert huge.status_code == 200
    assert card_names(huge) == card_names(second)
    assert "Page 99999 does not exist; showing page 2 of 2." in huge.content.decode()


def test_pagination_keeps_filters_in_links(client):
    for i in range(30):
        factories.OrganisationFactory(name=f"Org {i:02d}", country="KG")
    factories.OrganisationFactory(name="KZ org", country="KZ")
    response = client.get(LIST_URL, {"country": "KG"})
    assert 'href="?country=KG&amp;page=2"' in response.content.decode()


def test_empty_state(client):
    factories.OrganisationFactory(name="Bir Duino")
    response = client.get(LIST_URL, {"q": "nothing like this"})
    assert response.status_code == 200
    html = response.content.decode()
    assert card_names(response) == []
    assert "No organisations match." in html
    assert "Clear all filters" in html


@pytest.mark.parametrize(
    ("params", "name"),
    [
        ({"country": "XX"}, "country"),
        ({"focus_area": "nope"}, "focus_area"),
        ({"updated_since": "yesterday"}, "updated_since"),
        ({"ordering": "-password"}, "ordering"),
        ({"verified": "maybe"}, "verified"),
        ({"identifier": "junk"}, "identifier"),
        ({"country": "KZ", "focus_area": "nope", "page": "2"}, "focus_area"),
    ],
)
def test_invalid_filters_answer_400_naming_the_filter(client, params, name):
    factories.OrganisationFactory()
    response = client.get(LIST_URL, params)
    assert response.status_code == 400
    html = response.content.decode()
    assert "Some filters are not valid" in html
    assert f"<code>{name}</code>" in html
    assert card_names(response) == []


def _make_orgs(count, start=0):
    for i in range(start, start + count):
        org = factories.OrganisationFactory(
            name=f"Org {i:03d}", focus_areas=["water", "youth"], verified=i % 2 == 0,
            languages=["ru", "kk"], visibility="public" if i % 3 else "staff",
        )
        factories.IdentifierFactory(organisation=org)


def _count_queries(client, params=None):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(LIST_URL, params or {})
    assert response.status_code == 200
    return len(ctx.captured_queries), response


def test_list_query_count_does_not_grow_with_rows_anonymous(client):
    _make_orgs(3)
    client.get(LIST_URL)  # warm caches (content types, sessions)
    filters = {"focus_area": "environment", "country": "KZ", "q": "org"}
    few, response = _count_queries(client)
    assert len(card_names(response)) == 2
    filtered_few, _ = _count_queries(client, filters)
    _make_orgs(27, start=3)
    many, response = _count_queries(client)
    assert len(card_names(response)) == 20
    filtered_many, response = _count_queries(client, filters)
    assert len(card_names(response)) == 20
    assert few == many
    assert filtered_few == filtered_many


def test_list_query_count_does_not_grow_with_rows_staff(client):
    client.force_login(factories.staff_user())
    _make_orgs(3)
    client.get(LIST_URL)
    few, response = _count_queries(client)
    assert len(card_names(response)) == 3
    _make_orgs(27, start=3)
    many, response = _count_queries(client)
    assert len(card_names(response)) == 25
    assert few == many


# --- detail --------------------------------------------------------------------------------


@pytest.fixture
def org_with_people():
    org = factories.OrganisationFactory(
        name="Kylym Shamy", internal_notes="Secret risk note", description="Works on rights.",
        email="info@kylym.example.org",
    )
    person = factories.PersonFactory(name="Aigul Bekova", email="aigul.private@example.org", phone="+996 555 123456")
    factories.AffiliationFactory(person=person, organisation=org, is_primary=True)
    factories.IdentifierFactory(organisation=org, scheme="KG-OKPO", value="12345678")
    return org, person


def test_public_detail_for_anonymous_hides_people_and_internal(client, org_with_people):
    org, person = org_with_people
    response = client.get(org.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>Kylym Shamy" in html
    assert "info@kylym.example.org" in html
    assert "12345678" in html
    for secret in ("aigul.private@example.org", "+996 555 123456", "Aigul Bekova", "Secret risk note",
                   "Internal (EU staff)"):
        assert secret not in html


def test_staff_detail_shows_internal_section_and_people(client, org_with_people):
    org, person = org_with_people
    client.force_login(factories.staff_user())
    response = client.get(org.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert "Internal (EU staff)" in html
    assert "Secret risk note" in html
    assert '<h2 id="people-h">People</h2>' in html
    assert "aigul.private@example.org" in html
    assert "+996 555 123456" in html
    assert person.get_absolute_url() in html


def test_staff_detail_hides_restricted_person_without_permission(client, org_with_people):
    org, _person = org_with_people
    factories.AffiliationFactory(
        person=factories.PersonFactory(name="Hidden Person", sensitivity="restricted"), organisation=org
    )
    client.force_login(factories.staff_user())
    assert "Hidden Person" not in client.get(org.get_absolute_url()).content.decode()
    client.force_login(factories.grant(factories.staff_user(), "view_restricted"))
    assert "Hidden Person" in client.get(org.get_absolute_url()).content.decode()


@pytest.mark.parametrize(("visibility", "status"), [("staff", "active"), ("restricted", "active"),
                                                    ("public", "closed"), ("public", "inactive")])
def test_hidden_organisations_are_404_like_missing_ones(client, visibility, status):
    org = factories.OrganisationFactory(visibility=visibility, status=status, name="Hidden Org")
    hidden = client.get(org.get_absolute_url())
    missing = client.get(f"/organisations/{uuid.uuid4()}/")
    assert hidden.status_code == missing.status_code == 404
    assert "Hidden Org" not in hidden.content.decode()
    assert "Not found" in hidden.content.decode() and "Not found" in missing.content.decode()


def test_restricted_organisation_404_for_staff_without_permission(client):
    org = factories.OrganisationFactory(visibility="restricted")
    client.force_login(factories.staff_user())
    assert client.get(org.get_absolute_url()).status_code == 404
    client.force_login(factories.grant(factories.staff_user(), "view_restricted"))
    assert client.get(org.get_absolute_url()).status_code == 200


def test_script_in_description_is_escaped(client):
    org = factories.OrganisationFactory(
        name="<b>Bold</b> org", description='<script>alert("x")</script>', other_names=["<img src=x>"]
    )
    for url in (org.get_absolute_url(), LIST_URL):
        html = client.get(url).content.decode()
        assert "<script>alert" not in html
        assert "<b>Bold</b>" not in html
        assert "<img src=x>" not in html
    detail = client.get(org.get_absolute_url()).content.decode()
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in detail
    assert "&lt;b&gt;Bold&lt;/b&gt; org" in detail


# --- people --------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/people/", "/people/{pk}/"])
def test_people_pages_require_login(client, path):
    person = factories.PersonFactory()
    response = client.get(path.format(pk=person.pk))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/people/")


def test_people_pages_404_for_user_without_role(client):
    person = factories.PersonFactory()
    factories.AffiliationFactory(person=person)
    client.force_login(factories.UserFactory())
    assert client.get("/people/").status_code == 404
    assert client.get(person.get_absolute_url()).status_code == 404


def test_staff_sees_people_list_and_detail(client):
    org = factories.OrganisationFactory(name="Umid")
    person = factories.PersonFactory(name="Timur Saidov", email="timur@example.org",
                                     consent_given_at=timezone.now(), consent_method="email")
    factories.AffiliationFactory(person=person, organisation=org)
    factories.PersonFactory(name="Restricted Person", sensitivity="restricted")
    client.force_login(factories.staff_user())
    listing = client.get("/people/")
    assert listing.status_code == 200
    html = listing.content.decode()
    assert "Timur Saidov" in html and "Umid" in html
    assert "Restricted Person" not in html
    detail = client.get(person.get_absolute_url())
    assert detail.status_code == 200
    assert "timur@example.org" in detail.content.decode()
    filtered = client.get("/people/", {"q": "Тимур"})
    assert "Timur Saidov" in filtered.content.decode()
    assert client.get("/people/", {"consent": "maybe"}).status_code == 400


def test_restricted_person_404_for_staff_without_permission(client):
    person = factories.PersonFactory(sensitivity="restricted")
    client.force_login(factories.staff_user())
    assert client.get(person.get_absolute_url()).status_code == 404
    client.force_login(factories.grant(factories.staff_user(), "view_restricted"))
    assert client.get(person.get_absolute_url()).status_code == 200


def test_editor_sees_own_organisations_people_only(client):
    own = factories.OrganisationFactory(name="Own org", visibility="staff")
    other = factories.OrganisationFactory(name="Other org")
    mine = factories.AffiliationFactory(organisation=own, person__name="Mine Person").person
    theirs = factories.AffiliationFactory(organisation=other, person__name="Their Person").person
    client.force_login(factories.editor_of(own))
    listing = client.get("/people/").content.decode()
    assert "Mine Person" in listing and "Their Person" not in listing
    assert client.get(mine.get_absolute_url()).status_code == 200
    assert client.get(theirs.get_absolute_url()).status_code == 404
    detail = client.get(own.get_absolute_url())
    assert detail.status_code == 200
    assert "Mine Person" in detail.content.decode()


# --- login ---------------------------------------------------------------------------------


def test_login_page_accepts_correct_password_and_rejects_wrong(client):
    factories.UserFactory(username="aigul")
    page = client.get("/accounts/login/")
    assert page.status_code == 200
    assert "Sign in" in page.content.decode()

    wrong = client.post("/accounts/login/", {"username": "aigul", "password": "wrong-password"})
    assert wrong.status_code == 200
    assert 'role="alert"' in wrong.content.decode()
    assert "_auth_user_id" not in client.session

    right = client.post("/accounts/login/", {"username": "aigul", "password": "correct-horse-battery"})
    assert right.status_code == 302
    assert right["Location"] == LIST_URL
    assert client.session["_auth_user_id"] == str(get_user_model().objects.get(username="aigul").pk)
