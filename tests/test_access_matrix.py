"""The access matrix of ../shared/SECURITY.md as one data table, run against the web pages, the
API and the CSV exports. Every cell is a test; ids read "role-resource-action-outcome".

"—" cells must answer exactly like a missing object (same status and body), so the existence of
a hidden record does not leak; list, CSV and count cells must not contain hidden rows.
Events and event invitations do not exist yet: their rows are not in the table. Self-service
(proposed profile changes, "My organisation", moderation, freshness, editor invitations) has its
own tables at the end, with one more role: a moderator (EU staff with "Moderators").
"""

import csv
import io
import re
import uuid

import pytest
from django.core.cache import cache
from django.test import Client
from rest_framework.test import APIClient

from directory.models import (
    ConfirmationReminder,
    EditorInvitation,
    Interaction,
    Organisation,
    OrganisationEditor,
    ProfileChange,
)
from tests.access_world import (  # noqa: F401 (fixture)
    INTERACTION_VIEWERS,
    ROLES,
    SELF_SERVICE_ROLES,
    world_fixture,
)

# --- the data table -------------------------------------------------------------------------
# R read, "—" nothing (404 like a missing object), M metadata only (SECURITY.md, admin on
# compartmented contact history). Rows mirror SECURITY.md's matrix; the resources are the
# objects of tests/access_world.py.

R, NO, M = "R", "—", "M"


def _row(public, editor, staff, staff_restricted, organiser, admin):
    return dict(zip(ROLES, (public, editor, staff, staff_restricted, organiser, admin), strict=True))


MATRIX = {
    # public fields of public organisations
    "public_org": _row(R, R, R, R, R, R),
    # a public organisation that is closed is not in the public directory
    "closed_org": _row(NO, NO, R, R, R, R),
    # organisations visible to EU staff only (the editor's own X below)
    "staff_org": _row(NO, NO, R, R, R, R),
    "x_staff_org": _row(NO, R, R, R, R, R),
    # restricted organisations
    "restricted_org": _row(NO, NO, NO, R, NO, R),
    "x_restricted_org": _row(NO, R, NO, R, NO, R),
    # internal fields (notes, status, verification, visibility) of a visible organisation
    "internal_fields": _row(NO, NO, R, R, R, R),
    # people (names, contact data); restricted people only with the permission
    "person_public_org": _row(NO, NO, R, R, NO, R),
    "person_staff_org": _row(NO, NO, R, R, NO, R),
    "person_of_x": _row(NO, R, R, R, NO, R),
    "restricted_person": _row(NO, NO, NO, R, NO, R),
    # history of changes (the "Recent changes" section of an organisation page)
    "history": _row(NO, NO, R, R, NO, R),
}
# Exporting people needs "Can export people" (group "People exporters"): staff_restricted has it.
PEOPLE_EXPORT = _row(401, 403, 403, 200, 403, 200)
SUBJECT_ACCESS_ALLOWED = {"staff_restricted", "admin"}

INTERACTIONS = {
    # viewer: public, editor, organiser, author, staff (team member), other_team_staff,
    # participant (other team, named), staff_restricted (team member), admin
    "interaction_staff": dict(zip(INTERACTION_VIEWERS, (NO, NO, NO, R, R, R, R, R, R), strict=True)),
    "interaction_team": dict(zip(INTERACTION_VIEWERS, (NO, NO, NO, R, R, NO, NO, R, M), strict=True)),
    "interaction_participants": dict(
        zip(INTERACTION_VIEWERS, (NO, NO, NO, R, NO, NO, R, NO, M), strict=True)
    ),
}

ORG_ACTIONS = ("web_list", "web_detail", "api_list", "api_detail", "api_csv")
INTERNAL_ACTIONS = ("web_detail", "api_detail", "api_list", "api_csv")
PEOPLE_ACTIONS = ("web_list", "web_detail", "org_page", "api_list", "api_detail", "api_csv", "subject_access", "erase_page")
INTERACTION_WEB_ACTIONS = ("web_list", "web_detail", "web_csv", "org_timeline", "person_timeline")
INTERACTION_API_ACTIONS = ("api_list", "api_detail", "api_csv", "api_org_timeline", "api_person_timeline")
COUNT_ACTIONS = ("web_count", "web_facets", "api_count", "api_facets", "api_csv_rows")

ORGANISATIONS = ("public_org", "closed_org", "staff_org", "x_staff_org", "restricted_org", "x_restricted_org")
PEOPLE = ("person_public_org", "person_staff_org", "person_of_x", "restricted_person")


def _outcome(action, expected):
    if action in ("web_list", "api_list", "api_csv", "web_csv"):
        return {R: "listed", NO: "absent", M: "metadata"}[expected]
    return {R: "200", NO: "404", M: "metadata"}[expected]


def _org_cells():
    for resource in ORGANISATIONS:
        for role in ROLES:
            for action in ORG_ACTIONS:
                expected = MATRIX[resource][role]
                yield pytest.param(role, resource, action, expected,
                                   id=f"{role}-{resource}-{action}-{_outcome(action, expected)}")


def _internal_cells():
    for target in ("public_org", "x_staff_org"):
        for role in ROLES:
            if MATRIX[target][role] == NO:
                continue  # the organisation itself is hidden: covered by _org_cells
            for action in INTERNAL_ACTIONS:
                expected = MATRIX["internal_fields"][role]
                outcome = "present" if expected == R else "absent"
                yield pytest.param(role, target, action, expected,
                                   id=f"{role}-internal_fields@{target}-{action}-{outcome}")


def _people_cells():
    for resource in PEOPLE:
        for role in ROLES:
            for action in PEOPLE_ACTIONS:
                expected = MATRIX[resource][role]
                if action == "api_csv":
                    outcome = str(PEOPLE_EXPORT[role]) + ("-listed" if expected == R else "-absent")
                elif action == "subject_access":
                    outcome = _person_page_status(role, expected, allowed=role in SUBJECT_ACCESS_ALLOWED)
                elif action == "erase_page":
                    outcome = _person_page_status(role, expected, allowed=role == "admin")
                elif role == "public" and action in ("web_list", "web_detail"):
                    outcome = "login"
                elif role == "public" and action in ("api_list", "api_detail"):
                    outcome = "401"
                elif action == "org_page":
                    outcome = "contacts-shown" if expected == R else "contacts-hidden"
                else:
                    outcome = _outcome(action, expected)
                yield pytest.param(role, resource, action, expected, outcome,
                                   id=f"{role}-{resource}-{action}-{outcome}")


