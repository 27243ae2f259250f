"""Personal data (SECURITY.md): consent, subject access, erasure and the suppression list.

- `consent_record` appends a ConsentRecord and copies the current state onto the Person
  (through services.people.person_update, so the change is in the person's history).
- `subject_access_export` builds the JSON of everything held about one person from the
  sections in `SUBJECT_ACCESS_SECTIONS`; other modules add theirs with
  `register_subject_access_section` (e.g. invitations, interactions).
- `person_erase` anonymises a person in place, blanks the personal fields of their history
  rows and puts their email addresses and phone numbers on the suppression list.
- `is_suppressed` / `ensure_not_suppressed` stop an erased contact from coming back.

Nothing here writes names, contact data or note text to logs.
"""

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ..choices import ConsentAction, ConsentMethod, ConsentPurpose, SuppressionKind
from ..models import (
    AccessAction,
    Affiliation,
    ConsentRecord,
    Organisation,
    Person,
    SuppressionEntry,
)
from .audit import log_access

SUPPRESSED_MESSAGE = gettext_lazy("This contact was erased at the person's request and cannot be added again.")

# --------------------------------------------------------------------------- suppression


def normalise_email(value: str | None) -> str:
    return (value or "").strip().lower()


def normalise_phone(value: str | None) -> str:
    return re.sub(r"\D", "", value or "")


def contact_hash(kind: str, value: str | None) -> str:
    """SHA-256 (hex) of the normalised value; '' when there is nothing to hash."""
    normalised = normalise_email(value) if kind == SuppressionKind.EMAIL else normalise_phone(value)
    if not normalised:
        return ""
    return hashlib.sha256(normalised.encode("utf-8")).hexdigest()


def suppressed_fields(*, email: str | None = None, phone: str | None = None) -> list[str]:
    """The names of the fields ("email", "phone") whose value is on the suppression list."""
    wanted = {}
    for field, kind, value in (("email", SuppressionKind.EMAIL, email), ("phone", SuppressionKind.PHONE, phone)):
        digest = contact_hash(kind, value)
        if digest:
            wanted[(kind.value, digest)] = field
    if not wanted:
        return []
    from django.db.models import Q

    query = Q()
    for kind, digest in wanted:
        query |= Q(kind=kind, value_hash=digest)
    found = SuppressionEntry.objects.filter(query).values_list("kind", "value_hash")
    return sorted(wanted[(kind, digest)] for kind, digest in found)


def is_suppressed(*, email: str | None = None, phone: str | None = None) -> bool:
    return bool(suppressed_fields(email=email, phone=phone))


def ensure_not_suppressed(*, email: str | None = None, phone: str | None = None) -> None:
    fields = suppressed_fields(email=email, phone=phone)
    if fields:
        raise ValidationError({field: [SUPPRESSED_MESSAGE] for field in fields})


def suppress(*, kind: str, value: str | None) -> SuppressionEntry | None:
    digest = contact_hash(kind, value)
    if not digest:
        return None
    entry, _created = SuppressionEntry.objects.get_or_create(kind=kind, value_hash=digest)
    return entry


# --------------------------------------------------------------------------- consent


def _clean_purposes(purposes) -> list[str]:
    if purposes is None:
        return []
    if isinstance(purposes, str) or not isinstance(purposes, list | tuple):
        raise ValidationError({"purposes": [_("Enter a list of purposes.")]})
    unknown = [p for p in purposes if p not in ConsentPurpose.values]
    if unknown:
        raise ValidationError(
            {"purposes": [_("Unknown purpose; choose from: %(purposes)s.") % {"purposes": ", ".join(ConsentPurpose.values)}]}
        )
    return list(dict.fromkeys(str(p) for p in purposes))


