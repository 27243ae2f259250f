"""Events and invitation lists (issue 7): create and change events, build a list from a
directory filter (preview, then one atomic add), status changes with a waitlist, and
attendance written to the contact history."""

import uuid
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from simple_history.utils import bulk_create_with_history

from ..choices import (
    INVITATION_TRANSITIONS,
    ConsentPurpose,
    InteractionKind,
    InteractionSensitivity,
    InvitationStatus,
    OrganisationStatus,
    Sensitivity,
    SkipReason,
)
from ..models import (
    Affiliation,
    Event,
    Interaction,
    Invitation,
    InvitationStatusChange,
    Organisation,
    Person,
)
from ..roles import get_roles
from .common import apply_fields, set_history_user

EVENT_FIELDS = frozenset(
    {
        "name",
        "starts_on",
        "ends_on",
        "city",
        "country",
        "venue",
        "description",
        "capacity",
        "team",
        "targets",
    }
)
MAX_ORGANISATIONS = 2000  # one "add from the directory" at most; narrow the filters beyond it
MAX_PER_ORGANISATION = 10
SEATED = (InvitationStatus.ACCEPTED, InvitationStatus.ATTENDED)


def _check_team(event: Event, actor):
    roles = get_roles(actor)
    if event.team_id and not roles.admin and event.team_id not in roles.team_ids:
        raise ValidationError({"team": [_("Choose a team you belong to.")]})


@transaction.atomic
def event_create(*, actor, data: dict, pk=None) -> Event:
    roles = get_roles(actor)
    if not (roles.admin or roles.organiser):
        raise PermissionDenied(_("Only organisers create events."))
    event = Event(created_by=actor) if pk is None else Event(created_by=actor, pk=pk)
    apply_fields(event, data, EVENT_FIELDS)
    event.full_clean()
    _check_team(event, actor)
    set_history_user(event, actor)
    event.save()
    return event


@transaction.atomic
def event_update(*, actor, event: Event, data: dict) -> Event:
    if not Event.objects.editable_by(actor).filter(pk=event.pk).exists():
        raise PermissionDenied(_("You may not change this event."))
    apply_fields(event, data, EVENT_FIELDS)
    event.full_clean()
    _check_team(event, actor)
    set_history_user(event, actor)
    event.save()
    return event


def _editable_event(actor, event) -> Event:
    """The event row, locked: list changes of one event run one after another."""
    locked = Event.objects.editable_by(actor).select_for_update().filter(pk=event.pk).first()
    if locked is None:
        raise PermissionDenied(_("You may not change this event's list."))
    return locked


# --- building the list from the directory ---------------------------------------------------


@dataclass
class Skip:
    person: Person | None
    organisation: Organisation
    reason: str

    @property
    def reason_label(self) -> str:
        return str(SkipReason(self.reason).label)


@dataclass
class ListPreview:
    added: list = field(default_factory=list)  # Invitation objects (unsaved in a preview)
    skipped: list = field(default_factory=list)  # Skip
    organisations: int = 0
    dry_run: bool = True


class _FilterRequest:
    """The shared OrganisationFilterSet reads the user from its request."""

    def __init__(self, user):
        self.user = user


def as_query(filters) -> QueryDict:
    """Filters as a QueryDict: from a request (QueryDict) or JSON ({"country": ["KZ", "KG"]})."""
    if isinstance(filters, QueryDict):
        query = filters.copy()
    else:
        if not isinstance(filters, dict):
            raise ValidationError({"filters": [_("Give the filters as an object.")]})
        query = QueryDict(mutable=True)
        for name, value in filters.items():
            values = value if isinstance(value, list) else [value]
            for item in values:
                if isinstance(item, dict | list) or item is None:
                    raise ValidationError(
                        {"filters": [_("%(name)s: give text values.") % {"name": name}]}
                    )
                query.appendlist(
                    str(name), "true" if item is True else "false" if item is False else str(item)
                )
    for name in ("page", "page_size", "format", "facets"):
        query.pop(name, None)
    return query