def _person_page_status(role, expected, allowed):
    if role == "public":
        return "login"
    if expected == NO:
        return "404"
    return "200" if allowed else "403"


def _interaction_cells(actions):
    for resource, row in INTERACTIONS.items():
        for viewer in INTERACTION_VIEWERS:
            for action in actions:
                expected = row[viewer]
                if viewer == "public" and action.startswith(("web_", "org_", "person_")):
                    outcome = "login" if action not in ("org_timeline",) else "absent"
                else:
                    outcome = {R: "full", M: "metadata", NO: "absent"}[expected]
                yield pytest.param(viewer, resource, action, expected,
                                   id=f"{viewer}-{resource}-{action}-{outcome}")


def _count_cells():
    for role in ROLES:
        for action in COUNT_ACTIONS:
            yield pytest.param(role, action, id=f"{role}-visible_set-{action}-hidden_not_counted")


def _history_cells():
    for role in ROLES:
        expected = MATRIX["history"][role]
        yield pytest.param(role, expected, id=f"{role}-history-web_detail-{'shown' if expected == R else 'absent'}")


# --- the world, built once per module -------------------------------------------------------

@pytest.fixture(autouse=True)
def _fresh_throttles():
    cache.clear()
    yield
    cache.clear()


def web(world, role) -> Client:
    client = Client()
    if role != "public":
        client.force_login(world.users[role])
    return client


def api(world, role) -> APIClient:
    client = APIClient()
    if role != "public":
        client.force_authenticate(world.users[role])
    return client


def body(response) -> str:
    if hasattr(response, "streaming_content"):
        if not hasattr(response, "_mx_body"):
            response._mx_body = b"".join(response.streaming_content).decode("utf-8")
        return response._mx_body
    return response.content.decode("utf-8")


CSRF_VALUE = re.compile(r'name="csrfmiddlewaretoken" value="[^"]*"')


def comparable(response, pk) -> str:
    """The body with the id and the (per-render masked) CSRF token normalised."""
    return CSRF_VALUE.sub("csrf", body(response)).replace(str(pk), "<id>")


def same_as_missing(client, url_of, pk, response, method="get"):
    """A hidden object answers exactly like an id that does not exist."""
    missing_pk = uuid.uuid4()
    missing = getattr(client, method)(url_of(missing_pk))
    assert response.status_code == missing.status_code
    assert comparable(response, pk) == comparable(missing, missing_pk)


def is_login_redirect(response):
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def csv_rows(text):
    return list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))


# --- organisations --------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("role, resource, action, expected", list(_org_cells()))
def test_organisation_cell(world, role, resource, action, expected):
    org = world.orgs[resource]
    visible = expected == R
    if action == "web_list":
        response = web(world, role).get("/organisations/")
        assert response.status_code == 200
        assert (org.name in body(response)) is visible
        assert (str(org.pk) in body(response)) is visible
    elif action == "web_detail":
        client = web(world, role)
        response = client.get(f"/organisations/{org.pk}/")
        if visible:
            assert response.status_code == 200 and org.name in body(response)
        else:
            assert response.status_code == 404 and org.name not in body(response)
            same_as_missing(client, lambda pk: f"/organisations/{pk}/", org.pk, response)
    elif action == "api_list":
        response = api(world, role).get("/api/v1/organisations/", {"page_size": 200})
        assert response.status_code == 200
        ids = {row["id"] for row in response.json()["results"]}
        assert (str(org.pk) in ids) is visible
    elif action == "api_detail":
        client = api(world, role)
        response = client.get(f"/api/v1/organisations/{org.pk}/")
        if visible:
            assert response.status_code == 200 and response.json()["id"] == str(org.pk)
        else:
            assert response.status_code == 404
            same_as_missing(client, lambda pk: f"/api/v1/organisations/{pk}/", org.pk, response)
    elif action == "api_csv":
        response = api(world, role).get("/api/v1/organisations/", {"format": "csv"})
        assert response.status_code == 200
        text = body(response)
        assert (str(org.pk) in text) is visible and (org.name in text) is visible


@pytest.mark.django_db
@pytest.mark.parametrize("role, target, action, expected", list(_internal_cells()))
def test_internal_fields_cell(world, role, target, action, expected):
    org = world.orgs[target]
    internal = expected == R
    staff_only_keys = {"status", "internal_notes", "verified_by", "verified_at"}
    if action == "web_detail":
        text = body(web(world, role).get(f"/organisations/{org.pk}/"))
        assert ("Internal (EU staff)" in text) is internal
        if org.internal_notes:
            assert (org.internal_notes in text) is internal
        return
    client = api(world, role)
    if action == "api_detail":
        data = client.get(f"/api/v1/organisations/{org.pk}/").json()
    elif action == "api_list":
        rows = client.get("/api/v1/organisations/", {"page_size": 200}).json()["results"]
        data = next(row for row in rows if row["id"] == str(org.pk))
    else:  # api_csv
        text = body(client.get("/api/v1/organisations/", {"format": "csv"}))
        data = next(row for row in csv_rows(text) if row["id"] == str(org.pk))
        if org.internal_notes:
            assert (org.internal_notes in text) is internal
    if action == "api_csv":  # one header for every row: hidden cells are empty
        data = {key: value for key, value in data.items() if value not in ("", None)}
    if internal:
        assert staff_only_keys - {"verified_by", "verified_at", "internal_notes"} | {"visibility"} <= set(data)
        assert data.get("internal_notes") == org.internal_notes
    else:
        assert not staff_only_keys & set(data)
        # A CSO editor sees the visibility of its own organisation only (API.md), never others'.
        own = role == "editor" and target.startswith("x_")
        assert ("visibility" in data) is own
        assert "mx-internal-note" not in str(data)


