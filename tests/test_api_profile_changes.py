"""`/api/v1/profile-changes/` (API.md "Self-service")."""

import json

import pytest
from django.core import mail
from rest_framework.test import APIClient

from directory.choices import ProfileChangeStatus, Visibility
from directory.models import AccessLog, Organisation, ProfileChange
from directory.services import self_service as svc
from tests import factories

pytestmark = pytest.mark.django_db
URL = "/api/v1/profile-changes/"


@pytest.fixture
def org(db):
    return factories.OrganisationFactory(name="Kylym Shamy", city="Bishkek", country="KG",
                                         website="https://kylym.example.org")


@pytest.fixture
def editor(org):
    return factories.editor_of(org)


@pytest.fixture
def moderator(db):
    return factories.staff_user(perms=("view_internal", "change_organisation", "moderate_profile_changes"))


def api(user=None):
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def post(client, url, body):
    return client.post(url, json.dumps(body), content_type="application/json")


class TestCreate:
    def test_editor_proposes(self, org, editor):
        response = post(api(editor), URL, {"organisation": str(org.pk), "changes": {"city": "Osh"}})
        assert response.status_code == 201, response.json()
        data = response.json()
        assert data["status"] == "pending" and data["author"] == editor.username
        assert data["changes"] == [{
            "field": "city", "label": "city", "person": None, "person_name": "", "old": "Bishkek", "new": "Osh",
            "current": "Bishkek", "conflict": False, "decision": "",
        }]
        org.refresh_from_db()
        assert org.city == "Bishkek"

    @pytest.mark.parametrize("changes,field", [
        ({"city": "Bishkek"}, "changes"),
        ({"visibility": "public"}, "changes.visibility"),
        ({"verified": True}, "changes.verified"),
        ({"internal_notes": "x"}, "changes.internal_notes"),
        ({"status": "closed"}, "changes.status"),
        ({"confirmed_at": None}, "changes.confirmed_at"),
        ({"website": "not a url"}, "changes.website"),
        ({"email": "bad"}, "changes.email"),
        ({"founded_year": 3000}, "changes.founded_year"),
        ({"name": "x" * 301}, "changes.name"),
        ({"identifiers": [{"scheme": "KG-OKPO", "value": "12345678", "verified": True}]}, "changes.identifiers"),
        ("not an object", "changes"),
    ])
    def test_bad_proposals_are_400_naming_the_field(self, org, editor, changes, field):
        response = post(api(editor), URL, {"organisation": str(org.pk), "changes": changes})
        assert response.status_code == 400
        assert field in response.json()
        assert not ProfileChange.objects.exists()

    def test_extra_body_field_and_malformed_json(self, org, editor):
        response = post(api(editor), URL, {"organisation": str(org.pk), "changes": {"city": "Osh"}, "status": "approved"})
        assert response.status_code == 400 and "status" in response.json()
        response = api(editor).post(URL, "{not json", content_type="application/json")
        assert response.status_code == 400
        assert not ProfileChange.objects.exists()

    def test_other_organisation_is_400_and_stores_nothing(self, editor):
        other = factories.OrganisationFactory()
        for pk in (str(other.pk), "00000000-0000-0000-0000-000000000000"):
            response = post(api(editor), URL, {"organisation": pk, "changes": {"city": "Osh"}})
            assert response.status_code == 400 and "organisation" in response.json()
        assert not ProfileChange.objects.exists()

    def test_staff_and_anonymous_cannot_propose(self, org, moderator):
        assert post(api(moderator), URL, {"organisation": str(org.pk), "changes": {"city": "Osh"}}).status_code == 403
        assert post(api(), URL, {"organisation": str(org.pk), "changes": {"city": "Osh"}}).status_code == 401