def filtered_organisations(*, actor, filters):
    """The organisations the directory page shows for these filters (same FilterSet, same gate)."""
    from ..filtersets import OrganisationFilterSet

    query = as_query(filters)
    filterset = OrganisationFilterSet(
        query, queryset=Organisation.objects.visible_to(actor), request=_FilterRequest(actor)
    )
    unknown = sorted(set(query) - set(filterset.filters))
    if unknown:
        raise ValidationError(
            {"filters": [_("Unknown filter: %(name)s.") % {"name": n} for n in unknown]}
        )
    if not filterset.is_valid():
        raise ValidationError(
            {
                "filters": [
                    f"{name}: {' '.join(errors)}" for name, errors in filterset.errors.items()
                ]
            }
        )
    return filterset.qs


def _skip_reason(person: Person, organisation: Organisation) -> str | None:
    if organisation.status == OrganisationStatus.CLOSED:
        return SkipReason.ORGANISATION_CLOSED
    if person.sensitivity == Sensitivity.RESTRICTED:
        return SkipReason.RESTRICTED
    if person.do_not_contact:
        return SkipReason.DO_NOT_CONTACT
    if not (person.has_consent and ConsentPurpose.INVITATIONS in (person.consent_purposes or [])):
        return SkipReason.NO_CONSENT
    return None


def preview_from_directory(
    *, actor, event: Event, filters, per_organisation: int = 1
) -> ListPreview:
    """Who would be added (each organisation's primary contact first, up to `per_organisation`)
    and who is skipped, with the reason. A fixed number of queries at any size."""
    if not Event.objects.editable_by(actor).filter(pk=event.pk).exists():
        raise PermissionDenied(_("You may not change this event's list."))
    if (
        isinstance(per_organisation, bool)
        or not isinstance(per_organisation, int)
        or not (1 <= per_organisation <= MAX_PER_ORGANISATION)
    ):
        raise ValidationError(
            {
                "per_organisation": [
                    _("Give a whole number from 1 to %(max)s.") % {"max": MAX_PER_ORGANISATION}
                ]
            }
        )
    organisations = list(
        filtered_organisations(actor=actor, filters=filters)
        .order_by("name", "id")
        .only("id", "name", "status", "country", "type")[: MAX_ORGANISATIONS + 1]
    )
    if not organisations:
        raise ValidationError(
            {"filters": [_("No organisation matches these filters; nothing was added.")]}
        )
    if len(organisations) > MAX_ORGANISATIONS:
        raise ValidationError(
            {
                "filters": [
                    _("More than %(max)s organisations match; narrow the filters.")
                    % {"max": MAX_ORGANISATIONS}
                ]
            }
        )
    by_id = {org.pk: org for org in organisations}
    affiliations = (
        Affiliation.objects.current()
        .filter(organisation_id__in=list(by_id))
        .select_related("person")
        .only(
            "id",
            "organisation_id",
            "is_primary",
            "person__id",
            "person__name",
            "person__email",
            "person__sensitivity",
            "person__do_not_contact",
            "person__consent_given_at",
            "person__consent_withdrawn_at",
            "person__consent_purposes",
            "person__gender",
            "person__languages",
        )
        .order_by("organisation_id", "-is_primary", "person__name", "id")
    )
    contacts: dict = {}
    for affiliation in affiliations:
        chosen = contacts.setdefault(affiliation.organisation_id, [])
        if len(chosen) < per_organisation:
            chosen.append(affiliation.person)
    on_list = set(Invitation.objects.filter(event=event).values_list("person_id", flat=True))
    may_see_restricted = get_roles(actor).can_view_restricted
    preview = ListPreview(organisations=len(organisations))
    now = timezone.now()
    for org in organisations:
        people = contacts.get(org.pk, [])
        if not people:
            preview.skipped.append(Skip(None, org, SkipReason.NO_CONTACT))
        for person in people:
            reason = _skip_reason(person, org)
            if reason is None and person.pk in on_list:
                reason = SkipReason.ALREADY_INVITED
            if reason is not None:
                hide = person.sensitivity == Sensitivity.RESTRICTED and not may_see_restricted
                preview.skipped.append(Skip(None if hide else person, org, reason))
                continue
            on_list.add(person.pk)
            preview.added.append(
                Invitation(
                    id=None,
                    event=event,
                    person=person,
                    organisation=org,
                    status=InvitationStatus.PROPOSED,
                    added_by=actor,
                    added_at=now,
                    status_changed_at=now,
                )
            )
    return preview