@pytest.mark.django_db
@pytest.mark.parametrize("role, expected", list(_history_cells()))
def test_history_cell(world, role, expected):
    text = body(web(world, role).get(f"/organisations/{world.orgs['public_org'].pk}/"))
    assert ("Recent changes" in text) is (expected == R)


# --- counts and facets never include hidden rows --------------------------------------------

def expected_orgs(world, role):
    return [org for key, org in world.orgs.items() if MATRIX[key][role] == R]


@pytest.mark.django_db
@pytest.mark.parametrize("role, action", list(_count_cells()))
def test_visible_set_counts_cell(world, role, action):
    # Only this world's organisations exist in the test database.
    visible = expected_orgs(world, role)
    countries = {}
    for org in visible:
        countries[org.country.code] = countries.get(org.country.code, 0) + 1
    if action == "web_count":
        text = body(web(world, role).get("/organisations/"))
        noun = "organisation matches" if len(visible) == 1 else "organisations match"
        assert f"{len(visible)} {noun}" in text
    elif action == "web_facets":
        response = web(world, role).get("/organisations/")
        options = {o["value"]: o["count"] for o in response.context["options"]["country"]}
        assert options == countries
    elif action == "api_count":
        assert api(world, role).get("/api/v1/organisations/").json()["count"] == len(visible)
    elif action == "api_facets":
        data = api(world, role).get("/api/v1/organisations/", {"facets": 1}).json()
        assert data["facets"]["country"] == countries
        assert sum(data["facets"]["type"].values()) == len(visible)
    else:
        text = body(api(world, role).get("/api/v1/organisations/", {"format": "csv"}))
        assert {row["id"] for row in csv_rows(text)} == {str(o.pk) for o in visible}


# --- people ---------------------------------------------------------------------------------

@pytest.mark.django_db
@pytest.mark.parametrize("role, resource, action, expected, outcome", list(_people_cells()))
def test_person_cell(world, role, resource, action, expected, outcome):
    person = world.people[resource]
    visible = expected == R
    if action == "web_list":
        response = web(world, role).get("/people/")
        if role == "public":
            assert is_login_redirect(response)
        text = body(response)
        assert (person.name in text) is visible and (str(person.pk) in text) is visible
    elif action == "web_detail":
        client = web(world, role)
        response = client.get(f"/people/{person.pk}/")
        if role == "public":
            assert is_login_redirect(response)
        elif visible:
            text = body(response)
            assert response.status_code == 200
            assert person.name in text and person.email in text and person.phone in text
        else:
            assert response.status_code == 404
            same_as_missing(client, lambda pk: f"/people/{pk}/", person.pk, response)
        if not visible:
            assert person.email not in body(response)
    elif action == "org_page":
        org = next(a.organisation for a in person.affiliations.all())
        text = body(web(world, role).get(f"/organisations/{org.pk}/"))
        assert (person.email in text) is visible and (person.name in text) is visible
    elif action == "api_list":
        response = api(world, role).get("/api/v1/people/", {"page_size": 200})
        if role == "public":
            assert response.status_code == 401
            return
        assert response.status_code == 200
        rows = {row["id"]: row for row in response.json()["results"]}
        assert (str(person.pk) in rows) is visible
        if visible:
            assert rows[str(person.pk)]["email"] == person.email
    elif action == "api_detail":
        client = api(world, role)
        response = client.get(f"/api/v1/people/{person.pk}/")
        if role == "public":
            assert response.status_code == 401
            same_as_missing(client, lambda pk: f"/api/v1/people/{pk}/", person.pk, response)
        elif visible:
            assert response.status_code == 200 and response.json()["phone"] == person.phone
        else:
            assert response.status_code == 404
            same_as_missing(client, lambda pk: f"/api/v1/people/{pk}/", person.pk, response)
    elif action == "api_csv":
        response = api(world, role).get("/api/v1/people/", {"format": "csv"})
        assert response.status_code == PEOPLE_EXPORT[role]
        text = body(response)
        assert (person.email in text) is (visible and response.status_code == 200)
        if response.status_code == 200:
            assert (str(person.pk) in {row["id"] for row in csv_rows(text)}) is visible
    elif action in ("subject_access", "erase_page"):
        client = web(world, role)
        path = "export" if action == "subject_access" else "erase"
        response = client.get(f"/people/{person.pk}/{path}/")
        if outcome == "login":
            assert is_login_redirect(response)
        else:
            assert response.status_code == int(outcome)
        if outcome == "404":
            same_as_missing(client, lambda pk: f"/people/{pk}/{path}/", person.pk, response)
        if outcome != "200":
            assert person.email not in body(response) and person.name not in body(response)
        elif action == "subject_access":
            assert person.email in body(response)


# --- contact history ------------------------------------------------------------------------

def interaction_check(text, interaction, expected, *, listed_when_metadata=True):
    """full: subject and notes; metadata: the record (id) without subject and notes; absent:
    nothing of it."""
    if expected == R:
        assert interaction.subject in text
    else:
        assert interaction.subject not in text
        assert interaction.notes not in text
    if expected == NO:
        assert str(interaction.pk) not in text
    elif listed_when_metadata:
        assert str(interaction.pk) in text


