"""The benchmark's interaction bulk loader (directory/benchmarking/seed.py): the COPY path
writes what the ORM path writes, and keeps the maintained data the app reads."""

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from django.db import transaction

from directory.benchmarking import seed as seeding
from directory.models import FocusArea, Interaction, Organisation
from directory.services.interactions import charts_version
from tests import factories

LINKS = ("organisations", "people", "staff_participants", "focus_areas")


@pytest.fixture
def world():
    team = factories.TeamFactory(name="Bulk KZ", countries=["KZ"])
    me, other = factories.staff_user(team=team, username="me"), factories.staff_user(team=team, username="other")
    orgs = [factories.OrganisationFactory(name=f"Org {n}", country="KZ") for n in range(4)]
    people = [factories.PersonFactory() for _ in range(2)]
    areas = list(FocusArea.objects.order_by("id").values_list("id", flat=True)[:2])
    return team, me, other, orgs, people, areas


def rows(world):
    team, me, other, orgs, people, areas = world
    base = dict(kind="meeting", team_id=team.pk, author_id=me.pk, notes="")
    return [
        # Text that COPY's format must escape, a follow-up, every link list.
        dict(base, id=uuid.UUID(int=1), occurred_on=date(2026, 3, 1), subject="Tab\there, new\nline, back\\slash",
             notes="Cyrillic: Қазақстан\r\nend", sensitivity="staff", follow_up_due=date(2026, 3, 15),
             follow_up_assignee_id=me.pk, follow_up_done=False,
             created_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
             organisation_ids=[orgs[0].pk, orgs[1].pk], person_ids=[people[0].pk, people[1].pk],
             participant_ids=[other.pk], focus_area_ids=areas),
        # Values of other types (as parsed from a file) and defaults left to the model.
        dict(base, id=str(uuid.UUID(int=2)), occurred_on="2026-02-01", subject="Strings",
             sensitivity=seeding.InteractionSensitivity.STAFF, organisation_ids=[str(orgs[1].pk)],
             person_ids=[], participant_ids=[], focus_area_ids=[]),
        # Team-only: no all-staff contact date for its organisation.
        dict(base, id=uuid.UUID(int=3), occurred_on=date(2026, 4, 1), subject="Team only", sensitivity="team",
             follow_up_done=True, organisation_ids=[orgs[2].pk], person_ids=[], participant_ids=[],
             focus_area_ids=[]),
        # Older than the organisation's current date: it stays.
        dict(base, id=uuid.UUID(int=4), occurred_on=date(2020, 1, 1), subject="Old", sensitivity="staff",
             organisation_ids=[orgs[3].pk], person_ids=[], participant_ids=[], focus_area_ids=[]),
    ]


def snapshot():
    fields = [f.attname for f in Interaction._meta.concrete_fields if f.name not in ("created_at", "updated_at")]
    records = {str(values["id"]): values for values in Interaction.objects.values(*fields)}
    for name in LINKS:
        field = Interaction._meta.get_field(name)
        through = field.remote_field.through
        target = field.m2m_reverse_field_name()
        for interaction_id, value in through.objects.values_list("interaction_id", f"{target}_id"):
            records[str(interaction_id)].setdefault(name, set()).add(value)
    dates = dict(Organisation.objects.values_list("name", "staff_contacted_on"))
    created = dict(Interaction.objects.values_list("subject", "created_at"))
    return records, dates, created