@transaction.atomic
def add_from_directory(
    *, actor, event: Event, filters, per_organisation: int = 1, dry_run: bool = False
) -> ListPreview:
    """Preview, or add everyone the preview lists in one atomic step."""
    if dry_run:
        return preview_from_directory(
            actor=actor, event=event, filters=filters, per_organisation=per_organisation
        )
    event = _editable_event(actor, event)
    preview = preview_from_directory(
        actor=actor, event=event, filters=filters, per_organisation=per_organisation
    )
    preview.dry_run = False
    if not preview.added:
        return preview
    for invitation in preview.added:
        invitation.id = uuid.uuid4()
    try:
        with transaction.atomic():
            bulk_create_with_history(
                preview.added,
                Invitation,
                batch_size=500,
                default_user=actor if actor.is_authenticated else None,
                default_change_reason="added from the directory",
            )
    except IntegrityError:
        raise ValidationError(
            {"person": [_("Someone in the list was added meanwhile; try again.")]}
        ) from None
    InvitationStatusChange.objects.bulk_create(
        [
            InvitationStatusChange(
                invitation_id=inv.id,
                from_status="",
                to_status=inv.status,
                changed_by=actor,
                changed_at=inv.added_at,
                note="from the directory",
            )
            for inv in preview.added
        ],
        batch_size=500,
    )
    return preview


@transaction.atomic
def invitation_add(
    *, actor, event: Event, person: Person, organisation: Organisation, notes: str = ""
) -> Invitation:
    """Put one person on the list (the same rules as the directory build; no skip, an error)."""
    event = _editable_event(actor, event)
    if not Organisation.objects.visible_to(actor).filter(pk=organisation.pk).exists():
        raise ValidationError({"organisation": [_("Unknown organisation.")]})
    if not Affiliation.objects.current().filter(person=person, organisation=organisation).exists():
        raise ValidationError(
            {"person": [_("This person is not a current contact of the organisation.")]}
        )
    reason = _skip_reason(person, organisation)
    if reason is None and Invitation.objects.filter(event=event, person=person).exists():
        reason = SkipReason.ALREADY_INVITED
    if reason is not None:
        field_name = "organisation" if reason == SkipReason.ORGANISATION_CLOSED else "person"
        raise ValidationError({field_name: [str(SkipReason(reason).label)]})
    invitation = Invitation(
        event=event, person=person, organisation=organisation, added_by=actor, notes=notes
    )
    invitation.full_clean()
    set_history_user(invitation, actor)
    invitation.save()
    InvitationStatusChange.objects.create(
        invitation=invitation, from_status="", to_status=invitation.status, changed_by=actor
    )
    return invitation


# --- status changes ---------------------------------------------------------------------------


def _seated(event: Event, exclude=None) -> int:
    qs = Invitation.objects.filter(event=event, status__in=SEATED)
    if exclude is not None:
        qs = qs.exclude(pk=exclude.pk)
    return qs.count()


def _write_status(invitation: Invitation, status: str, actor, note: str = "") -> None:
    previous = invitation.status
    invitation.status = status
    invitation.status_changed_at = timezone.now()
    set_history_user(invitation, actor)
    invitation.save(update_fields=["status", "status_changed_at"])
    InvitationStatusChange.objects.create(
        invitation=invitation,
        from_status=previous,
        to_status=status,
        changed_by=actor,
        changed_at=invitation.status_changed_at,
        note=note[:200],
    )


def _promote_next(event: Event, actor) -> Invitation | None:
    """A seat came free: the longest-waiting waitlisted invitation is accepted."""
    if event.capacity is not None and _seated(event) >= event.capacity:
        return None
    following = (
        Invitation.objects.filter(event=event, status=InvitationStatus.WAITLISTED)
        .order_by("status_changed_at", "added_at", "id")
        .first()
    )
    if following is not None:
        _write_status(
            following, InvitationStatus.ACCEPTED, actor, note="promoted from the waitlist"
        )
    return following


