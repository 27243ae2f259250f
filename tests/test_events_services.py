"""Events (issue 7): building the list from the directory (every skip reason, atomicity),
status changes and the waitlist, attendance → contact history, targets and balance."""

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from directory import selectors
from directory.models import Event, Interaction, Invitation, InvitationStatusChange
from directory.services import events as services
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return factories.TeamFactory(name="EU Delegation to Kazakhstan")


@pytest.fixture
def organiser(team):
    return factories.organiser(team=team, username="org")


@pytest.fixture
def forum(team):
    return factories.event(team, capacity=2)


def _kz(name, **kwargs):
    kwargs.setdefault("country", "KZ")
    return factories.OrganisationFactory(name=name, **kwargs)


@pytest.fixture
def directory(db):
    """One organisation per skip reason, plus two fine ones, all in KG."""
    orgs = {}
    kg = {"country": "KG"}
    orgs["ok1"] = _kz("Alpha", **kg)
    factories.invitable(orgs["ok1"], name="Aida Ok", gender="female")
    orgs["ok2"] = _kz("Bravo", **kg)
    factories.invitable(orgs["ok2"], name="Bolot Ok", gender="male")
    orgs["dnc"] = _kz("Charlie", **kg)
    factories.invitable(orgs["dnc"], name="Dnc Person", do_not_contact=True)
    orgs["noconsent"] = _kz("Delta", **kg)
    factories.invitable(orgs["noconsent"], name="Contact Only", purposes=("directory", "contact"))
    orgs["restricted"] = _kz("Echo", **kg)
    factories.invitable(orgs["restricted"], name="Secret Person", sensitivity="restricted")
    orgs["closed"] = _kz("Foxtrot", status="closed", visibility="staff", **kg)
    factories.invitable(orgs["closed"], name="Closed Person")
    orgs["nocontact"] = _kz("Golf", **kg)
    orgs["invited"] = _kz("Hotel", **kg)
    orgs["invited_person"] = factories.invitable(orgs["invited"], name="Already There")
    return orgs


def test_preview_lists_added_and_every_skip_reason(organiser, forum, directory):
    services.invitation_add(
        actor=organiser,
        event=forum,
        person=directory["invited_person"],
        organisation=directory["invited"],
    )
    preview = services.preview_from_directory(
        actor=organiser, event=forum, filters={"country": ["KG"]}
    )
    assert [inv.person.name for inv in preview.added] == ["Aida Ok", "Bolot Ok"]
    reasons = {skip.organisation.name: skip.reason for skip in preview.skipped}
    assert reasons == {
        "Charlie": "do_not_contact",
        "Delta": "no_consent",
        "Echo": "restricted",
        "Foxtrot": "organisation_closed",
        "Golf": "no_contact",
        "Hotel": "already_invited",
    }
    restricted = next(s for s in preview.skipped if s.reason == "restricted")
    assert restricted.person is None  # the organiser may not see restricted people: no name
    assert Invitation.objects.filter(event=forum).count() == 1  # a preview writes nothing


def test_add_writes_all_in_one_step_with_history(organiser, forum, directory):
    result = services.add_from_directory(actor=organiser, event=forum, filters={"country": "KG"})
    assert len(result.added) == 3
    rows = Invitation.objects.filter(event=forum)
    assert sorted(rows.values_list("person__name", flat=True)) == [
        "Aida Ok",
        "Already There",
        "Bolot Ok",
    ]
    assert all(inv.status == "proposed" and inv.added_by == organiser for inv in rows)
    assert (
        InvitationStatusChange.objects.filter(invitation__event=forum, to_status="proposed").count()
        == 3
    )
    assert (
        Invitation.history.filter(event=forum, history_type="+", history_user=organiser).count()
        == 3
    )
    again = services.add_from_directory(actor=organiser, event=forum, filters={"country": "KG"})
    assert again.added == []
    assert {
        s.reason for s in again.skipped if s.organisation.name in ("Alpha", "Bravo", "Hotel")
    } == {"already_invited"}


