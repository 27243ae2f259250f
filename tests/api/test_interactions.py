"""Contact history API (API.md "Contact history"): compartments per role on lists, details,
timelines and CSV; writes through the services; filters; query counts; last contact date."""

import csv
import io
import uuid
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.throttling import SimpleRateThrottle

from directory.models import AccessAction, AccessLog, Interaction, Organisation
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/api/v1/interactions/"
FIELDS = [
    "id", "url", "occurred_on", "kind", "subject", "notes", "organisations", "people",
    "staff_participants", "focus_areas", "team", "author", "sensitivity", "follow_up_due",
    "follow_up_assignee", "follow_up_done", "created_at", "updated_at",
]
SUBJECTS = {"staff": "Staff-wide briefing", "team": "Team-only strategy", "participants": "Whispered matter"}


def detail(obj):
    return f"{URL}{obj.pk}/"


def org_timeline(org):
    return f"/api/v1/organisations/{org.pk}/interactions/"


def person_timeline(person):
    return f"/api/v1/people/{person.pk}/interactions/"


def results(response):
    assert response.status_code == 200, response.content
    return response.json()["results"]


def subjects(response):
    return [row["subject"] for row in results(response)]


def read_csv(response):
    assert response.status_code == 200, getattr(response, "content", b"")
    assert response.streaming is True
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text))), text


def fresh(user):
    """A new user object: roles are cached on the object, as they are once per request."""
    return get_user_model().objects.get(pk=user.pk)


@pytest.fixture
def world(db):
    team_a = factories.TeamFactory(name="EU Delegation Kazakhstan")
    team_b = factories.TeamFactory(name="EU Delegation Kyrgyzstan")
    author = factories.staff_user(team=team_a, username="author")
    teammate = factories.staff_user(team=team_a, username="teammate")
    other = factories.staff_user(team=team_b, username="other")
    participant = factories.staff_user(team=team_b, username="participant")
    admin = factories.UserFactory(username="root", is_superuser=True, is_staff=True)
    organiser = factories.UserFactory(username="organiser")
    organiser.user_permissions.add(Permission.objects.get(codename="manage_events"))
    org = factories.OrganisationFactory(name="Bir Duino", country="KG", focus_areas=["water"])
    other_org = factories.OrganisationFactory(name="Never contacted", country="KZ")
    hidden_org = factories.OrganisationFactory(name="Hidden", visibility="restricted")
    person = factories.AffiliationFactory(organisation=org).person
    hidden_person = factories.PersonFactory(name="Hidden person", sensitivity="restricted")
    editor = factories.editor_of(org, username="cso")
    records = {
        "staff": factories.interaction(
            author, sensitivity="staff", subject=SUBJECTS["staff"], notes="staff notes",
            occurred_on=date(2025, 1, 10), kind="call", organisations=[org], people=[person],
            focus_areas=["water"],
        ),
        "team": factories.interaction(
            author, sensitivity="team", subject=SUBJECTS["team"], notes="team notes",
            occurred_on=date(2025, 1, 20), organisations=[org], people=[person],
            follow_up_due=date(2025, 2, 1), follow_up_assignee=teammate,
        ),
        "participants": factories.interaction(
            author, sensitivity="participants", subject=SUBJECTS["participants"], notes="secret notes",
            occurred_on=date(2025, 1, 30), organisations=[org], people=[person],
            staff_participants=[participant],
        ),
    }
    return {
        "team_a": team_a, "team_b": team_b, "author": author, "teammate": teammate, "other": other,
        "participant": participant, "admin": admin, "organiser": organiser, "editor": editor,
        "org": org, "other_org": other_org, "hidden_org": hidden_org, "person": person,
        "hidden_person": hidden_person, "records": records,
    }


# role → (visible sensitivities, readable sensitivities), newest first
STAFF_ROLES = {
    "author": (["participants", "team", "staff"], ["participants", "team", "staff"]),
    "teammate": (["team", "staff"], ["team", "staff"]),
    "other": (["staff"], ["staff"]),
    "participant": (["participants", "staff"], ["participants", "staff"]),
    "admin": (["participants", "team", "staff"], ["staff"]),
}
CONTENT = ("subject", "notes", "organisations", "people", "staff_participants", "focus_areas",
           "follow_up_due", "follow_up_assignee", "follow_up_done")


def client_for(as_user, api, world, role):
    return api if role == "anonymous" else as_user(world[role])


# --- compartments ---------------------------------------------------------------------------

@pytest.mark.parametrize("role", sorted(STAFF_ROLES))
def test_the_whole_table_form_of_the_compartment_rule_sees_the_same_records(world, role):
    # visible_to(scan=True) serves whole-directory aggregates (the organisation CSV's latest
    # contact): another SQL shape, the same records.
    visible, _readable = STAFF_ROLES[role]
    user = world[role]
    probe = set(Interaction.objects.visible_to(user).values_list("sensitivity", flat=True))
    scan = set(Interaction.objects.visible_to(user, scan=True).values_list("sensitivity", flat=True))
    assert probe == scan == set(visible)


