from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from ..choices import InteractionSensitivity
from ..models import FocusArea, Interaction, Organisation, Person, Team, TeamMembership
from ..roles import get_roles
from .common import apply_fields, set_history_user

INTERACTION_FIELDS = frozenset(
    {"occurred_on", "kind", "subject", "notes", "team", "sensitivity", "follow_up_due",
     "follow_up_assignee", "follow_up_done"}
)
MAX_FUTURE = timedelta(days=365)


def refresh_staff_contacted_on(organisation_ids=None) -> None:
    """Recompute Organisation.staff_contacted_on (latest interaction open to all EU staff) for
    these organisations (None: all, after bulk loads): one UPDATE. Every writer of interactions
    or of their organisation links calls it with the organisations before and after the change."""
    if organisation_ids is None:
        _refresh_all_staff_contacted_on()
        return
    ids = {pk for pk in organisation_ids if pk}
    if not ids:
        return
    targets = Organisation.objects.filter(pk__in=ids)
    latest = (
        Interaction.objects.filter(organisations=OuterRef("pk"), sensitivity=InteractionSensitivity.STAFF)
        .order_by("-occurred_on")
        .values("occurred_on")[:1]
    )
    # A queryset update: no history row, no updated_at change (derived data, not an edit).
    targets.update(staff_contacted_on=Subquery(latest))


def _refresh_all_staff_contacted_on() -> None:
    """Every organisation at once, after a bulk load: one GROUP BY over the links instead of a
    correlated lookup per organisation (50,000 index lookups, or 50,000 scans while a bulk
    load has its indexes dropped: the full-scale benchmark seed stalled there for over 8 min)."""
    links = Interaction.organisations.through._meta.db_table
    sql = f"""
        UPDATE {Organisation._meta.db_table} SET staff_contacted_on = latest.occurred_on
        FROM (SELECT l.organisation_id, MAX(i.occurred_on) AS occurred_on
              FROM {links} l JOIN {Interaction._meta.db_table} i ON i.id = l.interaction_id
              WHERE i.sensitivity = %s GROUP BY l.organisation_id) AS latest
        WHERE {Organisation._meta.db_table}.id = latest.organisation_id
          AND {Organisation._meta.db_table}.staff_contacted_on IS DISTINCT FROM latest.occurred_on"""
    sensitivity = InteractionSensitivity.STAFF.value
    with connection.cursor() as cursor:
        cursor.execute(sql.replace("IS DISTINCT FROM", "IS NOT") if connection.vendor == "sqlite" else sql,
                       [sensitivity])
    # Organisations without any all-staff interaction any more.
    # NOT EXISTS (an anti-join), not NOT IN: a NOT IN subquery too big to hash is rescanned per row.
    Organisation.objects.exclude(staff_contacted_on=None).exclude(
        Exists(Interaction.organisations.through.objects.filter(
            organisation_id=OuterRef("pk"), interaction__sensitivity=sensitivity))
    ).update(staff_contacted_on=None)


def advance_staff_contacted_on(latest: dict) -> None:
    """After a bulk load that only added interactions: {organisation id: date of its latest new
    interaction open to all EU staff}. New records can only move an organisation's date
    later, so one UPDATE of the organisations whose date moves keeps the column exact, instead
    of recomputing it for every organisation from every interaction."""
    if not latest:
        return
    table = Organisation._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} o SET staff_contacted_on = n.occurred_on "
                "FROM unnest(%s::uuid[], %s::date[]) AS n (id, occurred_on) "
                "WHERE o.id = n.id AND (o.staff_contacted_on IS NULL OR o.staff_contacted_on < n.occurred_on)",
                [list(latest), list(latest.values())],
            )
        return
    by_date: dict = {}
    for pk, day in latest.items():
        by_date.setdefault(day, []).append(pk)
    for day, ids in by_date.items():
        for offset in range(0, len(ids), 500):  # SQLite's limit on query parameters
            Organisation.objects.filter(pk__in=ids[offset: offset + 500]).filter(
                Q(staff_contacted_on=None) | Q(staff_contacted_on__lt=day)
            ).update(staff_contacted_on=day)


def _linked_organisation_ids(interaction) -> set:
    return set(interaction.organisations.through.objects.filter(interaction_id=interaction.pk)
               .values_list("organisation_id", flat=True))


CHARTS_VERSION_KEY = "home:charts-version"


def charts_version() -> int:
    """Version of contact history for the staff home's cached figures."""
    from django.core.cache import cache

    return cache.get_or_set(CHARTS_VERSION_KEY, 1, None)


def contact_history_changed() -> None:
    """After commit: the staff home's figures count the change at once (a new cache version)."""
    from django.core.cache import cache

    def bump():
        try:
            cache.incr(CHARTS_VERSION_KEY)
        except ValueError:  # not set (yet, or evicted): any new value starts a new version
            cache.set(CHARTS_VERSION_KEY, charts_version() + 1, None)

    transaction.on_commit(bump)


def default_team(user) -> Team | None:
    membership = TeamMembership.objects.filter(user=user).select_related("team").order_by("team__name").first()
    return membership.team if membership else None


def _visible_ids(queryset, ids, field, message):
    ids = list(dict.fromkeys(str(i) for i in ids))
    found = {str(pk) for pk in queryset.filter(pk__in=ids).values_list("pk", flat=True)} if ids else set()
    missing = [i for i in ids if i not in found]
    if missing:
        raise ValidationError({field: [message % {"id": i} for i in missing[:10]]})
    return ids


