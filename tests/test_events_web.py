"""Event pages (issue 7): access per role, the form's errors, "add these results to an
event" (preview, confirm, nothing matching), bulk status, balance table and SVG, exports
(logged), .ics, printable attendance, My invitations, fixed query counts."""

import csv
import io
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from directory.models import AccessAction, AccessLog, Event, Invitation
from directory.services import events as services
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(db):
    team = factories.TeamFactory(name="EU Delegation to Kazakhstan")
    organiser = factories.organiser(team=team, username="organiser")
    event = factories.event(
        team,
        capacity=1,
        targets=[
            {
                "dimension": "gender",
                "value": "female",
                "op": "at_least",
                "unit": "percent",
                "target": 40,
            }
        ],
    )
    org = factories.OrganisationFactory(name="Kylym Shamy", country="KG")
    person = factories.invitable(
        org, name="Bakyt Usenov", gender="male", email="bakyt@example.org", languages=["ky"]
    )
    invitation = services.invitation_add(
        actor=organiser, event=event, person=person, organisation=org
    )
    return {
        "team": team,
        "organiser": organiser,
        "event": event,
        "org": org,
        "invitation": invitation,
        "staff": factories.staff_user(username="staff"),
        "other_organiser": factories.organiser(username="other"),
        "editor": factories.editor_of(org, username="cso"),
    }


def client_for(user):
    client = Client()
    client.force_login(user)
    return client


def url(name, *args):
    from django.urls import reverse

    return reverse(f"directory:{name}", args=args)


def test_access_per_role(client, world):
    event = world["event"]
    assert client.get(url("event_list")).status_code == 302  # sign in first
    assert client_for(world["editor"]).get(url("event_list")).status_code == 404
    assert client_for(world["editor"]).get(url("event_detail", event.pk)).status_code == 404
    staff = client_for(world["staff"])
    assert staff.get(url("event_list")).status_code == 200
    detail = staff.get(url("event_detail", event.pk))
    assert detail.status_code == 200 and 'name="invitation"' not in detail.content.decode()
    assert staff.get(url("event_edit", event.pk)).status_code == 403
    assert (
        staff.post(
            url("event_bulk_status", event.pk),
            {"status": "invited", "invitation": [world["invitation"].pk]},
        ).status_code
        == 403
    )
    assert client_for(world["other_organiser"]).get(url("event_edit", event.pk)).status_code == 403
    assert client_for(world["organiser"]).get(url("event_edit", event.pk)).status_code == 200
    assert Invitation.objects.get().status == "proposed"


def test_detail_shows_balance_table_chart_and_missed_target(world):
    html = (
        client_for(world["organiser"]).get(url("event_detail", world["event"].pk)).content.decode()
    )
    assert "<svg" in html and 'class="bar"' in html
    assert "Targets missed:" in html and "Female: 0.0%" in html
    assert "Kyrgyzstan" in html and "Bakyt Usenov" in html


def test_chart_coordinates_are_not_localised_in_russian(world):
    """Russian writes 330,0: in an SVG attribute that is invalid and the bars vanished."""
    client = client_for(world["organiser"])
    client.cookies["django_language"] = "ru"
    html = client.get(url("event_detail", world["event"].pk)).content.decode()
    assert '<html lang="ru"' in html
    svg = html[html.index("<svg") : html.index("</svg>")]
    coordinates = re.findall(r'\b(?:x|y|width|height|viewBox)="([^"]*)"', svg)
    assert len(coordinates) > 5
    assert all(re.fullmatch(r"[-\d. ]+", value) for value in coordinates), coordinates
    # The numbers people read stay Russian.
    assert "100,0%" in svg


@pytest.mark.parametrize(
    "change, field",
    [
        ({"ends_on": "2026-10-01"}, "ends_on"),
        ({"capacity": "-3"}, "capacity"),
        ({"targets_text": "gender female >= 140%"}, "targets_text"),
        ({"targets_text": "shoe 42 >= 1"}, "targets_text"),
    ],
)
def test_event_form_errors_name_the_field(world, change, field):
    data = {
        "name": "Forum",
        "starts_on": "2026-10-06",
        "ends_on": "2026-10-07",
        "country": "KZ",
        "city": "Almaty",
        "team": world["team"].pk,
        "capacity": "",
        "targets_text": "gender female >= 40%",
    }
    client = client_for(world["organiser"])
    response = client.post(url("event_create"), {**data, **change})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert Event.objects.count() == 1
    ok = client.post(url("event_create"), data)
    assert ok.status_code == 302
    created = Event.objects.get(name="Forum")
    assert created.targets == [
        {
            "dimension": "gender",
            "value": "female",
            "op": "at_least",
            "unit": "percent",
            "target": 40,
        }
    ]
    assert created.history.first().history_user == world["organiser"]


