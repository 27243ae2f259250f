"""Personal data (SECURITY.md, issue 4): consent, subject-access export, erasure, suppression."""

import hashlib
import json
import re

import pytest
from django.apps import apps
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models as djmodels
from django.test import Client
from django.urls import reverse

from directory.choices import Sensitivity, Visibility
from directory.models import AccessLog, Affiliation, ConsentRecord, Person, SuppressionEntry
from directory.services import people as people_services
from directory.services import privacy
from tests import factories

pytestmark = pytest.mark.django_db

OLD_NAME = "Айгерим Қасымова"
OLD_LOCAL = "Aigerim Qasymova"
OLD_EMAIL = "Aigerim.Qasymova@Example.KZ"
OLD_PHONE = "+7 (701) 555-12-34"
OLD_POSITION = "Coordinator of the shelter"
OLD_ROLE = "Shelter coordinator"
CONSENT_NOTE = "Signed form in the Almaty safe"
SUPPRESSED = "This contact was erased at the person's request and cannot be added again."


def url(name, person):
    return reverse(f"directory:{name}", kwargs={"pk": person.pk})


@pytest.fixture
def person(db):
    return people_services.person_create(actor=None, data={"name": "Nurlan Abenov", "email": "nurlan@example.kz"})


@pytest.fixture
def victim(db, staff_user):
    """A person with every personal field filled, an affiliation, consent and edited history."""
    p = people_services.person_create(
        actor=staff_user,
        data={
            "name": OLD_NAME, "name_local": OLD_LOCAL, "position": OLD_POSITION, "email": OLD_EMAIL,
            "phone": OLD_PHONE, "languages": ["kk", "ru"], "gender": "female",
        },
    )
    people_services.person_update(actor=staff_user, person=p, data={"position": OLD_POSITION + " (acting)"})
    org = factories.OrganisationFactory(name="Shelter Network")
    people_services.affiliation_create(
        actor=staff_user, data={"person": p, "organisation": org, "role": OLD_ROLE, "is_primary": True}
    )
    factories.consent_given(p, actor=staff_user, note=CONSENT_NOTE)
    p.refresh_from_db()
    return p


# --------------------------------------------------------------------------- consent


def test_consent_given_withdrawn_given_again(person, staff_user):
    history_before = person.history.count()

    first = privacy.consent_record(actor=staff_user, person=person, action="given",
                                   purposes=["directory", "contact"], method="written", note="Form #12")
    person.refresh_from_db()
    assert person.has_consent
    assert person.consent_method == "written"
    assert person.consent_purposes == ["directory", "contact"]
    assert person.consent_given_at == first.recorded_at
    assert person.consent_withdrawn_at is None

    withdrawal = privacy.consent_record(actor=staff_user, person=person, action="withdrawn",
                                        purposes=[], method="email")
    person.refresh_from_db()
    assert not person.has_consent
    assert person.consent_withdrawn_at == withdrawal.recorded_at
    assert withdrawal.purposes == ["directory", "contact"]  # what was withdrawn

    again = privacy.consent_record(actor=staff_user, person=person, action="given",
                                   purposes=["invitations"], method="verbal")
    person.refresh_from_db()
    assert person.has_consent
    assert person.consent_withdrawn_at is None
    assert person.consent_purposes == ["invitations"]
    assert person.consent_method == "verbal"
    assert person.consent_given_at == again.recorded_at

    records = list(ConsentRecord.objects.filter(person=person).order_by("recorded_at", "id"))
    assert [(r.action, r.method) for r in records] == [("given", "written"), ("withdrawn", "email"), ("given", "verbal")]
    assert all(r.recorded_by == staff_user for r in records)
    assert records[0].note == "Form #12"

    history = list(person.history.order_by("history_date", "history_id"))
    assert len(history) == history_before + 3
    assert [h.consent_withdrawn_at is not None for h in history[-3:]] == [False, True, False]
    assert history[-1].history_user == staff_user
    assert history[-1].consent_purposes == ["invitations"]


