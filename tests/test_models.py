"""Model rules: database constraints, model validation, derived keys, __str__/URLs, history."""

from datetime import date, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from directory.models import (
    Affiliation,
    FocusArea,
    Organisation,
    OrganisationEditor,
    OrganisationIdentifier,
    Person,
    Team,
    TeamMembership,
)
from directory.search import normalise
from directory.services.organisations import organisation_create, organisation_update
from tests import factories

pytestmark = pytest.mark.django_db


# --- constraints ---------------------------------------------------------------------------


def test_focus_area_cannot_be_its_own_parent():
    area = FocusArea.objects.get(slug="health")
    with pytest.raises(IntegrityError), transaction.atomic():
        FocusArea.objects.filter(pk=area.pk).update(parent=area.pk)
    area.parent = area
    with pytest.raises(ValidationError):
        area.full_clean()


@pytest.mark.parametrize("year", [1799, 2101])
def test_founded_year_out_of_range_rejected_by_database(year):
    org = factories.OrganisationFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Organisation.objects.filter(pk=org.pk).update(founded_year=year)


@pytest.mark.parametrize("year", [1800, 2000])
def test_founded_year_in_range_accepted(year):
    org = factories.OrganisationFactory()
    Organisation.objects.filter(pk=org.pk).update(founded_year=year)
    org.refresh_from_db()
    assert org.founded_year == year


def test_founded_year_validation_rejects_past_floor_and_future():
    org = factories.OrganisationFactory.build(founded_year=1700)
    with pytest.raises(ValidationError) as exc:
        org.full_clean()
    assert "founded_year" in exc.value.message_dict
    org.founded_year = timezone.now().year + 1
    with pytest.raises(ValidationError) as exc:
        org.full_clean()
    assert "founded_year" in exc.value.message_dict