@transaction.atomic
def consent_record(*, actor, person: Person, action: str, purposes, method: str, note: str = "") -> ConsentRecord:
    """Record consent given or withdrawn, and update the person's current consent fields.

    Given: consent_given_at/method/purposes are set and a previous withdrawal is cleared.
    Withdrawn: consent as a whole is withdrawn (consent_withdrawn_at); the record keeps the
    purposes withdrawn (by default those in force). To keep some purposes, record a new
    "given" with the remaining ones.
    """
    from .people import person_update  # people imports this module

    if action not in ConsentAction.values:
        raise ValidationError({"action": [_("Choose given or withdrawn.")]})
    if method not in ConsentMethod.values:
        raise ValidationError({"method": [_("Choose how consent was given or withdrawn.")]})
    if not isinstance(note, str):
        raise ValidationError({"note": [_("Enter a text.")]})
    purposes = _clean_purposes(purposes)

    # Serialise concurrent consent changes of one person (a no-op on SQLite).
    locked = Person.objects.select_for_update().get(pk=person.pk)
    now = timezone.now()
    if action == ConsentAction.GIVEN:
        if not purposes:
            raise ValidationError({"purposes": [_("Choose at least one purpose.")]})
        data = {
            "consent_given_at": now, "consent_method": method, "consent_purposes": purposes,
            "consent_withdrawn_at": None,
        }
    else:
        if not locked.has_consent:
            raise ValidationError({"action": [_("There is no current consent to withdraw.")]})
        purposes = purposes or list(locked.consent_purposes or [])
        data = {"consent_withdrawn_at": now}

    record = ConsentRecord(
        person=locked, action=action, purposes=purposes, method=method, recorded_at=now,
        recorded_by=actor if getattr(actor, "is_authenticated", False) else None, note=note.strip(),
    )
    record.full_clean()
    person_update(actor=actor, person=locked, data=data)
    record.save()
    for field in ("consent_given_at", "consent_method", "consent_purposes", "consent_withdrawn_at", "updated_at"):
        setattr(person, field, getattr(locked, field))
    return record


# --------------------------------------------------------------------------- subject access

SectionProvider = Callable[[Person, Any], Any]


def _iso(value):
    return value.isoformat() if value is not None else None


PROFILE_FIELDS = (
    "name", "name_local", "position", "email", "phone", "languages", "gender", "sensitivity",
    "consent_given_at", "consent_method", "consent_purposes", "consent_withdrawn_at",
    "do_not_contact", "created_at", "updated_at",
)


