"""The access gate: Organisation/Person.objects.visible_to(user) for every role (SECURITY.md)."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from directory.models import Organisation, Person, TeamMembership
from tests import factories

pytestmark = pytest.mark.django_db

VISIBILITIES = ["public", "staff", "restricted"]
STATUSES = ["active", "inactive", "closed"]


@pytest.fixture
def grid():
    """One organisation per (visibility, status), named e.g. 'staff/closed'."""
    return {
        f"{v}/{s}": factories.OrganisationFactory(name=f"{v}/{s}", visibility=v, status=s)
        for v in VISIBILITIES
        for s in STATUSES
    }


def visible(user):
    return sorted(Organisation.objects.visible_to(user).values_list("name", flat=True))


def names(visibilities, statuses=STATUSES):
    return sorted(f"{v}/{s}" for v in visibilities for s in statuses)


def test_anonymous_sees_public_active_only(grid):
    assert visible(AnonymousUser()) == ["public/active"]
    assert visible(None) == ["public/active"]


def test_user_without_role_is_like_anonymous(grid):
    assert visible(factories.UserFactory()) == ["public/active"]


def test_staff_sees_public_and_staff_any_status_not_restricted(grid):
    assert visible(factories.staff_user()) == names(["public", "staff"])


def test_staff_with_view_restricted_sees_all(grid):
    user = factories.grant(factories.staff_user(), "view_restricted")
    assert visible(user) == names(VISIBILITIES)


def test_view_restricted_without_team_gives_nothing_more(grid):
    user = factories.grant(factories.UserFactory(), "view_restricted")
    assert visible(user) == ["public/active"]


def test_organiser_without_team_sees_public_and_staff_not_restricted(grid, organiser_user):
    assert visible(organiser_user) == names(["public", "staff"])


def test_editor_sees_public_and_own_organisation_of_any_visibility(grid):
    own = grid["restricted/closed"]
    editor = factories.editor_of(own)
    assert visible(editor) == ["public/active", "restricted/closed"]
    editor_of_staff_org = factories.editor_of(grid["staff/inactive"])
    assert visible(editor_of_staff_org) == ["public/active", "staff/inactive"]


def test_superuser_sees_all(grid, admin_user):
    assert visible(admin_user) == names(VISIBILITIES)


def test_inactive_user_is_anonymous(grid):
    staff = factories.staff_user(is_active=False)
    admin = factories.UserFactory(is_superuser=True, is_active=False)
    editor = factories.editor_of(grid["restricted/active"], is_active=False)
    for user in (staff, admin, editor):
        assert visible(user) == ["public/active"]


# --- people --------------------------------------------------------------------------------


@pytest.fixture
def people():
    today = timezone.localdate()
    own = factories.OrganisationFactory(name="Own", visibility="staff")
    other = factories.OrganisationFactory(name="Other")
    result = {
        "current": factories.PersonFactory(name="current"),
        "ended": factories.PersonFactory(name="ended"),
        "ends-today": factories.PersonFactory(name="ends-today"),
        "restricted": factories.PersonFactory(name="restricted", sensitivity="restricted"),
        "elsewhere": factories.PersonFactory(name="elsewhere"),
        "restricted-elsewhere": factories.PersonFactory(name="restricted-elsewhere", sensitivity="restricted"),
    }
    factories.AffiliationFactory(person=result["current"], organisation=own)
    factories.AffiliationFactory(
        person=result["ended"], organisation=own, start_date=today - timedelta(days=400),
        end_date=today - timedelta(days=1),
    )
    factories.AffiliationFactory(person=result["ends-today"], organisation=own, end_date=today)
    factories.AffiliationFactory(person=result["restricted"], organisation=own)
    factories.AffiliationFactory(person=result["elsewhere"], organisation=other)
    factories.AffiliationFactory(person=result["restricted-elsewhere"], organisation=other)
    result["own"] = own
    return result


def visible_people(user):
    return sorted(Person.objects.visible_to(user).values_list("name", flat=True))


ALL_PEOPLE = sorted(["current", "ended", "ends-today", "restricted", "elsewhere", "restricted-elsewhere"])


def test_anonymous_sees_no_people(people):
    assert visible_people(AnonymousUser()) == []
    assert visible_people(factories.UserFactory()) == []


def test_staff_sees_normal_people_only(people):
    assert visible_people(factories.staff_user()) == ["current", "elsewhere", "ended", "ends-today"]


def test_staff_with_view_restricted_sees_all_people(people):
    user = factories.grant(factories.staff_user(), "view_restricted")
    assert visible_people(user) == ALL_PEOPLE


def test_editor_sees_current_normal_people_of_own_organisations(people):
    editor = factories.editor_of(people["own"])
    assert visible_people(editor) == ["current", "ends-today"]


def test_organiser_without_team_sees_no_people(people, organiser_user):
    assert visible_people(organiser_user) == []


def test_superuser_sees_all_people(people, admin_user):
    assert visible_people(admin_user) == ALL_PEOPLE


def test_inactive_staff_sees_no_people(people):
    assert visible_people(factories.staff_user(is_active=False)) == []


# --- changes take effect on the next request -------------------------------------------------


def test_deactivation_takes_effect_on_next_request(client):
    org = factories.OrganisationFactory(visibility="staff")
    user = factories.staff_user()
    client.force_login(user)
    assert client.get(org.get_absolute_url()).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get(org.get_absolute_url()).status_code == 404
    response = client.get("/people/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_removing_team_membership_takes_effect_on_next_request(client):
    org = factories.OrganisationFactory(visibility="staff")
    user = factories.staff_user()
    client.force_login(user)
    assert client.get(org.get_absolute_url()).status_code == 200
    assert client.get("/people/").status_code == 200
    TeamMembership.objects.filter(user=user).delete()
    assert client.get(org.get_absolute_url()).status_code == 404
    assert client.get("/people/").status_code == 404


def test_removing_view_restricted_takes_effect_on_next_request(client):
    org = factories.OrganisationFactory(visibility="restricted")
    user = factories.grant(factories.staff_user(), "view_restricted")
    client.force_login(user)
    assert client.get(org.get_absolute_url()).status_code == 200
    user.user_permissions.remove(*user.user_permissions.filter(codename="view_restricted"))
    assert client.get(org.get_absolute_url()).status_code == 404