def test_add_results_link_only_for_organisers(world):
    link = "Add these results to an event"
    assert (
        link
        in client_for(world["organiser"])
        .get(url("organisation_list"), {"country": "KG"})
        .content.decode()
    )
    assert link not in client_for(world["staff"]).get(url("organisation_list")).content.decode()
    assert client_for(world["staff"]).get(url("event_add_from_directory")).status_code == 403


def test_add_from_directory_preview_then_confirm(world):
    for i in range(2):
        factories.invitable(
            factories.OrganisationFactory(name=f"Tajik {i}", country="TJ"), name=f"TJ person {i}"
        )
    factories.invitable(
        factories.OrganisationFactory(name="Tajik DNC", country="TJ"),
        name="Quiet",
        do_not_contact=True,
    )
    client = client_for(world["organiser"])
    params = {"country": "TJ", "event": world["event"].pk, "per_organisation": 1}
    preview = client.get(url("event_add_from_directory"), params)
    html = preview.content.decode()
    assert preview.status_code == 200
    assert "TJ person 0" in html and "Quiet" in html and "Do not contact" in html
    assert Invitation.objects.count() == 1
    added = client.post(url("event_add_from_directory"), params)
    assert added.status_code == 302
    assert Invitation.objects.count() == 3


def test_add_from_directory_nothing_matches(world):
    client = client_for(world["organiser"])
    response = client.get(
        url("event_add_from_directory"),
        {"q": "zzzz nothing", "event": world["event"].pk, "per_organisation": 1},
    )
    assert response.status_code == 400
    assert "No organisation matches these filters" in response.content.decode()
    response = client.post(
        url("event_add_from_directory"),
        {"country": "XX", "event": world["event"].pk, "per_organisation": 1},
    )
    assert response.status_code == 400 and "country" in response.content.decode()
    assert Invitation.objects.count() == 1


def test_bulk_status_and_nonsense_jump(world):
    client = client_for(world["organiser"])
    inv = world["invitation"]
    client.post(
        url("event_bulk_status", world["event"].pk), {"status": "declined", "invitation": [inv.pk]}
    )
    assert Invitation.objects.get().status == "declined"
    response = client.post(
        url("event_bulk_status", world["event"].pk),
        {"status": "attended", "invitation": [inv.pk]},
        follow=True,
    )
    assert "cannot go from" in response.content.decode()
    assert Invitation.objects.get().status == "declined"


def test_exports_are_logged_and_mail_merge_ready(world):
    client = client_for(world["staff"])
    response = client.get(url("event_export_csv", world["event"].pk))
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:5] == ["name", "organisation", "email", "language", "status"]
    assert rows[1][:5] == ["Bakyt Usenov", "Kylym Shamy", "bakyt@example.org", "ky", "proposed"]
    xlsx = client.get(url("event_export_xlsx", world["event"].pk))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[2]][:2] == ["Bakyt Usenov", "Kylym Shamy"]
    logs = AccessLog.objects.filter(action=AccessAction.EXPORT_INVITATIONS, username="staff")
    assert logs.count() == 2 and {log.rows for log in logs} == {1}


def test_ics_and_attendance(world):
    client = client_for(world["organiser"])
    ics = client.get(url("event_ics", world["event"].pk)).content.decode()
    assert (
        "BEGIN:VEVENT" in ics
        and "DTSTART;VALUE=DATE:20261006" in ics
        and "DTEND;VALUE=DATE:20261008" in ics
    )
    assert "SUMMARY:EU–Central Asia Civil Society Forum" in ics and "\r\n" in ics
    services.invitation_set_status(
        actor=world["organiser"], invitation=world["invitation"], status="invited"
    )
    assert (
        "Bakyt Usenov"
        not in client.get(url("event_attendance", world["event"].pk)).content.decode()
    )
    services.invitation_set_status(
        actor=world["organiser"], invitation=world["invitation"], status="accepted"
    )
    assert "Bakyt Usenov" in client.get(url("event_attendance", world["event"].pk)).content.decode()