def test_consent_service_also_updates_the_object_passed_in(person, staff_user):
    privacy.consent_record(actor=staff_user, person=person, action="given", purposes=["directory"], method="web")
    assert person.has_consent and person.consent_purposes == ["directory"]


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"action": "given", "purposes": [], "method": "written"}, "purposes"),
        ({"action": "given", "purposes": ["marketing"], "method": "written"}, "purposes"),
        ({"action": "given", "purposes": "directory", "method": "written"}, "purposes"),
        ({"action": "given", "purposes": ["directory"], "method": "pigeon"}, "method"),
        ({"action": "maybe", "purposes": ["directory"], "method": "written"}, "action"),
        ({"action": "withdrawn", "purposes": [], "method": "email"}, "action"),  # nothing to withdraw
        ({"action": "given", "purposes": ["directory"], "method": "written", "note": "x" * 301}, "note"),
    ],
)
def test_consent_service_rejects_bad_input_and_writes_nothing(person, staff_user, kwargs, field):
    history_before = person.history.count()
    with pytest.raises(ValidationError) as exc:
        privacy.consent_record(actor=staff_user, person=person, **kwargs)
    assert field in exc.value.message_dict
    person.refresh_from_db()
    assert person.consent_given_at is None and person.consent_withdrawn_at is None
    assert not ConsentRecord.objects.exists()
    assert person.history.count() == history_before


def test_consent_form_records_consent(person, staff_client):
    response = staff_client.post(
        url("person_consent", person),
        {"action": "given", "purposes": ["directory", "invitations"], "method": "written", "note": "Қ Ү Ң Ө 🙂"},
    )
    assert response.status_code == 302
    assert response["Location"] == person.get_absolute_url()
    record = ConsentRecord.objects.get(person=person)
    assert record.purposes == ["directory", "invitations"]
    assert record.note == "Қ Ү Ң Ө 🙂"
    person.refresh_from_db()
    assert person.has_consent and person.consent_method == "written"


def test_person_page_shows_the_consent_panel(person, staff_client, staff_user):
    privacy.consent_record(actor=staff_user, person=person, action="given", purposes=["contact"], method="email",
                           note="Replied to the invitation mail")
    response = staff_client.get(person.get_absolute_url())
    assert response.status_code == 200
    body = response.content.decode()
    assert f'action="{url("person_consent", person)}"' in body
    assert "csrfmiddlewaretoken" in body
    assert "Replied to the invitation mail" in body
    # Staff without export_people / not superuser see neither link.
    assert url("person_export", person) not in body
    assert url("person_erase", person) not in body


def test_person_page_links_export_and_erase_for_admin(person, client, admin_user):
    client.force_login(admin_user)
    body = client.get(person.get_absolute_url()).content.decode()
    assert url("person_export", person) in body
    assert url("person_erase", person) in body


