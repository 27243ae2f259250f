from django.db import transaction

from ..models import Affiliation, Person
from .common import apply_fields, set_history_user
from .privacy import ensure_not_suppressed

PERSON_FIELDS = frozenset(
    {
        "name", "name_local", "position", "email", "phone", "languages", "gender", "sensitivity",
        "consent_given_at", "consent_method", "consent_purposes", "consent_withdrawn_at",
        "do_not_contact",
    }
)
AFFILIATION_FIELDS = frozenset({"person", "organisation", "role", "is_primary", "start_date", "end_date"})


@transaction.atomic
def person_create(*, actor, data: dict, pk=None) -> Person:
    person = Person(pk=pk) if pk else Person()
    apply_fields(person, data, PERSON_FIELDS)
    person.full_clean()
    ensure_not_suppressed(email=person.email, phone=person.phone)  # erased contacts stay out
    set_history_user(person, actor)
    person.save()
    return person


@transaction.atomic
def person_update(*, actor, person: Person, data: dict) -> Person:
    changed = apply_fields(person, data, PERSON_FIELDS)
    if changed:
        person.full_clean()
        ensure_not_suppressed(  # erased contacts stay out
            email=person.email if "email" in changed else None,
            phone=person.phone if "phone" in changed else None,
        )
        set_history_user(person, actor)
        person.save()
    return person


@transaction.atomic
def person_delete(*, actor, person: Person) -> None:
    set_history_user(person, actor)
    person.delete()


@transaction.atomic
def affiliation_create(*, actor, data: dict) -> Affiliation:
    affiliation = Affiliation()
    apply_fields(affiliation, data, AFFILIATION_FIELDS)
    affiliation.full_clean()
    set_history_user(affiliation, actor)
    affiliation.save()
    return affiliation


@transaction.atomic
def affiliation_update(*, actor, affiliation: Affiliation, data: dict) -> Affiliation:
    if apply_fields(affiliation, data, AFFILIATION_FIELDS):
        affiliation.full_clean()
        set_history_user(affiliation, actor)
        affiliation.save()
    return affiliation


@transaction.atomic
def affiliation_delete(*, actor, affiliation: Affiliation) -> None:
    set_history_user(affiliation, actor)
    affiliation.delete()