@pytest.mark.django_db
@pytest.mark.parametrize("viewer, resource, action, expected", list(_interaction_cells(INTERACTION_WEB_ACTIONS)))
def test_interaction_web_cell(world, viewer, resource, action, expected):
    interaction = world.interactions[resource]
    client = web(world, viewer)
    staff_page = viewer in ("public", "editor", "organiser")  # pages closed to non-staff
    if action == "web_list":
        response = client.get("/interactions/")
    elif action == "web_csv":
        response = client.get("/interactions/export.csv")
    elif action == "web_detail":
        response = client.get(f"/interactions/{interaction.pk}/")
    elif action == "org_timeline":
        response = client.get(f"/organisations/{world.orgs['public_org'].pk}/")
    else:
        response = client.get(f"/people/{world.people['person_public_org'].pk}/")
    text = body(response)
    if viewer == "public" and action != "org_timeline":
        assert is_login_redirect(response)
    elif staff_page and action in ("web_list", "web_csv", "web_detail"):
        assert response.status_code == 404
    if action == "web_detail":
        if expected == NO:
            assert response.status_code in (302, 404)
            same_as_missing(client, lambda pk: f"/interactions/{pk}/", interaction.pk, response)
            assert interaction.subject not in text and interaction.notes not in text
            return
        assert response.status_code == 200
        assert (interaction.subject in text) is (expected == R)
        assert (interaction.notes in text) is (expected == R)
        return
    if action == "web_csv" and response.status_code == 200:
        rows = {row["id"]: row for row in csv_rows(text)}
        if expected == NO:
            assert str(interaction.pk) not in rows
        else:
            row = rows[str(interaction.pk)]
            assert (row["notes"] == interaction.notes) is (expected == R)
            assert (row["subject"] == interaction.subject) is (expected == R)
        return
    # Lists and timelines: the admin's metadata-only rows show in the list, not in timelines.
    interaction_check(text, interaction, expected, listed_when_metadata=action == "web_list")
    if expected != R:
        assert interaction.notes not in text


@pytest.mark.django_db
@pytest.mark.parametrize("viewer, resource, action, expected", list(_interaction_cells(INTERACTION_API_ACTIONS)))
def test_interaction_api_cell(world, viewer, resource, action, expected):
    interaction = world.interactions[resource]
    client = api(world, viewer)
    urls = {
        "api_list": "/api/v1/interactions/?page_size=200",
        "api_csv": "/api/v1/interactions/?format=csv",
        "api_detail": f"/api/v1/interactions/{interaction.pk}/",
        "api_org_timeline": f"/api/v1/organisations/{world.orgs['public_org'].pk}/interactions/?page_size=200",
        "api_person_timeline": f"/api/v1/people/{world.people['person_public_org'].pk}/interactions/?page_size=200",
    }
    response = client.get(urls[action])
    text = body(response)
    if viewer == "public":
        assert response.status_code in (401, 404)
    elif viewer in ("editor", "organiser"):
        assert response.status_code in (403, 404)
    if expected != R:
        assert interaction.subject not in text and interaction.notes not in text
    if action == "api_detail":
        if expected == NO:
            assert response.status_code in (401, 403, 404)
            if response.status_code == 404:
                same_as_missing(client, lambda pk: f"/api/v1/interactions/{pk}/", interaction.pk, response)
        else:
            assert response.status_code == 200 and response.json()["id"] == str(interaction.pk)
            assert (response.json().get("notes") == interaction.notes) is (expected == R)
        return
    timeline = "timeline" in action
    if expected == NO or (expected == M and timeline):
        # Timelines list linked records (content), so metadata-only records are left out.
        assert str(interaction.pk) not in text
    elif expected == M:
        assert response.status_code == 200 and str(interaction.pk) in text
    else:
        assert response.status_code == 200 and interaction.subject in text and interaction.notes in text


# --- writes ---------------------------------------------------------------------------------

NEW_ORGANISATION = {"name": "Mx New Organisation", "country": "KZ"}
WRITES = [
    # role, method, target, expected status (matrix: W for staff with permission and admin)
    ("public", "post", None, 401), ("public", "patch", "public_org", 401), ("public", "delete", "public_org", 401),
    ("editor", "post", None, 403), ("editor", "patch", "x_staff_org", 403), ("editor", "patch", "public_org", 403),
    ("editor", "delete", "x_staff_org", 403),
    ("staff", "post", None, 201), ("staff", "patch", "public_org", 200), ("staff", "patch", "staff_org", 200),
    ("staff", "patch", "restricted_org", 404), ("staff", "delete", "public_org", 204),
    ("staff", "delete", "restricted_org", 404),
    ("staff_restricted", "patch", "restricted_org", 200), ("staff_restricted", "delete", "restricted_org", 204),
    ("organiser", "post", None, 403), ("organiser", "patch", "public_org", 403),
    ("organiser", "patch", "restricted_org", 403), ("organiser", "delete", "public_org", 403),
    ("admin", "post", None, 201), ("admin", "patch", "restricted_org", 200), ("admin", "delete", "restricted_org", 204),
]


def org_state(pk):
    return Organisation.objects.filter(pk=pk).values().first()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, method, target, status",
    [pytest.param(*w, id=f"{w[0]}-{w[2] or 'new_org'}-api_{w[1]}-{w[3]}") for w in WRITES],
)
def test_write_cell(world, role, method, target, status):
    client = api(world, role)
    count = Organisation.objects.count()
    if method == "post":
        response = client.post("/api/v1/organisations/", NEW_ORGANISATION, format="json")
        assert response.status_code == status
        assert Organisation.objects.count() == count + (1 if status == 201 else 0)
        return
    org = world.orgs[target]
    before = org_state(org.pk)
    url = f"/api/v1/organisations/{org.pk}/"
    if method == "patch":
        response = client.patch(url, {"city": "Mx Changed City"}, format="json")
    else:
        response = client.delete(url)
    assert response.status_code == status
    if status == 200:
        assert org_state(org.pk)["city"] == "Mx Changed City"
    elif status == 204:
        assert org_state(org.pk) is None
    else:
        assert org_state(org.pk) == before
    if status == 404 or (status == 403 and target == "restricted_org"):
        missing = uuid.uuid4()
        other = getattr(client, method)(f"/api/v1/organisations/{missing}/", {"city": "x"}, format="json")
        assert (other.status_code, other.json()) == (response.status_code, response.json())


