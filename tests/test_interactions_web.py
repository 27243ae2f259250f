"""Contact history on the web (issue 6): compartments on the list, detail, timelines and CSV
export for every role; the form (services, errors, pickers without JavaScript); the JSON
pickers; follow-ups; fixed query counts."""

import csv
import io
import re
from datetime import date, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from directory.models import AccessAction, AccessLog, Interaction
from tests import factories

pytestmark = pytest.mark.django_db

SUBJECT = {s: f"Subject-{s}-zq" for s in ("staff", "team", "participants")}
NOTES = {s: f"Notes-{s}-secret-xv" for s in ("staff", "team", "participants")}


@pytest.fixture
def world(db):
    team_a = factories.TeamFactory(name="Team A", countries=["KZ"])
    team_b = factories.TeamFactory(name="Team B", countries=["KG"])
    people = {
        "author": factories.staff_user(team=team_a, username="author"),
        "teammate": factories.staff_user(team=team_a, username="teammate"),
        "other_staff": factories.staff_user(team=team_b, username="other"),
        "participant": factories.staff_user(team=team_b, username="participant"),
        "admin": factories.UserFactory(username="root", is_superuser=True, is_staff=True),
    }
    org = factories.OrganisationFactory(name="Almaty Water Network", focus_areas=["water"])
    person = factories.AffiliationFactory(organisation=org, person__name="Dana Seitova").person
    people["organiser"] = factories.UserFactory(username="organiser")
    people["organiser"].user_permissions.add(Permission.objects.get(codename="manage_events"))
    people["editor"] = factories.editor_of(org, username="cso")
    records = {}
    for offset, sensitivity in enumerate(("staff", "team", "participants")):
        records[sensitivity] = factories.interaction(
            people["author"], organisations=[org], people=[person], focus_areas=["water"],
            staff_participants=[people["participant"]] if sensitivity == "participants" else [],
            subject=SUBJECT[sensitivity], notes=NOTES[sensitivity], sensitivity=sensitivity,
            occurred_on=date(2025, 3, 1) - timedelta(days=offset),
        )
    return {"users": people, "org": org, "person": person, "records": records, "team_a": team_a, "team_b": team_b}


# who -> sensitivity -> "read" | "meta" | "none"
MATRIX = {
    "author": {"staff": "read", "team": "read", "participants": "read"},
    "teammate": {"staff": "read", "team": "read", "participants": "none"},
    "other_staff": {"staff": "read", "team": "none", "participants": "none"},
    "participant": {"staff": "read", "team": "none", "participants": "read"},
    "admin": {"staff": "read", "team": "meta", "participants": "meta"},
    "organiser": {"staff": "none", "team": "none", "participants": "none"},
    "editor": {"staff": "none", "team": "none", "participants": "none"},
}
STAFF_ROLES = ("author", "teammate", "other_staff", "participant", "admin")


def login(world, role):
    client = Client()
    client.force_login(world["users"][role])
    return client


def read_csv(response):
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("role", list(MATRIX))
def test_compartments_on_list_detail_timeline_and_csv(world, role):
    client = login(world, role)
    expected = MATRIX[role]
    listing = client.get("/interactions/")
    timeline = client.get(f"/organisations/{world['org'].pk}/")
    person_timeline = client.get(f"/people/{world['person'].pk}/")
    export = client.get("/interactions/export.csv")
    if role not in STAFF_ROLES:
        assert listing.status_code == 404
        assert export.status_code == 404
        assert timeline.status_code == 200  # the public profile, without any contact history
    else:
        assert listing.status_code == 200
        assert export.status_code == 200
        rows = {row["id"]: row for row in read_csv(export)}
    pages = [listing.content.decode(), timeline.content.decode(), person_timeline.content.decode()]
    for sensitivity, access in expected.items():
        record = world["records"][sensitivity]
        detail = client.get(f"/interactions/{record.pk}/")
        for html in pages:
            assert NOTES[sensitivity] not in html  # notes only on the detail page
            assert (SUBJECT[sensitivity] in html) == (access == "read"), (role, sensitivity)
        if access == "none":
            assert detail.status_code == 404
            if role in STAFF_ROLES:
                assert str(record.pk) not in rows
            continue
        assert detail.status_code == 200
        html = detail.content.decode()
        row = rows[str(record.pk)]
        assert row["kind"] == "meeting" and row["team"] == "Team A" and row["author"] == "author"
        assert row["sensitivity"] == sensitivity
        if access == "read":
            assert SUBJECT[sensitivity] in html and NOTES[sensitivity] in html
            assert row["subject"] == SUBJECT[sensitivity] and row["notes"] == NOTES[sensitivity]
            assert row["organisations"] == "Almaty Water Network" and row["people"] == "Dana Seitova"
            assert row["focus_areas"] == "water"
        else:  # administrator: metadata only
            assert SUBJECT[sensitivity] not in html and NOTES[sensitivity] not in html
            assert "Dana Seitova" not in html and "Restricted record" in html
            assert row["subject"] == row["notes"] == row["organisations"] == row["people"] == ""
            assert row["staff_participants"] == ""
            assert "Restricted record" in pages[0]