class TestReview:
    def test_approve_all(self, org, editor, moderator, django_capture_on_commit_callbacks):
        change = svc.profile_change_propose(actor=editor, organisation=org, changes={"city": "Osh"})
        with django_capture_on_commit_callbacks(execute=True):
            response = post(api(moderator), f"{URL}{change.pk}/approve/", {})
        assert response.status_code == 200, response.json()
        assert response.json()["status"] == "approved"
        assert response.json()["reviewed_by"] == moderator.username
        org.refresh_from_db()
        assert org.city == "Osh"
        assert org.history.latest("history_date").history_user == editor
        assert len(mail.outbox) == 1

    def test_partial_approval(self, org, editor, moderator):
        change = svc.profile_change_propose(actor=editor, organisation=org,
                                            changes={"city": "Osh", "website": "https://new.example.org"})
        response = post(api(moderator), f"{URL}{change.pk}/approve/", {"fields": ["city"]})
        assert response.status_code == 400 and "reason" in response.json()
        response = post(api(moderator), f"{URL}{change.pk}/approve/", {"fields": ["city"], "reason": "Site is down"})
        assert response.status_code == 200
        assert response.json()["status"] == "partly_approved"
        assert {r["field"]: r["decision"] for r in response.json()["changes"]} == {
            "city": "approved", "website": "rejected"}

    def test_a_reviewed_proposal_cannot_be_reviewed_again(self, org, editor, moderator):
        # Found by schemathesis: a second review ({"fields": [], "reason": 0}) was a 500.
        change = svc.profile_change_propose(actor=editor, organisation=org, changes={"city": "Osh"})
        assert post(api(moderator), f"{URL}{change.pk}/approve/", {"fields": [], "reason": 0}).status_code == 200
        for path, body in (("approve", {"fields": [], "reason": 0}), ("approve", {}), ("reject", {"reason": "x"})):
            response = post(api(moderator), f"{URL}{change.pk}/{path}/", body)
            assert response.status_code == 400, (path, body, response.content)
        change.refresh_from_db()
        assert change.status == "rejected"
        org.refresh_from_db()
        assert org.city != "Osh"

    def test_reject_needs_a_reason(self, org, editor, moderator):
        change = svc.profile_change_propose(actor=editor, organisation=org, changes={"city": "Osh"})
        response = post(api(moderator), f"{URL}{change.pk}/reject/", {})
        assert response.status_code == 400 and "reason" in response.json()
        response = post(api(moderator), f"{URL}{change.pk}/reject/", {"reason": "Not the right city"})
        assert response.status_code == 200 and response.json()["status"] == "rejected"
        response = post(api(moderator), f"{URL}{change.pk}/approve/", {})
        assert response.status_code == 400 and "status" in response.json()

    def test_roles_that_may_not_moderate_get_403(self, org, editor, staff_user):
        change = svc.profile_change_propose(actor=editor, organisation=org, changes={"city": "Osh"})
        for user in (editor, staff_user):
            assert post(api(user), f"{URL}{change.pk}/approve/", {}).status_code == 403
            assert post(api(user), f"{URL}{change.pk}/reject/", {"reason": "x"}).status_code == 403
        change.refresh_from_db()
        assert change.is_pending

    def test_conflict_flag(self, org, editor, moderator):
        change = svc.profile_change_propose(actor=editor, organisation=org, changes={"city": "Osh"})
        Organisation.objects.filter(pk=org.pk).update(city="Naryn")
        data = api(moderator).get(f"{URL}{change.pk}/").json()
        assert data["conflict"] is True
        row = data["changes"][0]
        assert (row["old"], row["current"], row["new"]) == ("Bishkek", "Naryn", "Osh")


class TestVisibility:
    def test_editor_sees_only_own_proposals(self, org, editor, moderator):
        mine = svc.profile_change_propose(actor=editor, organisation=org, changes={"city": "Osh"})
        other_editor = factories.editor_of(org)
        theirs = svc.profile_change_propose(actor=other_editor, organisation=org, changes={"city": "Naryn"})
        data = api(editor).get(URL).json()
        assert [r["id"] for r in data["results"]] == [str(mine.pk)]
        assert api(editor).get(f"{URL}{theirs.pk}/").status_code == 404
        assert post(api(editor), f"{URL}{theirs.pk}/withdraw/", {}).status_code == 404
        assert post(api(editor), f"{URL}{theirs.pk}/approve/", {}).status_code == 404
        response = post(api(editor), f"{URL}{mine.pk}/withdraw/", {})
        assert response.status_code == 200 and response.json()["status"] == "withdrawn"

    def test_staff_filter_pending(self, org, editor, moderator):
        pending = svc.profile_change_propose(actor=editor, organisation=org, changes={"city": "Osh"})
        done = svc.profile_change_propose(actor=editor, organisation=org, changes={"city": "Naryn"})
        svc.profile_change_withdraw(actor=editor, change=done)
        data = api(moderator).get(URL, {"status": "pending"}).json()
        assert [r["id"] for r in data["results"]] == [str(pending.pk)]
        assert api(moderator).get(URL, {"status": "nonsense"}).status_code == 400

    def test_staff_do_not_see_proposals_of_restricted_organisations(self, editor, moderator):
        hidden = factories.OrganisationFactory(visibility=Visibility.RESTRICTED)
        factories.editor_of(hidden, username="hidden-editor")
        from directory.models import OrganisationEditor

        OrganisationEditor.objects.create(user=editor, organisation=hidden)
        editor.__dict__.pop("_directory_roles", None)
        change = svc.profile_change_propose(actor=editor, organisation=hidden, changes={"city": "Osh"})
        assert api(moderator).get(f"{URL}{change.pk}/").status_code == 404

    def test_anonymous(self):
        assert api().get(URL).status_code == 401

    @pytest.mark.parametrize("rows", [3, 30])
    def test_list_query_count(self, rows, moderator, django_assert_num_queries):
        for i in range(rows):
            organisation = factories.OrganisationFactory()
            person = factories.AffiliationFactory(organisation=organisation).person
            editor = factories.editor_of(organisation)
            svc.profile_change_propose(actor=editor, organisation=organisation,
                                       changes={"city": f"City {i}", "people": {str(person.pk): {"position": "Chair"}}})
        client = api(moderator)
        client.get(URL)
        moderator.__dict__.pop("_directory_roles", None)
        with django_assert_num_queries(LIST_QUERIES):
            response = client.get(URL)
        assert response.json()["count"] == rows
        assert ProfileChange.objects.filter(status=ProfileChangeStatus.PENDING).count() == rows