@pytest.mark.parametrize(
    "data, field",
    [
        ({"action": "given", "method": "written"}, "purposes"),
        ({"action": "given", "purposes": ["directory"], "method": "carrier-pigeon"}, "method"),
        ({"action": "given", "purposes": ["spam"], "method": "written"}, "purposes"),
        ({"purposes": ["directory"], "method": "written"}, "action"),
        ({"action": "given", "purposes": ["directory"], "method": "written", "note": "a\x00b"}, "note"),
        ({"action": "given", "purposes": ["directory"], "method": "written", "note": "x" * 5000}, "note"),
        ({"action": "withdrawn", "method": "email"}, "action"),  # no consent to withdraw
    ],
)
def test_consent_form_invalid_input_is_400_with_field_error(person, staff_client, data, field):
    history_before = person.history.count()
    response = staff_client.post(url("person_consent", person), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert field in form.errors
    body = response.content.decode()
    assert f'id="id_{field}_error"' in body  # the message is rendered next to its field
    # Every aria-describedby (Django's widgets name <id>_helptext and <id>_error) points at an
    # element of the page, so screen readers read the help and the error with the field.
    ids = set(re.findall(r'\bid="([^"]+)"', body))
    described = {i for value in re.findall(r'aria-describedby="([^"]+)"', body) for i in value.split()}
    assert described and described <= ids, described - ids
    assert not ConsentRecord.objects.exists()
    person.refresh_from_db()
    assert person.consent_given_at is None
    assert person.history.count() == history_before


def test_consent_form_access_rules(person, client, db):
    restricted = factories.PersonFactory(sensitivity=Sensitivity.RESTRICTED)
    data = {"action": "given", "purposes": ["directory"], "method": "written"}

    response = client.post(url("person_consent", person), data)  # anonymous
    assert response.status_code == 302 and reverse("login") in response["Location"]

    reader = factories.staff_user(perms=("view_internal",))  # can see, cannot change people
    client.force_login(reader)
    assert client.post(url("person_consent", person), data).status_code == 403

    writer = factories.staff_user()  # change_person, but no view_restricted
    client.force_login(writer)
    assert client.post(url("person_consent", restricted), data).status_code == 404
    assert client.get(url("person_consent", person)).status_code == 200
    assert not ConsentRecord.objects.exists()


def test_consent_form_requires_csrf(person, staff_user):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(staff_user)
    response = csrf_client.post(url("person_consent", person),
                                {"action": "given", "purposes": ["directory"], "method": "written"})
    assert response.status_code == 403
    assert not ConsentRecord.objects.exists()


# --------------------------------------------------------------------------- subject access


def test_export_contains_profile_affiliations_and_consents(victim, client, exporter_user):
    client.force_login(exporter_user)
    response = client.get(url("person_export", victim))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["Content-Disposition"] == f'attachment; filename="person-{victim.pk}.json"'
    assert OLD_NAME not in response["Content-Disposition"]
    assert response["Cache-Control"] == "no-store"

    data = json.loads(response.content)
    assert data["person_id"] == str(victim.pk)
    profile = data["profile"]
    assert profile["id"] == str(victim.pk)
    assert profile["name"] == OLD_NAME  # non-ASCII round-trips exactly
    assert profile["email"] == OLD_EMAIL and profile["phone"] == OLD_PHONE
    assert profile["languages"] == ["kk", "ru"] and profile["gender"] == "female"
    assert profile["consent_purposes"] == ["directory", "contact"]

    [affiliation] = data["affiliations"]
    org = Affiliation.objects.get(person=victim).organisation
    assert affiliation["organisation"] == {"id": str(org.pk), "name": "Shelter Network"}
    assert affiliation["role"] == OLD_ROLE and affiliation["is_primary"] is True
    assert "start_date" in affiliation and "end_date" in affiliation

    [consent] = data["consents"]
    assert consent["action"] == "given" and consent["method"] == "written"
    assert consent["purposes"] == ["directory", "contact"] and consent["note"] == CONSENT_NOTE

    assert data["invitations"] == [] and data["interactions"] == []
    assert [h["position"] for h in data["history"]][:2] == [OLD_POSITION, OLD_POSITION + " (acting)"]


def test_export_leaves_out_organisations_the_exporter_cannot_see(victim, client, exporter_user):
    hidden = factories.OrganisationFactory(name="Hidden Org", visibility=Visibility.RESTRICTED)
    factories.AffiliationFactory(person=victim, organisation=hidden, role="Board")
    client.force_login(exporter_user)
    data = json.loads(client.get(url("person_export", victim)).content)
    assert [a["organisation"]["name"] for a in data["affiliations"]] == ["Shelter Network"]


def test_export_is_written_to_the_access_log_with_the_request_id(victim, client, exporter_user):
    client.force_login(exporter_user)
    response = client.get(url("person_export", victim), headers={"X-Request-ID": "privacy-test-0001"})
    assert response.status_code == 200
    entry = AccessLog.objects.get(action="subject_access")
    assert entry.user == exporter_user
    assert entry.username == exporter_user.username
    assert entry.object_type == "person" and entry.object_id == str(victim.pk)
    assert entry.rows == 1
    assert entry.request_id == "privacy-test-0001"
    assert entry.via == "web"


def test_export_permission_rules(victim, client):
    restricted = factories.PersonFactory(sensitivity=Sensitivity.RESTRICTED)

    response = client.get(url("person_export", victim))  # anonymous
    assert response.status_code == 302 and reverse("login") in response["Location"]

    client.force_login(factories.staff_user())  # staff, can see, no export_people
    assert client.get(url("person_export", victim)).status_code == 403

    client.force_login(factories.staff_user(perms=("export_people",)))  # cannot see restricted
    assert client.get(url("person_export", restricted)).status_code == 404
    assert client.get(url("person_export", victim)).status_code == 200

    editor = factories.editor_of(factories.OrganisationFactory())  # CSO editor, not of victim's org
    client.force_login(editor)
    assert client.get(url("person_export", victim)).status_code == 404

    assert AccessLog.objects.filter(action="subject_access").count() == 1
    assert client.post(url("person_export", victim)).status_code in (404, 405)


def test_export_sections_can_be_registered(victim, exporter_user, monkeypatch):
    monkeypatch.setattr(privacy, "SUBJECT_ACCESS_SECTIONS", list(privacy.SUBJECT_ACCESS_SECTIONS))
    privacy.register_subject_access_section("invitations", lambda person, actor: [{"event": "Forum"}])
    privacy.register_subject_access_section("surveys", lambda person, actor: [str(person.pk)])
    data = privacy.subject_access_export(actor=exporter_user, person=victim)
    assert data["invitations"] == [{"event": "Forum"}]
    assert data["surveys"] == [str(victim.pk)]
    assert list(data).index("invitations") < list(data).index("interactions") < list(data).index("surveys")
    entry = AccessLog.objects.get(action="subject_access")
    assert entry.via == "command" and entry.object_id == str(victim.pk)


# --------------------------------------------------------------------------- erasure

OLD_VALUES = [OLD_NAME, OLD_LOCAL, OLD_EMAIL, OLD_EMAIL.lower(), OLD_PHONE, "77015551234",
              OLD_POSITION, OLD_ROLE, CONSENT_NOTE]


def _database_text():
    """Every stored value of every model (all apps) as text, to search for leftovers."""
    chunks = []
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [f.attname for f in model._meta.concrete_fields]
        for row in model._base_manager.values_list(*fields):
            chunks.append(json.dumps(row, default=str, ensure_ascii=False))
    return "\n".join(chunks)


def test_erase_get_shows_confirmation(victim, client, admin_user):
    client.force_login(admin_user)
    response = client.get(url("person_erase", victim))
    assert response.status_code == 200
    body = response.content.decode()
    assert "This cannot be undone" in body
    assert "suppression list" in body
    assert f'action="{url("person_erase", victim)}"' in body
    victim.refresh_from_db()
    assert victim.name == OLD_NAME  # a GET changes nothing


def test_erase_anonymises_person_history_and_contacts(victim, client, admin_user):
    # An admin edit of the organisation that names the affiliation (and so the person) in its log.
    affiliation = Affiliation.objects.get(person=victim)
    LogEntry.objects.log_actions(user_id=admin_user.pk, queryset=[victim], action_flag=CHANGE,
                                 change_message="[]", single_object=True)
    LogEntry.objects.create(
        user=admin_user, content_type=ContentType.objects.get_for_model(affiliation.organisation),
        object_id=str(affiliation.organisation_id), object_repr="Shelter Network", action_flag=CHANGE,
        change_message=json.dumps([{"changed": {"name": "affiliation", "object": str(affiliation), "fields": ["role"]}}]),
    )
    assert OLD_NAME in _database_text() or json.dumps(OLD_NAME)[1:-1] in _database_text()
    sensitivity = victim.sensitivity
    history_count = victim.history.count()

    client.force_login(admin_user)
    response = client.post(url("person_erase", victim), headers={"X-Request-ID": "erasure-request-01"})
    assert response.status_code == 302
    assert response["Location"] == victim.get_absolute_url()

    victim.refresh_from_db()
    stub = f"Erased person {str(victim.pk)[:8]}"
    assert victim.name == stub
    assert (victim.name_local, victim.position, victim.email, victim.phone, victim.gender) == ("", "", "", "", "")
    assert victim.languages == []
    assert victim.consent_given_at is None and victim.consent_method == "" and victim.consent_purposes == []
    assert victim.consent_withdrawn_at is None
    assert victim.do_not_contact is True
    assert victim.sensitivity == sensitivity

    # History keeps a stub: the rows and their dates remain, the personal fields are blank.
    rows = list(victim.history.all())
    assert len(rows) == history_count + 1
    assert all(r.name == stub and r.email == "" and r.phone == "" and r.position == "" for r in rows)
    assert all(r.history_date is not None for r in rows)

    # The affiliation stays linked, without its role (in history too).
    affiliation.refresh_from_db()
    assert affiliation.person_id == victim.pk and affiliation.role == ""
    assert not Affiliation.history.filter(person_id=victim.pk).exclude(role="").exists()

    # Consent evidence stays, without the note.
    record = ConsentRecord.objects.get(person=victim)
    assert record.action == "given" and record.note == ""

    # No old value left anywhere: Person, HistoricalPerson, affiliations, admin log, suppression list...
    assert Person.objects.filter(name=OLD_NAME).count() == 0
    assert Person.history.filter(email__iexact=OLD_EMAIL).count() == 0
    assert Person.history.filter(phone=OLD_PHONE).count() == 0
    text = _database_text()
    for value in OLD_VALUES:
        assert value not in text, value
        assert json.dumps(value)[1:-1] not in text, value
    lowered = text.lower()  # search keys are normalised: lowercased and transliterated
    assert "qasymova" not in lowered and "kasymova" not in lowered and "айгерим" not in lowered

    # Suppression list: hashes only.
    entries = {(e.kind, e.value_hash) for e in SuppressionEntry.objects.all()}
    assert ("email", hashlib.sha256(OLD_EMAIL.lower().encode()).hexdigest()) in entries
    assert ("phone", hashlib.sha256(b"77015551234").hexdigest()) in entries

    entry = AccessLog.objects.get(action="erasure")
    assert entry.user == admin_user and entry.object_id == str(victim.pk) and entry.rows == 1
    assert entry.request_id == "erasure-request-01"


def test_erase_suppresses_contacts_from_history_too(victim, admin_user):
    people_services.person_update(actor=admin_user, person=victim,
                                  data={"email": "new.address@example.kz", "phone": "+996 555 000 111"})
    privacy.person_erase(actor=admin_user, person=victim)
    assert privacy.is_suppressed(email=OLD_EMAIL)
    assert privacy.is_suppressed(email="NEW.address@example.kz")
    assert privacy.is_suppressed(phone="996555000111")
    assert privacy.is_suppressed(phone=OLD_PHONE)


def test_erase_forbidden_for_non_superusers(victim, client, restricted_staff_user):
    restricted = factories.PersonFactory(sensitivity=Sensitivity.RESTRICTED, name="Hidden Person")
    staff = factories.staff_user(perms=("view_internal", "change_person", "delete_person", "export_people"))

    client.force_login(staff)
    assert client.get(url("person_erase", victim)).status_code == 403
    assert client.post(url("person_erase", victim)).status_code == 403
    assert client.post(url("person_erase", restricted)).status_code == 404

    client.force_login(restricted_staff_user)
    assert client.post(url("person_erase", restricted)).status_code == 403

    client.logout()
    response = client.post(url("person_erase", victim))
    assert response.status_code == 302 and reverse("login") in response["Location"]

    victim.refresh_from_db()
    restricted.refresh_from_db()
    assert victim.name == OLD_NAME and victim.email == OLD_EMAIL
    assert restricted.name == "Hidden Person"
    assert not SuppressionEntry.objects.exists()
    assert not AccessLog.objects.filter(action="erasure").exists()


def test_erase_requires_csrf(victim, admin_user):
    csrf_client = Client(enforce_csrf_checks=True)
    csrf_client.force_login(admin_user)
    assert csrf_client.post(url("person_erase", victim)).status_code == 403
    victim.refresh_from_db()
    assert victim.name == OLD_NAME
    assert not SuppressionEntry.objects.exists()


def test_erase_twice_is_harmless(victim, admin_user):
    privacy.person_erase(actor=admin_user, person=victim)
    privacy.person_erase(actor=admin_user, person=victim)
    victim.refresh_from_db()
    assert victim.name.startswith("Erased person ")
    assert SuppressionEntry.objects.count() == 2
    assert AccessLog.objects.filter(action="erasure").count() == 2


# --------------------------------------------------------------------------- suppression


@pytest.fixture
def erased(victim, admin_user):
    privacy.person_erase(actor=admin_user, person=victim)
    return victim


@pytest.mark.parametrize("email", [OLD_EMAIL, OLD_EMAIL.lower(), OLD_EMAIL.upper(), f"  {OLD_EMAIL}  ".strip()])
def test_create_with_erased_email_is_refused(erased, staff_user, email):
    with pytest.raises(ValidationError) as exc:
        people_services.person_create(actor=staff_user, data={"name": "Someone", "email": email})
    assert exc.value.message_dict == {"email": [SUPPRESSED]}
    assert not Person.objects.filter(name="Someone").exists()


@pytest.mark.parametrize("phone", [OLD_PHONE, "77015551234", "+7 701 555 12 34", "7-701-555-1234"])
def test_create_with_erased_phone_is_refused(erased, staff_user, phone):
    with pytest.raises(ValidationError) as exc:
        people_services.person_create(actor=staff_user, data={"name": "Someone", "phone": phone})
    assert exc.value.message_dict == {"phone": [SUPPRESSED]}
    assert not Person.objects.filter(name="Someone").exists()


def test_update_to_an_erased_contact_is_refused(erased, person, staff_user):
    with pytest.raises(ValidationError) as exc:
        people_services.person_update(actor=staff_user, person=person,
                                      data={"email": OLD_EMAIL.upper(), "phone": "+7 701 5551234"})
    assert set(exc.value.message_dict) == {"email", "phone"}
    person.refresh_from_db()
    assert person.email == "nurlan@example.kz" and person.phone == ""
    # Other changes of a person are unaffected.
    people_services.person_update(actor=staff_user, person=person, data={"position": "Director"})


def test_is_suppressed(erased):
    assert privacy.is_suppressed(email=OLD_EMAIL.upper())
    assert privacy.is_suppressed(phone="(7701) 555-12-34")
    assert privacy.is_suppressed(email="other@example.kz", phone=OLD_PHONE)
    assert not privacy.is_suppressed(email="other@example.kz", phone="+7 701 000 00 00")
    assert not privacy.is_suppressed(email="", phone="")
    assert not privacy.is_suppressed()
    assert people_services.person_create(actor=None, data={"name": "Other", "email": "other@example.kz"}).pk


def test_suppression_table_holds_no_clear_text(erased):
    rows = list(SuppressionEntry.objects.values_list("kind", "value_hash"))
    assert sorted(kind for kind, _ in rows) == ["email", "phone"]
    stored = json.dumps(rows)
    for value in (OLD_EMAIL, OLD_EMAIL.lower(), OLD_PHONE, "77015551234", "example.kz"):
        assert value not in stored
    assert all(len(digest) == 64 and int(digest, 16) >= 0 for _, digest in rows)


def test_admin_cannot_add_suppressed_person(erased, client, admin_user):
    client.force_login(admin_user)
    response = client.post(reverse("admin:directory_person_add"), {
        "name": "Re-import", "email": OLD_EMAIL, "sensitivity": "normal", "languages": "[]",
        "consent_purposes": "[]",
        "consent_records-TOTAL_FORMS": "0", "consent_records-INITIAL_FORMS": "0",
    })
    assert response.status_code == 200  # the admin re-renders the form with the error
    assert "cannot be added again" in response.content.decode()
    assert not Person.objects.filter(name="Re-import").exists()


# --------------------------------------------------------------------------- admin


def test_suppression_admin_is_superuser_only_and_read_only(erased, client, admin_user):
    entry = SuppressionEntry.objects.first()
    client.force_login(admin_user)
    assert client.get(reverse("admin:directory_suppressionentry_changelist")).status_code == 200
    assert client.get(reverse("admin:directory_suppressionentry_add")).status_code == 403
    change = client.post(reverse("admin:directory_suppressionentry_change", args=[entry.pk]), {"kind": "phone"})
    assert change.status_code in (200, 403)
    assert client.post(reverse("admin:directory_suppressionentry_delete", args=[entry.pk]), {"post": "yes"}).status_code == 403
    entry.refresh_from_db()
    assert entry.kind in ("email", "phone") and SuppressionEntry.objects.count() == 2

    staff = factories.staff_user(is_staff=True)
    factories.grant(staff, "view_suppressionentry")
    client.force_login(staff)
    assert client.get(reverse("admin:directory_suppressionentry_changelist")).status_code == 403


def test_consent_admin_is_read_only(victim, client, admin_user):
    record = ConsentRecord.objects.get(person=victim)
    client.force_login(admin_user)
    assert client.get(reverse("admin:directory_consentrecord_changelist")).status_code == 200
    assert client.get(reverse("admin:directory_consentrecord_add")).status_code == 403
    page = client.get(reverse("admin:directory_person_change", args=[victim.pk]))
    assert page.status_code == 200 and CONSENT_NOTE in page.content.decode()
    client.post(reverse("admin:directory_consentrecord_change", args=[record.pk]), {"note": "changed"})
    record.refresh_from_db()
    assert record.note == CONSENT_NOTE


def test_models_are_explicit(victim):
    record = ConsentRecord.objects.get(person=victim)
    assert OLD_NAME not in str(record)
    assert record.get_absolute_url() == victim.get_absolute_url()
    assert isinstance(ConsentRecord._meta.get_field("purposes"), djmodels.JSONField)