@pytest.mark.parametrize("role", sorted(STAFF_ROLES))
def test_list_and_detail_follow_the_compartments(as_user, world, role):
    visible, readable = STAFF_ROLES[role]
    client = as_user(world[role])
    rows = results(client.get(URL))
    assert [row["sensitivity"] for row in rows] == visible  # newest first
    for row in rows:
        assert list(row) == FIELDS
        record = world["records"][row["sensitivity"]]
        assert row["id"] == str(record.pk)
        assert row["author"] == "author" and row["team"] == str(world["team_a"].pk)
        assert row["occurred_on"] == record.occurred_on.isoformat() and row["kind"] == record.kind
        one = client.get(detail(record))
        assert one.status_code == 200 and one.json() == row
        if row["sensitivity"] in readable:
            assert row["subject"] == SUBJECTS[row["sensitivity"]]
            assert row["organisations"] == [str(world["org"].pk)]
            assert row["people"] == [str(world["person"].pk)]
        else:  # administrator: metadata only
            assert all(row[name] in (None, []) for name in CONTENT), row
            assert row["subject"] is None and row["notes"] is None and row["follow_up_done"] is None
    for sensitivity, record in world["records"].items():
        if sensitivity not in visible:
            missing = client.get(f"{URL}{uuid.uuid4()}/")
            hidden = client.get(detail(record))
            assert hidden.status_code == missing.status_code == 404
            assert hidden.json() == missing.json()


def test_readable_values(as_user, world):
    rows = {r["sensitivity"]: r for r in results(as_user(world["author"]).get(URL))}
    assert rows["staff"]["focus_areas"] == ["water"] and rows["staff"]["notes"] == "staff notes"
    assert rows["staff"]["follow_up_assignee"] is None and rows["staff"]["follow_up_done"] is False
    assert rows["team"]["follow_up_due"] == "2025-02-01" and rows["team"]["follow_up_assignee"] == "teammate"
    assert rows["participants"]["staff_participants"] == ["participant"]
    assert rows["staff"]["url"].endswith(detail(world["records"]["staff"]))


@pytest.mark.parametrize("role", ["organiser", "editor"])
def test_signed_in_non_staff_get_403_on_lists_and_404_on_details(as_user, world, role):
    client = as_user(world[role])
    assert client.get(URL).status_code == 403
    assert client.get(f"{URL}?format=csv").status_code == 403
    assert client.get(org_timeline(world["org"])).status_code == 403
    assert client.get(person_timeline(world["person"])).status_code == 403
    record = world["records"]["staff"]
    assert client.get(detail(record)).status_code == 404
    assert client.patch(detail(record), {"subject": "x"}, format="json").status_code == 404
    assert client.delete(detail(record)).status_code == 404
    response = client.post(URL, {"occurred_on": "2025-01-01", "kind": "call", "subject": "x"}, format="json")
    assert response.status_code == 403
    assert Interaction.objects.count() == 3
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT_INTERACTIONS).exists()


def test_anonymous_gets_401_everywhere(api, world):
    record = world["records"]["staff"]
    for url in (URL, f"{URL}?format=csv", detail(record), org_timeline(world["org"]), person_timeline(world["person"])):
        response = api.get(url)
        assert response.status_code == 401, url
        assert response["Content-Type"].startswith("application/json")
    assert api.post(URL, {"subject": "x"}, format="json").status_code == 401
    assert api.patch(detail(record), {"subject": "x"}, format="json").status_code == 401
    assert api.delete(detail(record)).status_code == 401
    assert Interaction.objects.count() == 3


@pytest.mark.parametrize("role", sorted(STAFF_ROLES))
def test_timelines_follow_the_compartments(as_user, world, role):
    visible, readable = STAFF_ROLES[role]
    client = as_user(world[role])
    # A timeline is selected by a link, which is content: metadata-only records are left out.
    expected = [s for s in visible if s in readable]
    for url in (org_timeline(world["org"]), person_timeline(world["person"])):
        rows = results(client.get(url))
        assert [row["sensitivity"] for row in rows] == expected
        assert [row["subject"] for row in rows] == [SUBJECTS[s] for s in expected]
        assert all(list(row) == FIELDS for row in rows)
    assert results(client.get(org_timeline(world["other_org"]))) == []


@pytest.mark.parametrize("role", sorted(STAFF_ROLES))
def test_csv_follows_the_compartments(as_user, world, role):
    visible, readable = STAFF_ROLES[role]
    client = as_user(world[role])
    rows, text = read_csv(client.get(f"{URL}?format=csv"))
    assert text.splitlines()[0].split(",") == FIELDS
    assert [row["sensitivity"] for row in rows] == visible
    for sensitivity, subject in SUBJECTS.items():
        assert (subject in text) == (sensitivity in readable), (role, sensitivity)
    for row in rows:
        if row["sensitivity"] not in readable:
            assert all(row[name] == "" for name in CONTENT)
            assert row["author"] == "author"
    timeline_rows, timeline_text = read_csv(client.get(f"{org_timeline(world['org'])}?format=csv"))
    assert [row["sensitivity"] for row in timeline_rows] == [s for s in visible if s in readable]
    for sensitivity, subject in SUBJECTS.items():
        assert (subject in timeline_text) == (sensitivity in readable)