LIST_QUERIES = 7


class TestBadInput:
    @pytest.mark.parametrize("body,field", [
        ({"organisation": "not-a-uuid", "changes": {"city": "Osh"}}, "organisation"),
        ({"organisation": "MISSING", "changes": {"city": "Osh"}}, "organisation"),
        ({"organisation": None, "changes": {"city": "Osh"}}, "organisation"),
        ({"changes": {"description": "a\x00b"}}, "changes.description"),
        ({"changes": {"city": 12}}, "changes.city"),
        ({"changes": {"city": "x" * 5000}}, "changes.city"),
        ({"changes": {"founded_year": True}}, "changes.founded_year"),
        ({"changes": {"focus_areas": "youth"}}, "changes.focus_areas"),
        ({"changes": {"people": []}}, "changes.people"),
        ({"changes": {"people": {"not-a-uuid": {"position": "x"}}}}, "changes.people.not-a-uuid"),
        ({"changes": {"k" * 5000: "x"}}, "changes." + "k" * 80),
    ])
    def test_400_naming_the_field(self, org, editor, body, field):
        body = {"organisation": str(org.pk), **body}
        if body["organisation"] == "MISSING":
            del body["organisation"]
        response = post(api(editor), URL, body)
        assert response.status_code == 400
        assert field in response.json()
        assert not ProfileChange.objects.exists()

    def test_letters_of_the_region_emoji_and_rtl_round_trip(self, org, editor):
        text = "Қ Ү Ң Ө Ғ Ҳ Ҷ ʻ 😀 שלום"
        response = post(api(editor), URL, {"organisation": str(org.pk), "changes": {"description": text}})
        assert response.status_code == 201
        assert response.json()["changes"][0]["new"] == text

    def test_wrong_content_type(self, org, editor):
        response = api(editor).post(URL, "organisation=x", content_type="text/plain")
        assert response.status_code == 415


# ----------------------------------------------------------------------------- CSV

def read_csv(response):
    import csv
    import io

    assert response.status_code == 200, getattr(response, "content", b"")
    assert response.streaming is True
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text))), text


@pytest.fixture
def exporter(db):
    return factories.staff_user(perms=("view_internal", "moderate_profile_changes", "export_people"))


