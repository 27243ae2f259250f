"""The demo data: `seed_demo` is deterministic and idempotent, covers the domain, and the demo
users can sign in. The data is seeded once for the module (inside a transaction rolled back at
the end); each test runs in its own savepoint on top of it."""

import re
from collections import Counter
from datetime import date

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.test import override_settings

from directory.choices import InvitationStatus
from directory.filtersets import focus_area_exists
from directory.models import (
    Affiliation,
    Event,
    FocusArea,
    Interaction,
    Invitation,
    Organisation,
    OrganisationEditor,
    OrganisationIdentifier,
    Person,
    Team,
)

PASSWORD = "demo-password-for-tests"
DEMO_USERS = ["admin", "staff.kz", "staff.kg", "organiser", "editor"]


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker):
    # The same fast hasher as the autouse fixture in conftest, which is function-scoped.
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), fast, transaction.atomic():
        call_command("seed_demo", password=PASSWORD, stdout=open("/dev/null", "w"))
        yield
        transaction.set_rollback(True)


def snapshot():
    through = Organisation.focus_areas.through
    User = get_user_model()
    return {
        "organisations": list(Organisation.objects.order_by("pk").values()),
        "people": list(Person.objects.order_by("pk").values()),
        "affiliations": list(
            Affiliation.objects.order_by("person_id", "organisation_id")
            .values("person_id", "organisation_id", "role", "is_primary", "start_date", "end_date")
        ),
        "identifiers": list(OrganisationIdentifier.objects.order_by("scheme", "value")
                            .values("organisation_id", "scheme", "value", "verified")),
        "focus_links": sorted(through.objects.values_list("organisation_id", "focusarea__slug")),
        "users": list(User.objects.order_by("username").values_list("username", "is_superuser", "is_active")),
        "teams": list(Team.objects.order_by("name").values_list("id", "name")),
        "editors": sorted(OrganisationEditor.objects.values_list("user__username", "organisation_id")),
        "events": list(Event.objects.order_by("pk").values()),
        "invitations": sorted(Invitation.objects.values_list("id", "person_id", "status")),
    }