MASS_ASSIGNMENT = [
    # role, field, value (a callable of the world), expected status
    ("staff", "is_staff", lambda w: True, 400),
    ("staff", "id", lambda w: str(w.orgs["staff_org"].pk), 400),
    ("staff", "pk", lambda w: str(uuid.uuid4()), 400),
    ("staff", "organisation", lambda w: str(w.orgs["staff_org"].pk), 400),
    ("staff", "verified_by", lambda w: w.users["staff"].pk, 400),
    ("staff", "search_key", lambda w: "x", 400),
    # Moving the organisation out of the writer's own scope.
    ("staff", "visibility", lambda w: "restricted", 400),
    # Internal fields are writable by staff (matrix: internal fields R W) ...
    ("staff", "verified", lambda w: True, 200),
    ("staff", "visibility", lambda w: "staff", 200),
    # ... and by nobody else.
    ("editor", "verified", lambda w: True, 403),
    ("editor", "visibility", lambda w: "public", 403),
    ("organiser", "verified", lambda w: True, 403),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, field, value, status",
    [pytest.param(*m, id=f"{m[0]}-public_org-api_patch_{m[1]}-{m[3]}") for m in MASS_ASSIGNMENT],
)
def test_mass_assignment_cell(world, role, field, value, status):
    org = world.orgs["public_org"] if role != "editor" else world.orgs["x_staff_org"]
    client = api(world, role)
    before = org_state(org.pk)
    count = Organisation.objects.count()
    response = client.patch(f"/api/v1/organisations/{org.pk}/", {"city": "Mx Mass", field: value(world)}, format="json")
    assert response.status_code == status
    if status == 400:
        assert field in response.json()
    if status != 200:
        assert org_state(org.pk) == before
        # The same body on create: 400 and nothing written.
        created = client.post("/api/v1/organisations/", {**NEW_ORGANISATION, field: value(world)}, format="json")
        assert created.status_code == status if status == 400 else created.status_code in (401, 403)
        assert Organisation.objects.count() == count


CSRF_CELLS = [
    ("staff", "post", "/api/v1/organisations/"),
    ("staff", "patch", "/api/v1/organisations/{public_org}/"),
    ("staff", "delete", "/api/v1/organisations/{public_org}/"),
    ("admin", "post", "/api/v1/organisations/"),
    ("author", "post", "/interactions/new/"),
    ("author", "post", "/interactions/{interaction_team}/edit/"),
    ("admin", "post", "/people/{person_public_org}/erase/"),
]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "role, method, path",
    [pytest.param(*c, id=f"{c[0]}-{c[2].strip('/').replace('/', '_')}-session_{c[1]}_without_csrf-403") for c in CSRF_CELLS],
)
def test_csrf_cell(world, role, method, path):
    objects = {**world.orgs, **world.people, **world.interactions}
    url = path.format(**{key: obj.pk for key, obj in objects.items()})
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.users[role])
    counts = (Organisation.objects.count(), Interaction.objects.count())
    state = org_state(world.orgs["public_org"].pk)
    person_state = type(world.people["person_public_org"]).objects.filter(
        pk=world.people["person_public_org"].pk).values().get()
    notes = Interaction.objects.filter(pk=world.interactions["interaction_team"].pk).values().get()
    data = {"name": "Mx CSRF", "country": "KZ", "subject": "Mx CSRF", "occurred_on": "2025-01-01",
            "kind": "meeting", "sensitivity": "team"}
    if method == "post" and path.startswith("/api/"):
        response = client.post(url, data, content_type="application/json")
    elif method == "post":
        response = client.post(url, data)
    elif method == "patch":
        response = client.patch(url, {"city": "Mx CSRF"}, content_type="application/json")
    else:
        response = client.delete(url)
    assert response.status_code == 403
    assert (Organisation.objects.count(), Interaction.objects.count()) == counts
    assert org_state(world.orgs["public_org"].pk) == state
    assert type(world.people["person_public_org"]).objects.filter(
        pk=world.people["person_public_org"].pk).values().get() == person_state
    assert Interaction.objects.filter(pk=world.interactions["interaction_team"].pk).values().get() == notes


# --- oracles: filters and orderings on fields a role may not read ----------------------------

ORACLE_PARAMS = [
    {"people__phone__startswith": "+7"},
    {"people__email__icontains": "mx-person"},
    {"internal_notes": "x"},
    {"internal_notes__icontains": "mx-internal"},
    {"visibility": "restricted"},
    {"visibility": "staff"},
    {"status": "closed"},
    {"contacted_since": "2000-01-01"},
    {"not_contacted_since": "2000-01-01"},
    {"sensitivity": "restricted"},
    {"interactions__notes__icontains": "mx-notes"},
]
ORACLE_ORDERINGS = ["internal_notes", "-internal_notes", "visibility", "status", "verified_by", "people__phone"]


def _query_id(params):
    return "&".join(f"{k}={v}" for k, v in params.items())


@pytest.mark.django_db
@pytest.mark.parametrize("params", [pytest.param(p, id=_query_id(p)) for p in ORACLE_PARAMS])
@pytest.mark.parametrize("surface", ["api", "web", "api_csv"])
def test_anonymous_hidden_field_filters_do_not_change_the_result(world, params, surface):
    if surface == "web":
        client = web(world, "public")
        plain = client.get("/organisations/")
        filtered = client.get("/organisations/", params)
        assert filtered.status_code in (200, 400)
        if filtered.status_code == 200:
            ids = lambda r: [o.pk for o in r.context["page_obj"].object_list]  # noqa: E731
            assert ids(filtered) == ids(plain)
            assert filtered.context["options"] == plain.context["options"]
        return
    client = api(world, "public")
    extra = {"format": "csv"} if surface == "api_csv" else {"facets": 1}
    plain = client.get("/api/v1/organisations/", extra)
    filtered = client.get("/api/v1/organisations/", {**params, **extra})
    assert filtered.status_code in (200, 400)
    if filtered.status_code == 200:
        if surface == "api_csv":
            assert body(filtered) == body(plain)
        else:
            assert filtered.json() == plain.json()