def _staff_users(usernames, field):
    User = get_user_model()
    names = list(dict.fromkeys(usernames))
    users = {u.username: u for u in User.objects.filter(username__in=names, is_active=True, team_memberships__isnull=False).distinct()}
    missing = [n for n in names if n not in users]
    if missing:
        raise ValidationError({field: [_("Not an EU staff user: %(username)s.") % {"username": n} for n in missing[:10]]})
    return [users[n] for n in names]


def _validate(interaction: Interaction, actor):
    errors = {}
    today = timezone.localdate()
    if interaction.occurred_on and interaction.occurred_on > today + MAX_FUTURE:
        errors["occurred_on"] = [_("The date cannot be more than a year from now.")]
    if interaction.team_id and not get_roles(actor).admin and interaction.team_id not in get_roles(actor).team_ids:
        errors["team"] = [_("You can only record interactions for a team you belong to.")]
    if interaction.follow_up_assignee_id:
        if not TeamMembership.objects.filter(team_id=interaction.team_id, user_id=interaction.follow_up_assignee_id).exists():
            errors["follow_up_assignee"] = [_("The person following up must be a member of the owning team.")]
        if interaction.follow_up_due is None:
            errors["follow_up_due"] = [_("Give a due date for the follow-up.")]
    if errors:
        raise ValidationError(errors)


def _hidden_linked_ids(manager, visible) -> list[str]:
    """Ids already linked that the actor may not see: an edit must keep them, not drop them."""
    return [str(pk) for pk in manager.exclude(pk__in=visible.values("pk")).values_list("pk", flat=True)]


def _set_relations(interaction, actor, organisations, people, staff_participants, focus_areas, keep_hidden=False):
    if organisations is not None:
        visible = Organisation.objects.visible_to(actor)
        ids = _visible_ids(visible, organisations, "organisations", _("Unknown organisation: %(id)s."))
        if keep_hidden:
            ids += _hidden_linked_ids(interaction.organisations, visible)
        interaction.organisations.set(ids)
    if people is not None:
        visible = Person.objects.visible_to(actor)
        ids = _visible_ids(visible, people, "people", _("Unknown person: %(id)s."))
        if keep_hidden:
            ids += _hidden_linked_ids(interaction.people, visible)
        interaction.people.set(ids)
    if staff_participants is not None:
        interaction.staff_participants.set(_staff_users(staff_participants, "staff_participants"))
    if focus_areas is not None:
        slugs = list(dict.fromkeys(focus_areas))
        found = list(FocusArea.objects.filter(slug__in=slugs))
        missing = sorted(set(slugs) - {f.slug for f in found})
        if missing:
            raise ValidationError({"focus_areas": [_("Unknown focus area: %(slug)s.") % {"slug": s} for s in missing]})
        interaction.focus_areas.set(found)


@transaction.atomic
def interaction_create(
    *, actor, data: dict, organisations=(), people=(), staff_participants=(), focus_areas=(), pk=None
) -> Interaction:
    if not get_roles(actor).staff:
        raise PermissionDenied(_("Only EU staff record contact history."))
    interaction = Interaction(author=actor) if pk is None else Interaction(author=actor, pk=pk)
    apply_fields(interaction, data, INTERACTION_FIELDS)
    if interaction.team_id is None:
        team = default_team(actor)
        if team is None:
            raise ValidationError({"team": [_("You are not a member of any team; choose the owning team.")]})
        interaction.team = team
    if interaction.follow_up_due and not interaction.follow_up_assignee_id:
        interaction.follow_up_assignee = actor
    interaction.full_clean()
    _validate(interaction, actor)
    set_history_user(interaction, actor)
    interaction.save()
    _set_relations(interaction, actor, organisations, people, staff_participants, focus_areas)
    refresh_staff_contacted_on(_linked_organisation_ids(interaction))
    contact_history_changed()
    return interaction


@transaction.atomic
def interaction_update(
    *, actor, interaction: Interaction, data: dict, organisations=None, people=None,
    staff_participants=None, focus_areas=None,
) -> Interaction:
    if not Interaction.objects.editable_by(actor).filter(pk=interaction.pk).exists():
        raise PermissionDenied(_("You may not change this interaction."))
    apply_fields(interaction, data, INTERACTION_FIELDS)
    if interaction.follow_up_due and not interaction.follow_up_assignee_id:
        interaction.follow_up_assignee = actor
    interaction.full_clean()
    _validate(interaction, actor)
    set_history_user(interaction, actor)
    before = _linked_organisation_ids(interaction)
    interaction.save()
    _set_relations(interaction, actor, organisations, people, staff_participants, focus_areas, keep_hidden=True)
    refresh_staff_contacted_on(before | _linked_organisation_ids(interaction))
    contact_history_changed()
    return interaction


@transaction.atomic
def follow_up_complete(*, actor, interaction: Interaction, done: bool = True) -> Interaction:
    allowed = Interaction.objects.editable_by(actor).filter(pk=interaction.pk).exists() or (
        interaction.follow_up_assignee_id == actor.pk
    )
    if not allowed:
        raise PermissionDenied(_("You may not change this follow-up."))
    interaction.follow_up_done = done
    set_history_user(interaction, actor)
    interaction.save(update_fields=["follow_up_done", "updated_at"])
    return interaction


@transaction.atomic
def interaction_delete(*, actor, interaction: Interaction) -> None:
    if not Interaction.objects.editable_by(actor).filter(pk=interaction.pk).exists():
        raise PermissionDenied(_("You may not delete this interaction."))
    set_history_user(interaction, actor)
    before = _linked_organisation_ids(interaction)
    interaction.delete()
    refresh_staff_contacted_on(before)
    contact_history_changed()