def test_csv_matches_json_and_flattens_lists(as_user, world):
    client = as_user(world["author"])
    rows, _ = read_csv(client.get(URL, HTTP_ACCEPT="text/csv"))
    json_rows = results(client.get(URL))
    assert [r["id"] for r in rows] == [r["id"] for r in json_rows]
    staff = next(r for r in rows if r["sensitivity"] == "staff")
    assert staff["organisations"] == str(world["org"].pk)
    assert staff["focus_areas"] == "water" and staff["follow_up_done"] == "false"


def test_csv_export_is_logged_with_its_row_count(as_user, world):
    response = as_user(world["author"]).get(f"{URL}?format=csv&kind=meeting")
    rows, _ = read_csv(response)
    assert response["Cache-Control"] == "no-store"
    log = AccessLog.objects.get(action=AccessAction.EXPORT_INTERACTIONS)
    assert (log.username, log.rows, log.via, log.object_type) == ("author", 2, "api", "interaction")
    assert len(rows) == 2
    read_csv(as_user(world["admin"]).get(f"{org_timeline(world['org'])}?format=csv"))
    assert AccessLog.objects.filter(action=AccessAction.EXPORT_INTERACTIONS, username="root").get().rows == 1
    # JSON reads are not exports.
    as_user(world["author"]).get(URL)
    assert AccessLog.objects.filter(action=AccessAction.EXPORT_INTERACTIONS).count() == 2


def test_csv_exports_are_throttled(as_user, world, monkeypatch):
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {"anon": "1000/minute", "user": "1000/minute",
                                                               "token": "1000/minute", "export": "2/hour"})
    client = as_user(world["author"])
    read_csv(client.get(f"{URL}?format=csv"))
    read_csv(client.get(f"{org_timeline(world['org'])}?format=csv"))
    throttled = client.get(f"{URL}?format=csv")
    assert throttled.status_code == 429
    assert throttled["Content-Type"].startswith("application/json")
    assert client.get(URL).status_code == 200  # JSON is not an export
    assert AccessLog.objects.filter(action=AccessAction.EXPORT_INTERACTIONS).count() == 2


# --- create ---------------------------------------------------------------------------------

