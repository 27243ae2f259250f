"""Events API (API.md "Events and invitations"): who sees what, writes and their errors,
from-directory with dry_run, bulk status, balance, CSV export (logged), my invitations,
fixed query counts."""

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory.models import AccessAction, AccessLog, Event, Invitation
from directory.services import events as services
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/api/v1/events/"
INVITATION_FIELDS = {
    "id",
    "event",
    "person",
    "organisation",
    "status",
    "added_by",
    "added_at",
    "notes",
    "person_name",
    "organisation_name",
}


@pytest.fixture
def world(db):
    team = factories.TeamFactory(name="EU Delegation to Kazakhstan")
    organiser = factories.organiser(team=team, username="organiser")
    event = factories.event(team, capacity=10)
    org = factories.OrganisationFactory(name="Kylym Shamy", country="KG")
    person = factories.invitable(
        org, name="Aigul Bekova", email="aigul@example.org", languages=["ky", "ru"]
    )
    invitation = services.invitation_add(
        actor=organiser, event=event, person=person, organisation=org
    )
    return {
        "team": team,
        "organiser": organiser,
        "event": event,
        "org": org,
        "person": person,
        "invitation": invitation,
        "staff": factories.staff_user(username="staff"),
        "other_organiser": factories.organiser(username="other-organiser"),
        "editor": factories.editor_of(org, username="cso"),
        "stranger_editor": factories.editor_of(factories.OrganisationFactory(), username="cso2"),
        "admin": factories.UserFactory(is_superuser=True, username="root"),
    }


def inv_url(event, suffix=""):
    return f"{URL}{event.pk}/invitations/{suffix}"


@pytest.mark.parametrize(
    "who, list_code, detail_code, invitations_code",
    [
        ("organiser", 200, 200, 200),
        ("other_organiser", 200, 200, 200),
        ("staff", 200, 200, 200),
        ("admin", 200, 200, 200),
        ("editor", 403, 404, 404),
        ("stranger_editor", 403, 404, 404),
    ],
)
def test_who_may_see_events(as_user, world, who, list_code, detail_code, invitations_code):
    client = as_user(world[who])
    assert client.get(URL).status_code == list_code
    assert client.get(f"{URL}{world['event'].pk}/").status_code == detail_code
    assert client.get(inv_url(world["event"])).status_code == invitations_code
    assert client.get(f"{URL}{world['event'].pk}/balance/").status_code == detail_code


def test_anonymous_gets_401(api, world):
    assert api.get(URL).status_code == 401
    assert api.get("/api/v1/me/invitations/").status_code == 401


def test_event_fields_and_invitation_fields(as_user, world):
    client = as_user(world["staff"])
    body = client.get(URL).json()
    assert body["count"] == 1
    assert set(body["results"][0]) == {
        "id",
        "name",
        "starts_on",
        "ends_on",
        "city",
        "country",
        "venue",
        "description",
        "capacity",
        "team",
        "targets",
    }
    rows = client.get(inv_url(world["event"])).json()["results"]
    assert set(rows[0]) == INVITATION_FIELDS
    assert rows[0]["status"] == "proposed" and rows[0]["added_by"] == "organiser"