def test_every_directory_filter_works(organiser, forum, directory):
    water = _kz("Water Org", country="TJ", focus_areas=["water"])
    factories.invitable(water, name="Water Person")
    preview = services.preview_from_directory(
        actor=organiser, event=forum, filters={"focus_area": ["environment"], "q": "water"}
    )
    assert [inv.person.name for inv in preview.added] == ["Water Person"]


def test_per_organisation_picks_primary_first(organiser, forum):
    org = _kz("Many")
    factories.invitable(org, name="Zed Primary", primary=True)
    factories.invitable(org, name="Amy Second", primary=False)
    factories.invitable(org, name="Bea Third", primary=False)
    one = services.preview_from_directory(actor=organiser, event=forum, filters={"q": "Many"})
    assert [i.person.name for i in one.added] == ["Zed Primary"]
    two = services.preview_from_directory(
        actor=organiser, event=forum, filters={"q": "Many"}, per_organisation=2
    )
    assert [i.person.name for i in two.added] == ["Zed Primary", "Amy Second"]


def test_person_at_two_matching_organisations_is_added_once(organiser, forum):
    a, b = _kz("Org A"), _kz("Org B")
    person = factories.invitable(a, name="Twice")
    factories.AffiliationFactory(person=person, organisation=b, is_primary=True)
    preview = services.preview_from_directory(actor=organiser, event=forum, filters={"q": "Org"})
    assert [i.person.name for i in preview.added] == ["Twice"]
    assert [(s.organisation.name, s.reason) for s in preview.skipped] == [
        ("Org B", "already_invited")
    ]


@pytest.mark.parametrize(
    "filters, per_org, field",
    [
        ({"country": "XX"}, 1, "filters"),
        ({"no_such_filter": "1"}, 1, "filters"),
        ({"q": "nothing matches this"}, 1, "filters"),
        ({"country": "KG"}, 0, "per_organisation"),
        ({"country": "KG"}, "2", "per_organisation"),
        ("KG", 1, "filters"),
    ],
)
def test_bad_directory_input_names_the_field_and_writes_nothing(
    organiser, forum, directory, filters, per_org, field
):
    with pytest.raises(ValidationError) as err:
        services.add_from_directory(
            actor=organiser, event=forum, filters=filters, per_organisation=per_org
        )
    assert field in err.value.message_dict
    assert not Invitation.objects.exists()


def test_bulk_add_is_atomic(organiser, forum, directory, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("status rows failed")

    monkeypatch.setattr(InvitationStatusChange.objects, "bulk_create", boom)
    with pytest.raises(RuntimeError):
        services.add_from_directory(actor=organiser, event=forum, filters={"country": "KG"})
    assert not Invitation.objects.exists()
    assert not Invitation.history.exists()


def test_only_the_owning_team_organisers_change_the_list(forum, directory):
    outsider = factories.organiser(username="other-team")
    staff = factories.staff_user(team=forum.team)
    for user in (outsider, staff):
        with pytest.raises(PermissionDenied):
            services.preview_from_directory(actor=user, event=forum, filters={"country": "KG"})
    admin = factories.UserFactory(is_superuser=True)
    assert (
        len(services.add_from_directory(actor=admin, event=forum, filters={"country": "KG"}).added)
        == 3
    )


def test_preview_query_count_does_not_grow(organiser, forum):
    def count(n, prefix):
        for i in range(n):
            factories.invitable(_kz(f"{prefix} {i}", country="TJ", focus_areas=["water"]))
        with CaptureQueriesContext(connection) as ctx:
            preview = services.preview_from_directory(
                actor=organiser, event=forum, filters={"q": prefix}
            )
        assert len(preview.added) == n
        return len(ctx)

    factories.invitable(_kz("Warm", country="TJ"))
    services.preview_from_directory(
        actor=organiser, event=forum, filters={"q": "Warm"}
    )  # role caches
    assert count(3, "Small") == count(30, "Large") == 4


def test_adding_a_person_twice_is_refused(organiser, forum, directory):
    person, org = directory["invited_person"], directory["invited"]
    services.invitation_add(actor=organiser, event=forum, person=person, organisation=org)
    with pytest.raises(ValidationError) as err:
        services.invitation_add(actor=organiser, event=forum, person=person, organisation=org)
    assert "person" in err.value.message_dict
    assert Invitation.objects.count() == 1


# --- events ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data, field",
    [
        ({"starts_on": date(2026, 10, 7), "ends_on": date(2026, 10, 6)}, "ends_on"),
        ({"capacity": -1}, "capacity"),
        (
            {
                "targets": [
                    {
                        "dimension": "gender",
                        "value": "female",
                        "op": "at_least",
                        "unit": "percent",
                        "target": 140,
                    }
                ]
            },
            "targets",
        ),
        (
            {"targets": [{"dimension": "shoe_size", "value": "42", "op": "at_least", "target": 1}]},
            "targets",
        ),
    ],
)
def test_bad_event_input_names_the_field(organiser, team, data, field):
    base = {
        "name": "Forum",
        "starts_on": date(2026, 10, 6),
        "ends_on": date(2026, 10, 7),
        "country": "KZ",
        "team": team,
    }
    with pytest.raises(ValidationError) as err:
        services.event_create(actor=organiser, data={**base, **data})
    assert field in err.value.message_dict
    assert not Event.objects.exists()