def test_create_with_defaults(as_user, world):
    client = as_user(world["teammate"])
    body = {
        "occurred_on": "2025-03-01", "kind": "visit", "subject": "Қ Ү Ң Ө Ғ Ҳ Ҷ ʻ 🙂 שלום",
        "organisations": [str(world["org"].pk)], "people": [str(world["person"].pk)],
        "staff_participants": ["other"], "focus_areas": ["water"],
    }
    response = client.post(URL, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert list(data) == FIELDS
    assert data["team"] == str(world["team_a"].pk)  # the author's team
    assert data["author"] == "teammate" and data["sensitivity"] == "team"
    assert data["subject"] == body["subject"] and data["notes"] == ""
    assert data["organisations"] == body["organisations"] and data["people"] == body["people"]
    assert data["staff_participants"] == ["other"] and data["focus_areas"] == ["water"]
    assert data["follow_up_due"] is None and data["follow_up_done"] is False
    assert response["Location"].endswith(f"{URL}{data['id']}/") and response["ETag"]
    saved = Interaction.objects.get(pk=data["id"])
    assert saved.author == world["teammate"] and saved.team == world["team_a"]
    assert set(saved.history.values_list("history_user", flat=True)) == {world["teammate"].pk}
    assert client.get(f"{URL}{data['id']}/").json() == data


def test_create_with_explicit_team_and_follow_up(as_user, world):
    user = factories.staff_user(team=world["team_b"], username="two-teams")
    world["team_a"].memberships.create(user=user)
    body = {"occurred_on": "2025-03-01", "kind": "call", "subject": "Follow me",
            "team": str(world["team_b"].pk), "sensitivity": "staff", "follow_up_due": "2025-04-01",
            "follow_up_assignee": "other"}
    response = as_user(user).post(URL, body, format="json")
    assert response.status_code == 201, response.content
    data = response.json()
    assert data["team"] == str(world["team_b"].pk) and data["follow_up_assignee"] == "other"
    assert data["follow_up_due"] == "2025-04-01" and data["sensitivity"] == "staff"


def far_future():
    return (timezone.localdate() + timedelta(days=400)).isoformat()


BAD_CREATES = [
    ({"occurred_on": "FUTURE"}, "occurred_on"),
    ({"occurred_on": "2025-02-30"}, "occurred_on"),
    ({"kind": "lunch"}, "kind"),
    ({"kind": None}, "kind"),
    ({"subject": ""}, "subject"),
    ({"subject": "   "}, "subject"),
    ({"subject": "x" * 201}, "subject"),
    ({"subject": "nul\x00byte"}, "subject"),
    ({"notes": "x" * 1_000_000}, "notes"),
    ({"organisations": ["not-a-uuid"]}, "organisations"),
    ({"organisations": "HIDDEN_ORG"}, "organisations"),
    ({"organisations": "MISSING"}, "organisations"),
    ({"organisations": str(uuid.uuid4())}, "organisations"),
    ({"people": "HIDDEN_PERSON"}, "people"),
    ({"people": [1, 2]}, "people"),
    ({"staff_participants": ["organiser"]}, "staff_participants"),
    ({"focus_areas": ["no-such-area"]}, "focus_areas"),
    ({"team": "OTHER_TEAM"}, "team"),
    ({"team": "not-a-uuid"}, "team"),
    ({"sensitivity": "secret"}, "sensitivity"),
    ({"follow_up_assignee": "other", "follow_up_due": "2025-04-01"}, "follow_up_assignee"),
    ({"follow_up_assignee": "nobody-by-that-name", "follow_up_due": "2025-04-01"}, "follow_up_assignee"),
    ({"follow_up_assignee": "teammate"}, "follow_up_due"),
    ({"follow_up_done": "perhaps"}, "follow_up_done"),
]


@pytest.mark.parametrize("change,field", BAD_CREATES)
def test_bad_input_is_400_naming_the_field_and_writes_nothing(as_user, world, change, field):
    placeholders = {
        "FUTURE": far_future(), "HIDDEN_ORG": [str(world["hidden_org"].pk)],
        "MISSING": [str(uuid.uuid4())], "HIDDEN_PERSON": [str(world["hidden_person"].pk)],
        "OTHER_TEAM": str(world["team_b"].pk),
    }
    body = {"occurred_on": "2025-03-01", "kind": "meeting", "subject": "Valid",
            "organisations": [str(world["org"].pk)], "people": [str(world["person"].pk)]}
    body.update({k: placeholders.get(v, v) if isinstance(v, str) else v for k, v in change.items()})
    through = Interaction.organisations.through
    before = (Interaction.objects.count(), through.objects.count(), Interaction.history.count())
    response = as_user(world["author"]).post(URL, body, format="json")
    assert response.status_code == 400, response.content
    assert field in response.json(), response.json()
    assert (Interaction.objects.count(), through.objects.count(), Interaction.history.count()) == before


def test_hidden_organisation_reads_like_a_missing_one(as_user, world):
    client = as_user(world["author"])
    messages = []
    for pk in (world["hidden_org"].pk, uuid.uuid4()):
        body = {"occurred_on": "2025-03-01", "kind": "call", "subject": "x", "organisations": [str(pk)]}
        response = client.post(URL, body, format="json")
        assert response.status_code == 400
        messages.append(response.json()["organisations"][0].replace(str(pk), "ID"))
    assert messages[0] == messages[1] == "Unknown organisation: ID."


def test_restricted_staff_may_link_restricted_organisation(as_user, world):
    user = factories.staff_user(team=world["team_a"], perms=("view_restricted",))
    body = {"occurred_on": "2025-03-01", "kind": "call", "subject": "x",
            "organisations": [str(world["hidden_org"].pk)], "people": [str(world["hidden_person"].pk)]}
    response = as_user(user).post(URL, body, format="json")
    assert response.status_code == 201, response.content
    assert response.json()["organisations"] == [str(world["hidden_org"].pk)]


def test_member_of_no_team_cannot_create_without_team(as_user, world):
    response = as_user(world["admin"]).post(
        URL, {"occurred_on": "2025-03-01", "kind": "call", "subject": "x"}, format="json"
    )
    assert response.status_code == 400 and "team" in response.json()
    assert Interaction.objects.count() == 3


@pytest.mark.parametrize(
    "field,value",
    [("author", "other"), ("id", str(uuid.uuid4())), ("created_at", "2020-01-01T00:00:00Z"),
     ("url", "http://x/"), ("readable", True), ("history", [])],
)
def test_mass_assignment_is_rejected(as_user, world, field, value):
    client = as_user(world["author"])
    body = {"occurred_on": "2025-03-01", "kind": "call", "subject": "x", field: value}
    response = client.post(URL, body, format="json")
    assert response.status_code == 400
    assert response.json() == {field: ["This field cannot be written."]}
    assert Interaction.objects.count() == 3
    record = world["records"]["team"]
    response = client.patch(detail(record), {field: value}, format="json")
    assert response.status_code == 400 and response.json() == {field: ["This field cannot be written."]}
    record.refresh_from_db()
    assert record.author == world["author"]


def test_malformed_and_wrongly_typed_bodies(as_user, world):
    client = as_user(world["author"])
    assert client.post(URL, "{not json", content_type="application/json").status_code == 400
    assert client.post(URL, "[]", content_type="application/json").status_code == 400
    assert client.post(URL, "a=b", content_type="text/plain").status_code == 415
    response = client.post(URL, {"occurred_on": 5, "kind": [], "subject": {"a": 1}}, format="json")
    assert response.status_code == 400 and {"occurred_on", "kind", "subject"} <= set(response.json())
    assert Interaction.objects.count() == 3


# --- update and delete ----------------------------------------------------------------------

def test_author_updates_and_text_round_trips(as_user, world):
    client = as_user(world["author"])
    record = world["records"]["participants"]
    notes = "Ўзбек Қазақ ʻ\r\n🙂 مرحبا =SUM(A1)"
    response = client.patch(detail(record), {"notes": notes, "kind": "email"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["notes"] == notes and response.json()["kind"] == "email"
    assert response.json()["staff_participants"] == ["participant"]  # untouched
    record.refresh_from_db()
    assert record.notes == notes and record.history.first().history_user == world["author"]


def test_put_replaces_and_needs_the_required_fields(as_user, world):
    client = as_user(world["author"])
    record = world["records"]["team"]
    response = client.put(detail(record), {"subject": "Only this"}, format="json")
    assert response.status_code == 400 and {"occurred_on", "kind"} <= set(response.json())
    body = {"occurred_on": "2025-01-21", "kind": "other", "subject": "Replaced", "organisations": []}
    response = client.put(detail(record), body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["organisations"] == [] and response.json()["subject"] == "Replaced"


def test_team_member_edits_a_team_record(as_user, world):
    record = world["records"]["team"]
    response = as_user(world["teammate"]).patch(detail(record), {"subject": "Edited by team"}, format="json")
    assert response.status_code == 200, response.content
    assert Interaction.objects.get(pk=record.pk).subject == "Edited by team"


def test_only_the_author_moves_a_record_out_of_the_team(as_user, world):
    record = world["records"]["team"]
    for sensitivity in ("staff", "participants"):
        response = as_user(world["teammate"]).patch(detail(record), {"sensitivity": sensitivity}, format="json")
        assert response.status_code == 400 and "sensitivity" in response.json()
    assert Interaction.objects.get(pk=record.pk).sensitivity == "team"
    response = as_user(world["author"]).patch(detail(record), {"sensitivity": "staff"}, format="json")
    assert response.status_code == 200


def test_team_cannot_be_moved_to_a_team_the_writer_is_not_in(as_user, world):
    record = world["records"]["team"]
    response = as_user(world["author"]).patch(detail(record), {"team": str(world["team_b"].pk)}, format="json")
    assert response.status_code == 400 and "team" in response.json()
    assert Interaction.objects.get(pk=record.pk).team == world["team_a"]


@pytest.mark.parametrize(
    "role,sensitivity,status",
    [
        ("teammate", "staff", 403),   # visible (all staff), not editable (not the author)
        ("other", "staff", 403),
        ("other", "team", 404),       # not visible
        ("teammate", "participants", 404),
        ("participant", "participants", 403),  # a named participant reads, does not edit
        ("admin", "team", 403),       # metadata only
        ("admin", "staff", 403),
    ],
)
def test_writes_outside_editable_records(as_user, world, role, sensitivity, status):
    client = as_user(world[role])
    record = world["records"][sensitivity]
    assert client.patch(detail(record), {"subject": "Hijacked"}, format="json").status_code == status
    assert client.put(detail(record), {"occurred_on": "2025-01-01", "kind": "call", "subject": "Hijacked"},
                      format="json").status_code == status
    assert client.delete(detail(record)).status_code == status
    record.refresh_from_db()
    assert record.subject == SUBJECTS[sensitivity]


def test_delete(as_user, world):
    record = world["records"]["team"]
    assert as_user(world["teammate"]).delete(detail(record)).status_code == 204
    assert not Interaction.objects.filter(pk=record.pk).exists()
    assert as_user(world["author"]).delete(detail(world["records"]["staff"])).status_code == 204
    assert as_user(world["author"]).get(detail(world["records"]["staff"])).status_code == 404


def test_assignee_may_close_a_follow_up_only(as_user, world):
    record = factories.interaction(
        world["author"], sensitivity="staff", subject="Staff follow-up",
        follow_up_due=date(2025, 2, 1), follow_up_assignee=world["teammate"],
    )
    client = as_user(world["teammate"])
    response = client.patch(detail(record), {"follow_up_done": True}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["follow_up_done"] is True
    assert client.patch(detail(record), {"follow_up_done": True, "subject": "x"}, format="json").status_code == 403
    assert as_user(world["other"]).patch(detail(record), {"follow_up_done": False}, format="json").status_code == 403
    assert Interaction.objects.get(pk=record.pk).follow_up_done is True


def test_update_keeps_links_the_writer_cannot_see(as_user, world):
    author = factories.staff_user(team=world["team_a"], perms=("view_restricted",))
    record = factories.interaction(author, organisations=[world["hidden_org"]], subject="Restricted link")
    body = {"organisations": [str(world["org"].pk)]}
    response = as_user(world["teammate"]).patch(detail(record), body, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["organisations"] == [str(world["org"].pk)]  # the hidden one is not shown
    assert set(record.organisations.values_list("pk", flat=True)) == {world["org"].pk, world["hidden_org"].pk}


def test_etag_and_if_match(as_user, world):
    client = as_user(world["author"])
    record = world["records"]["team"]
    response = client.get(detail(record))
    etag = response["ETag"]
    assert client.get(detail(record), HTTP_IF_NONE_MATCH=etag).status_code == 304
    stale = client.patch(detail(record), {"subject": "A"}, format="json", HTTP_IF_MATCH='"stale"')
    assert stale.status_code == 412
    assert client.delete(detail(record), HTTP_IF_MATCH='"stale"').status_code == 412
    ok = client.patch(detail(record), {"subject": "A"}, format="json", HTTP_IF_MATCH=etag)
    assert ok.status_code == 200 and ok["ETag"] != etag
    assert client.patch(detail(record), {"subject": "B"}, format="json", HTTP_IF_MATCH=etag).status_code == 412
    assert Interaction.objects.get(pk=record.pk).subject == "A"
    assert client.delete(detail(record), HTTP_IF_MATCH=ok["ETag"]).status_code == 204


# --- filters --------------------------------------------------------------------------------

@pytest.fixture
def filtered(world):
    author = world["author"]
    kz = factories.OrganisationFactory(name="KZ org", country="KZ", focus_areas=["youth"])
    extra = {
        "kz": factories.interaction(author, sensitivity="staff", subject="Almaty youth forum", kind="event",
                                    occurred_on=date(2024, 6, 1), organisations=[kz], focus_areas=["youth"]),
        "mine": factories.interaction(world["teammate"], sensitivity="team", subject="Assigned to me",
                                      occurred_on=date(2024, 5, 1), follow_up_due=date(2024, 6, 1)),
    }
    return {**world["records"], **extra}


@pytest.mark.parametrize(
    "query,expected",
    [
        ("", ["participants", "team", "staff", "kz", "mine"]),
        ("kind=call", ["staff"]),
        ("kind=call&kind=event", ["staff", "kz"]),
        ("occurred_after=2025-01-15", ["participants", "team"]),
        ("occurred_before=2025-01-15", ["staff", "kz", "mine"]),
        ("occurred_after=2024-06-01&occurred_before=2025-01-20", ["team", "staff", "kz"]),
        ("country=KZ", ["kz"]),
        ("country=KG&country=KZ", ["participants", "team", "staff", "kz"]),
        ("focus_area=water", ["staff"]),
        ("focus_area=youth", ["kz"]),
        ("follow_up_open=true", ["team", "mine"]),
        ("follow_up_open=false", ["participants", "staff", "kz"]),
        ("q=forum almaty", ["kz"]),
        ("q=nothing-like-it", []),
    ],
)
def test_filters(as_user, world, filtered, query, expected):
    rows = results(as_user(world["author"]).get(f"{URL}?{query}"))
    assert [r["id"] for r in rows] == [str(filtered[key].pk) for key in expected]


def test_record_team_and_assigned_filters(as_user, world, filtered):
    client = as_user(world["author"])
    org, person = world["org"], world["person"]
    assert len(results(client.get(f"{URL}?organisation={org.pk}"))) == 3
    assert len(results(client.get(f"{URL}?person={person.pk}"))) == 3
    assert results(client.get(f"{URL}?team={world['team_b'].pk}")) == []
    assert len(results(client.get(f"{URL}?team={world['team_a'].pk}"))) == 5
    teammate = as_user(world["teammate"])
    # `mine` (assignee defaults to its author) and `team` (assigned to the teammate).
    assigned = {r["id"] for r in results(teammate.get(f"{URL}?assigned_to=me"))}
    assert assigned == {str(filtered["mine"].pk), str(filtered["team"].pk)}
    assert results(client.get(f"{URL}?assigned_to=me")) == []


@pytest.mark.parametrize(
    "query,parameter",
    [
        ("occurred_after=2025-02-01&occurred_before=2025-01-01", "occurred_before"),
        ("occurred_after=2025-13-01", "occurred_after"),
        ("occurred_before=yesterday", "occurred_before"),
        ("kind=lunch", "kind"),
        ("organisation=not-a-uuid", "organisation"),
        ("organisation=HIDDEN", "organisation"),
        ("person=00000000-0000-0000-0000-000000000000", "person"),
        ("country=XX", "country"),
        ("focus_area=nope", "focus_area"),
        ("team=nope", "team"),
        ("follow_up_open=maybe", "follow_up_open"),
        ("assigned_to=you", "assigned_to"),
        ("q=" + "x" * 201, "q"),
    ],
)
def test_invalid_filter_values_are_400_naming_the_parameter(as_user, world, query, parameter):
    query = query.replace("HIDDEN", str(world["hidden_org"].pk))
    client = as_user(world["author"])
    for url in (URL, org_timeline(world["org"])):
        response = client.get(f"{url}?{query}")
        assert response.status_code == 400, (url, response.content)
        assert parameter in response.json()
    assert client.get(f"{URL}?{query}&format=csv").status_code == 400
    assert not AccessLog.objects.filter(action=AccessAction.EXPORT_INTERACTIONS).exists()


def test_content_filters_do_not_reveal_metadata_only_records(as_user, world):
    """An administrator lists metadata-only records, but a filter on their content (links,
    subject, follow-up) must not tell which ones match (SECURITY.md: no oracle)."""
    admin = as_user(world["admin"])
    assert len(results(admin.get(URL))) == 3
    staff_only = [SUBJECTS["staff"]]
    expectations = {
        f"organisation={world['org'].pk}": staff_only,
        f"person={world['person'].pk}": staff_only,
        "country=KG": staff_only,
        "focus_area=water": staff_only,
        "q=strategy": [],  # the team record's subject matches, but the admin may not read it
        "q=whispered": [],
        "follow_up_open=true": [],  # the team record's follow-up is open
        "follow_up_open=false": staff_only,
        "assigned_to=me": [],
    }
    for query, expected in expectations.items():
        assert subjects(admin.get(f"{URL}?{query}")) == expected, query
        rows, text = read_csv(admin.get(f"{URL}?{query}&format=csv"))
        assert [r["subject"] for r in rows] == expected, query
    # Filters on metadata keep the metadata-only rows.
    assert subjects(admin.get(f"{URL}?kind=meeting")) == [None, None]
    assert len(results(admin.get(f"{URL}?team={world['team_a'].pk}"))) == 3
    assert len(results(admin.get(f"{URL}?occurred_after=2025-01-15"))) == 2


# --- timelines ------------------------------------------------------------------------------

def test_timeline_is_newest_first_filtered_and_paginated(as_user, world):
    client = as_user(world["author"])
    factories.interaction(world["author"], subject="Oldest", occurred_on=date(2020, 1, 1), organisations=[world["org"]])
    rows = results(client.get(org_timeline(world["org"])))
    dates = [r["occurred_on"] for r in rows]
    assert dates == sorted(dates, reverse=True) and rows[-1]["subject"] == "Oldest" and len(rows) == 4
    assert subjects(client.get(f"{org_timeline(world['org'])}?kind=call")) == [SUBJECTS["staff"]]
    assert subjects(client.get(f"{org_timeline(world['org'])}?occurred_after=2025-01-15&occurred_before=2025-01-25")) == [
        SUBJECTS["team"]
    ]
    page = client.get(f"{org_timeline(world['org'])}?page_size=3").json()
    assert page["count"] == 4 and len(page["results"]) == 3 and page["next"] and page["previous"] is None
    assert client.get(f"{org_timeline(world['org'])}?page=9").status_code == 404
    assert subjects(client.get(person_timeline(world["person"]))) == [SUBJECTS[s] for s in ("participants", "team", "staff")]


def test_timeline_of_a_hidden_record_is_404_like_a_missing_one(as_user, world):
    client = as_user(world["author"])
    missing = client.get(f"/api/v1/organisations/{uuid.uuid4()}/interactions/")
    hidden = client.get(org_timeline(world["hidden_org"]))
    assert hidden.status_code == missing.status_code == 404 and hidden.json() == missing.json()
    missing = client.get(f"/api/v1/people/{uuid.uuid4()}/interactions/")
    hidden = client.get(person_timeline(world["hidden_person"]))
    assert hidden.status_code == missing.status_code == 404 and hidden.json() == missing.json()
    assert client.get("/api/v1/organisations/not-a-uuid/interactions/").status_code == 404
    allowed = as_user(factories.staff_user(team=world["team_a"], perms=("view_restricted",)))
    assert results(allowed.get(org_timeline(world["hidden_org"]))) == []


# --- query counts ---------------------------------------------------------------------------

def build_interactions(world, n):
    Interaction.objects.all().delete()
    author = world["author"]
    for i in range(n):
        org = factories.OrganisationFactory(name=f"Org {i}", focus_areas=["water"])
        person = factories.AffiliationFactory(organisation=org).person
        factories.interaction(
            author, subject=f"Meeting {i}", occurred_on=date(2024, 1, 1) + timedelta(days=i),
            sensitivity=["staff", "team", "participants"][i % 3],
            organisations=[org, world["org"]], people=[person], focus_areas=["water", "youth"],
            staff_participants=[world["participant"], world["teammate"]],
            follow_up_due=date(2025, 1, 1), follow_up_assignee=world["teammate"],
        )


def count_queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
        if response.streaming:
            b"".join(response.streaming_content)
    assert response.status_code == 200, getattr(response, "content", b"")
    return len(ctx.captured_queries), response


@pytest.mark.parametrize("role", ["author", "admin", "participant"])
@pytest.mark.parametrize("url", ["list", "list-filtered", "timeline", "person-timeline", "csv"])
def test_query_counts_are_constant(as_user, world, role, url):
    counts = []
    for n in (3, 30):
        build_interactions(world, n)
        target = {
            "list": URL,
            "list-filtered": f"{URL}?kind=meeting&country=KG&focus_area=water&follow_up_open=true",
            "timeline": org_timeline(world["org"]),
            "person-timeline": person_timeline(world["person"]) + "?kind=meeting",
            "csv": f"{URL}?format=csv",
        }[url]
        if url == "person-timeline":
            for interaction in Interaction.objects.all():
                interaction.people.add(world["person"])
        count, response = count_queries(as_user(fresh(world[role])), target)
        if not response.streaming:
            expected = n if role in ("author", "admin") and url == "list" else None
            if expected is not None:
                assert len(response.json()["results"]) == expected
            assert response.json()["count"] > 0
        counts.append(count)
    assert counts[0] == counts[1], counts


# --- organisations: last contact date and contact filters -----------------------------------

ORGS = "/api/v1/organisations/"


@pytest.mark.parametrize(
    "role,expected",
    [("author", "2025-01-30"), ("teammate", "2025-01-20"), ("other", "2025-01-10"),
     ("participant", "2025-01-30")],
)
def test_last_contacted_on_counts_only_visible_interactions(as_user, world, role, expected):
    client = as_user(world[role])
    rows = {r["name"]: r for r in results(client.get(ORGS))}
    assert rows["Bir Duino"]["last_contacted_on"] == expected
    assert rows["Never contacted"]["last_contacted_on"] is None
    assert client.get(f"{ORGS}{world['org'].pk}/").json()["last_contacted_on"] == expected


def test_last_contacted_on_is_staff_only(api, as_user, world):
    assert "last_contacted_on" not in results(api.get(ORGS))[0]
    assert "last_contacted_on" not in api.get(f"{ORGS}{world['org'].pk}/").json()
    assert "last_contacted_on" not in results(as_user(world["editor"]).get(ORGS))[0]


def test_last_contacted_on_in_csv(as_user, world):
    rows, _ = read_csv(as_user(world["other"]).get(f"{ORGS}?format=csv"))
    assert {r["name"]: r["last_contacted_on"] for r in rows}["Bir Duino"] == "2025-01-10"


@pytest.mark.parametrize(
    "role,query,expected",
    [
        ("author", "contacted_since=2025-01-25", {"Bir Duino"}),
        ("other", "contacted_since=2025-01-25", set()),  # the later records are not theirs to see
        ("other", "contacted_since=2025-01-05", {"Bir Duino"}),
        ("author", "not_contacted_since=2025-01-25", {"Never contacted"}),
        ("other", "not_contacted_since=2025-01-25", {"Bir Duino", "Never contacted"}),
    ],
)
def test_contact_filters_for_staff(as_user, world, role, query, expected):
    names = {r["name"] for r in results(as_user(world[role]).get(f"{ORGS}?{query}"))}
    assert names & {"Bir Duino", "Never contacted"} == expected


@pytest.mark.parametrize("query", ["contacted_since=2025-01-25", "not_contacted_since=2025-01-25",
                                   "contacted_since=2000-01-01", "not_contacted_since=2000-01-01"])
def test_contact_filters_are_ignored_for_anonymous(api, world, query):
    unfiltered = api.get(ORGS).json()
    assert api.get(f"{ORGS}?{query}").json() == unfiltered
    assert unfiltered["count"] == Organisation.objects.filter(visibility="public", status="active").count()


def test_contact_filters_are_documented(api):
    schema = api.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    text = schema.content.decode()
    for name in ("contacted_since", "not_contacted_since", "last_contacted_on", "/api/v1/interactions/",
                 "/api/v1/organisations/{id}/interactions/", "/api/v1/people/{id}/interactions/"):
        assert name in text


# --- cursor pagination (issue 9: no exact COUNT on the interactions table) --------------------

def test_cursor_pages_walk_the_whole_list_forwards_and_backwards(as_user, world, monkeypatch):
    from api.pagination import InteractionCursorPagination

    author = world["author"]
    for i in range(7):  # ties on the date and on created_at: the id decides
        created = timezone.now().replace(microsecond=0) - timedelta(hours=i % 2)
        tie = factories.interaction(author, subject=f"Tie {i}", occurred_on=date(2024, 3, 1))
        Interaction.objects.filter(pk=tie.pk).update(created_at=created)
    client = as_user(author)
    expected = [row["id"] for row in results(client.get(f"{URL}?page_size=200"))]
    assert len(expected) == 10

    monkeypatch.setattr(InteractionCursorPagination, "COUNT_CAP", 6)
    seen, pages, url = [], [], f"{URL}?page_size=3"
    while url:
        page = client.get(url).json()
        assert page["count"] == 6  # capped: "at least 6"
        assert set(page) == {"count", "next", "previous", "results"}
        assert (page["previous"] is None) == (not pages)
        pages.append(page)
        seen += [row["id"] for row in page["results"]]
        url = page["next"]
    assert seen == expected and [len(p["results"]) for p in pages] == [3, 3, 3, 1]
    assert "cursor=" in pages[0]["next"] and "page_size=3" in pages[0]["next"]

    back, url = [], pages[-1]["previous"]
    while url:
        page = client.get(url).json()
        back = [row["id"] for row in page["results"]] + back
        url = page["previous"]
    assert back == expected[:9]


def test_bad_cursor_and_page_numbers_are_404(as_user, world):
    client = as_user(world["author"])
    for url in (f"{URL}?cursor=nonsense", f"{URL}?cursor=eyJkIjoxfQ", f"{URL}?page=2", f"{URL}?page=x"):
        response = client.get(url)
        assert response.status_code == 404, url
        assert "detail" in response.json()
    assert client.get(f"{URL}?page=1").status_code == 200
