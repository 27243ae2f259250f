"""Merging two organisations keeps every related row and records the merge in history."""

import pytest
from django.test import Client

from directory.models import (
    Affiliation,
    Interaction,
    Organisation,
    OrganisationEditor,
    OrganisationIdentifier,
)
from directory.services.merge import organisation_merge
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair():
    keep = factories.OrganisationFactory(
        name="Bir Duino Kyrgyzstan", country="KG", city="Bishkek", focus_areas=["human-rights"],
        internal_notes="Met in 2023.", website="",
    )
    lose = factories.OrganisationFactory(
        name="Бир Дуйно", name_local="Бир Дуйно Кыргызстан", other_names=["BDK"], country="KG",
        city="Bishkek", website="https://birduino.kg", founded_year=2008, focus_areas=["youth", "human-rights"],
        internal_notes="Partner of the 2019 programme.", visibility="staff",
    )
    person_a, person_b = factories.PersonFactory(), factories.PersonFactory()
    factories.AffiliationFactory(person=person_a, organisation=keep, role="Director")
    factories.AffiliationFactory(person=person_a, organisation=lose, role="Director")  # exact duplicate
    factories.AffiliationFactory(person=person_b, organisation=lose, role="Lawyer")
    factories.IdentifierFactory(organisation=lose, scheme="KG-OKPO", value="12345678")
    factories.IdentifierFactory(organisation=keep, scheme="KG-TIN", value="12345678901234")
    author = factories.staff_user()
    shared = factories.interaction(author, organisations=[keep, lose], subject="Both")
    only_lose = factories.interaction(author, organisations=[lose], subject="Loser only")
    editor = factories.editor_of(lose)
    both_editor = factories.editor_of(lose)
    OrganisationEditor.objects.create(user=both_editor, organisation=keep)
    return {"keep": keep, "lose": lose, "person_a": person_a, "person_b": person_b, "shared": shared,
            "only_lose": only_lose, "editor": editor, "both_editor": both_editor, "author": author}


def test_merge_keeps_every_related_row(pair):
    keep, lose = pair["keep"], pair["lose"]
    actor = factories.staff_user()
    lose_id = lose.pk
    organisation_merge(actor=actor, keep=keep, lose=lose)
    assert not Organisation.objects.filter(pk=lose_id).exists()
    keep.refresh_from_db()
    # People: the duplicate affiliation is dropped, the other moves.
    roles = sorted((a.person_id, a.role) for a in Affiliation.objects.filter(organisation=keep))
    assert roles == sorted([(pair["person_a"].pk, "Director"), (pair["person_b"].pk, "Lawyer")])
    # Identifiers.
    assert sorted(OrganisationIdentifier.objects.filter(organisation=keep).values_list("scheme", flat=True)) == ["KG-OKPO", "KG-TIN"]
    # Names: the loser's name and other names become other names; its local name fills the gap.
    assert keep.name == "Bir Duino Kyrgyzstan" and keep.name_local == "Бир Дуйно Кыргызстан"
    assert keep.other_names == ["Бир Дуйно", "BDK"]
    # Focus areas: the union.
    assert sorted(keep.focus_areas.values_list("slug", flat=True)) == ["human-rights", "youth"]
    # Empty fields filled, notes appended, the stricter visibility kept.
    assert keep.website == "https://birduino.kg" and keep.founded_year == 2008
    assert "Met in 2023." in keep.internal_notes and "Partner of the 2019 programme." in keep.internal_notes
    assert keep.visibility == "staff"
    # Contact history.
    assert set(Interaction.objects.filter(organisations=keep).values_list("subject", flat=True)) == {"Both", "Loser only"}
    assert pair["shared"].organisations.count() == 1
    # Editors: moved, duplicates dropped.
    assert set(OrganisationEditor.objects.filter(organisation=keep).values_list("user_id", flat=True)) == {
        pair["editor"].pk, pair["both_editor"].pk}
    # Search finds the keeper under the loser's names.
    assert Organisation.objects.filter(search_key__contains="bdk").get() == keep


def test_history_records_the_merge(pair):
    keep, lose = pair["keep"], pair["lose"]
    actor = factories.staff_user()
    reason = f"Merged {lose.pk} into {keep.pk}"
    lose_id = lose.pk
    organisation_merge(actor=actor, keep=keep, lose=lose)
    assert keep.history.filter(history_change_reason=reason, history_user=actor).exists()
    deleted = Organisation.history.filter(id=lose_id, history_type="-").get()
    assert deleted.history_change_reason == reason and deleted.history_user == actor
    moved = Affiliation.history.filter(person_id=pair["person_b"].pk, organisation_id=keep.pk).first()
    assert moved.history_change_reason == reason
    assert OrganisationIdentifier.history.filter(value="12345678", organisation_id=keep.pk).exists()
    assert pair["only_lose"].history.filter(history_type="~").exists()


def test_one_current_primary_contact_after_the_merge():
    keep, lose = factories.OrganisationFactory(), factories.OrganisationFactory()
    factories.AffiliationFactory(organisation=keep, is_primary=True)
    moved = factories.AffiliationFactory(organisation=lose, is_primary=True)
    organisation_merge(actor=None, keep=keep, lose=lose)
    moved.refresh_from_db()
    assert moved.organisation == keep and moved.is_primary is False
    assert Affiliation.objects.filter(organisation=keep, is_primary=True).count() == 1


def test_merging_into_itself_is_refused():
    org = factories.OrganisationFactory()
    with pytest.raises(Exception, match="itself"):
        organisation_merge(actor=None, keep=org, lose=org)


def test_merge_page_permissions_and_csrf(pair):
    keep, lose = pair["keep"], pair["lose"]
    url = f"/organisations/{keep.pk}/merge/?other={lose.pk}"
    client = Client()
    assert client.get(url).status_code == 302
    client.force_login(factories.staff_user(perms=("view_internal", "change_organisation")))
    assert client.get(url).status_code == 403
    merger = factories.staff_user()  # change + delete
    client.force_login(merger)
    page = client.get(url)
    assert page.status_code == 200
    text = page.content.decode()
    assert "Бир Дуйно" in text and "Bir Duino Kyrgyzstan" in text and "What will move" in text
    # No CSRF token: refused, nothing merged.
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(merger)
    assert strict.post(url, {"other": lose.pk, "confirm": "yes"}).status_code == 403
    assert Organisation.objects.filter(pk=lose.pk).exists()
    # Without the confirmation: nothing merged.
    assert client.post(url, {"other": lose.pk}).status_code == 200
    assert Organisation.objects.filter(pk=lose.pk).exists()
    response = client.post(url, {"other": lose.pk, "confirm": "yes"})
    assert response.status_code == 302 and response["Location"] == keep.get_absolute_url()
    assert not Organisation.objects.filter(pk=lose.pk).exists()
    assert keep.history.filter(history_user=merger).exists()


def test_merge_page_hides_what_the_user_may_not_see():
    keep = factories.OrganisationFactory()
    hidden = factories.OrganisationFactory(visibility="restricted")
    client = Client()
    client.force_login(factories.staff_user())
    assert client.get(f"/organisations/{keep.pk}/merge/?other={hidden.pk}").status_code == 404
    assert client.get(f"/organisations/{keep.pk}/merge/?other=not-a-uuid").status_code == 404
