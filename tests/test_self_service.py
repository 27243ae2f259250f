"""CSO self-service (issue 8): invitations, proposals, moderation, freshness (web + services)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse
from django.utils import timezone

from directory.choices import ProfileChangeStatus, Sensitivity, Visibility
from directory.models import (
    EditorInvitation,
    Organisation,
    OrganisationEditor,
    Person,
    ProfileChange,
)
from directory.services import self_service as svc
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture
def org(db):
    organisation = factories.OrganisationFactory(
        name="Kylym Shamy", website="https://kylym.example.org", founded_year=2001,
        focus_areas=["human-rights"], country="KG", city="Bishkek",
    )
    factories.IdentifierFactory(organisation=organisation, scheme="KG-OKPO", value="12345678", verified=True)
    return organisation


@pytest.fixture
def person(org):
    return factories.AffiliationFactory(organisation=org, person__name="Aigul Bekova").person


@pytest.fixture
def editor(org):
    return factories.editor_of(org)


@pytest.fixture
def moderator(db):
    return factories.staff_user(perms=("view_internal", "change_organisation", "change_person",
                                       "moderate_profile_changes"))


def propose(editor, org, **changes):
    return svc.profile_change_propose(actor=editor, organisation=org, changes=changes)


# --------------------------------------------------------------------------- the diff

class TestPropose:
    def test_only_changed_fields_are_stored_with_old_and_new(self, org, editor, person):
        change = propose(editor, org, name=org.name, website="https://new.example.org",
                         focus_areas=["human-rights", "youth"],
                         people={str(person.pk): {"position": "Director", "name": person.name}})
        assert change.diff == {
            "website": {"old": "https://kylym.example.org", "new": "https://new.example.org"},
            "focus_areas": {"old": ["human-rights"], "new": ["human-rights", "youth"]},
            f"people.{person.pk}.position": {"old": "", "new": "Director", "person_name": "Aigul Bekova"},
        }
        assert change.status == ProfileChangeStatus.PENDING
        org.refresh_from_db()
        assert org.website == "https://kylym.example.org"  # a proposal is not a write
        assert Person.objects.get(pk=person.pk).position == ""

    def test_no_change_is_an_error_and_nothing_stored(self, org, editor):
        with pytest.raises(ValidationError) as exc:
            propose(editor, org, name=org.name, website=org.website)
        assert "changes" in exc.value.message_dict
        assert not ProfileChange.objects.exists()

    @pytest.mark.parametrize("field,value", [
        ("visibility", "public"), ("status", "closed"), ("verified", True), ("verified_by", 1),
        ("verified_at", "2025-01-01T00:00:00Z"), ("internal_notes", "x"), ("confirmed_at", None),
        ("search_key", "x"), ("created_at", "2025-01-01"), ("id", "x"),
    ])
    def test_forbidden_organisation_fields(self, org, editor, field, value):
        with pytest.raises(ValidationError) as exc:
            propose(editor, org, website="https://new.example.org", **{field: value})
        assert field in exc.value.message_dict
        assert not ProfileChange.objects.exists()

    def test_identifier_verified_flag_is_forbidden(self, org, editor):
        with pytest.raises(ValidationError) as exc:
            propose(editor, org, identifiers=[{"scheme": "KG-OKPO", "value": "12345678", "verified": False}])
        assert "identifiers" in exc.value.message_dict

    @pytest.mark.parametrize("field", ["sensitivity", "do_not_contact", "gender", "consent_given_at",
                                       "consent_purposes", "consent_withdrawn_at", "consent_method"])
    def test_forbidden_person_fields(self, org, editor, person, field):
        with pytest.raises(ValidationError) as exc:
            propose(editor, org, people={str(person.pk): {field: "x"}})
        assert f"people.{person.pk}.{field}" in exc.value.message_dict
        assert not ProfileChange.objects.exists()

    @pytest.mark.parametrize("field,value", [
        ("website", "not a url"), ("email", "not-an-email"), ("founded_year", 3000),
        ("founded_year", "abc"), ("name", ""), ("name", ["list"]), ("country", "XX"), ("type", "cult"),
        ("languages", ["zz"]), ("focus_areas", ["no-such-area"]), ("identifiers", ["KZ-BIN-12"]),
        ("description", "nul\x00byte"), ("other_names", "not a list"),
    ])
    def test_invalid_values_name_the_field(self, org, editor, field, value):
        with pytest.raises(ValidationError) as exc:
            propose(editor, org, **{field: value})
        assert field in exc.value.message_dict
        assert not ProfileChange.objects.exists()

    def test_invalid_person_email(self, org, editor, person):
        with pytest.raises(ValidationError) as exc:
            propose(editor, org, people={str(person.pk): {"email": "nope"}})
        assert f"people.{person.pk}.email" in exc.value.message_dict

    def test_other_organisations_people_and_restricted_people_are_refused(self, org, editor):
        other = factories.AffiliationFactory().person
        hidden = factories.AffiliationFactory(organisation=org, person__sensitivity=Sensitivity.RESTRICTED).person
        for target in (other, hidden):
            with pytest.raises(ValidationError) as exc:
                propose(editor, org, people={str(target.pk): {"position": "Boss"}})
            assert f"people.{target.pk}" in exc.value.message_dict

    def test_not_an_editor_of_this_organisation(self, org, editor):
        other = factories.OrganisationFactory()
        with pytest.raises(ValidationError) as exc:
            propose(editor, other, website="https://x.example.org")
        assert "organisation" in exc.value.message_dict

    def test_local_letters_round_trip(self, org, editor):
        text = "Қ Ү Ң Ө Ғ Ҳ Ҷ ʻ 🌍 مرحبا"
        change = propose(editor, org, description=text)
        assert change.diff["description"]["new"] == text

    def test_withdraw(self, org, editor):
        change = propose(editor, org, city="Osh")
        svc.profile_change_withdraw(actor=editor, change=change)
        change.refresh_from_db()
        assert change.status == ProfileChangeStatus.WITHDRAWN
        with pytest.raises(ValidationError):
            svc.profile_change_withdraw(actor=editor, change=change)


# --------------------------------------------------------------------------- moderation

class TestReview:
    def test_approve_applies_with_editor_as_author_and_moderator_as_approver(
        self, org, editor, moderator, person, django_capture_on_commit_callbacks
    ):
        change = propose(editor, org, website="https://new.example.org", focus_areas=["youth"],
                         identifiers=["KG-OKPO-12345678", "KG-TIN-01234567891234"],
                         people={str(person.pk): {"position": "Director", "consent": True}})
        with django_capture_on_commit_callbacks(execute=True):
            svc.profile_change_review(actor=moderator, change=change, approve=list(change.diff))
        org.refresh_from_db()
        assert org.website == "https://new.example.org"
        assert [a.slug for a in org.focus_areas.all()] == ["youth"]
        # The existing identifier keeps its verified flag; the new one is unverified.
        assert {(i.scheme, i.value, i.verified) for i in org.identifiers.all()} == {
            ("KG-OKPO", "12345678", True), ("KG-TIN", "01234567891234", False)}
        record = org.history.latest("history_date")
        assert record.history_user == editor
        assert moderator.get_username() in record.history_change_reason
        person.refresh_from_db()
        assert person.position == "Director" and person.has_consent
        assert person.history.latest("history_date").history_user == editor
        change.refresh_from_db()
        assert change.status == ProfileChangeStatus.APPROVED
        assert change.reviewed_by == moderator
        assert [m.to for m in mail.outbox] == [[editor.email]]

    def test_partial_approval(self, org, editor, moderator):
        change = propose(editor, org, website="https://new.example.org", city="Osh")
        with pytest.raises(ValidationError) as exc:  # a rejection needs a reason
            svc.profile_change_review(actor=moderator, change=change, approve=["website"])
        assert "reason" in exc.value.message_dict
        svc.profile_change_review(actor=moderator, change=change, approve=["website"], reason="Osh is wrong")
        org.refresh_from_db()
        assert (org.website, org.city) == ("https://new.example.org", "Bishkek")
        change.refresh_from_db()
        assert change.status == ProfileChangeStatus.PARTLY_APPROVED
        assert change.decisions == {"website": "approved", "city": "rejected"}

    def test_reject_all(self, org, editor, moderator):
        change = propose(editor, org, city="Osh")
        svc.profile_change_review(actor=moderator, change=change, approve=[], reason="No")
        change.refresh_from_db()
        assert change.status == ProfileChangeStatus.REJECTED
        org.refresh_from_db()
        assert org.city == "Bishkek"
        with pytest.raises(ValidationError):  # reviewed once only
            svc.profile_change_review(actor=moderator, change=change, approve=["city"])

    def test_unknown_field_in_approval(self, org, editor, moderator):
        change = propose(editor, org, city="Osh")
        with pytest.raises(ValidationError) as exc:
            svc.profile_change_review(actor=moderator, change=change, approve=["visibility"])
        assert "fields" in exc.value.message_dict

    def test_staff_without_permission_and_editors_cannot_moderate(self, org, editor, staff_user):
        change = propose(editor, org, city="Osh")
        for user in (staff_user, editor):
            with pytest.raises(PermissionDenied):
                svc.profile_change_review(actor=user, change=change, approve=["city"])

    def test_conflict_shows_three_values(self, org, editor, moderator, staff_user):
        change = propose(editor, org, city="Osh", website="https://new.example.org")
        from directory.services.organisations import organisation_update

        organisation_update(actor=staff_user, organisation=Organisation.objects.get(pk=org.pk), data={"city": "Naryn"})
        rows = {r["field"]: r for r in svc.diff_rows(change, svc.current_values_for([change])[change.pk])}
        assert rows["city"]["conflict"] is True
        assert (rows["city"]["old"], rows["city"]["current"], rows["city"]["new"]) == ("Bishkek", "Naryn", "Osh")
        assert rows["website"]["conflict"] is False

    def test_invalid_at_apply_time_rolls_back(self, org, editor, moderator, person):
        change = propose(editor, org, city="Osh", people={str(person.pk): {"position": "Boss"}})
        Person.objects.filter(pk=person.pk).delete()
        with pytest.raises(ValidationError):
            svc.profile_change_review(actor=moderator, change=change, approve=list(change.diff))
        org.refresh_from_db()
        assert org.city == "Bishkek"
        change.refresh_from_db()
        assert change.is_pending

    def test_email_only_on_commit(self, org, editor, moderator, django_capture_on_commit_callbacks):
        change = propose(editor, org, city="Osh")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            svc.profile_change_review(actor=moderator, change=change, approve=["city"])
        assert mail.outbox == []
        for callback in callbacks:
            callback()
        assert len(mail.outbox) == 1


# --------------------------------------------------------------------------- invitations

class TestInvitations:
    def test_lifecycle(self, org, staff_user, client, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=True):
            invitation, token = svc.editor_invite(actor=staff_user, organisation=org, email="New@Example.org")
        assert invitation.token_hash != token and len(invitation.token_hash) == 64
        assert token not in str(EditorInvitation.objects.values_list().get())
        assert len(mail.outbox) == 1 and token in mail.outbox[0].body
        response = client.get(reverse("invitation_open", kwargs={"token": token}), follow=True)
        assert response.status_code == 200
        response = client.post(reverse("invitation_accept"),
                               {"password1": "a-long-passphrase-42", "password2": "a-long-passphrase-42"})
        assert response.status_code == 302
        assert response["Location"] == reverse("directory:my_organisation", kwargs={"pk": org.pk})
        link = OrganisationEditor.objects.get(organisation=org)
        assert link.user.username == "new@example.org"
        assert link.user.check_password("a-long-passphrase-42")
        # Reuse: a clear page, nothing changed.
        client.logout()
        response = client.get(reverse("invitation_open", kwargs={"token": token}), follow=True)
        assert response.status_code == 410
        assert "already used" in response.content.decode()
        with pytest.raises(svc.InvitationInvalid) as exc:
            svc.invitation_accept(token=token, password="another-passphrase-42")
        assert exc.value.reason == "used"
        link.user.refresh_from_db()
        assert link.user.check_password("a-long-passphrase-42")

    def test_expired(self, org, staff_user, client):
        invitation, token = svc.editor_invite(actor=staff_user, organisation=org, email="a@example.org")
        EditorInvitation.objects.filter(pk=invitation.pk).update(expires_at=timezone.now() - timedelta(seconds=1))
        response = client.get(reverse("invitation_open", kwargs={"token": token}), follow=True)
        assert response.status_code == 410 and "expired" in response.content.decode()
        with pytest.raises(svc.InvitationInvalid):
            svc.invitation_accept(token=token, password="a-long-passphrase-42")
        assert not OrganisationEditor.objects.exists()

    def test_expiry_is_seven_days(self, org, staff_user):
        invitation, _token = svc.editor_invite(actor=staff_user, organisation=org, email="a@example.org")
        assert timedelta(days=6, hours=23) < invitation.expires_at - timezone.now() <= timedelta(days=7)

    def test_revoked(self, org, staff_user, client):
        invitation, token = svc.editor_invite(actor=staff_user, organisation=org, email="a@example.org")
        svc.invitation_revoke(actor=staff_user, invitation=invitation)
        response = client.get(reverse("invitation_open", kwargs={"token": token}), follow=True)
        assert response.status_code == 410
        with pytest.raises(svc.InvitationInvalid) as exc:
            svc.invitation_accept(token=token, password="a-long-passphrase-42")
        assert exc.value.reason == "revoked"

    def test_unknown_token(self, client):
        response = client.get(reverse("invitation_open", kwargs={"token": "nope"}), follow=True)
        assert response.status_code == 404

    def test_weak_password_is_a_form_error(self, org, staff_user, client):
        _invitation, token = svc.editor_invite(actor=staff_user, organisation=org, email="a@example.org")
        client.get(reverse("invitation_open", kwargs={"token": token}))
        response = client.post(reverse("invitation_accept"), {"password1": "123", "password2": "123"})
        assert response.status_code == 400
        assert not OrganisationEditor.objects.exists()

    def test_bad_email_is_refused(self, org, staff_user):
        with pytest.raises(ValidationError) as exc:
            svc.editor_invite(actor=staff_user, organisation=org, email="not an email")
        assert "email" in exc.value.message_dict

    def test_invitation_mail_on_commit_only(self, org, staff_user, django_capture_on_commit_callbacks):
        with django_capture_on_commit_callbacks(execute=False):
            svc.editor_invite(actor=staff_user, organisation=org, email="a@example.org")
        assert mail.outbox == []

    def test_staff_invites_and_revokes_an_editor_on_the_web(self, org, editor, staff_client):
        url = reverse("directory:organisation_editors", kwargs={"pk": org.pk})
        assert staff_client.get(url).status_code == 200
        assert staff_client.post(url, {"email": "bad"}).status_code == 400
        assert staff_client.post(url, {"email": "b@example.org"}).status_code == 302
        assert EditorInvitation.objects.filter(email="b@example.org").exists()
        link = OrganisationEditor.objects.get(user=editor)
        staff_client.post(reverse("directory:editor_revoke", kwargs={"pk": org.pk, "link_pk": link.pk}))
        assert not OrganisationEditor.objects.filter(user=editor).exists()

    def test_revoked_editor_loses_access_on_next_request(self, org, editor, client):
        client.force_login(editor)
        url = reverse("directory:my_organisation", kwargs={"pk": org.pk})
        assert client.get(url).status_code == 200
        OrganisationEditor.objects.filter(user=editor).delete()
        assert client.get(url).status_code == 404

    def test_password_reset(self, editor, client):
        response = client.post(reverse("password_reset"), {"email": editor.email})
        assert response.status_code == 302
        assert len(mail.outbox) == 1
        body = mail.outbox[0].body
        path = body[body.index("/accounts/reset/"):].split()[0]
        response = client.get(path, follow=True)
        assert response.status_code == 200
        response = client.post(response.redirect_chain[-1][0],
                               {"new_password1": "fresh-passphrase-77", "new_password2": "fresh-passphrase-77"})
        assert response.status_code == 302
        editor.refresh_from_db()
        assert editor.check_password("fresh-passphrase-77")


# --------------------------------------------------------------------------- web pages

class TestEditorPages:
    def test_propose_through_the_form(self, org, editor, person, client):
        client.force_login(editor)
        url = reverse("directory:my_organisation", kwargs={"pk": org.pk})
        response = client.get(url)
        assert response.status_code == 200
        form = response.context["form"]
        data = {name: ("" if value is None else value) for name, value in form.initial.items()}
        data["focus_areas"] = form.initial["focus_areas"]
        data[f"people.{person.pk}.consent"] = ""
        data["city"] = "Osh"
        data[f"people.{person.pk}.position"] = "Chair"
        response = client.post(url, data)
        assert response.status_code == 302, response.context["form"].errors
        change = ProfileChange.objects.get()
        assert set(change.diff) == {"city", f"people.{person.pk}.position"}

    def test_form_errors_name_the_field(self, org, editor, client):
        client.force_login(editor)
        url = reverse("directory:my_organisation", kwargs={"pk": org.pk})
        form = client.get(url).context["form"]
        data = {name: ("" if value is None else value) for name, value in form.initial.items()}
        data.update(website="not a url", founded_year="3000")
        response = client.post(url, data)
        assert response.status_code == 400
        errors = response.context["form"].errors
        assert "website" in errors and "founded_year" in errors
        assert not ProfileChange.objects.exists()
        # Submitting unchanged values is "no change", not a proposal.
        data.update(website=org.website, founded_year=org.founded_year)
        response = client.post(url, data)
        assert response.status_code == 400
        assert not ProfileChange.objects.exists()

    def test_confirm_sets_the_date_without_moderation(self, org, editor, client):
        client.force_login(editor)
        response = client.post(reverse("directory:my_organisation_confirm", kwargs={"pk": org.pk}))
        assert response.status_code == 302
        org.refresh_from_db()
        assert org.confirmed_at is not None
        assert org.history.latest("history_date").history_user == editor
        assert not ProfileChange.objects.exists()

    def test_editor_sees_only_own_proposals_and_can_withdraw(self, org, editor, client):
        other_editor = factories.editor_of(org)
        mine = propose(editor, org, city="Osh")
        theirs = propose(other_editor, org, city="Naryn")
        client.force_login(editor)
        response = client.get(reverse("directory:my_organisation", kwargs={"pk": org.pk}))
        assert [p.pk for p in response.context["proposals"]] == [mine.pk]
        assert "Naryn" not in response.content.decode()
        assert client.post(reverse("directory:proposal_withdraw", kwargs={"pk": theirs.pk})).status_code == 404
        assert client.post(reverse("directory:proposal_withdraw", kwargs={"pk": mine.pk})).status_code == 302
        mine.refresh_from_db()
        assert mine.status == ProfileChangeStatus.WITHDRAWN

    def test_editor_gets_404_everywhere_else(self, org, editor, client, moderator):
        other = factories.OrganisationFactory(visibility=Visibility.STAFF)
        change = propose(editor, org, city="Osh")
        client.force_login(editor)
        for url in [
            reverse("directory:my_organisation", kwargs={"pk": other.pk}),
            reverse("directory:organisation_detail", kwargs={"pk": other.pk}),
            reverse("directory:organisation_editors", kwargs={"pk": org.pk}),
            reverse("directory:freshness"),
            reverse("directory:interaction_list"),
        ]:
            assert client.get(url).status_code in (403, 404), url
        assert client.get(reverse("directory:moderation_queue")).status_code == 403
        assert client.get(reverse("directory:moderation_detail", kwargs={"pk": change.pk})).status_code == 403
        assert client.post(reverse("directory:my_organisation_confirm", kwargs={"pk": other.pk})).status_code == 404

    def test_internal_fields_are_not_in_the_form(self, org, editor, client):
        client.force_login(editor)
        form = client.get(reverse("directory:my_organisation", kwargs={"pk": org.pk})).context["form"]
        for name in ("visibility", "status", "verified", "internal_notes", "confirmed_at"):
            assert name not in form.fields


class TestModerationPages:
    def test_queue_and_partial_decision(self, org, editor, moderator, client, django_capture_on_commit_callbacks):
        change = propose(editor, org, city="Osh", website="https://new.example.org")
        client.force_login(moderator)
        response = client.get(reverse("directory:moderation_queue"))
        assert response.status_code == 200 and "Kylym Shamy" in response.content.decode()
        url = reverse("directory:moderation_detail", kwargs={"pk": change.pk})
        response = client.get(url)
        assert response.status_code == 200
        keys = list(change.diff)
        decisions = {f"decision_{i}": ("approve" if k == "website" else "reject") for i, k in enumerate(keys)}
        response = client.post(url, {**decisions, "action": "decide", "reason": ""})
        assert response.status_code == 400 and "reason" in response.context["form"].errors
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {**decisions, "action": "decide", "reason": "City is wrong"})
        assert response.status_code == 302
        change.refresh_from_db()
        assert change.status == ProfileChangeStatus.PARTLY_APPROVED
        assert len(mail.outbox) == 1 and "City is wrong" in mail.outbox[0].body
        # Through the web too, the editor is the author of the change, not the signed-in moderator.
        record = Organisation.objects.get(pk=org.pk).history.latest("history_date")
        assert record.history_user == editor and moderator.username in record.history_change_reason

    def test_staff_without_permission_gets_403(self, staff_client):
        assert staff_client.get(reverse("directory:moderation_queue")).status_code == 403

    @pytest.mark.parametrize("rows", [3, 30])
    def test_queue_query_count(self, rows, moderator, client, django_assert_num_queries, request):
        for i in range(rows):
            organisation = factories.OrganisationFactory()
            person = factories.AffiliationFactory(organisation=organisation).person
            editor = factories.editor_of(organisation)
            propose(editor, organisation, city=f"City {i}", focus_areas=["youth"],
                    people={str(person.pk): {"position": "Chair"}})
        client.force_login(moderator)
        client.get(reverse("directory:moderation_queue"))  # warm caches (content types, session)
        with django_assert_num_queries(QUEUE_QUERIES):
            response = client.get(reverse("directory:moderation_queue"))
        assert len(response.context["items"]) == min(rows, 25)


# Without a session write: the session is extended at most once a minute (IdleSessionMiddleware).
QUEUE_QUERIES = 9
FRESHNESS_QUERIES = 5


class TestFreshness:
    def test_ordered_by_confirmation_and_bulk_reminder(self, org, editor, staff_client,
                                                      django_capture_on_commit_callbacks):
        never = factories.OrganisationFactory(name="Never confirmed", email="never@example.org")
        Organisation.objects.filter(pk=org.pk).update(confirmed_at=timezone.now())
        silent = factories.OrganisationFactory(name="No address", confirmed_at=timezone.now() - timedelta(days=400))
        response = staff_client.get(reverse("directory:freshness"))
        assert response.status_code == 200
        names = [o.name for o in response.context["page_obj"]]
        assert names.index("Never confirmed") < names.index("No address") < names.index("Kylym Shamy")
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = staff_client.post(reverse("directory:freshness"),
                                         {"organisation": [str(never.pk), str(org.pk), str(silent.pk)]})
        assert response.status_code == 302
        assert mail.outbox == []  # nothing before the commit
        for callback in callbacks:
            callback()
        assert sorted(m.to[0] for m in mail.outbox) == sorted([editor.email, "never@example.org"])

    @pytest.mark.parametrize("rows", [3, 30])
    def test_query_count(self, rows, staff_client, staff_user, django_assert_num_queries):
        for _i in range(rows):
            organisation = factories.OrganisationFactory()
            factories.editor_of(organisation)
            svc.confirmation_reminders_send(actor=staff_user, organisations=[organisation])
        staff_client.get(reverse("directory:freshness"))
        with django_assert_num_queries(FRESHNESS_QUERIES):
            response = staff_client.get(reverse("directory:freshness"))
        assert len(response.context["page_obj"].object_list) == rows

    def test_not_for_the_public_or_editors(self, client, editor):
        assert client.get(reverse("directory:freshness")).status_code == 302  # sign in first
        client.force_login(editor)
        assert client.get(reverse("directory:freshness")).status_code == 404