def test_event_team_must_be_the_organisers(organiser):
    other = factories.TeamFactory()
    with pytest.raises(ValidationError) as err:
        services.event_create(
            actor=organiser,
            data={
                "name": "Forum",
                "starts_on": date(2026, 10, 6),
                "ends_on": date(2026, 10, 6),
                "country": "KZ",
                "team": other,
            },
        )
    assert "team" in err.value.message_dict


def test_staff_without_permission_cannot_create_events(team):
    with pytest.raises(PermissionDenied):
        services.event_create(actor=factories.staff_user(team=team), data={"name": "x"})


# --- status, waitlist, attendance --------------------------------------------------------------


def _invite(organiser, forum, name, org=None, **person):
    org = org or _kz(f"Org of {name}")
    person = factories.invitable(org, name=name, primary=not org.affiliations.exists(), **person)
    return services.invitation_add(actor=organiser, event=forum, person=person, organisation=org)


def test_accepted_beyond_capacity_waitlisted_and_decline_promotes(organiser, forum):
    invs = [_invite(organiser, forum, n) for n in ("A", "B", "C", "D")]
    services.invitations_bulk_status(
        actor=organiser, event=forum, ids=[i.pk for i in invs], status="invited"
    )
    for inv in invs:
        inv.refresh_from_db()
        services.invitation_set_status(actor=organiser, invitation=inv, status="accepted")
    status = dict(Invitation.objects.values_list("person__name", "status"))
    assert status == {"A": "accepted", "B": "accepted", "C": "waitlisted", "D": "waitlisted"}
    services.invitation_set_status(actor=organiser, invitation=invs[0], status="declined")
    status = dict(Invitation.objects.values_list("person__name", "status"))
    assert status == {"A": "declined", "B": "accepted", "C": "accepted", "D": "waitlisted"}
    promoted = InvitationStatusChange.objects.get(invitation=invs[2], to_status="accepted")
    assert promoted.from_status == "waitlisted" and promoted.note == "promoted from the waitlist"


def test_nonsense_status_jump_refused_and_nothing_written(organiser, forum):
    a, b = _invite(organiser, forum, "A"), _invite(organiser, forum, "B")
    services.invitations_bulk_status(actor=organiser, event=forum, ids=[a.pk], status="declined")
    with pytest.raises(ValidationError) as err:
        services.invitations_bulk_status(
            actor=organiser, event=forum, ids=[a.pk, b.pk], status="attended"
        )
    assert "status" in err.value.message_dict
    assert dict(Invitation.objects.values_list("person__name", "status")) == {
        "A": "declined",
        "B": "proposed",
    }
    assert not Interaction.objects.exists()


