import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from directory.choices import OrganisationStatus, Visibility
from directory.models import (
    Affiliation,
    FocusArea,
    Organisation,
    OrganisationEditor,
    OrganisationIdentifier,
    Person,
    Team,
    TeamMembership,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.org")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class TeamFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Team

    name = factory.Sequence(lambda n: f"EU Delegation {n}")
    countries = ["KZ"]


def staff_user(team=None, perms=("view_internal", "change_organisation", "add_organisation",
                                 "delete_organisation", "change_person", "add_person"), **kwargs):
    user = UserFactory(**kwargs)
    TeamMembership.objects.create(team=team or TeamFactory(), user=user)
    if perms:
        user.user_permissions.add(*Permission.objects.filter(content_type__app_label="directory", codename__in=perms))
    return user


def editor_of(organisation, **kwargs):
    user = UserFactory(**kwargs)
    OrganisationEditor.objects.create(user=user, organisation=organisation)
    return user


class OrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organisation
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Organisation {n}")
    country = "KZ"
    city = "Almaty"
    type = "ngo"
    visibility = Visibility.PUBLIC
    status = OrganisationStatus.ACTIVE
    languages = factory.LazyFunction(lambda: ["ru"])

    @factory.post_generation
    def focus_areas(obj, create, extracted, **kwargs):
        if create and extracted:
            obj.focus_areas.set(FocusArea.objects.filter(slug__in=extracted))


class IdentifierFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = OrganisationIdentifier

    organisation = factory.SubFactory(OrganisationFactory)
    scheme = "KZ-BIN"
    value = factory.Sequence(lambda n: f"{950440000000 + n}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    name = factory.Sequence(lambda n: f"Person {n}")
    email = factory.Sequence(lambda n: f"person{n}@example.org")
    phone = factory.Sequence(lambda n: f"+7 701 {100000 + n}")


class AffiliationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Affiliation

    person = factory.SubFactory(PersonFactory)
    organisation = factory.SubFactory(OrganisationFactory)
    role = "Director"


def grant(user, *codenames):
    """Give a user directory permissions by codename (and drop Django's permission cache)."""
    user.user_permissions.add(
        *Permission.objects.filter(content_type__app_label="directory", codename__in=codenames)
    )
    for attr in ("_perm_cache", "_user_perm_cache", "_group_perm_cache", "_directory_roles"):
        user.__dict__.pop(attr, None)
    return user


def consent_given(person, actor=None, purposes=("directory", "contact"), method="written", note=""):
    """Record consent through the service (it also updates the person and its history)."""
    from directory.services.privacy import consent_record

    return consent_record(actor=actor, person=person, action="given", purposes=list(purposes),
                          method=method, note=note)


def interaction(author, *, organisations=(), people=(), staff_participants=(), focus_areas=(), **data):
    """Record an interaction through the service (history included); sensible defaults."""
    from datetime import date

    from directory.services.interactions import interaction_create

    data.setdefault("occurred_on", date(2025, 1, 15))
    data.setdefault("kind", "meeting")
    data.setdefault("subject", "Meeting")
    return interaction_create(
        actor=author, data=data,
        organisations=[o.pk for o in organisations], people=[p.pk for p in people],
        staff_participants=[u.username for u in staff_participants], focus_areas=list(focus_areas),
    )


def organiser(team=None, **kwargs):
    """EU staff in `team` with the permission to manage events."""
    return staff_user(team=team, perms=("manage_events", "view_internal"), **kwargs)


def event(team, **data):
    from datetime import date

    from directory.models import Event

    data.setdefault("name", "EU–Central Asia Civil Society Forum")
    data.setdefault("starts_on", date(2026, 10, 6))
    data.setdefault("ends_on", date(2026, 10, 7))
    data.setdefault("city", "Almaty")
    data.setdefault("country", "KZ")
    return Event.objects.create(team=team, **data)


def invitable(organisation, *, primary=True, purposes=("directory", "contact", "invitations"), **person):
    """A current contact of the organisation who consented to invitations."""
    from django.utils import timezone

    person.setdefault("consent_given_at", timezone.now())
    person.setdefault("consent_method", "email")
    person.setdefault("consent_purposes", list(purposes))
    p = PersonFactory(**person)
    AffiliationFactory(person=p, organisation=organisation, is_primary=primary)
    return p