def test_my_invitations_accept_decline(world):
    services.invitation_set_status(
        actor=world["organiser"], invitation=world["invitation"], status="invited"
    )
    client = client_for(world["editor"])
    page = client.get(url("my_invitations"))
    assert "EU–Central Asia Civil Society Forum" in page.content.decode()
    client.post(url("my_invitation_answer", world["invitation"].pk, "accept"))
    assert Invitation.objects.get().status == "accepted"
    client.post(url("my_invitation_answer", world["invitation"].pk, "decline"))
    assert Invitation.objects.get().status == "declined"
    other = client_for(factories.editor_of(factories.OrganisationFactory()))
    assert (
        other.post(url("my_invitation_answer", world["invitation"].pk, "accept")).status_code == 404
    )
    assert (
        client.post(url("my_invitation_answer", world["invitation"].pk, "maybe")).status_code == 404
    )


def test_event_page_query_count_is_fixed(world):
    client = client_for(world["organiser"])

    def count(n):
        Invitation.objects.exclude(pk=world["invitation"].pk).delete()
        for i in range(n):
            org = factories.OrganisationFactory(name=f"Q{n}-{i}", focus_areas=["water"])
            person = factories.invitable(org, gender="female" if i % 2 else "male")
            services.invitation_add(
                actor=world["organiser"], event=world["event"], person=person, organisation=org
            )
        client.get(url("event_detail", world["event"].pk))
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(url("event_detail", world["event"].pk))
        assert response.content.decode().count('name="invitation"') == n + 1
        return len(ctx)

    assert count(3) == count(30)


def test_event_list_query_count_is_fixed(world):
    client = client_for(world["staff"])

    def count(n):
        Event.objects.exclude(pk=world["event"].pk).delete()
        for i in range(n):
            factories.event(world["team"], name=f"E{i}")
        client.get(url("event_list"))
        with CaptureQueriesContext(connection) as ctx:
            client.get(url("event_list"))
        return len(ctx)

    assert count(3) == count(30)


def test_unknown_status_filter_is_a_400_naming_it(world):
    response = client_for(world["staff"]).get(
        url("event_detail", world["event"].pk), {"status": "maybe"}
    )
    assert response.status_code == 400 and "<code>status</code>" in response.content.decode()
    ok = client_for(world["staff"]).get(
        url("event_detail", world["event"].pk), {"status": "proposed"}
    )
    assert ok.status_code == 200 and "Bakyt Usenov" in ok.content.decode()


def _fill(world, n, status):
    """n more invitations of the world's event (each its own organisation) in `status`."""
    Invitation.objects.exclude(pk=world["invitation"].pk).delete()
    for i in range(n):
        org = factories.OrganisationFactory(name=f"Fill {n}-{i}")
        person = factories.invitable(org)
        inv = services.invitation_add(
            actor=world["organiser"], event=world["event"], person=person, organisation=org
        )
        if status == "invited":
            services.invitation_set_status(
                actor=world["organiser"], invitation=inv, status="invited"
            )
        if status == "attended":
            services.invitation_set_status(
                actor=world["organiser"], invitation=inv, status="invited"
            )
            services.invitation_set_status(
                actor=world["organiser"], invitation=inv, status="attended"
            )


@pytest.mark.parametrize("page", ["attendance", "my_invitations"])
def test_other_list_pages_query_count_is_fixed(world, page):
    from directory.models import OrganisationEditor

    def count(n):
        _fill(world, n, "attended" if page == "attendance" else "invited")
        if page == "my_invitations":
            OrganisationEditor.objects.filter(user=world["editor"]).exclude(
                organisation=world["org"]
            ).delete()
            for inv in Invitation.objects.exclude(pk=world["invitation"].pk):
                OrganisationEditor.objects.create(
                    user=world["editor"], organisation=inv.organisation
                )
            world["editor"].__dict__.pop("_directory_roles", None)
            client, target = client_for(world["editor"]), url("my_invitations")
        else:
            client, target = (
                client_for(world["organiser"]),
                url("event_attendance", world["event"].pk),
            )
        client.get(target)
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(target)
        assert response.content.decode().count("Person ") >= n
        return len(ctx)

    assert count(3) == count(30)