def _json_value(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _profile(person: Person, actor) -> dict:
    data = {"id": str(person.pk)}
    data.update({name: _json_value(getattr(person, name)) for name in PROFILE_FIELDS})
    return data


def _affiliations(person: Person, actor) -> list[dict]:
    # The access gate applies to exports too: organisations the exporter may not see are left out.
    qs = (
        Affiliation.objects.filter(person=person, organisation__in=Organisation.objects.visible_to(actor).values("pk"))
        .select_related("organisation")
        .only("id", "role", "is_primary", "start_date", "end_date", "organisation__id", "organisation__name")
        .order_by("start_date", "id")
    )
    return [
        {
            "organisation": {"id": str(a.organisation_id), "name": a.organisation.name},
            "role": a.role,
            "is_primary": a.is_primary,
            "start_date": _iso(a.start_date),
            "end_date": _iso(a.end_date),
        }
        for a in qs
    ]


def _consents(person: Person, actor) -> list[dict]:
    return [
        {
            "action": r.action,
            "purposes": list(r.purposes or []),
            "method": r.method,
            "recorded_at": _iso(r.recorded_at),
            "note": r.note,
        }
        for r in person.consent_records.order_by("recorded_at", "id")
    ]


HISTORY_FIELDS = ("name", "name_local", "position", "email", "phone", "languages", "gender",
                  "consent_given_at", "consent_method", "consent_purposes", "consent_withdrawn_at",
                  "do_not_contact")


def _history(person: Person, actor) -> list[dict]:
    """Earlier versions of the profile (personal fields only; the staff who changed it are left out)."""
    rows = person.history.order_by("history_date", "history_id").values("history_date", "history_type", *HISTORY_FIELDS)
    return [{key: _json_value(value) for key, value in row.items()} for row in rows]


def _empty(person: Person, actor) -> list:
    return []


# (key, provider) pairs, in output order. A module holding personal data registers its own
# section with register_subject_access_section; "invitations" and "interactions" are
# placeholders until those modules replace them.
SUBJECT_ACCESS_SECTIONS: list[tuple[str, SectionProvider]] = [
    ("profile", _profile),
    ("affiliations", _affiliations),
    ("consents", _consents),
    ("history", _history),
    ("invitations", _empty),
    ("interactions", _empty),
]


def register_subject_access_section(key: str, provider: SectionProvider) -> None:
    """Add a section to the subject-access export, or replace the one with the same key.

    `provider(person, actor)` returns JSON-serialisable data and must apply the access gate
    (`visible_to(actor)`) of the data it reads.
    """
    for index, (existing, _provider) in enumerate(SUBJECT_ACCESS_SECTIONS):
        if existing == key:
            SUBJECT_ACCESS_SECTIONS[index] = (key, provider)
            return
    SUBJECT_ACCESS_SECTIONS.append((key, provider))


def subject_access_export(*, actor, person: Person, request=None) -> dict:
    """Everything held about one person, as JSON-ready data; written to the access log."""
    data: dict[str, Any] = {
        "format": "subject-access/1",
        "person_id": str(person.pk),
        "exported_at": timezone.now().isoformat(),
    }
    for key, provider in SUBJECT_ACCESS_SECTIONS:
        data[key] = provider(person, actor)
    log_access(request=request, user=actor, action=AccessAction.SUBJECT_ACCESS, obj=person, rows=1)
    return data


# --------------------------------------------------------------------------- erasure


def erased_name(person: Person) -> str:
    return f"Erased person {str(person.pk)[:8]}"


# Personal fields of Person blanked on erasure (sensitivity, flags and dates are kept).
ERASED_VALUES = {
    "name_local": "", "position": "", "email": "", "phone": "", "languages": [], "gender": "",
    "consent_given_at": None, "consent_method": "", "consent_purposes": [],
    "consent_withdrawn_at": None,
}


@transaction.atomic
def person_erase(*, actor, person: Person, request=None) -> Person:
    """Anonymise a person in place (the right to erasure). Cannot be undone.

    - the person becomes a stub "Erased person <short id>", with do_not_contact set;
    - every history row of the person keeps its dates and type but loses the personal fields;
    - affiliations stay (the organisation still had someone) but lose their role, in history too;
    - consent records stay (evidence of what was agreed) without their notes;
    - every email and phone the person ever had goes to the suppression list as a hash;
    - the erasure is written to the access log.
    """
    from django.contrib.admin.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    from .people import affiliation_update, person_update

    person = Person.objects.select_for_update().get(pk=person.pk)
    stub = erased_name(person)
    old_names = {person.name, *person.history.values_list("name", flat=True)} - {stub, ""}
    history = person.history.model.objects.filter(id=person.pk)

    # 1. Suppress every contact ever held (current and in history), before blanking them.
    emails = {person.email, *history.values_list("email", flat=True)}
    phones = {person.phone, *history.values_list("phone", flat=True)}
    for value in emails:
        suppress(kind=SuppressionKind.EMAIL, value=value)
    for value in phones:
        suppress(kind=SuppressionKind.PHONE, value=value)

    # 2. The person (through the service: validated, and a history row records the erasure).
    person._change_reason = "Erased at the person's request"
    person_update(actor=actor, person=person, data={"name": stub, "do_not_contact": True, **ERASED_VALUES})

    # 3. Their history: keep the stub rows and dates, blank the personal fields.
    history.update(name=stub, **ERASED_VALUES)

    # 4. Affiliations: keep the link, clear the role (now and in history).
    affiliation_ids = list(Affiliation.objects.filter(person=person).values_list("pk", flat=True))
    for affiliation in Affiliation.objects.filter(pk__in=affiliation_ids).exclude(role=""):
        affiliation_update(actor=actor, affiliation=affiliation, data={"role": ""})
    Affiliation.history.model.objects.filter(person_id=person.pk).update(role="")

    # 5. Consent records: keep the evidence, drop the free text.
    ConsentRecord.objects.filter(person=person).exclude(note="").update(note="")

    # 6. The admin's change log names objects by their str(), which carries the name.
    person_ct = ContentType.objects.get_for_model(Person)
    affiliation_ct = ContentType.objects.get_for_model(Affiliation)
    LogEntry.objects.filter(content_type=person_ct, object_id=str(person.pk)).update(object_repr=stub)
    if affiliation_ids:
        LogEntry.objects.filter(
            content_type=affiliation_ct, object_id__in=[str(pk) for pk in affiliation_ids]
        ).update(object_repr=f"{stub} (affiliation)")
    # An organisation's change message names its changed inline affiliations by str() too.
    for old in old_names:
        for form in {old, json.dumps(old)[1:-1]}:  # change messages are JSON (ASCII-escaped)
            entries = LogEntry.objects.filter(
                content_type=ContentType.objects.get_for_model(Organisation), change_message__contains=form
            ).only("id", "change_message")
            for entry in entries:
                LogEntry.objects.filter(pk=entry.pk).update(
                    change_message=entry.change_message.replace(form, stub)
                )
    # ... as "<name> — <role> @ <organisation>": drop the role after the name too.
    role_pattern = re.compile(re.escape(stub) + r"( \\u2014 | — ).*?( @ )")
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Organisation), change_message__contains=stub
    ).only("id", "change_message")
    for entry in entries:
        cleaned = role_pattern.sub(lambda m: stub + m.group(1) + "–" + m.group(2), entry.change_message)
        if cleaned != entry.change_message:
            LogEntry.objects.filter(pk=entry.pk).update(change_message=cleaned)

    log_access(request=request, user=actor, action=AccessAction.ERASURE, obj=person, rows=1)
    return person
