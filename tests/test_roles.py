"""Roles are read in one query per request and never kept across requests: a removed team
membership, a withdrawn permission or a deactivation applies on the very next request."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from directory.models import OrganisationEditor, TeamMembership
from directory.roles import PERM_MANAGE_EVENTS, PERM_VIEW_RESTRICTED, get_roles
from tests import factories

pytestmark = pytest.mark.django_db

URL = "/api/v1/organisations/"


def _fresh(user):
    """The user as the next request loads it (no per-request memo)."""
    return get_user_model().objects.get(pk=user.pk)


def test_roles_and_permissions_in_one_query():
    team = factories.TeamFactory()
    user = factories.staff_user(team=team, perms=("view_internal",))
    organisation = factories.OrganisationFactory()
    OrganisationEditor.objects.create(user=user, organisation=organisation)
    group = Group.objects.create(name="Restricted readers")
    group.permissions.add(Permission.objects.get(codename="view_restricted"))
    user.groups.add(group)
    user = _fresh(user)
    with CaptureQueriesContext(connection) as captured:
        roles = get_roles(user)
        # Django's permission checks of the same request reuse what that query read.
        assert user.has_perm(PERM_VIEW_RESTRICTED)
        assert user.has_perm("directory.view_internal")
        assert not user.has_perm(PERM_MANAGE_EVENTS)
        assert user.get_all_permissions() == {"directory.view_internal", "directory.view_restricted"}
        assert get_roles(user) is roles
    assert len(captured.captured_queries) == 1
    assert roles.staff and roles.team_ids == {team.pk}
    assert roles.editor_org_ids == {organisation.pk}
    assert roles.can_view_restricted and not roles.organiser and not roles.admin


def test_superuser_keeps_every_permission():
    admin = _fresh(factories.UserFactory(is_superuser=True))
    roles = get_roles(admin)
    assert roles.admin and roles.staff and roles.organiser and roles.can_view_restricted
    assert admin.has_perm("directory.delete_organisation")
    assert "directory.delete_organisation" in admin.get_all_permissions()


def test_role_changes_apply_on_the_next_request():
    hidden = factories.OrganisationFactory(visibility="staff", name="Staff only")
    user = factories.staff_user()
    client = Client()
    client.force_login(user)

    def names():
        response = client.get(URL, HTTP_ACCEPT="application/json")
        return response.status_code, [o["name"] for o in response.json().get("results", [])]

    assert names() == (200, [hidden.name])
    TeamMembership.objects.filter(user=user).delete()
    assert names() == (200, [])  # no longer EU staff
    TeamMembership.objects.create(user=user, team=factories.TeamFactory())
    assert names() == (200, [hidden.name])
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    status, found = names()
    assert hidden.name not in found  # deactivated: signed out on the next request
