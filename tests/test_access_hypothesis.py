"""Random users, teams, organisations, people and interactions: for every generated user, the
gates (`visible_to`) must give exactly what an independent reference of SECURITY.md's rules
says. The reference below is plain Python over the generated specification; it does not use
directory.roles or directory.querysets.
"""

from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AnonymousUser, Permission
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory.models import (
    Affiliation,
    Interaction,
    Organisation,
    OrganisationEditor,
    Person,
    Team,
    TeamMembership,
)

VISIBILITIES = ["public", "staff", "restricted"]
STATUSES = ["active", "inactive", "closed"]
SENSITIVITIES = ["normal", "restricted"]
COMPARTMENTS = ["staff", "team", "participants"]
PERMS = ["view_restricted", "manage_events", "view_internal", "export_people"]


@st.composite
def worlds(draw):
    n_teams = draw(st.integers(0, 3))
    n_orgs = draw(st.integers(1, 6))
    n_users = draw(st.integers(1, 6))
    teams = list(range(n_teams))
    orgs = [
        {"visibility": draw(st.sampled_from(VISIBILITIES)), "status": draw(st.sampled_from(STATUSES))}
        for _ in range(n_orgs)
    ]
    users = [
        {
            "superuser": draw(st.integers(0, 4)) == 0,
            "active": draw(st.integers(0, 5)) > 0,
            "teams": draw(st.sets(st.sampled_from(teams), max_size=2)) if teams else set(),
            "perms": draw(st.sets(st.sampled_from(PERMS), max_size=3)),
            "editor_of": draw(st.sets(st.integers(0, n_orgs - 1), max_size=2)),
        }
        for _ in range(n_users)
    ]
    people = [
        {
            "sensitivity": draw(st.sampled_from(SENSITIVITIES)),
            # (organisation, current?) pairs
            "affiliations": draw(st.lists(st.tuples(st.integers(0, n_orgs - 1), st.booleans()), max_size=2)),
        }
        for _ in range(draw(st.integers(0, 5)))
    ]
    interactions = []
    if teams:
        for _ in range(draw(st.integers(0, 6))):
            interactions.append(
                {
                    "sensitivity": draw(st.sampled_from(COMPARTMENTS)),
                    "team": draw(st.sampled_from(teams)),
                    "author": draw(st.integers(0, n_users - 1)),
                    "participants": draw(st.sets(st.integers(0, n_users - 1), max_size=2)),
                }
            )
    return {"teams": teams, "orgs": orgs, "users": users, "people": people, "interactions": interactions}


# --- the reference: SECURITY.md in plain Python ---------------------------------------------

def ref_roles(spec, u):
    if u is None or not spec["users"][u]["active"]:
        return None
    user = spec["users"][u]
    admin = user["superuser"]
    staff = admin or bool(user["teams"])
    return {
        "admin": admin,
        "staff": staff,
        "organiser": admin or "manage_events" in user["perms"],
        "restricted": admin or (bool(user["teams"]) and "view_restricted" in user["perms"]),
        "teams": user["teams"],
        "editor_of": user["editor_of"],
    }


def ref_org_visible(spec, u, o):
    org, roles = spec["orgs"][o], ref_roles(spec, u)
    if org["visibility"] == "public" and org["status"] == "active":
        return True
    if roles is None:
        return False
    if roles["admin"] or roles["restricted"]:
        return True
    if o in roles["editor_of"]:
        return True
    return (roles["staff"] or roles["organiser"]) and org["visibility"] in ("public", "staff")


def ref_person_visible(spec, u, p):
    person, roles = spec["people"][p], ref_roles(spec, u)
    if roles is None:
        return False
    if roles["admin"] or roles["restricted"]:
        return True
    if person["sensitivity"] != "normal":
        return False
    if roles["staff"]:
        return True
    return any(current and o in roles["editor_of"] for o, current in person["affiliations"])


def ref_interaction_visible(spec, u, i):
    interaction, roles = spec["interactions"][i], ref_roles(spec, u)
    if roles is None or not roles["staff"]:
        return False
    if roles["admin"] or interaction["author"] == u:
        return True
    if interaction["sensitivity"] == "staff":
        return True
    if interaction["sensitivity"] == "team":
        return interaction["team"] in roles["teams"]
    return u in interaction["participants"]


# --- building the spec in the database ------------------------------------------------------

def build(spec, perms):
    User = get_user_model()
    teams = [Team.objects.create(name=f"Hyp team {t}") for t in spec["teams"]]
    orgs = [
        Organisation.objects.create(name=f"Hyp org {n}", country="KZ", **o) for n, o in enumerate(spec["orgs"])
    ]
    users = []
    for n, u in enumerate(spec["users"]):
        user = User.objects.create(username=f"hyp{n}", is_superuser=u["superuser"], is_active=u["active"])
        for t in u["teams"]:
            TeamMembership.objects.create(team=teams[t], user=user)
        user.user_permissions.add(*(perms[p] for p in u["perms"]))
        for o in u["editor_of"]:
            OrganisationEditor.objects.create(user=user, organisation=orgs[o])
        users.append(user)
    people = []
    yesterday = date.today() - timedelta(days=1)
    for n, p in enumerate(spec["people"]):
        person = Person.objects.create(name=f"Hyp person {n}", sensitivity=p["sensitivity"])
        for o, current in p["affiliations"]:
            Affiliation.objects.create(
                person=person, organisation=orgs[o],
                start_date=yesterday - timedelta(days=30), end_date=None if current else yesterday,
            )
        people.append(person)
    interactions = []
    for n, i in enumerate(spec["interactions"]):
        interaction = Interaction.objects.create(
            occurred_on=date(2025, 1, 1), kind="meeting", subject=f"Hyp {n}", team=teams[i["team"]],
            author=users[i["author"]], sensitivity=i["sensitivity"],
        )
        interaction.staff_participants.set([users[p] for p in i["participants"]])
        interactions.append(interaction)
    return orgs, users, people, interactions


@pytest.mark.django_db
@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=worlds())
def test_visible_sets_follow_the_rules(spec):
    perms = {p.codename: p for p in Permission.objects.filter(content_type__app_label="directory", codename__in=PERMS)}
    with transaction.atomic():
        orgs, users, people, interactions = build(spec, perms)
        viewers = [(None, AnonymousUser())] + [
            # Fresh from the database: no permission or role caches from the build.
            (n, get_user_model().objects.get(pk=user.pk)) for n, user in enumerate(users)
        ]
        for index, user in viewers:
            expected_orgs = {orgs[o].pk for o in range(len(orgs)) if ref_org_visible(spec, index, o)}
            assert set(Organisation.objects.visible_to(user).values_list("pk", flat=True)) == expected_orgs, (index, spec)
            expected_people = {people[p].pk for p in range(len(people)) if ref_person_visible(spec, index, p)}
            assert set(Person.objects.visible_to(user).values_list("pk", flat=True)) == expected_people, (index, spec)
            expected_interactions = {
                interactions[i].pk for i in range(len(interactions)) if ref_interaction_visible(spec, index, i)
            }
            assert set(Interaction.objects.visible_to(user).values_list("pk", flat=True)) == expected_interactions, (index, spec)
        transaction.set_rollback(True)
