"""Visibility, per-role fields, write permissions, mass assignment and ETags."""

import uuid

import pytest
from django.contrib.auth import get_user_model

from directory.models import AccessLog, Organisation
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/api/v1/organisations/"
PUBLIC_FIELDS = [
    "id", "url", "name", "name_local", "other_names", "acronym", "type", "country",
    "country_name", "city", "website", "email", "phone", "description", "focus_areas",
    "languages", "founded_year", "identifiers", "verified", "updated_at",
]
STAFF_FIELDS = PUBLIC_FIELDS + [
    "visibility", "status", "internal_notes", "verified_by", "verified_at", "confirmed_at", "created_at",
    "last_contacted_on",
]


def detail(org):
    return f"{URL}{org.pk}/"


def ids(response):
    assert response.status_code == 200, response.content
    return {row["id"] for row in response.json()["results"]}


@pytest.fixture
def world(db):
    return {
        "public": factories.OrganisationFactory(name="Public", internal_notes="secret note"),
        "closed": factories.OrganisationFactory(name="Closed", status="closed"),
        "staff": factories.OrganisationFactory(name="Staff only", visibility="staff"),
        "restricted": factories.OrganisationFactory(name="Restricted", visibility="restricted"),
    }


def expect(world, *keys):
    return {str(world[k].pk) for k in keys}


def test_public_sees_public_active_only(api, world):
    assert ids(api.get(URL)) == expect(world, "public")
    for key in ("closed", "staff", "restricted"):
        assert api.get(detail(world[key])).status_code == 404


def test_staff_sees_staff_only_not_restricted(as_user, staff_user, world):
    client = as_user(staff_user)
    assert ids(client.get(URL)) == expect(world, "public", "closed", "staff")
    assert client.get(detail(world["staff"])).status_code == 200
    assert client.get(detail(world["restricted"])).status_code == 404


def test_staff_with_permission_sees_restricted_and_read_is_logged(as_user, restricted_staff_user, world):
    client = as_user(restricted_staff_user)
    assert ids(client.get(URL)) == expect(world, "public", "closed", "staff", "restricted")
    assert client.get(detail(world["restricted"])).status_code == 200
    log = AccessLog.objects.get(action="read_restricted")
    assert log.object_id == str(world["restricted"].pk) and log.via == "api"


def test_editor_sees_its_own_non_public_organisation(as_user, world):
    editor = factories.editor_of(world["staff"])
    client = as_user(editor)
    assert ids(client.get(URL)) == expect(world, "public", "staff")
    own = client.get(detail(world["staff"])).json()
    assert own["visibility"] == "staff" and "confirmed_at" in own
    other = client.get(detail(world["public"])).json()
    assert "visibility" not in other and "internal_notes" not in other
    assert "internal_notes" not in own


def test_hidden_detail_is_identical_to_missing(api, as_user, staff_user, world):
    for client, key in ((api, "staff"), (api, "restricted"), (as_user(staff_user), "restricted")):
        hidden = client.get(detail(world[key]))
        missing = client.get(f"{URL}{uuid.uuid4()}/")
        assert hidden.status_code == missing.status_code == 404
        assert hidden.content == missing.content
        assert hidden["Content-Type"] == missing["Content-Type"] == "application/json"


