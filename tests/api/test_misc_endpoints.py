"""Token, me, focus areas, people, docs and throttling."""

import uuid

import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from directory.models import AccessLog, FocusArea
from tests import factories

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/v1/auth/token/"
PASSWORD = "correct-horse-battery"


# --- token --------------------------------------------------------------------------------------

def test_token_happy_path_and_use(api, staff_user):
    response = api.post(TOKEN_URL, {"username": staff_user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    token = response.json()["token"]
    assert Token.objects.get(user=staff_user).key == token
    client = APIClient()
    me = client.get("/api/v1/me/", HTTP_AUTHORIZATION=f"Token {token}")
    assert me.status_code == 200 and me.json()["username"] == staff_user.username
    # asking again gives the same token
    again = api.post(TOKEN_URL, {"username": staff_user.username, "password": PASSWORD}, format="json")
    assert again.json()["token"] == token


@pytest.mark.parametrize(
    "body", [{"username": "nobody", "password": "x"}, {"username": "{user}", "password": "wrong-password"}],
)
def test_token_bad_credentials_is_400(api, staff_user, body):
    body = {k: v.format(user=staff_user.username) for k, v in body.items()}
    response = api.post(TOKEN_URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"non_field_errors": ["Unable to log in with provided credentials."]}
    assert not Token.objects.exists()


def test_token_missing_fields_and_inactive_user(api, staff_user):
    response = api.post(TOKEN_URL, {}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"username", "password"}
    staff_user.is_active = False
    staff_user.save()
    response = api.post(TOKEN_URL, {"username": staff_user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 400


def test_token_endpoint_is_throttled(api, staff_user, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1000/minute", "user": "1000/minute",
                                                               "export": "30/hour", "token": "3/minute"})
    for _ in range(3):
        assert api.post(TOKEN_URL, {"username": "x", "password": "y"}, format="json").status_code == 400
    response = api.post(TOKEN_URL, {"username": staff_user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 429
    assert "detail" in response.json() and response.has_header("Retry-After")


def test_anonymous_reads_are_throttled(api, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "2/minute", "user": "1000/minute",
                                                               "export": "30/hour", "token": "10/minute"})
    assert api.get("/api/v1/focus-areas/").status_code == 200
    assert api.get("/api/v1/focus-areas/").status_code == 200
    assert api.get("/api/v1/focus-areas/").status_code == 429


# --- me -----------------------------------------------------------------------------------------

def test_me_anonymous_is_401(api):
    response = api.get("/api/v1/me/")
    assert response.status_code == 401 and "detail" in response.json()


def test_me_staff(as_user):
    team = factories.TeamFactory(name="EU Delegation to Kazakhstan")
    user = factories.staff_user(team=team)
    body = as_user(user).get("/api/v1/me/").json()
    assert body == {
        "username": user.username, "roles": ["staff"],
        "teams": [{"id": str(team.pk), "name": "EU Delegation to Kazakhstan"}], "organisations": [],
    }


def test_me_editor(as_user):
    org = factories.OrganisationFactory(name="Kylym Shamy", visibility="staff")
    user = factories.editor_of(org)
    body = as_user(user).get("/api/v1/me/").json()
    assert body["roles"] == ["editor"] and body["teams"] == []
    assert body["organisations"] == [{"id": str(org.pk), "name": "Kylym Shamy"}]


def test_me_admin_organiser_and_plain_user(as_user, admin_user):
    assert as_user(admin_user).get("/api/v1/me/").json()["roles"] == ["admin", "staff", "organiser"]
    organiser = factories.staff_user(perms=("manage_events",))
    assert as_user(organiser).get("/api/v1/me/").json()["roles"] == ["staff", "organiser"]
    plain = factories.UserFactory()
    assert as_user(plain).get("/api/v1/me/").json()["roles"] == ["public"]


# --- focus areas -----------------------------------------------------------------------------------

def test_focus_areas_are_public_and_paginated(api):
    body = api.get("/api/v1/focus-areas/").json()
    assert body["count"] == FocusArea.objects.count() and body["next"] is None
    by_slug = {row["slug"]: row for row in body["results"]}
    assert set(by_slug["climate"]) == {"slug", "name", "name_ru", "parent"}
    assert by_slug["climate"]["parent"] == "environment"
    assert by_slug["environment"]["parent"] is None
    assert by_slug["human-rights"]["name_ru"]


# --- people ---------------------------------------------------------------------------------------

@pytest.fixture
def people(db):
    public_org = factories.OrganisationFactory(name="Public org")
    own_org = factories.OrganisationFactory(name="Own org", visibility="staff")
    return {
        "normal": factories.AffiliationFactory(organisation=public_org, person__name="Normal").person,
        "restricted": factories.AffiliationFactory(
            organisation=public_org, person__name="Restricted", person__sensitivity="restricted", is_primary=True
        ).person,
        "own": factories.AffiliationFactory(organisation=own_org, person__name="Own person").person,
        "own_org": own_org,
    }


def people_names(response):
    assert response.status_code == 200, response.content
    return {row["name"] for row in response.json()["results"]}


def test_people_anonymous_is_401(api, people):
    assert api.get("/api/v1/people/").status_code == 401
    assert api.get(f"/api/v1/people/{people['normal'].pk}/").status_code == 401


def test_people_for_staff(as_user, staff_user, restricted_staff_user, people):
    client = as_user(staff_user)
    assert people_names(client.get("/api/v1/people/")) == {"Normal", "Own person"}
    hidden = client.get(f"/api/v1/people/{people['restricted'].pk}/")
    missing = client.get(f"/api/v1/people/{uuid.uuid4()}/")
    assert hidden.status_code == missing.status_code == 404 and hidden.content == missing.content
    assert AccessLog.objects.filter(action="denied", object_id=str(people["restricted"].pk)).exists()
    row = client.get(f"/api/v1/people/{people['normal'].pk}/").json()
    assert row["organisations"][0]["name"] == "Public org"
    assert "sensitivity" in row and "do_not_contact" in row
    restricted = as_user(restricted_staff_user)
    assert people_names(restricted.get("/api/v1/people/")) == {"Normal", "Restricted", "Own person"}
    assert restricted.get(f"/api/v1/people/{people['restricted'].pk}/").status_code == 200


def test_people_for_editor_and_plain_user(as_user, people):
    editor = as_user(factories.editor_of(people["own_org"]))
    assert people_names(editor.get("/api/v1/people/")) == {"Own person"}
    row = editor.get(f"/api/v1/people/{people['own'].pk}/").json()
    assert "sensitivity" not in row and "consent_given_at" not in row
    assert editor.get(f"/api/v1/people/{people['normal'].pk}/").status_code == 404
    plain = as_user(factories.UserFactory())
    assert people_names(plain.get("/api/v1/people/")) == set()


def test_people_filters(as_user, staff_user, people):
    client = as_user(staff_user)
    org = people["own_org"]
    assert people_names(client.get(f"/api/v1/people/?organisation={org.pk}")) == {"Own person"}
    assert people_names(client.get("/api/v1/people/?q=normal")) == {"Normal"}
    assert people_names(client.get("/api/v1/people/?country=KG")) == set()
    assert people_names(client.get("/api/v1/people/?consent=true")) == set()
    response = client.get("/api/v1/people/?organisation=not-an-id")
    assert response.status_code == 400 and "organisation" in response.json()
    assert client.get("/api/v1/people/?ordering=email").status_code == 400


def test_people_export_permission_group(as_user, staff_user, people):
    staff_user.user_permissions.add(Permission.objects.get(codename="export_people"))
    response = as_user(type(staff_user).objects.get(pk=staff_user.pk)).get("/api/v1/people/?format=csv")
    assert response.status_code == 200 and response.streaming


# --- schema and docs ------------------------------------------------------------------------------

def test_schema_and_offline_docs(api, db):
    schema = api.get("/api/v1/schema/")
    assert schema.status_code == 200
    docs = api.get("/api/v1/docs/")
    assert docs.status_code == 200
    html = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