@pytest.mark.django_db
def test_copy_and_orm_loaders_write_the_same_rows_and_contact_dates(world, django_capture_on_commit_callbacks):
    orgs = world[3]
    Organisation.objects.filter(pk=orgs[3].pk).update(staff_contacted_on=date(2025, 6, 1))
    results = {}
    for fast in (True, False):
        version = charts_version()
        with transaction.atomic():
            with django_capture_on_commit_callbacks(execute=True):
                started = datetime.now(UTC)
                assert seeding.load_interactions(rows(world), 4, fast=fast) == 4
            results[fast] = snapshot()
            assert charts_version() != version  # the staff home's cached figures count them
            assert all(updated >= started for updated in Interaction.objects.values_list("updated_at", flat=True))
            transaction.set_rollback(True)
    assert results[True][:2] == results[False][:2]

    records, dates, created = results[True]
    first = records[str(uuid.UUID(int=1))]
    assert first["subject"] == "Tab\there, new\nline, back\\slash"
    assert first["notes"] == "Cyrillic: Қазақстан\r\nend"
    assert first["follow_up_assignee_id"] == world[1].pk and first["follow_up_done"] is False
    assert first["people"] == {p.pk for p in world[4]} and first["staff_participants"] == {world[2].pk}
    assert first["focus_areas"] == set(world[5]) and first["organisations"] == {orgs[0].pk, orgs[1].pk}
    second = records[str(uuid.UUID(int=2))]
    assert second["occurred_on"] == date(2026, 2, 1) and second["follow_up_done"] is False
    assert second["event_id"] is None and second["organisations"] == {orgs[1].pk}
    assert created["Tab\there, new\nline, back\\slash"] == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    assert datetime.now(UTC) - created["Strings"] < timedelta(minutes=5)  # the model's default
    assert dates == {"Org 0": date(2026, 3, 1), "Org 1": date(2026, 3, 1), "Org 2": None,
                     "Org 3": date(2025, 6, 1)}


@pytest.mark.django_db
def test_bulk_loaded_contact_dates_match_a_full_recount(world):
    """The loader moves dates forward incrementally; the full recount agrees."""
    from directory.services.interactions import refresh_staff_contacted_on

    orgs = world[3]
    factories.interaction(world[1], organisations=[orgs[0]], sensitivity="staff", occurred_on=date(2026, 5, 1))
    factories.interaction(world[1], organisations=[orgs[3]], sensitivity="staff", occurred_on=date(2019, 1, 1))
    seeding.load_interactions(rows(world), 4, fast=True)
    loaded = dict(Organisation.objects.values_list("name", "staff_contacted_on"))
    assert loaded == {"Org 0": date(2026, 5, 1), "Org 1": date(2026, 3, 1), "Org 2": None,
                      "Org 3": date(2020, 1, 1)}
    refresh_staff_contacted_on()
    assert dict(Organisation.objects.values_list("name", "staff_contacted_on")) == loaded


@pytest.mark.django_db
def test_copy_and_orm_write_the_same_organisations_and_people():
    """The seeder's generic writer (organisations, identifiers, people, affiliations): COPY
    skips pre_save and get_db_prep_save only where they would not change the value."""
    from directory.models import Affiliation, OrganisationIdentifier, Person

    areas = seeding.focus_area_ids()
    orgs = seeding.organisation_rows(30, areas)
    orgs[1].update(name="Tab\tand\nnewline \\ back", other_names=["A\tb", "Ц \\ д"], languages=[])
    models = (Organisation, OrganisationIdentifier, Person, Affiliation)
    results = {}
    for fast in (True, False):
        with transaction.atomic():
            started = datetime.now(UTC)
            seeding.load_organisations(orgs, fast=fast)
            seeding.load_people(orgs, fast=fast)
            results[fast] = {
                model.__name__: sorted(
                    (tuple(sorted((k, str(v)) for k, v in values.items() if k not in ("updated_at", serial)))
                     for values in model.objects.values()),
                )
                for model in models
                for serial in ["id" if model is OrganisationIdentifier else None]  # a sequence's numbers
            }
            results[fast]["focus_areas"] = sorted(
                Organisation.focus_areas.through.objects.values_list("organisation_id", "focusarea_id"))
            assert Organisation.objects.count() == 30 and Person.objects.count() == 90
            assert all(u >= started for u in Organisation.objects.values_list("updated_at", flat=True))
            transaction.set_rollback(True)
    assert results[True] == results[False]
