"""SECURITY.md's "events, invitations" row as a data table, run against the web pages, the API
and the CSV export: who reads an event and which invitations (by the invitee's name), who
changes it. Hidden rows must not appear anywhere; an event a role may not see answers 404."""

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from rest_framework.test import APIClient

from directory.choices import Sensitivity
from directory.models import Invitation, TeamMembership
from directory.services import events as services
from directory.services.accounts import ensure_role_groups
from tests import factories

pytestmark = pytest.mark.django_db
R, NO = "R", "—"
ROLES = ("public", "editor", "staff", "staff_restricted", "organiser", "team_organiser", "admin")


def _row(*cells):
    return dict(zip(ROLES, cells, strict=True))


# Which invitee names each role reads on the event's list (web page, API list, CSV) or, for
# the CSO editor, under My invitations.
MATRIX = {
    "event": _row(NO, NO, R, R, R, R, R),
    "invited_of_x": _row(NO, R, R, R, R, R, R),
    "proposed_of_x": _row(NO, NO, R, R, R, R, R),  # a shortlist: not shown to the organisation yet
    "restricted_invitee": _row(NO, NO, NO, R, NO, NO, R),
}
WRITE = _row(401, 404, 403, 403, 403, 200, 200)
# Bulk change of every invitation, the restricted invitee's included: the team's organiser may
# not see that one, so it is refused like an unknown id and nothing changes.
BULK = _row(401, 404, 403, 403, 403, 400, 200)
NAMES = {
    "invited_of_x": "Ev Invited X",
    "proposed_of_x": "Ev Proposed X",
    "restricted_invitee": "Ev Restricted",
}


@pytest.fixture
def world(db):
    ensure_role_groups()
    team = factories.TeamFactory(name="Ev Team")
    users = {
        "editor": factories.UserFactory(username="ev.editor"),
        "staff": factories.UserFactory(username="ev.staff"),
        "staff_restricted": factories.UserFactory(username="ev.restricted"),
        "organiser": factories.UserFactory(username="ev.organiser"),
        "team_organiser": factories.UserFactory(username="ev.team.organiser"),
        "admin": factories.UserFactory(username="ev.admin", is_superuser=True, is_staff=True),
    }
    groups = {
        "staff": ["EU staff"],
        "staff_restricted": ["EU staff", "Restricted records"],
        "organiser": ["Organisers"],
        "team_organiser": ["Organisers"],
    }
    for name, group_names in groups.items():
        users[name].groups.add(*Group.objects.filter(name__in=group_names))
    for name in ("staff", "staff_restricted", "team_organiser"):
        TeamMembership.objects.create(
            team=team if name == "team_organiser" else factories.TeamFactory(), user=users[name]
        )
    event = factories.event(team, name="Ev Forum")
    x = factories.OrganisationFactory(name="Ev Org X")
    from directory.models import OrganisationEditor

    OrganisationEditor.objects.create(user=users["editor"], organisation=x)
    actor = users["team_organiser"]
    invited = factories.invitable(x, name=NAMES["invited_of_x"])
    proposed = factories.invitable(x, name=NAMES["proposed_of_x"], primary=False)
    inv = services.invitation_add(actor=actor, event=event, person=invited, organisation=x)
    services.invitation_set_status(actor=actor, invitation=inv, status="invited")
    services.invitation_add(actor=actor, event=event, person=proposed, organisation=x)
    # Restricted people are never added by the services; one added before it became restricted.
    other = factories.OrganisationFactory(name="Ev Other Org")
    restricted = factories.invitable(other, name=NAMES["restricted_invitee"])
    services.invitation_add(actor=actor, event=event, person=restricted, organisation=other)
    restricted.sensitivity = Sensitivity.RESTRICTED
    restricted.save()
    return {"users": users, "event": event}


def _clients(world, role):
    web, api = Client(), APIClient()
    if role != "public":
        web.force_login(world["users"][role])
        api.force_authenticate(world["users"][role])
    return web, api


def _readable_texts(world, role) -> dict:
    """Every text each channel gives this role about the event and its invitations."""
    web, api = _clients(world, role)
    event = world["event"]
    texts = {
        "web_detail": web.get(f"/events/{event.pk}/"),
        "web_csv": web.get(f"/events/{event.pk}/invitations.csv"),
        "web_attendance": web.get(f"/events/{event.pk}/attendance/"),
        "api_detail": api.get(f"/api/v1/events/{event.pk}/"),
        "api_invitations": api.get(f"/api/v1/events/{event.pk}/invitations/"),
        "api_csv": api.get(f"/api/v1/events/{event.pk}/invitations/", {"format": "csv"}),
        "web_mine": web.get("/my/invitations/"),
        "api_mine": api.get("/api/v1/me/invitations/"),
    }
    out = {}
    for name, response in texts.items():
        body = b"".join(response.streaming_content) if response.streaming else response.content
        out[name] = (response.status_code, body.decode("utf-8", "replace"))
    return out


@pytest.mark.parametrize("role", ROLES)
def test_event_and_invitations_per_role(world, role):
    texts = _readable_texts(world, role)
    event_visible = MATRIX["event"][role] == R
    for channel in (
        "web_detail",
        "web_csv",
        "web_attendance",
        "api_detail",
        "api_invitations",
        "api_csv",
    ):
        status, _body = texts[channel]
        if event_visible:
            assert status == 200, (role, channel)
        elif role == "public":
            assert status in (302, 401), (role, channel)  # sign in first
        else:
            assert status == 404, (role, channel)  # like a missing event
    everything = " ".join(body for _status, body in texts.values())
    for resource, name in NAMES.items():
        if MATRIX[resource][role] == R:
            assert name in everything, (role, resource)
        else:
            assert name not in everything, (role, resource)
    if event_visible:
        # Every channel that lists invitations agrees.
        for channel in ("web_detail", "web_csv", "api_invitations", "api_csv"):
            for resource, name in NAMES.items():
                assert (name in texts[channel][1]) == (MATRIX[resource][role] == R), (
                    role,
                    channel,
                    resource,
                )


@pytest.mark.parametrize("role", ROLES)
def test_who_changes_the_event(world, role):
    _web, api = _clients(world, role)
    response = api.patch(f"/api/v1/events/{world['event'].pk}/", {"capacity": 10}, format="json")
    assert response.status_code == WRITE[role]
    bulk = api.post(
        f"/api/v1/events/{world['event'].pk}/invitations/bulk-status/",
        {
            "invitations": [str(i) for i in Invitation.objects.values_list("pk", flat=True)],
            "status": "declined",
        },
        format="json",
    )
    assert bulk.status_code == BULK[role]
    assert Invitation.objects.filter(status="declined").count() == (3 if BULK[role] == 200 else 0)
