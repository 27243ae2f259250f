"""The Django admin works for every model and writes through the services."""

import re
from datetime import timedelta

import pytest
from django.contrib import admin
from django.core import mail
from django.urls import reverse

from directory.models import (
    ConfirmationReminder,
    EditorInvitation,
    FocusArea,
    Organisation,
    OrganisationEditor,
    ProfileChange,
)
from directory.services import self_service as self_service_services
from tests import factories


@pytest.fixture
def admin_client(client, db):
    client.force_login(factories.UserFactory(is_superuser=True, is_staff=True))
    return client


@pytest.fixture
def self_service(db):
    """One row of each self-service model, written through the services."""
    org = factories.OrganisationFactory(name="Admin Self Service Org", email="office@example.org")
    person = factories.AffiliationFactory(organisation=org).person
    editor = factories.editor_of(org, email="editor@example.org")
    staff = factories.staff_user()
    change = self_service_services.profile_change_propose(
        actor=editor, organisation=org,
        changes={"city": "Osh", "people": {str(person.pk): {"position": "Chair"}}},
    )
    invitation, token = self_service_services.editor_invite(actor=staff, organisation=org, email="new@example.org")
    self_service_services.confirmation_reminders_send(actor=staff, organisations=[org])
    return {"change": change, "invitation": invitation, "token": token,
            "reminder": ConfirmationReminder.objects.get(organisation=org)}


def test_self_service_models_are_registered():
    for model in (ProfileChange, EditorInvitation, ConfirmationReminder, OrganisationEditor):
        assert model in admin.site._registry, model._meta.label


def test_every_registered_admin_page_renders(admin_client, self_service):
    from directory.services import audit, privacy

    person = factories.AffiliationFactory().person
    staff = factories.staff_user()
    factories.interaction(staff, subject="Admin page")
    audit.log_access(user=staff, action="export_people", object_type="person", rows=1)
    privacy.consent_record(actor=staff, person=person, action="given", purposes=["directory"], method="email")
    privacy.suppress(kind="email", value="gone@example.org")
    secret_hash = self_service["invitation"].token_hash
    from directory.services import events as event_services

    events_team = factories.TeamFactory()
    forum = factories.event(events_team)
    guest_org = factories.OrganisationFactory()
    event_services.invitation_add(
        actor=factories.organiser(team=events_team), event=forum, person=factories.invitable(guest_org), organisation=guest_org
    )
    for model in admin.site._registry:
        meta = model._meta
        changelist = admin_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        assert changelist.status_code == 200, meta.label
        add = admin_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
        assert add.status_code in (200, 403), meta.label  # 403: append-only or fixed tables
        if meta.app_label != "directory":
            continue  # third-party admins: the list and add pages are enough
        obj = model._default_manager.first()
        assert obj is not None, f"{meta.label}: no row, so its change page is not tried"
        assert str(obj.pk) in changelist.content.decode() or meta.model_name == "focusarea", meta.label
        change = admin_client.get(reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk]))
        # Interactions redirect to their own page, where the compartments are enforced.
        assert change.status_code == (302 if model.__name__ == "Interaction" else 200), meta.label
        for page in (changelist, add, change):
            assert secret_hash not in page.content.decode(), meta.label
            assert self_service["token"] not in page.content.decode(), meta.label