@pytest.mark.django_db
@pytest.mark.parametrize("ordering", ORACLE_ORDERINGS)
@pytest.mark.parametrize("role", ["public", "editor", "staff"])
def test_ordering_on_hidden_fields_is_rejected(world, role, ordering):
    response = api(world, role).get("/api/v1/organisations/", {"ordering": ordering})
    assert response.status_code == 400 and "ordering" in response.json()
    page = web(world, role).get("/organisations/", {"ordering": ordering})
    assert page.status_code == 400
    assert not page.context["page_obj"].object_list


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["public", "editor", "organiser"])
def test_search_by_a_hidden_organisation_name_finds_nothing(world, role):
    for key in ("restricted_org", "x_restricted_org"):
        if MATRIX[key][role] == R:
            continue
        org = world.orgs[key]
        found = api(world, role).get("/api/v1/organisations/", {"q": org.name}).json()["results"]
        assert str(org.pk) not in {row["id"] for row in found}
        response = web(world, role).get("/organisations/", {"q": org.name})
        assert str(org.pk) not in body(response)
        assert org not in response.context["page_obj"].object_list


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["editor", "staff", "staff_restricted", "admin"])
def test_people_filters_only_see_visible_rows(world, role):
    client = api(world, role)
    restricted = world.people["restricted_person"]
    by_name = client.get("/api/v1/people/", {"q": restricted.name}).json()["count"]
    assert by_name == (1 if MATRIX["restricted_person"][role] == R else 0)
    # Filtering people by a hidden organisation is a 400 (unknown value), not an oracle.
    hidden = world.orgs["restricted_org"]
    response = client.get("/api/v1/people/", {"organisation": str(hidden.pk)})
    if MATRIX["restricted_org"][role] == R:
        assert response.status_code == 200
    else:
        missing = client.get("/api/v1/people/", {"organisation": str(uuid.uuid4())})
        assert response.status_code == missing.status_code == 400
        assert response.json() == missing.json()


@pytest.mark.django_db
def test_staff_contacted_filter_only_counts_interactions_they_may_read(world):
    """`contacted_since` must not reveal that a hidden interaction exists with an organisation."""
    params = {"contacted_since": "2000-01-01", "page_size": 200}
    other = {r["id"] for r in api(world, "other_team_staff").get("/api/v1/organisations/", params).json()["results"]}
    team = {r["id"] for r in api(world, "staff").get("/api/v1/organisations/", params).json()["results"]}
    staff_org = str(world.orgs["staff_org"].pk)  # only linked by team and participants records
    public_org = str(world.orgs["public_org"].pk)
    assert public_org in other and staff_org not in other
    assert public_org in team and staff_org in team


# --- self-service: proposals, "My organisation", moderation, freshness, editor invitations -----
# SECURITY.md: a CSO editor of X reads and proposes for X only, and never sees other editors'
# proposals; staff read the proposals of the organisations they see; moderating needs the
# permission (API.md: 403 for a role that may not moderate); the rest answers 404.

def _ss_row(public, editor, staff, staff_restricted, organiser, admin, moderator):
    return dict(zip(SELF_SERVICE_ROLES, (public, editor, staff, staff_restricted, organiser, admin, moderator),
                    strict=True))


def org_cell(resource, role):
    """MATRIX for the self-service roles: the moderator sees what plain staff see."""
    return MATRIX[resource]["staff" if role == "moderator" else role]


PROPOSALS = {
    # the editor's own, on its staff-only organisation X
    "proposal_x_staff": _ss_row(NO, R, R, R, NO, R, R),
    # the editor's own, on its restricted organisation X: staff without the permission do not see it
    "proposal_x_restricted": _ss_row(NO, R, NO, R, NO, R, NO),
    # another editor's proposal on a public organisation
    "proposal_public_other": _ss_row(NO, NO, R, R, NO, R, R),
}
PROPOSAL_AUTHOR = {"proposal_x_staff": "editor", "proposal_x_restricted": "editor", "proposal_public_other": None}
MODERATORS = {"admin", "moderator"}
# The old and new values carry people's contact data: CSV needs "Can export people".
PROFILE_CHANGE_EXPORT = _ss_row(401, 403, 403, 200, 403, 200, 403)
PROPOSAL_ACTIONS = ("api_list", "api_detail", "api_csv", "api_approve", "api_reject", "api_withdraw",
                    "web_queue", "web_review", "web_withdraw")
# May write organisations directly (editable_by): manage editors and invitations.
STAFF_WRITERS = {"staff", "staff_restricted", "admin", "moderator"}


def _proposal_outcome(role, resource, action):
    expected = PROPOSALS[resource][role]
    if role == "public":
        return "login" if action.startswith("web_") else "401"
    if action == "api_list":
        return "listed" if expected == R else "absent"
    if action == "api_detail":
        return "200" if expected == R else "404"
    if action == "api_csv":
        status = PROFILE_CHANGE_EXPORT[role]
        return f"{status}-{'listed' if expected == R else 'absent'}" if status == 200 else str(status)
    if action in ("api_approve", "api_reject"):
        if expected == NO:
            return "404"
        return "200" if role in MODERATORS else "403"
    if action == "api_withdraw":
        if expected == NO:
            return "404"
        return "200" if PROPOSAL_AUTHOR[resource] == role else "403"
    if action == "web_queue":
        if role not in MODERATORS:
            return "403"
        return "listed" if expected == R else "absent"
    if action == "web_review":
        if role not in MODERATORS:
            return "403"
        return "200" if expected == R else "404"
    # web_withdraw: only the author's own proposal exists for the page
    return "302" if PROPOSAL_AUTHOR[resource] == role else "404"


def _proposal_cells():
    for resource in PROPOSALS:
        for role in SELF_SERVICE_ROLES:
            for action in PROPOSAL_ACTIONS:
                outcome = _proposal_outcome(role, resource, action)
                yield pytest.param(role, resource, action, outcome, id=f"{role}-{resource}-{action}-{outcome}")


def ss_web(world, role) -> Client:
    client = Client()
    if role != "public":
        client.force_login(world.users[role])
    return client


def ss_api(world, role) -> APIClient:
    client = APIClient()
    if role != "public":
        user = type(world.users[role]).objects.get(pk=world.users[role].pk)  # fresh roles
        client.force_authenticate(user)
    return client


def proposal_state(pk):
    return ProfileChange.objects.filter(pk=pk).values().get()