def test_anonymous_is_sent_to_sign_in(world):
    client = Client()
    record = world["records"]["staff"]
    for url in ("/interactions/", "/interactions/export.csv", "/interactions/new/", f"/interactions/{record.pk}/",
                f"/interactions/{record.pk}/edit/", "/interactions/pick/organisations/?q=alm", "/home/"):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response["Location"].startswith("/accounts/login/"), url
    html = client.get(f"/organisations/{world['org'].pk}/").content.decode()
    assert SUBJECT["staff"] not in html and "Contact history" not in html


def test_list_filters_in_the_url_and_invalid_filter_is_400(world):
    client = login(world, "author")
    call = factories.interaction(world["users"]["author"], kind="call", subject="Phone call one",
                                 occurred_on=date(2024, 6, 1))
    response = client.get("/interactions/", {"kind": "call"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "Phone call one" in html and SUBJECT["staff"] not in html
    assert 'value="call" checked' in html
    response = client.get("/interactions/", {"occurred_after": "2025-01-01", "occurred_before": "2025-12-31"})
    assert "Phone call one" not in response.content.decode() and SUBJECT["team"] in response.content.decode()
    bad = client.get("/interactions/", {"occurred_after": "yesterday"})
    assert bad.status_code == 400
    assert "<code>occurred_after</code>" in bad.content.decode()
    bad_export = client.get("/interactions/export.csv", {"kind": "party"})
    assert bad_export.status_code == 400 and "kind" in bad_export.content.decode()
    empty = client.get("/interactions/", {"q": "nothing-matches-this"})
    assert empty.status_code == 200 and "No interactions match." in empty.content.decode()
    assert call.pk


def test_country_filter_lists_countries_only(world):
    # COUNTRIES_FIRST_BREAK puts a "──────────" separator (value "") into django-countries'
    # list; it must not become a checkbox. Central Asia comes first.
    html = login(world, "author").get("/interactions/").content.decode()
    boxes = re.findall(r'<input type="checkbox" name="country" value="([^"]*)"', html)
    assert "" not in boxes and "──────────" not in html
    assert boxes[:5] == ["KZ", "KG", "TJ", "TM", "UZ"] and len(boxes) > 200


def test_list_is_paginated(world):
    author = world["users"]["author"]
    for i in range(26):
        factories.interaction(author, subject=f"Bulk {i:02}", sensitivity="staff", occurred_on=date(2024, 1, 1))
    client = login(world, "author")
    first = client.get("/interactions/").content.decode()
    second = client.get("/interactions/?page=2").content.decode()
    assert "Page 1 of 2" in first and "Page 2 of 2" in second
    assert first.count('class="card interaction"') == 25 and second.count('class="card interaction"') == 4


def test_csv_export_is_streamed_escaped_and_access_logged(world):
    author = world["users"]["author"]
    factories.interaction(author, subject="=HYPERLINK(\"http://x\")", notes="+1 call me", sensitivity="staff")
    factories.interaction(author, subject="@SUM(A1)", notes="-2", sensitivity="staff")
    client = login(world, "author")
    response = client.get("/interactions/export.csv", {"kind": "meeting"})
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    rows = read_csv(response)
    assert list(rows[0].keys()) == [
        "id", "occurred_on", "kind", "subject", "notes", "organisations", "people", "staff_participants",
        "focus_areas", "team", "author", "sensitivity", "follow_up_due", "follow_up_assignee", "follow_up_done",
    ]
    subjects = {r["subject"] for r in rows}
    assert "'=HYPERLINK(\"http://x\")" in subjects and "'@SUM(A1)" in subjects
    assert {"'+1 call me", "'-2"} <= {r["notes"] for r in rows}
    log = AccessLog.objects.get(action=AccessAction.EXPORT_INTERACTIONS)
    assert log.rows == len(rows) == 5
    assert log.username == "author" and log.via == "web"
    # The admin's export counts the metadata-only rows too.
    login(world, "admin").get("/interactions/export.csv").getvalue()
    assert AccessLog.objects.filter(action=AccessAction.EXPORT_INTERACTIONS, username="root").get().rows == 5


def test_detail_offers_edit_and_follow_up_only_when_allowed(world):
    record = factories.interaction(
        world["users"]["author"], subject="With follow-up", sensitivity="staff",
        follow_up_due=timezone.localdate() + timedelta(days=3),
    )
    own = login(world, "author").get(f"/interactions/{record.pk}/").content.decode()
    assert f"/interactions/{record.pk}/edit/" in own and "Mark follow-up done" in own
    foreign = login(world, "other_staff").get(f"/interactions/{record.pk}/").content.decode()
    assert "With follow-up" in foreign
    assert f"/interactions/{record.pk}/edit/" not in foreign and "Mark follow-up done" not in foreign
    assert login(world, "other_staff").get(f"/interactions/{record.pk}/edit/").status_code == 403
    assert login(world, "teammate").get(f"/interactions/{world['records']['participants'].pk}/edit/").status_code == 404


# --- the form ---------------------------------------------------------------------------

def form_data(world, **overrides):
    data = {
        "occurred_on": "2025-02-01", "kind": "meeting", "subject": "Қазақ Үй meeting ʻ", "notes": "Agreed next steps.",
        "organisations": [str(world["org"].pk)], "people": [str(world["person"].pk)],
        "staff_participants": ["teammate"], "focus_areas": ["water", "youth"],
        "team": str(world["team_a"].pk), "sensitivity": "team",
        "follow_up_due": "2025-03-01", "follow_up_assignee": str(world["users"]["teammate"].pk), "save": "1",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_create_through_the_form_records_history(world):
    client = login(world, "author")
    page = client.get("/interactions/new/").content.decode()
    assert 'name="find_organisations"' in page and "directory/js/picker.js" in page
    assert "<script>" not in page and "style=" not in page
    before = Interaction.objects.count()
    response = client.post("/interactions/new/", form_data(world))
    assert response.status_code == 302
    created = Interaction.objects.exclude(pk__in=[r.pk for r in world["records"].values()]).get()
    assert Interaction.objects.count() == before + 1
    assert response["Location"] == f"/interactions/{created.pk}/"
    assert created.subject == "Қазақ Үй meeting ʻ" and created.author == world["users"]["author"]
    assert list(created.organisations.all()) == [world["org"]]
    assert list(created.people.all()) == [world["person"]]
    assert sorted(created.focus_areas.values_list("slug", flat=True)) == ["water", "youth"]
    assert created.follow_up_assignee == world["users"]["teammate"]
    history = created.history.all()
    assert history.count() >= 1 and history.first().history_user == world["users"]["author"]


def test_edit_through_the_form(world):
    record = world["records"]["team"]
    client = login(world, "teammate")
    page = client.get(f"/interactions/{record.pk}/edit/").content.decode()
    assert SUBJECT["team"] in page and "Almaty Water Network" in page
    response = client.post(f"/interactions/{record.pk}/edit/", form_data(
        world, subject="Renamed", follow_up_assignee=None, follow_up_due=None, follow_up_done="on"))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.subject == "Renamed" and record.author == world["users"]["author"]
    assert record.history.first().history_user == world["users"]["teammate"]


@pytest.mark.parametrize(
    "field,overrides",
    [
        ("occurred_on", {"occurred_on": (date.today() + timedelta(days=400)).isoformat()}),
        ("kind", {"kind": "party"}),
        ("organisations", "restricted"),
        ("follow_up_assignee", "outsider"),
        ("follow_up_assignee", "other_team_of_author"),
        ("notes", {"notes": "x" * 1_000_000}),
        ("subject", {"subject": ""}),
    ],
)
def test_invalid_form_is_400_naming_the_field_and_writes_nothing(world, field, overrides):
    if overrides == "restricted":
        hidden = factories.OrganisationFactory(name="Hidden shelter", visibility="restricted")
        overrides = {"organisations": [str(world["org"].pk), str(hidden.pk)]}
    elif overrides == "outsider":
        overrides = {"follow_up_assignee": str(world["users"]["other_staff"].pk)}
    elif overrides == "other_team_of_author":
        # The author is also in team C; its member is offered but is not in the owning team A.
        team_c = factories.TeamFactory(name="Team C")
        from directory.models import TeamMembership

        TeamMembership.objects.create(team=team_c, user=world["users"]["author"])
        member_c = factories.staff_user(team=team_c, username="member_c")
        overrides = {"follow_up_assignee": str(member_c.pk)}
    client = login(world, "author")
    interactions, history = Interaction.objects.count(), Interaction.history.count()
    response = client.post("/interactions/new/", form_data(world, **overrides))
    assert response.status_code == 400
    html = response.content.decode()
    assert f"<code>{field}</code>" in html
    assert 'aria-invalid="true"' in html or field in ("organisations",)
    assert Interaction.objects.count() == interactions
    assert Interaction.history.count() == history
    if field != "notes":  # what was typed is kept
        assert "Agreed next steps." in html


def test_picker_without_javascript_keeps_typed_data(world):
    factories.OrganisationFactory(name="Almaty Youth Centre")
    factories.OrganisationFactory(name="Almaty Secret Shelter", visibility="restricted")
    client = login(world, "author")
    data = form_data(world, subject="Typed subject kept", organisation_query="almaty", find_organisations="1")
    data.pop("save")
    before = Interaction.objects.count()
    response = client.post("/interactions/new/", data)
    html = response.content.decode()
    assert response.status_code == 200
    assert Interaction.objects.count() == before
    assert 'value="Typed subject kept"' in html and 'value="almaty"' in html
    assert "Almaty Youth Centre" in html
    assert "Almaty Secret Shelter" not in html
    # The chosen organisation stays ticked; the new match is offered unticked.
    assert f'name="organisations" value="{world["org"].pk}" checked' in html
    youth = html.split("Almaty Youth Centre")[0].rsplit("<input", 1)[1]
    assert "checked" not in youth
    assert "errorlist" not in html  # no validation before Save
    # Ticking the match and saving links both.
    data.pop("find_organisations")
    youth_pk = youth.split('value="')[1].split('"')[0]
    data["organisations"] = [str(world["org"].pk), youth_pk]
    data["save"] = "1"
    assert client.post("/interactions/new/", data).status_code == 302
    created = Interaction.objects.get(subject="Typed subject kept")
    assert created.organisations.count() == 2


def test_staff_picker_and_people_picker_find_matches(world):
    client = login(world, "author")
    response = client.post("/interactions/new/", {"staff_query": "team", "find_staff": "1", "subject": "x"})
    assert 'name="staff_participants" value="teammate"' in response.content.decode()
    response = client.post("/interactions/new/", {"person_query": "dana", "find_people": "1"})
    assert f'name="people" value="{world["person"].pk}"' in response.content.decode()


def test_prefill_from_organisation_and_person_pages(world):
    client = login(world, "author")
    org_page = client.get(f"/organisations/{world['org'].pk}/").content.decode()
    assert f"/interactions/new/?organisation={world['org'].pk}" in org_page
    person_page = client.get(f"/people/{world['person'].pk}/").content.decode()
    assert f"/interactions/new/?person={world['person'].pk}" in person_page
    html = client.get(f"/interactions/new/?organisation={world['org'].pk}").content.decode()
    assert f'name="organisations" value="{world["org"].pk}" checked' in html
    html = client.get(f"/interactions/new/?person={world['person'].pk}").content.decode()
    assert f'name="people" value="{world["person"].pk}" checked' in html
    hidden = factories.OrganisationFactory(name="Hidden prefill", visibility="restricted")
    html = client.get(f"/interactions/new/?organisation={hidden.pk}").content.decode()
    assert "Hidden prefill" not in html


def test_json_pickers_are_gated(world):
    factories.OrganisationFactory(name="Almaty Restricted Centre", visibility="restricted")
    for i in range(25):
        factories.OrganisationFactory(name=f"Almaty Group {i:02}")
    client = login(world, "author")
    results = client.get("/interactions/pick/organisations/", {"q": "almaty"}).json()["results"]
    labels = [r["label"] for r in results]
    assert len(results) == 20
    assert all(set(r) == {"id", "label"} for r in results)
    assert not any("Restricted" in label for label in labels)
    narrow = client.get("/interactions/pick/organisations/", {"q": "restricted"}).json()["results"]
    assert narrow == []
    allowed = factories.grant(world["users"]["teammate"], "view_restricted")
    c2 = Client()
    c2.force_login(allowed)
    assert [r["label"] for r in c2.get("/interactions/pick/organisations/", {"q": "restricted"}).json()["results"]] == [
        "Almaty Restricted Centre (KZ)"
    ]
    people = client.get("/interactions/pick/people/", {"q": "seitova"}).json()["results"]
    assert people == [{"id": str(world["person"].pk), "label": "Dana Seitova"}]
    restricted_person = factories.PersonFactory(name="Secret Seitova", sensitivity="restricted")
    assert str(restricted_person.pk) not in str(client.get("/interactions/pick/people/", {"q": "seitova"}).json())
    staff = client.get("/interactions/pick/staff/", {"q": "partic"}).json()["results"]
    assert [r["id"] for r in staff] == ["participant"]
    assert client.get("/interactions/pick/staff/", {"q": "cso"}).json()["results"] == []  # not EU staff
    assert client.get("/interactions/pick/unknown/", {"q": "x"}).status_code == 404
    for role in ("organiser", "editor"):
        assert login(world, role).get("/interactions/pick/organisations/", {"q": "almaty"}).status_code == 404


# --- timelines --------------------------------------------------------------------------

def test_timeline_newest_first_with_kind_and_date_filters(world):
    author = world["users"]["author"]
    org = world["org"]
    factories.interaction(author, organisations=[org], subject="Oldest call", kind="call", sensitivity="staff",
                          occurred_on=date(2023, 5, 1))
    factories.interaction(author, organisations=[org], subject="Newest visit", kind="visit", sensitivity="staff",
                          occurred_on=date(2025, 6, 1))
    client = login(world, "other_staff")
    html = client.get(f"/organisations/{org.pk}/").content.decode()
    order = [html.index(s) for s in ("Newest visit", SUBJECT["staff"], "Oldest call")]
    assert order == sorted(order)
    html = client.get(f"/organisations/{org.pk}/", {"kind": "call"}).content.decode()
    assert "Oldest call" in html and "Newest visit" not in html and SUBJECT["staff"] not in html
    html = client.get(f"/organisations/{org.pk}/", {"occurred_after": "2024-01-01", "occurred_before": "2025-03-31"}).content.decode()
    assert SUBJECT["staff"] in html and "Oldest call" not in html and "Newest visit" not in html
    bad = client.get(f"/organisations/{org.pk}/", {"occurred_after": "not-a-date"})
    assert bad.status_code == 400 and "<code>occurred_after</code>" in bad.content.decode()
    # Only this organisation's interactions.
    factories.interaction(author, organisations=[factories.OrganisationFactory()], subject="Elsewhere",
                          sensitivity="staff")
    assert "Elsewhere" not in client.get(f"/organisations/{org.pk}/").content.decode()
    person_html = client.get(f"/people/{world['person'].pk}/").content.decode()
    assert SUBJECT["staff"] in person_html and "Newest visit" not in person_html


def test_timeline_is_paginated_by_ten(world):
    author = world["users"]["author"]
    for i in range(12):
        factories.interaction(author, organisations=[world["org"]], subject=f"Timeline {i:02}", sensitivity="staff",
                              occurred_on=date(2024, 1, 1) + timedelta(days=i))
    client = login(world, "author")
    html = client.get(f"/organisations/{world['org'].pk}/").content.decode()
    assert html.count('class="card interaction"') == 10 and "Page 1 of 2" in html
    assert "Timeline 11" in html and "Timeline 00" not in html
    html = client.get(f"/organisations/{world['org'].pk}/", {"page": 2}).content.decode()
    assert html.count('class="card interaction"') == 5


def test_organisation_list_shows_last_contacted_to_staff_only(world):
    client = login(world, "other_staff")
    html = client.get("/organisations/").content.decode()
    assert "Last contacted" in html and 'name="not_contacted_since"' in html
    html = client.get("/organisations/", {"contacted_since": "2025-02-01"}).content.decode()
    assert "Almaty Water Network" in html
    html = client.get("/organisations/", {"not_contacted_since": "2025-02-01"}).content.decode()
    assert "Almaty Water Network" not in html
    public = Client().get("/organisations/").content.decode()
    assert "Last contacted" not in public and "contacted_since" not in public


# --- follow-ups -------------------------------------------------------------------------

def csrf_client(user):
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.get("/home/")
    return client, client.cookies["csrftoken"].value


def test_mark_follow_up_done_needs_csrf_and_permission(world):
    author, other = world["users"]["author"], world["users"]["other_staff"]
    record = factories.interaction(author, subject="Due soon", sensitivity="staff",
                                   follow_up_due=timezone.localdate() + timedelta(days=1))
    team_record = factories.interaction(author, subject="Team due", sensitivity="team",
                                        follow_up_due=timezone.localdate() + timedelta(days=1))
    url = f"/interactions/{record.pk}/follow-up/"
    client, token = csrf_client(other)
    assert client.post(url, {"done": "true", "csrfmiddlewaretoken": token}).status_code == 403  # visible, not his
    assert client.post(f"/interactions/{team_record.pk}/follow-up/",
                       {"csrfmiddlewaretoken": token}).status_code == 404  # not visible at all
    record.refresh_from_db()
    team_record.refresh_from_db()
    assert not record.follow_up_done and not team_record.follow_up_done
    own, own_token = csrf_client(author)
    assert own.post(url, {"done": "true"}).status_code == 403  # no CSRF token
    record.refresh_from_db()
    assert not record.follow_up_done
    response = own.post(url, {"done": "true", "csrfmiddlewaretoken": own_token, "next": "/home/"})
    assert response.status_code == 302 and response["Location"] == "/home/"
    record.refresh_from_db()
    assert record.follow_up_done
    assert own.get(url).status_code == 405
    evil = own.post(f"/interactions/{team_record.pk}/follow-up/",
                    {"csrfmiddlewaretoken": own_token, "next": "https://evil.example/"})
    assert evil["Location"] == f"/interactions/{team_record.pk}/"


# --- query counts -----------------------------------------------------------------------

def build_interactions(world, n):
    author = world["users"]["author"]
    Interaction.objects.all().delete()
    for i in range(n):
        org = factories.OrganisationFactory(name=f"Q org {i}", focus_areas=["water"])
        person = factories.AffiliationFactory(organisation=org).person
        factories.interaction(
            author, organisations=[org, world["org"]], people=[person, world["person"]],
            staff_participants=[world["users"]["participant"]], focus_areas=["water", "youth"],
            subject=f"Q {i}", sensitivity=("staff", "team", "participants")[i % 3],
            follow_up_due=timezone.localdate() + timedelta(days=i - 5), occurred_on=date(2025, 1, 1) + timedelta(days=i),
        )


def count_queries(user, url):
    client = Client()
    client.force_login(type(user).objects.get(pk=user.pk))
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200
    return len(ctx.captured_queries)


@pytest.mark.parametrize("role", ["author", "admin"])
def test_query_counts_do_not_grow_with_data(world, role, django_capture_on_commit_callbacks):
    user = world["users"][role]
    urls = ["/interactions/", f"/organisations/{world['org'].pk}/", f"/people/{world['person'].pk}/",
            "/interactions/export.csv", "/home/"]
    counts = {}
    for n in (3, 30):
        with django_capture_on_commit_callbacks(execute=True):  # committed: the home recounts
            build_interactions(world, n)
        counts[n] = [count_queries(user, url) for url in urls]
    assert counts[3] == counts[30], counts


def test_editing_keeps_links_the_editor_may_not_see(world):
    author = factories.grant(world["users"]["author"], "view_restricted")
    hidden = factories.OrganisationFactory(name="Restricted partner", visibility="restricted")
    record = factories.interaction(author, organisations=[world["org"], hidden], subject="Two partners",
                                   sensitivity="team")
    client = login(world, "teammate")  # same team, may edit, may not see the restricted organisation
    page = client.get(f"/interactions/{record.pk}/edit/").content.decode()
    assert "Restricted partner" not in page
    response = client.post(f"/interactions/{record.pk}/edit/", form_data(
        world, subject="Two partners, edited", follow_up_assignee=None, follow_up_due=None))
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.subject == "Two partners, edited"
    assert set(record.organisations.values_list("name", flat=True)) == {"Almaty Water Network", "Restricted partner"}


def test_list_page_does_not_list_every_organisation_but_keeps_the_chosen_one(world):
    # At 50,000 organisations a <select> of all of them made the page weigh 4 MB.
    factories.OrganisationFactory(name="Never contacted Org-qq")
    client = login(world, "author")
    html = client.get("/interactions/").content.decode()
    assert "Never contacted Org-qq" not in html and "Almaty Water Network" in html
    assert '<input type="text" name="organisation" id="id_organisation"' in html
    org = world["org"]
    html = client.get(f"/interactions/?organisation={org.pk}").content.decode()
    assert f'name="organisation" value="{org.pk}" checked' in html
    assert html.count(SUBJECT["staff"]) >= 1


def test_list_and_timeline_count_at_most_the_cap(world, monkeypatch):
    # No COUNT of the whole interactions table: above the cap the pages cover the newest ones.
    from directory.views import interactions as views

    client = login(world, "author")
    assert "3 interactions match." in client.get("/interactions/").content.decode()
    monkeypatch.setattr(views, "COUNT_CAP", 2)
    monkeypatch.setattr(views, "TIMELINE_COUNT_CAP", 2)
    html = client.get("/interactions/").content.decode()
    assert "More than 2 interactions match; the pages show the newest 2." in html
    assert SUBJECT["staff"] in html and SUBJECT["team"] in html and SUBJECT["participants"] not in html
    timeline = client.get(f"/organisations/{world['org'].pk}/").content.decode()
    assert "The pages show the newest 2 interactions" in timeline


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_export_rows_match_the_row_by_row_reference(world, role):
    # The chunked export (plain values, one query per relation and chunk) writes exactly the
    # rows of interaction_csv_row over the prefetching selector, metadata-only records included.
    from directory import selectors
    from directory.views.interactions import interaction_csv_row, interaction_csv_rows

    user = world["users"][role]
    org2 = factories.OrganisationFactory(name="=Formula Org", focus_areas=["youth"])
    factories.interaction(world["users"]["author"], organisations=[org2, world["org"]], people=[world["person"]],
                          focus_areas=["water", "youth"], subject="-minus", sensitivity="team",
                          follow_up_due=date(2025, 5, 1), follow_up_assignee=world["users"]["teammate"])
    qs = selectors.interaction_list(user)
    expected = [interaction_csv_row(i) for i in qs]
    assert expected  # every staff role sees at least the staff-wide record
    assert list(interaction_csv_rows(qs, user)) == expected