def test_not_a_uuid_is_json_404(api):
    response = api.get(f"{URL}not-a-uuid/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_field_sets_per_role(api, as_user, staff_user, world):
    public = api.get(detail(world["public"])).json()
    assert list(public) == PUBLIC_FIELDS
    assert "internal_notes" not in public and "visibility" not in public
    staff = as_user(staff_user).get(detail(world["public"])).json()
    assert list(staff) == STAFF_FIELDS
    assert staff["internal_notes"] == "secret note"
    listed = api.get(URL).json()["results"][0]
    assert list(listed) == PUBLIC_FIELDS


def test_public_representation_values(api, db):
    org = factories.OrganisationFactory(
        name="Bir Duino", country="KG", focus_areas=["youth", "human-rights"], languages=["ru", "ky"],
        other_names=["Bir Duino Kyrgyzstan"],
    )
    factories.IdentifierFactory(organisation=org, scheme="KG-OKPO", value="12345678")
    body = api.get(detail(org)).json()
    assert body["id"] == str(org.pk)
    assert body["url"] == f"http://testserver{URL}{org.pk}/"
    assert body["country"] == "KG" and body["country_name"] == "Kyrgyzstan"
    assert body["focus_areas"] == ["human-rights", "youth"]  # taxonomy order
    assert body["languages"] == ["ru", "ky"]
    assert body["other_names"] == ["Bir Duino Kyrgyzstan"]
    assert body["identifiers"] == [{"scheme": "KG-OKPO", "value": "12345678"}]


# --- writes -----------------------------------------------------------------------------------

NEW = {"name": "New Org", "country": "KZ"}


def test_anonymous_writes_are_401(api, world):
    assert api.post(URL, NEW, format="json").status_code == 401
    assert api.patch(detail(world["public"]), {"name": "x"}, format="json").status_code == 401
    assert api.delete(detail(world["public"])).status_code == 401
    assert Organisation.objects.filter(name__in=["New Org", "x"]).count() == 0


def test_editor_writes_are_403(as_user, world):
    client = as_user(factories.editor_of(world["public"]))
    assert client.post(URL, NEW, format="json").status_code == 403
    response = client.patch(detail(world["public"]), {"name": "x"}, format="json")
    assert response.status_code == 403 and "detail" in response.json()
    assert client.delete(detail(world["public"])).status_code == 403
    world["public"].refresh_from_db()
    assert world["public"].name == "Public"


def test_staff_without_permission_is_403(as_user, world):
    client = as_user(factories.staff_user(perms=()))
    assert client.post(URL, NEW, format="json").status_code == 403
    assert client.patch(detail(world["public"]), {"name": "x"}, format="json").status_code == 403
    assert client.delete(detail(world["public"])).status_code == 403
    assert Organisation.objects.filter(pk=world["public"].pk, name="Public").exists()


def test_staff_with_permission_creates_updates_deletes(as_user, staff_user, world):
    client = as_user(staff_user)
    body = {
        **NEW, "name_local": "Жаңа ұйым", "focus_areas": ["water", "youth"], "languages": ["kk", "ru"],
        "identifiers": [{"scheme": "KZ-BIN", "value": "950440001673"}], "verified": True,
        "internal_notes": "note", "visibility": "public",
    }
    created = client.post(URL, body, format="json")
    assert created.status_code == 201, created.content
    data = created.json()
    assert created["Location"] == data["url"]
    assert created.has_header("ETag")
    assert data["verified"] is True and data["verified_by"] == staff_user.username
    assert data["focus_areas"] == ["water", "youth"]
    assert data["identifiers"] == [{"scheme": "KZ-BIN", "value": "950440001673"}]
    assert data["internal_notes"] == "note"
    org = Organisation.objects.get(pk=data["id"])
    assert org.history.first().history_user == staff_user

    updated = client.patch(data["url"], {"city": "Astana", "focus_areas": ["health"]}, format="json")
    assert updated.status_code == 200, updated.content
    assert updated.json()["city"] == "Astana" and updated.json()["focus_areas"] == ["health"]

    replaced = client.put(data["url"], {"name": "Renamed", "country": "KG"}, format="json")
    assert replaced.status_code == 200, replaced.content
    assert replaced.json()["name"] == "Renamed" and replaced.json()["country"] == "KG"

    assert client.delete(data["url"]).status_code == 204
    assert not Organisation.objects.filter(pk=data["id"]).exists()


def test_put_requires_name_and_country(as_user, staff_user, world):
    response = as_user(staff_user).put(detail(world["public"]), {"city": "x"}, format="json")
    assert response.status_code == 400
    assert set(response.json()) == {"name", "country"}


def test_staff_cannot_write_what_it_cannot_see(as_user, staff_user, world):
    client = as_user(staff_user)
    assert client.patch(detail(world["restricted"]), {"name": "x"}, format="json").status_code == 404
    assert client.delete(detail(world["restricted"])).status_code == 404
    # ...nor move an organisation out of its own scope
    response = client.patch(detail(world["public"]), {"visibility": "restricted"}, format="json")
    assert response.status_code == 400 and "visibility" in response.json()
    world["public"].refresh_from_db()
    assert world["public"].visibility == "public"


@pytest.mark.parametrize(
    "field, value",
    [
        ("verified_by", 1), ("id", str(uuid.uuid4())), ("is_staff", True), ("search_key", "x"),
        ("updated_at", "2020-01-01T00:00:00Z"), ("verified_at", "2020-01-01T00:00:00Z"),
        ("created_at", "2020-01-01T00:00:00Z"), ("country_name", "X"), ("history", []),
    ],
)
def test_mass_assignment_is_rejected(as_user, staff_user, world, field, value):
    client = as_user(staff_user)
    org = world["public"]
    before = Organisation.objects.filter(pk=org.pk).values().get()
    response = client.patch(detail(org), {"name": "Changed", field: value}, format="json")
    assert response.status_code == 400
    assert response.json() == {field: ["This field cannot be written."]}
    assert Organisation.objects.filter(pk=org.pk).values().get() == before
    count = Organisation.objects.count()
    response = client.post(URL, {**NEW, field: value}, format="json")
    assert response.status_code == 400 and list(response.json()) == [field]
    assert Organisation.objects.count() == count
    assert not get_user_model().objects.filter(is_staff=True).exists()


@pytest.mark.parametrize(
    "body, field, fragment",
    [
        ({"identifiers": [{"scheme": "KZ-BIN", "value": "123"}]}, "identifiers", "12 digits"),
        ({"identifiers": [{"scheme": "TJ-TIN", "value": "12"}]}, "identifiers", "9 digits"),
        ({"focus_areas": ["nope"]}, "focus_areas", "nope"),
        ({"country": "XX"}, "country", ""),
        ({"languages": ["xx"]}, "languages", ""),
        ({"founded_year": 1500}, "founded_year", ""),
        ({"name": ""}, "name", ""),
        ({"name": "   "}, "name", ""),
        ({"name": "a\x00b"}, "name", ""),
        ({"name": "x" * 301}, "name", ""),
        ({"website": "not a url"}, "website", ""),
        ({"other_names": "not a list"}, "other_names", ""),
        ({"verified": "perhaps"}, "verified", ""),
        ({"type": "party"}, "type", ""),
        ({"identifiers": [{"scheme": "KZ-BIN"}]}, "identifiers", "scheme and a value"),
        ({"identifiers": [{"scheme": "KZ-BIN", "value": 5}]}, "identifiers", ""),
        ({"identifiers": "KZ-BIN-950440001673"}, "identifiers", ""),
        ({"languages": ["ru", 7]}, "languages", ""),
        ({"other_names": ["ok", "a\x00b"]}, "other_names", ""),
        ({"founded_year": "soon"}, "founded_year", ""),
        ({"confirmed_at": "yesterday"}, "confirmed_at", ""),
    ],
)
def test_invalid_writes_are_400_naming_the_field(as_user, staff_user, world, body, field, fragment):
    org = world["public"]
    before = Organisation.objects.filter(pk=org.pk).values().get()
    response = as_user(staff_user).patch(detail(org), body, format="json")
    assert response.status_code == 400, response.content
    errors = response.json()
    assert field in errors
    assert fragment in str(errors[field])
    assert Organisation.objects.filter(pk=org.pk).values().get() == before


def test_identifier_taken_by_another_organisation(as_user, staff_user, world):
    factories.IdentifierFactory(organisation=world["staff"], scheme="KZ-BIN", value="950440001673")
    response = as_user(staff_user).post(
        URL, {**NEW, "identifiers": [{"scheme": "KZ-BIN", "value": "950440001673"}]}, format="json"
    )
    assert response.status_code == 400 and "identifiers" in response.json()
    assert not Organisation.objects.filter(name="New Org").exists()


def test_text_round_trips_exactly(as_user, staff_user):
    name = "Қоғам Үміт Ңөғ Ҳҷ Oʻzbek 🌍 שלום  ⁦x⁩"
    response = as_user(staff_user).post(
        URL, {"name": name, "country": "UZ", "description": "  two  spaces  "}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["name"] == name
    assert response.json()["description"] == "  two  spaces  "
    assert Organisation.objects.get(pk=response.json()["id"]).name == name


# --- ETags --------------------------------------------------------------------------------------

def test_etag_and_if_match(as_user, staff_user, world):
    client = as_user(staff_user)
    url = detail(world["public"])
    first = client.get(url)
    etag = first["ETag"]
    assert etag.startswith('"') and etag.endswith('"')
    assert client.get(url)["ETag"] == etag  # stable
    assert client.get(url, HTTP_IF_NONE_MATCH=etag).status_code == 304

    ok = client.patch(url, {"name": "Changed once"}, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200
    assert ok["ETag"] != etag and ok["ETag"] == client.get(url)["ETag"]

    stale = client.patch(url, {"name": "Changed twice"}, format="json", HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert "detail" in stale.json()
    world["public"].refresh_from_db()
    assert world["public"].name == "Changed once"

    stale_put = client.put(url, {"name": "Put", "country": "KZ"}, format="json", HTTP_IF_MATCH=etag)
    assert stale_put.status_code == 412
    assert client.delete(url, HTTP_IF_MATCH=etag).status_code == 412
    assert Organisation.objects.filter(pk=world["public"].pk, name="Changed once").exists()

    # without If-Match the write proceeds
    assert client.patch(url, {"name": "No precondition"}, format="json").status_code == 200


def test_etag_differs_per_role(api, as_user, staff_user, world):
    url = detail(world["public"])
    assert api.get(url)["ETag"] != as_user(staff_user).get(url)["ETag"]