@pytest.mark.django_db
@pytest.mark.parametrize("role, resource, action, outcome", list(_proposal_cells()))
def test_proposal_cell(world, role, resource, action, outcome):
    change = world.proposals[resource]
    tag = next(iter(change.diff.values()))["new"]  # the proposed city, unique to this proposal
    before = proposal_state(change.pk)
    org_before = org_state(change.organisation_id)
    api_url = f"/api/v1/profile-changes/{change.pk}/"
    if action.startswith("api_"):
        client = ss_api(world, role)
        if action == "api_list":
            response = client.get("/api/v1/profile-changes/", {"page_size": 200})
        elif action == "api_csv":
            response = client.get("/api/v1/profile-changes/", {"format": "csv"})
        elif action == "api_detail":
            response = client.get(api_url)
        else:
            verb = action.removeprefix("api_")
            response = client.post(f"{api_url}{verb}/", {"reason": "Mx reason"}, format="json")
        text = body(response)
        status = int(outcome.split("-")[0]) if outcome[0].isdigit() else 200
        assert response.status_code == status, text[:500]
        if outcome in ("listed", "200-listed", "200"):  # the list, or the proposal itself
            assert str(change.pk) in text and tag in text
        else:
            assert str(change.pk) not in text and tag not in text
        if outcome == "404" or (outcome == "401" and action != "api_list" and action != "api_csv"):
            method = "get" if action == "api_detail" else "post"
            suffix = "" if action == "api_detail" else f"{action.removeprefix('api_')}/"
            same_as_missing(client, lambda pk: f"/api/v1/profile-changes/{pk}/{suffix}", change.pk, response,
                            method=method)
        if action == "api_approve" and outcome == "200":
            assert proposal_state(change.pk)["status"] == "approved"
            assert org_state(change.organisation_id)["city"] == tag
        elif action == "api_reject" and outcome == "200":
            assert proposal_state(change.pk)["status"] == "rejected"
            assert org_state(change.organisation_id) == org_before
        elif action == "api_withdraw" and outcome == "200":
            assert proposal_state(change.pk)["status"] == "withdrawn"
        else:
            assert proposal_state(change.pk) == before and org_state(change.organisation_id) == org_before
        return
    client = ss_web(world, role)
    if action == "web_queue":
        response = client.get("/moderation/")
    elif action == "web_review":
        response = client.get(f"/moderation/{change.pk}/")
    else:
        response = client.post(f"/my/proposals/{change.pk}/withdraw/")
    text = body(response)
    if outcome == "login":
        assert is_login_redirect(response)
    elif outcome in ("listed", "absent"):
        assert response.status_code == 200
    else:
        assert response.status_code == int(outcome)
    # (Web pages echo their own address in the language form, so absence is checked on content.)
    if outcome == "listed":
        assert f"/moderation/{change.pk}/" in text and change.organisation.name in text
    elif outcome == "200":
        assert tag in text and change.organisation.name in text
    elif outcome != "302":
        assert f"/moderation/{change.pk}/" not in text or action == "web_review"
        assert tag not in text and change.organisation.name not in text
    if outcome in ("404", "403") and action != "web_queue":
        method = "post" if action == "web_withdraw" else "get"
        path = (lambda pk: f"/my/proposals/{pk}/withdraw/") if action == "web_withdraw" else (
            lambda pk: f"/moderation/{pk}/")
        same_as_missing(client, path, change.pk, response, method=method)
    if outcome == "302":
        assert proposal_state(change.pk)["status"] == "withdrawn"
    else:
        assert proposal_state(change.pk) == before
    assert org_state(change.organisation_id) == org_before


# "My organisation": the editor's own organisations only; everything else is a 404.
MY_ORGANISATION_TARGETS = ("x_staff_org", "x_restricted_org", "public_org")
MY_ORGANISATION_ACTIONS = ("web_page", "web_confirm", "web_propose")


def _my_organisation_outcome(role, target):
    if role == "public":
        return "login"
    own = role == "editor" and target.startswith("x_")
    return "own" if own else "404"


def _my_organisation_cells():
    for target in MY_ORGANISATION_TARGETS:
        for role in SELF_SERVICE_ROLES:
            for action in MY_ORGANISATION_ACTIONS:
                outcome = _my_organisation_outcome(role, target)
                yield pytest.param(role, target, action, outcome, id=f"{role}-my_organisation@{target}-{action}-{outcome}")


def own_form_data(world, org) -> dict:
    """The editor's form as rendered (current values), to post one changed field."""
    client = ss_web(world, "editor")
    response = client.get(f"/my/organisations/{org.pk}/")
    if response.status_code != 200:
        return {}
    form = response.context["form"]
    data = {}
    for name in form.fields:
        value = form[name].value()
        if value in (None, False):
            continue
        data[name] = "on" if value is True else value
    return data


@pytest.mark.django_db
@pytest.mark.parametrize("role, target, action, outcome", list(_my_organisation_cells()))
def test_my_organisation_cell(world, role, target, action, outcome):
    org = world.orgs[target]
    client = ss_web(world, role)
    url = f"/my/organisations/{org.pk}/"
    before = org_state(org.pk)
    proposals = ProfileChange.objects.count()
    if action == "web_page":
        response = client.get(url)
    elif action == "web_confirm":
        response = client.post(f"{url}confirm/")
    else:
        response = client.post(url, {**own_form_data(world, org), "city": "mx-web-proposal-city"})
    text = body(response)
    if outcome == "login":
        assert is_login_redirect(response)
    elif outcome == "404":
        assert response.status_code == 404
        suffix = "confirm/" if action == "web_confirm" else ""
        same_as_missing(client, lambda pk: f"/my/organisations/{pk}/{suffix}", org.pk, response,
                        method="get" if action == "web_page" else "post")
    if outcome != "own":
        assert org.name not in text
        assert org_state(org.pk) == before and ProfileChange.objects.count() == proposals
        return
    if action == "web_page":
        assert response.status_code == 200 and org.name in text
        # Its own proposals only: never another editor's, nor the internal notes.
        own = [p for p in world.proposals.values() if p.organisation_id == org.pk]
        assert all(next(iter(p.diff.values()))["new"] in text for p in own)
        assert "mx-proposal-city-public" not in text
        assert "mx-internal-note" not in text
    elif action == "web_confirm":
        assert response.status_code == 302
        after = org_state(org.pk)
        assert after["confirmed_at"] is not None
        assert {k: v for k, v in after.items() if k not in ("confirmed_at", "updated_at")} == {
            k: v for k, v in before.items() if k not in ("confirmed_at", "updated_at")}
    else:
        # A proposal, not a write.
        assert response.status_code == 302
        assert org_state(org.pk) == before
        assert ProfileChange.objects.count() == proposals + 1
        latest = ProfileChange.objects.filter(organisation=org).order_by("-created_at").first()
        assert latest.author == world.users["editor"] and latest.diff["city"]["new"] == "mx-web-proposal-city"