def test_two_current_primary_contacts_rejected_by_database():
    org = factories.OrganisationFactory()
    factories.AffiliationFactory(organisation=org, is_primary=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        factories.AffiliationFactory(organisation=org, is_primary=True)


def test_two_current_primary_contacts_rejected_by_full_clean():
    org = factories.OrganisationFactory()
    factories.AffiliationFactory(organisation=org, is_primary=True)
    second = Affiliation(person=factories.PersonFactory(), organisation=org, is_primary=True)
    with pytest.raises(ValidationError) as exc:
        second.full_clean()
    assert "already has a current primary contact" in str(exc.value)


def test_ended_primary_contact_allows_a_new_primary():
    org = factories.OrganisationFactory()
    factories.AffiliationFactory(
        organisation=org, is_primary=True, start_date=date(2020, 1, 1), end_date=date(2021, 1, 1)
    )
    new = Affiliation(person=factories.PersonFactory(), organisation=org, is_primary=True)
    new.full_clean()
    new.save()
    assert Affiliation.objects.filter(organisation=org, is_primary=True).count() == 2
    # Another organisation has its own primary contact.
    factories.AffiliationFactory(is_primary=True)


def test_affiliation_end_before_start_rejected():
    affiliation = factories.AffiliationFactory.build(
        person=factories.PersonFactory(), organisation=factories.OrganisationFactory(),
        start_date=date(2022, 5, 1), end_date=date(2022, 4, 30),
    )
    with pytest.raises(ValidationError):
        affiliation.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        affiliation.save()


def test_affiliation_same_day_start_and_end_accepted():
    affiliation = factories.AffiliationFactory(start_date=date(2022, 5, 1), end_date=date(2022, 5, 1))
    affiliation.full_clean()


def test_identifier_scheme_and_value_unique():
    factories.IdentifierFactory(scheme="KZ-BIN", value="950440001673")
    other = factories.OrganisationFactory()
    duplicate = OrganisationIdentifier(organisation=other, scheme="KZ-BIN", value="950440001673")
    with pytest.raises(ValidationError):
        duplicate.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save()
    # The same value under another scheme is a different identifier.
    OrganisationIdentifier.objects.create(organisation=other, scheme="KZ-REG", value="950440001673")


def test_identifier_full_clean_normalises_scheme_and_value():
    ident = OrganisationIdentifier(
        organisation=factories.OrganisationFactory(), scheme=" kz-bin ", value="9504 4000 1673"
    )
    ident.full_clean()
    assert (ident.scheme, ident.value) == ("KZ-BIN", "950440001673")


def test_consent_withdrawal_needs_consent():
    person = factories.PersonFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Person.objects.filter(pk=person.pk).update(consent_withdrawn_at=timezone.now())
    person.consent_withdrawn_at = timezone.now()
    with pytest.raises(ValidationError):
        person.full_clean()


def test_consent_withdrawal_after_consent_accepted():
    given = timezone.now() - timedelta(days=10)
    person = factories.PersonFactory(
        consent_given_at=given, consent_method="email", consent_withdrawn_at=given + timedelta(days=1)
    )
    person.full_clean()
    assert person.has_consent is False
    person.consent_withdrawn_at = given - timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        person.full_clean()
    assert "consent_withdrawn_at" in exc.value.message_dict


def test_consent_needs_a_method():
    person = factories.PersonFactory.build(consent_given_at=timezone.now())
    with pytest.raises(ValidationError) as exc:
        person.full_clean()
    assert "consent_method" in exc.value.message_dict


# --- __str__ and get_absolute_url ----------------------------------------------------------


def test_str_and_absolute_urls():
    org = factories.OrganisationFactory(name="Bir Duino Kyrgyzstan")
    person = factories.PersonFactory(name="Aigul Bekova")
    affiliation = factories.AffiliationFactory(person=person, organisation=org, role="Director")
    ident = factories.IdentifierFactory(organisation=org, scheme="KG-OKPO", value="12345678")
    area = FocusArea.objects.get(slug="environment")
    team = Team.objects.create(name="EU Delegation to Kazakhstan", countries=["KZ"])
    user = factories.UserFactory(username="aigul")
    membership = TeamMembership.objects.create(team=team, user=user)
    editor = OrganisationEditor.objects.create(user=user, organisation=org)

    assert str(org) == "Bir Duino Kyrgyzstan"
    assert org.get_absolute_url() == f"/organisations/{org.pk}/"
    assert str(person) == "Aigul Bekova"
    assert person.get_absolute_url() == f"/people/{person.pk}/"
    assert str(affiliation) == "Aigul Bekova — Director @ Bir Duino Kyrgyzstan"
    assert affiliation.get_absolute_url() == person.get_absolute_url()
    assert str(ident) == "KG-OKPO-12345678"
    assert ident.get_absolute_url() == org.get_absolute_url()
    assert str(area) == "Environment"
    assert area.get_absolute_url() == "/organisations/?focus_area=environment"
    assert str(team) == "EU Delegation to Kazakhstan"
    assert team.get_absolute_url() == f"/admin/directory/team/{team.pk}/change/"
    assert str(membership) == "aigul in EU Delegation to Kazakhstan"
    assert str(editor) == "aigul edits Bir Duino Kyrgyzstan"


def test_affiliation_without_role_str():
    affiliation = factories.AffiliationFactory(
        person__name="Timur Saidov", organisation__name="Umid", role=""
    )
    assert str(affiliation) == "Timur Saidov — member @ Umid"


# --- derived keys ------------------------------------------------------------------------


def test_search_and_city_keys_computed_on_save():
    org = factories.OrganisationFactory(name="Bir Duino", name_local="Бир Дуйно", city="Бишкек")
    org.refresh_from_db()
    assert normalise("Bir Duino") in org.search_key
    assert org.city_key == normalise("Bishkek")


def test_search_and_city_keys_recomputed_with_update_fields():
    org = factories.OrganisationFactory(name="Old Name", city="Almaty")
    org.name = "Kylym Shamy"
    org.city = "Ош"
    org.save(update_fields=["name", "city"])
    org.refresh_from_db()
    assert normalise("Kylym Shamy") in org.search_key
    assert normalise("Old Name") not in org.search_key
    assert org.city_key == normalise("Osh")
    assert Organisation.objects.filter(search_key__contains=normalise("Кылым")).get() == org


def test_person_search_key_recomputed_with_update_fields():
    person = factories.PersonFactory(name="Aigul Bekova")
    person.name = "Madina Karimova"
    person.save(update_fields=["name"])
    person.refresh_from_db()
    assert person.search_key == normalise("Madina Karimova")


def test_other_names_cleaned_by_full_clean():
    org = factories.OrganisationFactory.build(
        name="Bir Duino",
        other_names=["Бир Дуйно", " Bir Duino ", "Бир Дуйно", "BDK", "  BDK  "],
    )
    org.full_clean()
    assert org.other_names == ["Бир Дуйно", "BDK"]


def test_other_names_reject_empty_and_non_text():
    org = factories.OrganisationFactory.build(other_names=["ok", "   "])
    with pytest.raises(ValidationError) as exc:
        org.full_clean()
    assert "other_names" in exc.value.message_dict
    org.other_names = "not a list"
    with pytest.raises(ValidationError) as exc:
        org.full_clean()
    assert "other_names" in exc.value.message_dict


def test_languages_validation_rejects_unknown_codes():
    org = factories.OrganisationFactory.build(languages=["ru", "xx", "klingon"])
    with pytest.raises(ValidationError) as exc:
        org.full_clean()
    assert "languages" in exc.value.message_dict
    assert "xx" in str(exc.value.message_dict["languages"])
    person = factories.PersonFactory.build(languages=["zz"])
    with pytest.raises(ValidationError) as exc:
        person.full_clean()
    assert "languages" in exc.value.message_dict


def test_languages_of_the_region_accepted_and_normalised():
    org = factories.OrganisationFactory.build(languages=["KK", "ky", "tg", "tk", "uz", "ru", "ru"])
    org.full_clean()
    assert org.languages == ["kk", "ky", "tg", "tk", "uz", "ru"]


# --- history -------------------------------------------------------------------------------


def test_history_records_actor_on_create_and_update():
    actor = factories.staff_user()
    org = organisation_create(
        actor=actor, data={"name": "Umid", "country": "UZ", "visibility": "public"},
        focus_areas=["youth"],
    )
    organisation_update(actor=actor, organisation=org, data={"name": "Umid Youth"})
    rows = list(org.history.order_by("history_date", "history_id"))
    # Creation, the focus-area link (an m2m change is its own row), then the rename.
    assert [r.history_type for r in rows] == ["+", "~", "~"]
    assert all(r.history_user_id == actor.pk for r in rows)
    assert rows[0].name == "Umid" and rows[-1].name == "Umid Youth"
    assert [a.focusarea.slug for a in rows[1].focus_areas.all()] == ["youth"]


def test_history_records_changes_without_request():
    org = organisation_create(actor=None, data={"name": "Command Org", "country": "TJ"})
    organisation_update(actor=None, organisation=org, data={"city": "Dushanbe"})
    rows = list(org.history.order_by("history_date", "history_id"))
    assert [r.history_type for r in rows] == ["+", "~"]
    assert rows[-1].city == "Dushanbe"
    assert all(r.history_user_id is None for r in rows)


def test_history_records_focus_area_changes():
    actor = factories.staff_user()
    org = organisation_create(actor=actor, data={"name": "Tabigat", "country": "KG"}, focus_areas=["water"])
    organisation_update(actor=actor, organisation=org, data={}, focus_areas=["water", "climate"])
    latest = org.history.order_by("-history_date", "-history_id").first()
    assert latest.history_user_id == actor.pk
    assert {a.focusarea.slug for a in latest.focus_areas.all()} == {"water", "climate"}