def record_attendance(*, actor, event: Event, invitations) -> None:
    """One interaction of kind "event" per event and organisation; attendees join it.

    Written in bulk (a fixed number of queries for any number of attendees): the m2m links
    directly, then one history record per touched interaction with its m2m history, as
    simple-history writes it, instead of a full history copy for every link added."""
    invitations = list(invitations)
    if not invitations:
        return
    org_through, people_through = Interaction.organisations.through, Interaction.people.through
    org_ids = {inv.organisation_id for inv in invitations}
    interaction_of: dict = {}
    for interaction_id, org_id in (
        org_through.objects.filter(interaction__event=event, organisation_id__in=org_ids)
        .order_by("interaction__created_at", "interaction_id")
        .values_list("interaction_id", "organisation_id")
    ):
        interaction_of.setdefault(org_id, interaction_id)
    fields = dict(
        occurred_on=event.starts_on,
        kind=InteractionKind.EVENT,
        subject=event.name[:200],
        team_id=event.team_id,
        author=actor,
        sensitivity=InteractionSensitivity.STAFF,
        event=event,
    )
    Interaction(**fields).full_clean()  # the same values for every new record: validate once
    new, links = [], []
    for org_id in sorted(org_ids - set(interaction_of), key=str):
        interaction = Interaction(id=uuid.uuid4(), **fields)
        new.append(interaction)
        links.append(org_through(interaction_id=interaction.id, organisation_id=org_id))
        interaction_of[org_id] = interaction.id
    Interaction.objects.bulk_create(new)
    org_through.objects.bulk_create(links)
    wanted = {(interaction_of[inv.organisation_id], inv.person_id) for inv in invitations}
    have = set(
        people_through.objects.filter(
            interaction_id__in={i for i, _p in wanted}, person_id__in={p for _i, p in wanted}
        ).values_list("interaction_id", "person_id")
    )
    missing = sorted(wanted - have, key=str)
    people_through.objects.bulk_create(
        [people_through(interaction_id=i, person_id=p) for i, p in missing]
    )
    if new:
        from .interactions import contact_history_changed, refresh_staff_contacted_on

        refresh_staff_contacted_on(org_ids)
        contact_history_changed()
    created = {i.id for i in new}
    touched = created | {i for i, _p in missing}
    if touched:
        _history_with_m2m(actor, touched, created)


def _history_with_m2m(actor, interaction_ids, created) -> None:
    """History rows for these interactions ("+" when new, "~" otherwise) with their m2m links."""
    from django.apps import apps

    records = list(Interaction.objects.filter(pk__in=interaction_ids).order_by("pk"))
    historical = {}
    for update in (False, True):
        group = [r for r in records if (r.pk in created) != update]
        if group:
            rows = Interaction.history.bulk_history_create(
                group, update=update, default_user=actor, default_change_reason="attendance"
            )
            historical.update({row.id: row for row in rows})
    for m2m in Interaction.history.model._history_m2m_fields:
        through = getattr(Interaction, m2m.name).through
        m2m_history = apps.get_model("directory", f"HistoricalInteraction_{m2m.name}")
        columns = [f.attname for f in through._meta.fields]
        m2m_history.objects.bulk_create(
            [
                m2m_history(history=historical[row["interaction_id"]], **row)
                for row in through.objects.filter(interaction_id__in=interaction_ids).values(
                    *columns
                )
            ]
        )


def _check_transition(previous: str, status: str) -> None:
    if status not in InvitationStatus.values:
        raise ValidationError({"status": [_("Unknown status: %(status)s.") % {"status": status}]})
    if status == previous:
        return
    if status == InvitationStatus.WAITLISTED:
        raise ValidationError(
            {
                "status": [
                    _("Accept the invitation; it goes to the waitlist when the event is full.")
                ]
            }
        )
    if status not in INVITATION_TRANSITIONS[previous]:
        raise ValidationError(
            {
                "status": [
                    _("An invitation cannot go from “%(from)s” to “%(to)s”.")
                    % {
                        "from": InvitationStatus(previous).label,
                        "to": InvitationStatus(status).label,
                    }
                ]
            }
        )


def _change_status(
    invitation: Invitation,
    status: str,
    actor,
    event: Event,
    note: str = "",
    attended: list | None = None,
) -> Invitation:
    """One status change; `attended` collects attendees to record together (bulk changes)."""
    previous = invitation.status
    _check_transition(previous, status)
    if status == previous:
        return invitation
    if (
        status == InvitationStatus.ACCEPTED
        and event.capacity is not None
        and _seated(event, invitation) >= event.capacity
    ):
        if previous == InvitationStatus.WAITLISTED:
            return invitation  # still no seat
        status = InvitationStatus.WAITLISTED
    invitation.event = event
    _write_status(invitation, status, actor, note)
    if status == InvitationStatus.ATTENDED:
        if attended is None:
            record_attendance(actor=actor, event=event, invitations=[invitation])
        else:
            attended.append(invitation)
    if previous == InvitationStatus.ACCEPTED and status == InvitationStatus.DECLINED:
        _promote_next(event, actor)
    return invitation