def test_creating_an_organisation_in_the_admin_goes_through_the_service(admin_client):
    env = FocusArea.objects.get(slug="environment")
    response = admin_client.post(
        reverse("admin:directory_organisation_add"),
        {
            "name": "Admin Made Org", "name_local": "", "other_names": "[]", "acronym": "", "type": "ngo",
            "country": "KZ", "city": "Almaty", "website": "", "email": "", "phone": "",
            "languages": '["ru"]', "description": "", "focus_areas": [env.pk], "visibility": "public",
            "status": "active", "internal_notes": "",
            "identifiers-TOTAL_FORMS": "0", "identifiers-INITIAL_FORMS": "0",
            "affiliations-TOTAL_FORMS": "0", "affiliations-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    org = Organisation.objects.get(name="Admin Made Org")
    assert list(org.focus_areas.values_list("slug", flat=True)) == ["environment"]
    assert org.search_key  # computed on save
    assert org.history.first().history_user.is_superuser


def test_interaction_admin_shows_metadata_only(admin_client):
    author = factories.staff_user()
    interaction = factories.interaction(author, sensitivity="participants", subject="Secret meeting topic 8812")
    listing = admin_client.get(reverse("admin:directory_interaction_changelist"))
    assert listing.status_code == 200
    assert "Secret meeting topic 8812" not in listing.content.decode()
    change = admin_client.get(reverse("admin:directory_interaction_change", args=[interaction.pk]))
    assert change.status_code == 302


def test_self_service_pages_show_the_records(admin_client, self_service):
    change = self_service["change"]
    page = admin_client.get(reverse("admin:directory_profilechange_change", args=[change.pk])).content.decode()
    assert "Osh" in page and "Chair" in page  # the proposed values
    assert "Admin Self Service Org" in page
    page = admin_client.get(reverse("admin:directory_editorinvitation_change",
                                    args=[self_service["invitation"].pk])).content.decode()
    assert "new@example.org" in page
    assert "token_hash" not in page and self_service["invitation"].token_hash not in page


def test_read_only_self_service_admins_refuse_writes(admin_client, self_service):
    change, reminder = self_service["change"], self_service["reminder"]
    before = ProfileChange.objects.filter(pk=change.pk).values().get()
    for name, obj in (("profilechange", change), ("confirmationreminder", reminder)):
        assert admin_client.get(reverse(f"admin:directory_{name}_add")).status_code == 403
        response = admin_client.post(reverse(f"admin:directory_{name}_change", args=[obj.pk]), {"status": "approved"})
        assert response.status_code == 403
        assert admin_client.post(reverse(f"admin:directory_{name}_delete", args=[obj.pk]), {"post": "yes"}).status_code == 403
    assert ProfileChange.objects.filter(pk=change.pk).values().get() == before
    assert ConfirmationReminder.objects.filter(pk=reminder.pk).exists()
    invitation = self_service["invitation"]
    url = reverse("admin:directory_editorinvitation_change", args=[invitation.pk])
    assert admin_client.post(url, {"email": "other@example.org"}).status_code == 403
    assert admin_client.post(reverse("admin:directory_editorinvitation_delete", args=[invitation.pk]),
                             {"post": "yes"}).status_code == 403
    invitation.refresh_from_db()
    assert invitation.email == "new@example.org"


def test_inviting_an_editor_in_the_admin_goes_through_the_service(admin_client, django_capture_on_commit_callbacks):
    org = factories.OrganisationFactory(name="Invited Org")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = admin_client.post(reverse("admin:directory_editorinvitation_add"),
                                     {"organisation": str(org.pk), "email": " Invitee@Example.org "})
        assert response.status_code == 302, response.content[:2000]
        assert mail.outbox == []  # mail leaves on commit only
    for callback in callbacks:
        callback()
    invitation = EditorInvitation.objects.get(organisation=org)
    assert invitation.email == "invitee@example.org" and invitation.created_by.is_superuser
    assert invitation.is_open
    assert abs(invitation.expires_at - invitation.created_at - timedelta(days=7)) < timedelta(minutes=1)
    (message,) = mail.outbox
    token = re.search(r"/accounts/invitation/([^/\s]+)/", message.body).group(1)
    assert invitation.token_hash == self_service_services.hash_token(token) != token
    assert self_service_services.invitation_check(token) == invitation


def test_invalid_invitation_in_the_admin_is_a_form_error(admin_client):
    org = factories.OrganisationFactory()
    response = admin_client.post(reverse("admin:directory_editorinvitation_add"),
                                 {"organisation": str(org.pk), "email": "not an email"})
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors
    assert not EditorInvitation.objects.exists() and mail.outbox == []


def test_revoke_action_goes_through_the_service(admin_client, self_service):
    invitation = self_service["invitation"]
    response = admin_client.post(reverse("admin:directory_editorinvitation_changelist"),
                                 {"action": "revoke", "_selected_action": [str(invitation.pk)]})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    with pytest.raises(self_service_services.InvitationInvalid):
        self_service_services.invitation_check(self_service["token"])


def test_removing_an_editor_in_the_admin(admin_client, self_service):
    link = OrganisationEditor.objects.get(organisation=self_service["change"].organisation)
    response = admin_client.post(reverse("admin:directory_organisationeditor_delete", args=[link.pk]), {"post": "yes"})
    assert response.status_code == 302
    assert not OrganisationEditor.objects.filter(pk=link.pk).exists()