@pytest.mark.usefixtures("demo")
@pytest.mark.django_db
class TestSeededDemo:
    def test_seeding_twice_gives_the_same_data(self):
        first = snapshot()
        org_history = Organisation.history.count()
        person_history = Person.history.count()
        call_command("seed_demo", password=PASSWORD, stdout=open("/dev/null", "w"))
        second = snapshot()
        for key in first:
            assert second[key] == first[key], key
        # Nothing changed, so nothing new is written to the history either.
        assert Organisation.history.count() == org_history
        assert Person.history.count() == person_history

    def test_about_150_organisations_across_the_region(self):
        total = Organisation.objects.count()
        assert 140 <= total <= 160
        by_country = Counter(Organisation.objects.values_list("country", flat=True))
        assert set(by_country) == {"KZ", "KG", "TJ", "TM", "UZ"}
        assert all(n >= 25 for n in by_country.values())

    def test_all_visibility_levels_and_focus_areas_used(self):
        assert set(Organisation.objects.values_list("visibility", flat=True)) == {"public", "staff", "restricted"}
        used = set(Organisation.focus_areas.through.objects.values_list("focusarea__slug", flat=True))
        assert used == set(FocusArea.objects.values_list("slug", flat=True))

    def test_people_include_restricted_and_without_consent(self):
        assert Person.objects.count() > 150
        assert Person.objects.filter(sensitivity="restricted").exists()
        assert Person.objects.filter(sensitivity="normal").exists()
        assert Person.objects.filter(consent_given_at__isnull=True).exists()
        assert Person.objects.filter(consent_given_at__isnull=False).exists()
        assert Affiliation.objects.count() >= Person.objects.count()
        assert OrganisationIdentifier.objects.count() > 100

    def test_demo_users_exist_and_can_sign_in(self, client):
        User = get_user_model()
        assert set(DEMO_USERS) <= set(User.objects.values_list("username", flat=True))
        for username in DEMO_USERS:
            client.logout()
            response = client.post("/accounts/login/", {"username": username, "password": PASSWORD})
            assert response.status_code == 302, username
            assert client.session["_auth_user_id"] == str(User.objects.get(username=username).pk)
        client.logout()
        response = client.post("/accounts/login/", {"username": "admin", "password": "wrong-password"})
        assert response.status_code == 200
        assert "_auth_user_id" not in client.session

    def test_roles_of_demo_users(self):
        User = get_user_model()
        assert User.objects.get(username="admin").is_superuser
        editor_links = OrganisationEditor.objects.filter(user__username="editor")
        assert editor_links.count() == 1
        assert editor_links.get().organisation.name == "Kylym Shamy Human Rights Centre"
        teams = {
            username: list(User.objects.get(username=username).teams.values_list("name", flat=True))
            for username in ("staff.kz", "staff.kg", "organiser", "editor")
        }
        assert teams == {
            "staff.kz": ["EU Delegation to Kazakhstan"],
            "staff.kg": ["EU Delegation to the Kyrgyz Republic"],
            "organiser": ["EU Delegation to Kazakhstan"],  # owns the forum's invitation list
            "editor": [],
        }
        assert User.objects.get(username="organiser").has_perm("directory.manage_events")
        assert User.objects.get(username="staff.kz").has_perm("directory.view_restricted")
        assert not User.objects.get(username="staff.kg").has_perm("directory.view_restricted")

    def test_forum_with_invitations_in_every_status(self):
        event = Event.objects.get(name="EU–Central Asia Civil Society Forum")
        assert event.city == "Almaty" and event.starts_on == date(2026, 10, 6)
        statuses = Counter(event.invitations.values_list("status", flat=True))
        assert 100 <= sum(statuses.values()) <= 140
        assert set(statuses) == set(InvitationStatus.values)
        assert statuses["accepted"] + statuses["attended"] <= event.capacity
        organiser = get_user_model().objects.get(username="organiser")
        assert Event.objects.editable_by(organiser).filter(pk=event.pk).exists()
        assert Interaction.objects.filter(event=event, kind="event").count() == len(
            set(event.invitations.filter(status="attended").values_list("organisation_id", flat=True))
        )
        editor = get_user_model().objects.get(username="editor")
        assert Invitation.objects.answerable_by(editor).filter(event=event, status="invited").exists()

    def test_forum_pages_render_for_the_demo_users(self, client):
        User = get_user_model()
        event = Event.objects.get(name="EU–Central Asia Civil Society Forum")
        client.force_login(User.objects.get(username="organiser"))
        page = client.get(event.get_absolute_url())
        assert page.status_code == 200
        html = page.content.decode()
        assert "Targets missed:" in html and "<svg" in html and 'name="invitation"' in html
        assert client.get(f"/events/{event.pk}/attendance/").status_code == 200
        client.force_login(User.objects.get(username="editor"))
        mine = client.get("/my/invitations/")
        assert mine.status_code == 200 and "EU–Central Asia Civil Society Forum" in mine.content.decode()

    def test_bir_duino_found_in_cyrillic_by_anonymous(self, client):
        response = client.get("/organisations/", {"q": "Бир Дуйно"})
        assert response.status_code == 200
        names = re.findall(r'<li class="card">\s*<h3><a href="[^"]+">([^<]+)</a>', response.content.decode())
        assert names == ["Bir Duino Kyrgyzstan"]

    def test_country_and_focus_area_filter_on_demo_data(self, client):
        response = client.get("/organisations/", {"country": "KZ", "focus_area": "environment"})
        assert response.status_code == 200
        shown = set(re.findall(r'<li class="card">\s*<h3><a href="/organisations/([0-9a-f-]+)/">',
                               response.content.decode()))
        expected = {
            str(pk)
            for pk in Organisation.objects.visible_to(None)
            .filter(country="KZ")
            .filter(focus_area_exists(["environment"]))
            .values_list("pk", flat=True)
        }
        assert expected and len(expected) <= 25  # one page
        assert shown == expected
        env = {"environment", "climate", "water", "green-economy"}
        for org in Organisation.objects.filter(pk__in=shown).prefetch_related("focus_areas"):
            assert org.country == "KZ"
            assert org.visibility == "public" and org.status == "active"
            assert env & {a.slug for a in org.focus_areas.all()}


@pytest.mark.django_db
def test_demo_command_without_server(monkeypatch, capsys):
    monkeypatch.setenv("DEMO_PASSWORD", PASSWORD)
    call_command("demo", "--no-serve")
    out = capsys.readouterr().out
    assert "organisations" in out and "staff.kz" in out
    assert Organisation.objects.count() >= 140
    assert get_user_model().objects.get(username="editor").check_password(PASSWORD)


@pytest.mark.usefixtures("demo")
@pytest.mark.django_db
def test_editor_has_one_pending_and_one_approved_proposal():
    from directory.models import ProfileChange

    changes = ProfileChange.objects.filter(author__username="editor", organisation__name="Kylym Shamy Human Rights Centre")
    assert sorted(changes.values_list("status", flat=True)) == ["approved", "pending"]
    approved = changes.get(status="approved")
    assert approved.reviewed_by.username == "staff.kz"
    organisation = approved.organisation
    assert (organisation.phone, organisation.founded_year) == ("+996 312 900100", 2002)
    assert organisation.history.filter(history_user__username="editor").exists()
    pending = changes.get(status="pending")
    assert "website" in pending.diff and any(key.startswith("people.") for key in pending.diff)