def test_create_event_and_errors(as_user, world):
    client = as_user(world["organiser"])
    good = {
        "name": "Forum",
        "starts_on": "2026-10-06",
        "ends_on": "2026-10-07",
        "country": "KZ",
        "city": "Almaty",
        "capacity": 300,
        "targets": [{"dimension": "gender", "value": "female", "op": "at_least", "target": 40}],
    }
    created = client.post(URL, good, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["team"] == str(world["team"].pk)
    assert created.json()["targets"][0] == {
        "dimension": "gender",
        "value": "female",
        "op": "at_least",
        "unit": "percent",
        "target": 40,
    }
    before = Event.objects.count()
    for bad, field in [
        ({"ends_on": "2026-10-01"}, "ends_on"),
        ({"capacity": -5}, "capacity"),
        (
            {
                "targets": [
                    {"dimension": "gender", "value": "female", "op": "at_least", "target": 140}
                ]
            },
            "targets",
        ),
        ({"starts_on": "not a date"}, "starts_on"),
        ({"colour": "red"}, "colour"),
        ({"team": str(world["other_organiser"].teams.first().pk)}, "team"),
    ]:
        response = client.post(URL, {**good, **bad}, format="json")
        assert response.status_code == 400, (bad, response.content)
        assert field in response.json(), (bad, response.json())
    assert Event.objects.count() == before
    assert as_user(world["staff"]).post(URL, good, format="json").status_code == 403


def test_other_teams_organiser_cannot_change_the_event(as_user, world):
    response = as_user(world["other_organiser"]).patch(
        f"{URL}{world['event'].pk}/", {"name": "x"}, format="json"
    )
    assert response.status_code == 403
    ok = as_user(world["organiser"]).patch(
        f"{URL}{world['event'].pk}/", {"capacity": 5}, format="json"
    )
    assert ok.status_code == 200 and ok.json()["capacity"] == 5


def _directory(n, country="TJ"):
    for i in range(n):
        org = factories.OrganisationFactory(name=f"Tajik Org {i}", country=country)
        factories.invitable(org, name=f"Tajik Person {i}")
    dnc = factories.OrganisationFactory(name="Tajik Org DNC", country=country)
    factories.invitable(dnc, name="Do Not Contact", do_not_contact=True)


def test_from_directory_dry_run_then_add(as_user, world):
    _directory(3)
    client = as_user(world["organiser"])
    body = {"filters": {"country": ["TJ"]}, "per_organisation": 1, "dry_run": True}
    preview = client.post(inv_url(world["event"], "from-directory/"), body, format="json")
    assert preview.status_code == 200
    data = preview.json()
    assert data["dry_run"] is True and len(data["added"]) == 3 and data["added"][0]["id"] is None
    assert data["skipped"] == [
        {
            "person": data["skipped"][0]["person"],
            "person_name": "Do Not Contact",
            "organisation": data["skipped"][0]["organisation"],
            "organisation_name": "Tajik Org DNC",
            "reason": "do_not_contact",
        }
    ]
    assert Invitation.objects.count() == 1
    added = client.post(
        inv_url(world["event"], "from-directory/"), {**body, "dry_run": False}, format="json"
    )
    assert added.status_code == 201
    assert all(row["id"] for row in added.json()["added"])
    assert Invitation.objects.count() == 4
    again = client.post(
        inv_url(world["event"], "from-directory/"), {**body, "dry_run": False}, format="json"
    )
    assert again.status_code == 200 and again.json()["added"] == []
    assert {s["reason"] for s in again.json()["skipped"]} == {"already_invited", "do_not_contact"}


@pytest.mark.parametrize(
    "body, field",
    [
        ({"filters": {"country": ["XX"]}}, "filters"),
        ({"filters": {"q": "matches nothing at all"}}, "filters"),
        ({"filters": {"bogus": "1"}}, "filters"),
        ({"filters": "KZ"}, "filters"),
        ({"filters": {"country": "TJ"}, "per_organisation": 0}, "per_organisation"),
        ({"filters": {"country": "TJ"}, "extra": 1}, "extra"),
        ({}, "filters"),
    ],
)
def test_from_directory_bad_input(as_user, world, body, field):
    _directory(1)
    response = as_user(world["organiser"]).post(
        inv_url(world["event"], "from-directory/"), body, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert Invitation.objects.count() == 1


def test_from_directory_forbidden_for_staff_and_other_team(as_user, world):
    _directory(1)
    body = {"filters": {"country": "TJ"}}
    for who in ("staff", "other_organiser"):
        response = as_user(world[who]).post(
            inv_url(world["event"], "from-directory/"), body, format="json"
        )
        assert response.status_code == 403
    assert (
        as_user(world["editor"])
        .post(inv_url(world["event"], "from-directory/"), body, format="json")
        .status_code
        == 404
    )


def test_add_one_twice_is_400(as_user, world):
    client = as_user(world["organiser"])
    body = {"person": str(world["person"].pk), "organisation": str(world["org"].pk)}
    response = client.post(inv_url(world["event"]), body, format="json")
    assert response.status_code == 400 and "person" in response.json()


def test_status_changes_and_nonsense_jump(as_user, world):
    client = as_user(world["organiser"])
    url = inv_url(world["event"], f"{world['invitation'].pk}/")
    assert client.patch(url, {"status": "declined"}, format="json").json()["status"] == "declined"
    bad = client.patch(url, {"status": "attended"}, format="json")
    assert bad.status_code == 400 and "status" in bad.json()
    assert Invitation.objects.get().status == "declined"
    assert client.patch(url, {"status": "flying"}, format="json").status_code == 400


def test_bulk_status(as_user, world):
    _directory(2)
    client = as_user(world["organiser"])
    services.add_from_directory(
        actor=world["organiser"], event=world["event"], filters={"country": "TJ"}
    )
    ids = [str(pk) for pk in Invitation.objects.values_list("pk", flat=True)]
    response = client.post(
        inv_url(world["event"], "bulk-status/"),
        {"invitations": ids, "status": "invited"},
        format="json",
    )
    assert response.status_code == 200 and {r["status"] for r in response.json()} == {"invited"}
    missing = client.post(
        inv_url(world["event"], "bulk-status/"),
        {"invitations": ids + ["00000000-0000-0000-0000-000000000000"], "status": "accepted"},
        format="json",
    )
    assert missing.status_code == 400 and "invitations" in missing.json()
    assert set(Invitation.objects.values_list("status", flat=True)) == {"invited"}


def test_balance_endpoint(as_user, world):
    body = as_user(world["staff"]).get(f"{URL}{world['event'].pk}/balance/").json()
    assert body["total"] == 1 and body["status"]["proposed"] == 1
    assert body["country"] == {"KG": 1} and body["targets"] == []


def test_csv_export_is_mail_merge_ready_and_logged(as_user, world):
    client = as_user(world["staff"])
    response = client.get(inv_url(world["event"]), {"format": "csv"})
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:5] == ["name", "organisation", "email", "language", "status"]
    assert rows[1][:5] == ["Aigul Bekova", "Kylym Shamy", "aigul@example.org", "ky", "proposed"]
    log = AccessLog.objects.get(action=AccessAction.EXPORT_INVITATIONS)
    assert log.rows == 1 and log.object_id == str(world["event"].pk) and log.username == "staff"


def test_my_invitations_accept_and_decline(as_user, world):
    services.invitation_set_status(
        actor=world["organiser"], invitation=world["invitation"], status="invited"
    )
    mine = as_user(world["editor"]).get("/api/v1/me/invitations/").json()
    assert [r["id"] for r in mine["results"]] == [str(world["invitation"].pk)]
    assert as_user(world["stranger_editor"]).get("/api/v1/me/invitations/").json()["count"] == 0
    url = f"/api/v1/me/invitations/{world['invitation'].pk}/"
    assert as_user(world["stranger_editor"]).post(url + "accept/").status_code == 404
    assert as_user(world["editor"]).post(url + "accept/").json()["status"] == "accepted"
    assert as_user(world["editor"]).post(url + "decline/").json()["status"] == "declined"


def test_invitation_list_query_count_is_fixed(as_user, world):
    client = as_user(world["staff"])

    def count(n):
        Invitation.objects.exclude(pk=world["invitation"].pk).delete()
        for i in range(n):
            org = factories.OrganisationFactory(name=f"Q{n}-{i}")
            person = factories.invitable(org)
            services.invitation_add(
                actor=world["organiser"], event=world["event"], person=person, organisation=org
            )
        client.get(inv_url(world["event"]))  # warm caches (roles, permissions)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(inv_url(world["event"]))
        assert response.json()["count"] == n + 1
        return len(ctx)

    assert count(3) == count(30)


def test_event_list_and_my_invitations_query_counts_are_fixed(as_user, world):
    from directory.models import OrganisationEditor

    def count(n):
        Event.objects.exclude(pk=world["event"].pk).delete()
        OrganisationEditor.objects.filter(user=world["editor"]).exclude(
            organisation=world["org"]
        ).delete()
        for i in range(n):
            event = factories.event(world["team"], name=f"E{n}-{i}")
            org = factories.OrganisationFactory(name=f"O{n}-{i}")
            inv = services.invitation_add(
                actor=world["organiser"],
                event=event,
                person=factories.invitable(org),
                organisation=org,
            )
            services.invitation_set_status(
                actor=world["organiser"], invitation=inv, status="invited"
            )
            OrganisationEditor.objects.create(user=world["editor"], organisation=org)
        counts = []
        for user, target, expected in (
            (world["staff"], URL, n + 1),
            (world["editor"], "/api/v1/me/invitations/", n),
        ):
            user.__dict__.pop("_directory_roles", None)
            client = as_user(user)
            client.get(target)
            with CaptureQueriesContext(connection) as ctx:
                response = client.get(target)
            assert response.json()["count"] == expected
            counts.append(len(ctx))
        return counts

    assert count(3) == count(30)


def test_event_text_round_trips_and_bad_text_is_a_400(as_user, world):
    client = as_user(world["organiser"])
    base = {"starts_on": "2026-10-06", "ends_on": "2026-10-06", "country": "KZ"}
    name = "Форум Қ Ү Ң Ө Ғ Ҳ Ҷ Oʻzbek 🌍 שלום"
    created = client.post(URL, {**base, "name": name}, format="json")
    assert created.status_code == 201 and created.json()["name"] == name
    for bad in (
        {"name": "a\x00b"},
        {"name": "x" * 201},
        {"name": ""},
        {"name": 5, "capacity": "many"},
    ):
        response = client.post(URL, {**base, **bad}, format="json")
        assert response.status_code == 400, bad
    malformed = client.post(URL, "{not json", content_type="application/json")
    assert malformed.status_code == 400
    nul_filter = client.post(
        inv_url(world["event"], "from-directory/"), {"filters": {"q": "a\x00b"}}, format="json"
    )
    assert nul_filter.status_code == 400 and "filters" in nul_filter.json()
    assert Event.objects.count() == 2