@transaction.atomic
def invitation_set_status(
    *, actor, invitation: Invitation, status: str, note: str = ""
) -> Invitation:
    event = _editable_event(actor, invitation.event)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    return _change_status(invitation, status, actor, event, note)


@transaction.atomic
def invitations_bulk_status(*, actor, event: Event, ids, status: str) -> list[Invitation]:
    """All or nothing: one invalid change and none is written."""
    event = _editable_event(actor, event)
    ids = list(dict.fromkeys(str(i) for i in ids))
    if not ids:
        raise ValidationError({"invitations": [_("Select at least one invitation.")]})
    invitations = list(
        Invitation.objects.visible_to(actor)
        .select_for_update()
        .filter(event=event, pk__in=ids)
        .select_related("person")
        # Ties (a bulk write stamps one time) go to whoever was added first, not to a random UUID.
        .order_by("status_changed_at", "added_at", "id")
    )
    found = {str(inv.pk) for inv in invitations}
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError(
            {"invitations": [_("Unknown invitation: %(id)s.") % {"id": i} for i in missing[:10]]}
        )
    errors = []
    for invitation in invitations:
        try:
            _check_transition(invitation.status, status)
        except ValidationError as exc:
            errors.append(
                f"{invitation.person.name}: {' '.join(exc.message_dict.get('status', exc.messages))}"
            )
    if errors:
        raise ValidationError({"status": errors[:20]})
    seats_move = status == InvitationStatus.ACCEPTED or (
        status == InvitationStatus.DECLINED
        and any(inv.status == InvitationStatus.ACCEPTED for inv in invitations)
    )
    if seats_move:
        # Capacity and the waitlist decide each invitation in turn.
        attended = []
        for invitation in invitations:
            _change_status(invitation, status, actor, event, note="bulk change", attended=attended)
        record_attendance(actor=actor, event=event, invitations=attended)
        return invitations
    _write_statuses_in_bulk(actor, [inv for inv in invitations if inv.status != status], status)
    if status == InvitationStatus.ATTENDED:
        record_attendance(actor=actor, event=event, invitations=invitations)
    return invitations


def _write_statuses_in_bulk(actor, invitations, status: str) -> None:
    """Status, history and status-change rows for many invitations: a few queries in all."""
    if not invitations:
        return
    now = timezone.now()
    changes = [
        InvitationStatusChange(
            invitation_id=inv.pk,
            from_status=inv.status,
            to_status=status,
            changed_by=actor,
            changed_at=now,
            note="bulk change",
        )
        for inv in invitations
    ]
    for inv in invitations:
        inv.status, inv.status_changed_at = status, now
    Invitation.objects.bulk_update(invitations, ["status", "status_changed_at"], batch_size=500)
    Invitation.history.bulk_history_create(
        invitations, update=True, default_user=actor, default_date=now, batch_size=500
    )
    InvitationStatusChange.objects.bulk_create(changes, batch_size=500)


@transaction.atomic
def invitation_answer(*, actor, invitation: Invitation, accept: bool) -> Invitation:
    """A CSO editor accepts or declines its organisation's invitation."""
    invitation = (
        Invitation.objects.answerable_by(actor).select_for_update().filter(pk=invitation.pk).first()
    )
    if invitation is None:
        raise PermissionDenied(_("You may not answer this invitation."))
    event = Event.objects.select_for_update().get(pk=invitation.event_id)
    if invitation.status not in (
        InvitationStatus.INVITED,
        InvitationStatus.ACCEPTED,
        InvitationStatus.DECLINED,
        InvitationStatus.WAITLISTED,
    ):
        raise ValidationError({"status": [_("This invitation cannot be answered any more.")]})
    target = InvitationStatus.ACCEPTED if accept else InvitationStatus.DECLINED
    return _change_status(invitation, target, actor, event, note="answered by the organisation")


@transaction.atomic
def invitation_update(
    *, actor, invitation: Invitation, status: str | None = None, notes: str | None = None
) -> Invitation:
    """Change an invitation's notes and/or status (status rules as in invitation_set_status)."""
    event = _editable_event(actor, invitation.event)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if notes is not None and notes != invitation.notes:
        invitation.notes = notes
        invitation.full_clean()
        set_history_user(invitation, actor)
        invitation.save(update_fields=["notes"])
    if status is not None:
        _change_status(invitation, status, actor, event)
    return invitation