def test_bulk_status_recorded_in_each_history(organiser, forum):
    invs = [_invite(organiser, forum, n) for n in ("A", "B")]
    services.invitations_bulk_status(
        actor=organiser, event=forum, ids=[i.pk for i in invs], status="invited"
    )
    for inv in invs:
        changes = list(inv.status_changes.values_list("from_status", "to_status", "changed_by"))
        assert changes == [("", "proposed", organiser.pk), ("proposed", "invited", organiser.pk)]
        assert inv.history.filter(status="invited", history_user=organiser).exists()


def test_attendance_writes_one_interaction_per_event_and_organisation(organiser, forum):
    org = _kz("Shared Org")
    a = _invite(organiser, forum, "A", org=org)
    b = _invite(
        organiser,
        forum,
        "B",
        org=org,
    )
    ids = [a.pk, b.pk]
    services.invitations_bulk_status(actor=organiser, event=forum, ids=ids, status="invited")
    services.invitations_bulk_status(actor=organiser, event=forum, ids=ids, status="attended")
    interaction = Interaction.objects.get()
    assert interaction.kind == "event" and interaction.event == forum
    assert interaction.occurred_on == forum.starts_on and interaction.team == forum.team
    assert list(interaction.organisations.all()) == [org]
    assert sorted(interaction.people.values_list("name", flat=True)) == ["A", "B"]
    record = interaction.history.get()  # one history record, with the links as they are
    assert record.history_type == "+" and record.history_user == organiser
    assert sorted(str(row.person_id) for row in record.people.all()) == sorted(
        str(i) for i in (a.person_id, b.person_id)
    )
    assert [row.organisation_id for row in record.organisations.all()] == [org.pk]
    # Re-marked (no-show, then attended again): still one interaction, no duplicate person.
    services.invitation_set_status(
        actor=organiser, invitation=Invitation.objects.get(pk=a.pk), status="no_show"
    )
    services.invitation_set_status(
        actor=organiser, invitation=Invitation.objects.get(pk=a.pk), status="attended"
    )
    assert Interaction.objects.count() == 1
    assert Interaction.objects.get().people.count() == 2
    assert interaction.history.count() == 1  # nothing changed, nothing recorded


def test_a_later_attendee_joins_the_interaction_with_history(organiser, forum):
    org = _kz("Shared Org")
    a = _invite(organiser, forum, "A", org=org)
    b = _invite(organiser, forum, "B", org=org)
    for inv in (a, b):
        services.invitation_set_status(actor=organiser, invitation=inv, status="invited")
    services.invitation_set_status(
        actor=organiser, invitation=Invitation.objects.get(pk=a.pk), status="attended"
    )
    services.invitation_set_status(
        actor=organiser, invitation=Invitation.objects.get(pk=b.pk), status="attended"
    )
    interaction = Interaction.objects.get()
    latest = interaction.history.order_by("-history_date", "-history_id").first()
    assert latest.history_type == "~" and latest.people.count() == 2
    assert interaction.history.count() == 2


def test_bulk_attendance_query_count_does_not_grow(organiser, forum):
    def count(n, prefix):
        invs = [_invite(organiser, forum, f"{prefix}{i}") for i in range(n)]
        ids = [i.pk for i in invs]
        services.invitations_bulk_status(actor=organiser, event=forum, ids=ids, status="invited")
        with CaptureQueriesContext(connection) as ctx:
            services.invitations_bulk_status(
                actor=organiser, event=forum, ids=ids, status="attended"
            )
        return len(ctx)

    small, large = count(3, "s"), count(30, "l")
    assert Interaction.objects.count() == 33
    assert small == large  # statuses, history, status rows and attendance all written in bulk


