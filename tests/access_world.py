"""A small world covering every cell of the access matrix (../shared/SECURITY.md), shared by
tests/test_access_matrix.py and tests/test_access_log.py.

Names, notes and contact data carry a unique tag so a test can grep a page, a JSON body or a CSV
for them: if a string appears where the matrix says "—", that is a leak.
"""

from datetime import date
from types import SimpleNamespace

import pytest
from django.contrib.auth.models import Group
from django.db import transaction

from directory.choices import InteractionSensitivity, Sensitivity
from directory.models import Affiliation, TeamMembership
from directory.services.accounts import ensure_role_groups
from tests import factories

ROLES = ("public", "editor", "staff", "staff_restricted", "organiser", "admin")
# Self-service adds a moderator (EU staff with "Moderators", no restricted records, no export).
SELF_SERVICE_ROLES = (*ROLES, "moderator")
INTERACTION_VIEWERS = (
    "public", "editor", "organiser", "author", "staff", "other_team_staff", "participant",
    "staff_restricted", "admin",
)


def _user(username, *, team=None, groups=(), **kwargs):
    user = factories.UserFactory(username=username, **kwargs)
    if team is not None:
        TeamMembership.objects.create(team=team, user=user)
    if groups:
        user.groups.add(*Group.objects.filter(name__in=groups))
    return user


def build_world() -> SimpleNamespace:
    ensure_role_groups()
    team_a = factories.TeamFactory(name="Matrix Team A")
    team_b = factories.TeamFactory(name="Matrix Team B")
    org = factories.OrganisationFactory
    orgs = {
        "public_org": org(name="Mx Public Org", country="KZ", visibility="public",
                          internal_notes="mx-internal-note-public", verified=True),
        "closed_org": org(name="Mx Closed Org", country="UZ", visibility="public", status="closed"),
        "staff_org": org(name="Mx Staff Org", country="KG", visibility="staff"),
        "restricted_org": org(name="Mx Restricted Org", country="TJ", visibility="restricted",
                              internal_notes="mx-internal-note-restricted"),
        "x_staff_org": org(name="Mx Editor Staff Org", country="TM", visibility="staff",
                           internal_notes="mx-internal-note-x"),
        "x_restricted_org": org(name="Mx Editor Restricted Org", country="KZ", visibility="restricted"),
    }
    # Every organisation has a change history; the public page must not show it.
    public = orgs["public_org"]
    public.description = "Changed once"
    public.save()

    person = factories.PersonFactory
    people = {
        "person_public_org": person(name="Mx Person Public", email="mx-person-public@example.org",
                                    phone="+7 701 900001"),
        "person_of_x": person(name="Mx Person Of X", email="mx-person-x@example.org",
                              phone="+7 701 900002"),
        "person_staff_org": person(name="Mx Person Staff", email="mx-person-staff@example.org",
                                   phone="+7 701 900003"),
        "restricted_person": person(name="Mx Person Restricted", email="mx-person-restricted@example.org",
                                    phone="+7 701 900004", sensitivity=Sensitivity.RESTRICTED),
    }
    Affiliation.objects.create(person=people["person_public_org"], organisation=orgs["public_org"], role="Director")
    Affiliation.objects.create(person=people["person_of_x"], organisation=orgs["x_staff_org"], role="Director")
    Affiliation.objects.create(person=people["person_staff_org"], organisation=orgs["staff_org"], role="Director")
    Affiliation.objects.create(person=people["restricted_person"], organisation=orgs["public_org"], role="Lawyer")

    staff_groups = ("EU staff",)
    users = {
        "editor": _user("mx.editor"),
        "staff": _user("mx.staff", team=team_a, groups=staff_groups),
        "staff_restricted": _user(
            "mx.restricted", team=team_a, groups=(*staff_groups, "Restricted records", "People exporters")
        ),
        "organiser": _user("mx.organiser", groups=("Organisers",)),
        "admin": _user("mx.admin", is_superuser=True, is_staff=True),
        "author": _user("mx.author", team=team_a, groups=staff_groups),
        "other_team_staff": _user("mx.other", team=team_b, groups=staff_groups),
        "participant": _user("mx.participant", team=team_b, groups=staff_groups),
        "moderator": _user("mx.moderator", team=team_a, groups=(*staff_groups, "Moderators")),
        "other_editor": _user("mx.other.editor"),
    }
    from directory.models import OrganisationEditor
    from directory.services import self_service

    for key in ("x_staff_org", "x_restricted_org"):
        OrganisationEditor.objects.create(user=users["editor"], organisation=orgs[key])
    OrganisationEditor.objects.create(user=users["other_editor"], organisation=orgs["public_org"])

    # Self-service: pending proposals (tagged values), editor invitations (tagged emails).
    editor = users["editor"]
    proposals = {
        "proposal_x_staff": self_service.profile_change_propose(
            actor=editor, organisation=orgs["x_staff_org"],
            changes={"city": "mx-proposal-city-x-staff",
                     "people": {str(people["person_of_x"].pk): {"position": "mx-proposal-position-x"}}},
        ),
        "proposal_x_restricted": self_service.profile_change_propose(
            actor=editor, organisation=orgs["x_restricted_org"], changes={"city": "mx-proposal-city-x-restricted"},
        ),
        "proposal_public_other": self_service.profile_change_propose(
            actor=users["other_editor"], organisation=orgs["public_org"], changes={"city": "mx-proposal-city-public"},
        ),
    }
    invitations = {
        key: self_service.editor_invite(actor=users["admin"], organisation=orgs[key],
                                        email=f"mx-invitee-{key.replace('_', '-')}@example.org")[0]
        for key in ("x_staff_org", "x_restricted_org")
    }

    author = users["author"]
    linked = {"organisations": [orgs["public_org"]], "people": [people["person_public_org"]]}
    interactions = {
        "interaction_staff": factories.interaction(
            author, subject="mx-subject-staff", notes="mx-notes-staff",
            sensitivity=InteractionSensitivity.STAFF, occurred_on=date(2025, 3, 1), **linked,
        ),
        "interaction_team": factories.interaction(
            author, subject="mx-subject-team", notes="mx-notes-team",
            sensitivity=InteractionSensitivity.TEAM, occurred_on=date(2025, 3, 2),
            organisations=[orgs["public_org"], orgs["staff_org"]], people=[people["person_public_org"]],
        ),
        "interaction_participants": factories.interaction(
            author, subject="mx-subject-participants", notes="mx-notes-participants",
            sensitivity=InteractionSensitivity.PARTICIPANTS, occurred_on=date(2025, 3, 3),
            organisations=[orgs["public_org"], orgs["staff_org"]], people=[people["person_public_org"]],
            staff_participants=[users["participant"]],
        ),
    }
    return SimpleNamespace(
        teams={"a": team_a, "b": team_b}, orgs=orgs, people=people, users=users,
        interactions=interactions, proposals=proposals, invitations=invitations,
    )


@pytest.fixture(scope="module", name="world")
def world_fixture(django_db_setup, django_db_blocker):
    """The world, built once per test module inside a transaction rolled back at its end; each
    test still runs in its own savepoint (the `db` fixture), so writes do not leak between tests."""
    with django_db_blocker.unblock():
        with transaction.atomic():
            built = build_world()
            yield built
            transaction.set_rollback(True)
