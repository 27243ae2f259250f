"""CSV exports: every matching row, streamed, same filters and visibility as JSON."""

import csv
import io

import pytest
from django.contrib.auth.models import Permission

from directory.models import AccessLog
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/api/v1/organisations/"


def read_csv(response):
    assert response.status_code == 200, getattr(response, "content", b"")
    assert response.streaming is True
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text))), text


@pytest.fixture
def many(db):
    orgs = [
        factories.OrganisationFactory(name=f"KZ org {i:02}", country="KZ", languages=["ru", "kk"],
                                      focus_areas=["water", "youth"])
        for i in range(12)
    ]
    factories.OrganisationFactory(name="KG org", country="KG")
    factories.OrganisationFactory(name="Hidden KZ", country="KZ", visibility="restricted")
    factories.OrganisationFactory(name="Staff KZ", country="KZ", visibility="staff")
    return orgs


def test_csv_matches_json_for_the_same_filters(api, many):
    rows, _ = read_csv(api.get(f"{URL}?format=csv&country=KZ&page_size=5"))
    json_ids = set()
    page = f"{URL}?country=KZ&page_size=5"
    while page:
        body = api.get(page).json()
        json_ids |= {r["id"] for r in body["results"]}
        page = body["next"]
    assert len(rows) == 12  # every row, not one page
    assert {r["id"] for r in rows} == json_ids
    first_json = api.get(f"{URL}?country=KZ").json()["results"][0]
    first_csv = next(r for r in rows if r["id"] == first_json["id"])
    assert first_csv["name"] == first_json["name"]
    assert first_csv["url"] == first_json["url"]
    assert first_csv["languages"] == "ru;kk"
    assert first_csv["focus_areas"] == "water;youth"
    assert first_csv["verified"] == "false"


def test_csv_header_is_the_json_fields_of_the_role(api, as_user, staff_user, many):
    response = api.get(f"{URL}?format=csv")
    assert response["Content-Disposition"] == 'attachment; filename="organisations.csv"'
    _, text = read_csv(response)
    public_fields = list(api.get(URL).json()["results"][0])
    assert text.splitlines()[0].split(",") == public_fields
    assert "internal_notes" not in public_fields
    _, staff_text = read_csv(as_user(staff_user).get(f"{URL}?format=csv"))
    staff_fields = list(as_user(staff_user).get(URL).json()["results"][0])
    assert staff_text.splitlines()[0].split(",") == staff_fields
    assert "internal_notes" in staff_fields


def test_accept_header_selects_csv(api, many):
    rows, _ = read_csv(api.get(URL, HTTP_ACCEPT="text/csv"))
    assert len(rows) == 13


def test_csv_respects_visibility(api, as_user, staff_user, restricted_staff_user, many):
    public_names = {r["name"] for r in read_csv(api.get(f"{URL}?format=csv"))[0]}
    assert "Hidden KZ" not in public_names and "Staff KZ" not in public_names
    staff_names = {r["name"] for r in read_csv(as_user(staff_user).get(f"{URL}?format=csv"))[0]}
    assert "Staff KZ" in staff_names and "Hidden KZ" not in staff_names
    restricted = {r["name"] for r in read_csv(as_user(restricted_staff_user).get(f"{URL}?format=csv"))[0]}
    assert "Hidden KZ" in restricted


@pytest.mark.parametrize("dangerous", ["=HYPERLINK(\"http://x\")", "+7 701 123", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formula_injection_is_escaped(api, db, dangerous):
    factories.OrganisationFactory(name="Safe", acronym=dangerous, phone="")
    rows, _ = read_csv(api.get(f"{URL}?format=csv"))
    assert rows[0]["acronym"] == "'" + dangerous
    assert rows[0]["name"] == "Safe"


def test_identifiers_are_scheme_value(api, db):
    org = factories.OrganisationFactory()
    factories.IdentifierFactory(organisation=org, scheme="KZ-BIN", value="950440001673")
    factories.IdentifierFactory(organisation=org, scheme="KZ-REG", value="A-1")
    rows, _ = read_csv(api.get(f"{URL}?format=csv"))
    assert rows[0]["identifiers"] == "KZ-BIN-950440001673;KZ-REG-A-1"


def test_csv_with_bad_filter_is_a_json_400(api, many):
    response = api.get(f"{URL}?format=csv&country=XX")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "country" in response.json()


def test_focus_areas_csv(api, db):
    rows, _ = read_csv(api.get("/api/v1/focus-areas/?format=csv"))
    by_slug = {r["slug"]: r for r in rows}
    assert by_slug["water"]["parent"] == "environment"
    assert by_slug["environment"]["parent"] == ""


def test_people_csv_needs_export_permission_and_is_logged(as_user, staff_user, db):
    org = factories.OrganisationFactory()
    factories.AffiliationFactory(organisation=org, person__name="=cmd")
    response = as_user(staff_user).get("/api/v1/people/?format=csv")
    assert response.status_code == 403
    assert response["Content-Type"] == "application/json"
    assert not AccessLog.objects.exists()
    staff_user.user_permissions.add(Permission.objects.get(codename="export_people"))
    exporter = type(staff_user).objects.get(pk=staff_user.pk)
    rows, _ = read_csv(as_user(exporter).get("/api/v1/people/?format=csv"))
    assert [r["name"] for r in rows] == ["'=cmd"]
    assert rows[0]["organisations"] == org.name
    log = AccessLog.objects.get()
    assert log.action == "export_people" and log.rows == 1 and log.username == staff_user.username


def test_exports_are_throttled(api, many, monkeypatch):
    from rest_framework.throttling import SimpleRateThrottle

    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1000/minute", "user": "1000/minute",
                                                               "export": "2/hour", "token": "10/minute"})
    assert api.get(f"{URL}?format=csv").status_code == 200
    assert api.get(f"{URL}?format=csv").status_code == 200
    third = api.get(f"{URL}?format=csv")
    assert third.status_code == 429
    assert third["Content-Type"] == "application/json" and "detail" in third.json()
    assert api.get(URL).status_code == 200  # JSON reads are not exports