def test_editor_answers_own_organisation_invitation(organiser, forum):
    inv = _invite(organiser, forum, "A")
    editor = factories.editor_of(inv.organisation)
    stranger = factories.editor_of(_kz("Elsewhere"))
    services.invitation_set_status(actor=organiser, invitation=inv, status="invited")
    with pytest.raises(PermissionDenied):
        services.invitation_answer(actor=stranger, invitation=inv, accept=True)
    services.invitation_answer(actor=editor, invitation=inv, accept=True)
    inv.refresh_from_db()
    assert inv.status == "accepted"
    assert inv.status_changes.last().changed_by == editor


# --- balance --------------------------------------------------------------------------------


def test_balance_counts_and_targets(organiser, team):
    event = factories.event(
        team,
        targets=[
            {
                "dimension": "gender",
                "value": "female",
                "op": "at_least",
                "unit": "percent",
                "target": 40,
            },
            {
                "dimension": "country",
                "value": "*",
                "op": "at_least",
                "unit": "percent",
                "target": 15,
            },
            {
                "dimension": "organisation",
                "value": "*",
                "op": "at_most",
                "unit": "count",
                "target": 1,
            },
        ],
    )
    kz = _kz("KZ water", focus_areas=["water", "climate"])
    kg = _kz("KG rights", country="KG", focus_areas=["gender-equality"])
    a = _invite(organiser, event, "A", org=kz, gender="female")
    _invite(organiser, event, "B", org=kz, gender="male")
    _invite(organiser, event, "C", org=kg, gender="male")
    d = _invite(organiser, event, "D", org=kg, gender="female")
    services.invitation_set_status(actor=organiser, invitation=d, status="declined")
    with CaptureQueriesContext(connection) as ctx:
        balance = selectors.event_balance(event)
    assert len(ctx) == 2
    assert balance["total"] == 3
    assert balance["status"]["proposed"] == 3 and balance["status"]["declined"] == 1
    assert balance["country"] == {"KZ": 2, "KG": 1}
    assert balance["focus_area"] == {"environment": 2, "human-rights": 1}
    assert balance["gender"] == {"male": 2, "female": 1}
    assert balance["type"] == {"ngo": 3}
    targets = {(t["dimension"], t["value"]): (t["actual"], t["met"]) for t in balance["targets"]}
    assert targets[("gender", "female")] == (33.3, False)
    assert targets[("country", "KZ")] == (66.7, True)
    assert targets[("country", "KG")] == (33.3, True)
    assert targets[("country", "UZ")] == (0.0, False)
    assert targets[("organisation", "*")] == (2, False)
    a.refresh_from_db()
    assert a.status == "proposed"


def test_editors_do_not_see_proposals(organiser, forum):
    from directory.models import Invitation as Inv

    inv = _invite(organiser, forum, "A")
    editor = factories.editor_of(inv.organisation)
    assert (
        not Inv.objects.answerable_by(editor).exists()
        and not Inv.objects.visible_to(editor).exists()
    )
    with pytest.raises(PermissionDenied):
        services.invitation_answer(actor=editor, invitation=inv, accept=True)
    services.invitation_set_status(actor=organiser, invitation=inv, status="invited")
    assert list(Inv.objects.answerable_by(editor)) == [inv]


def test_bulk_decline_of_accepted_promotes_from_the_waitlist(organiser, forum):
    invs = [_invite(organiser, forum, n) for n in ("A", "B", "C")]
    ids = [i.pk for i in invs]
    services.invitations_bulk_status(actor=organiser, event=forum, ids=ids, status="invited")
    services.invitations_bulk_status(actor=organiser, event=forum, ids=ids, status="accepted")
    assert dict(Invitation.objects.values_list("person__name", "status")) == {
        "A": "accepted",
        "B": "accepted",
        "C": "waitlisted",
    }
    services.invitations_bulk_status(
        actor=organiser, event=forum, ids=[invs[0].pk], status="declined"
    )
    assert dict(Invitation.objects.values_list("person__name", "status")) == {
        "A": "declined",
        "B": "accepted",
        "C": "accepted",
    }