class TestCSV:
    def test_rows_match_json_with_changes_and_formula_escaping(self, org, editor, exporter):
        person = factories.AffiliationFactory(organisation=org, person__name="Айгүл Қасымова").person
        change = svc.profile_change_propose(actor=editor, organisation=org, changes={
            "city": "=HYPERLINK(\"http://x\")", "languages": ["ky", "ru"],
            "people": {str(person.pk): {"position": "Chair"}}})
        Organisation.objects.filter(pk=org.pk).update(name="@Kylym")
        rows, text = read_csv(api(exporter).get(URL, {"format": "csv"}))
        json_rows = api(exporter).get(URL).json()["results"]
        assert list(rows[0]) == list(json_rows[0])  # the JSON fields, in order
        assert [r["id"] for r in rows] == [r["id"] for r in json_rows] == [str(change.pk)]
        row = rows[0]
        assert row["organisation_name"] == "'@Kylym"  # formula escaped
        assert row["author"] == editor.username and row["status"] == "pending"
        assert row["conflict"] == "false"
        assert row["changes"].split(";") == [
            'city: Bishkek → =HYPERLINK("http://x")',
            "languages: ru → ky, ru",
            f"people.{person.pk}.position:  → Chair",
        ]

    def test_accept_header_selects_csv(self, org, editor, exporter):
        change = svc.profile_change_propose(actor=editor, organisation=org, changes={"city": "Osh"})
        rows, _ = read_csv(api(exporter).get(URL, HTTP_ACCEPT="text/csv"))
        assert [r["id"] for r in rows] == [str(change.pk)]

    def test_same_filters_as_json(self, org, editor, exporter):
        pending = svc.profile_change_propose(actor=editor, organisation=org, changes={"city": "Osh"})
        withdrawn = svc.profile_change_propose(actor=editor, organisation=org, changes={"city": "Naryn"})
        svc.profile_change_withdraw(actor=editor, change=withdrawn)
        other = factories.OrganisationFactory()
        elsewhere = svc.profile_change_propose(actor=factories.editor_of(other), organisation=other,
                                               changes={"city": "Taraz"})
        client = api(exporter)
        for params, expected in (
            ({"status": "pending"}, {pending, elsewhere}),
            ({"status": "withdrawn"}, {withdrawn}),
            ({"organisation": str(other.pk)}, {elsewhere}),
            ({}, {pending, withdrawn, elsewhere}),
        ):
            rows, _ = read_csv(client.get(URL, {**params, "format": "csv"}))
            ids = {r["id"] for r in rows}
            assert ids == {str(c.pk) for c in expected}
            assert ids == {r["id"] for r in client.get(URL, {**params, "page_size": 200}).json()["results"]}

    def test_bad_filter_is_a_json_400(self, exporter):
        response = api(exporter).get(URL, {"format": "csv", "status": "nonsense"})
        assert response.status_code == 400
        assert response["Content-Type"] == "application/json" and "status" in response.json()
        assert not AccessLog.objects.exists()

    def test_same_visibility_as_json(self, editor, exporter):
        hidden = factories.OrganisationFactory(visibility=Visibility.RESTRICTED)
        hidden_change = svc.profile_change_propose(actor=factories.editor_of(hidden), organisation=hidden,
                                                   changes={"city": "mx-hidden-city"})
        rows, text = read_csv(api(exporter).get(URL, {"format": "csv"}))
        assert str(hidden_change.pk) not in {r["id"] for r in rows}
        assert "mx-hidden-city" not in text and hidden.name not in text

    def test_needs_the_people_export_permission_and_is_logged(self, org, editor, moderator, exporter):
        change = svc.profile_change_propose(actor=editor, organisation=org, changes={"city": "Osh"})
        for user in (editor, moderator):  # old and new values carry people's contact data
            response = api(user).get(URL, {"format": "csv"})
            assert response.status_code == 403
            assert response["Content-Type"] == "application/json" and "detail" in response.json()
        assert api().get(URL, {"format": "csv"}).status_code == 401
        assert not AccessLog.objects.exists()
        rows, _ = read_csv(api(exporter).get(URL, {"format": "csv"}))
        assert [r["id"] for r in rows] == [str(change.pk)]
        log = AccessLog.objects.get()
        assert (log.action, log.rows, log.username, log.object_type, log.via) == (
            "export_profile_changes", 1, exporter.username, "profilechange", "api")

    def test_csv_on_detail_is_not_acceptable(self, org, editor, exporter):
        change = svc.profile_change_propose(actor=editor, organisation=org, changes={"city": "Osh"})
        assert api(exporter).get(f"{URL}{change.pk}/", {"format": "csv"}).status_code == 404

    @pytest.mark.parametrize("rows", [3, 30])
    def test_query_count(self, rows, exporter, django_assert_num_queries):
        for i in range(rows):
            organisation = factories.OrganisationFactory()
            person = factories.AffiliationFactory(organisation=organisation).person
            editor = factories.editor_of(organisation)
            svc.profile_change_propose(actor=editor, organisation=organisation,
                                       changes={"city": f"City {i}", "people": {str(person.pk): {"position": "Chair"}}})
        client = api(exporter)
        client.get(URL, {"format": "csv"})
        exporter.__dict__.pop("_directory_roles", None)
        with django_assert_num_queries(CSV_QUERIES):
            found, _ = read_csv(client.get(URL, {"format": "csv"}))
        assert len(found) == rows


CSV_QUERIES = 8


@pytest.mark.django_db
def test_a_name_with_a_line_break_does_not_break_the_review_mail(django_capture_on_commit_callbacks):
    # Found by schemathesis: an organisation renamed with a line break made the review's mail
    # subject an invalid header, and the committed review answered 500.
    org = factories.OrganisationFactory(name="Kylym Shamy")
    Organisation.objects.filter(pk=org.pk).update(name="Kylym\nShamy")
    editor = factories.editor_of(org, email="editor@example.org")
    moderator = factories.staff_user(perms=("moderate_profile_changes",))
    change = svc.profile_change_propose(actor=editor, organisation=org, changes={"city": "Osh"})
    with django_capture_on_commit_callbacks(execute=True):
        response = post(api(moderator), f"{URL}{change.pk}/approve/", {"fields": [], "reason": 0})
    assert response.status_code == 200
    assert [m.subject for m in mail.outbox] == [
        "Your proposed changes to Kylym Shamy were reviewed"
    ]