@pytest.mark.django_db
@pytest.mark.parametrize("role", SELF_SERVICE_ROLES)
def test_my_organisations_list_cell(world, role):
    response = ss_web(world, role).get("/my/organisations/")
    if role == "public":
        assert is_login_redirect(response)
        return
    assert response.status_code == 200
    text = body(response)
    for key, org in world.orgs.items():
        assert (org.name in text) is (role == "editor" and key.startswith("x_"))


# Staff pages: editors and invitations of an organisation (staff who may write it), freshness.
# Both have the editor's link and an invitation; staff without the permission do not see the second.
EDITOR_TARGETS = ("x_staff_org", "x_restricted_org")
EDITOR_ACTIONS = ("web_page", "web_invite", "web_revoke_editor", "web_revoke_invitation")


def _editors_outcome(role, target):
    if role == "public":
        return "login"
    return "allowed" if role in STAFF_WRITERS and org_cell(target, role) == R else "404"


def _editors_cells():
    for target in EDITOR_TARGETS:
        for role in SELF_SERVICE_ROLES:
            for action in EDITOR_ACTIONS:
                outcome = _editors_outcome(role, target)
                yield pytest.param(role, target, action, outcome, id=f"{role}-editors@{target}-{action}-{outcome}")


@pytest.mark.django_db
@pytest.mark.parametrize("role, target, action, outcome", list(_editors_cells()))
def test_editors_cell(world, role, target, action, outcome):
    org = world.orgs[target]
    invitation = world.invitations[target]
    link = OrganisationEditor.objects.get(organisation=org, user=world.users["editor"])
    client = ss_web(world, role)
    base = f"/organisations/{org.pk}/editors/"
    state = (set(OrganisationEditor.objects.values_list("pk", flat=True)),
             list(EditorInvitation.objects.order_by("pk").values()))
    if action == "web_page":
        response = client.get(base)
        path = lambda pk: f"/organisations/{pk}/editors/"  # noqa: E731
    elif action == "web_invite":
        response = client.post(base, {"email": "mx-new-invitee@example.org"})
        path = lambda pk: f"/organisations/{pk}/editors/"  # noqa: E731
    elif action == "web_revoke_editor":
        response = client.post(f"{base}{link.pk}/revoke/")
        path = lambda pk: f"/organisations/{pk}/editors/{link.pk}/revoke/"  # noqa: E731
    else:
        response = client.post(f"/organisations/{org.pk}/invitations/{invitation.pk}/revoke/")
        path = lambda pk: f"/organisations/{pk}/invitations/{invitation.pk}/revoke/"  # noqa: E731
    text = body(response)
    if outcome == "login":
        assert is_login_redirect(response)
    elif outcome == "404":
        assert response.status_code == 404
        same_as_missing(client, path, org.pk, response, method="get" if action == "web_page" else "post")
    if outcome != "allowed":
        assert invitation.email not in text and org.name not in text
        assert (set(OrganisationEditor.objects.values_list("pk", flat=True)),
                list(EditorInvitation.objects.order_by("pk").values())) == state
        return
    if action == "web_page":
        assert response.status_code == 200 and invitation.email in text
    elif action == "web_invite":
        assert response.status_code == 302
        assert EditorInvitation.objects.filter(organisation=org, email="mx-new-invitee@example.org").exists()
    elif action == "web_revoke_editor":
        assert response.status_code == 302 and not OrganisationEditor.objects.filter(pk=link.pk).exists()
    else:
        assert response.status_code == 302
        assert EditorInvitation.objects.get(pk=invitation.pk).revoked_at is not None


def _freshness_outcome(role):
    if role == "public":
        return "login"
    return "allowed" if role in STAFF_WRITERS else "404"


def _freshness_cells():
    for role in SELF_SERVICE_ROLES:
        for action in ("web_page", "web_remind"):
            outcome = _freshness_outcome(role)
            yield pytest.param(role, action, outcome, id=f"{role}-freshness-{action}-{outcome}")


@pytest.mark.django_db
@pytest.mark.parametrize("role, action, outcome", list(_freshness_cells()))
def test_freshness_cell(world, role, action, outcome):
    client = ss_web(world, role)
    if action == "web_page":
        response = client.get("/freshness/")
    else:
        response = client.post("/freshness/", {"organisation": [str(o.pk) for o in world.orgs.values()]})
    text = body(response)
    if outcome == "login":
        assert is_login_redirect(response)
    elif outcome == "404":
        assert response.status_code == 404
    if outcome != "allowed":
        assert not any(org.name in text for org in world.orgs.values())
        assert not ConfirmationReminder.objects.exists()
        return
    visible = {key for key in world.orgs if org_cell(key, role) == R}
    if action == "web_page":
        assert response.status_code == 200
        for key, org in world.orgs.items():
            assert (org.name in text) is (key in visible), key
    else:
        assert response.status_code == 302
        reminded = set(ConfirmationReminder.objects.values_list("organisation_id", flat=True))
        assert reminded <= {world.orgs[key].pk for key in visible}
        # The editor's organisations have an editor with an address, so they are reminded when visible.
        for key in ("x_staff_org", "x_restricted_org"):
            assert (world.orgs[key].pk in reminded) is (key in visible), key
