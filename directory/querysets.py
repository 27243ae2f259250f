"""The access gate: one `visible_to(user)` / `editable_by(user)` per model.

Every page, endpoint, filter, facet, count and export starts from these querysets;
objects outside them answer 404. Rules are in ../shared/SECURITY.md.
"""

from django.db import models
from django.db.models import Exists, OuterRef, Q, Subquery
from django.db.models.lookups import IsNull

from .choices import OrganisationStatus, Sensitivity, Visibility
from .roles import get_roles

PUBLIC_ORGANISATION = Q(visibility=Visibility.PUBLIC, status=OrganisationStatus.ACTIVE)


class OrganisationQuerySet(models.QuerySet):
    def visible_to(self, user):
        roles = get_roles(user)
        if roles.admin or roles.can_view_restricted:
            return self.all()
        rule = PUBLIC_ORGANISATION
        if roles.staff or roles.organiser:
            rule = Q(visibility__in=[Visibility.PUBLIC, Visibility.STAFF])
        if roles.editor_org_ids:
            rule |= Q(pk__in=roles.editor_org_ids)
        return self.filter(rule)

    def editable_by(self, user):
        """Organisations the user may write directly (CSO editors only propose)."""
        roles = get_roles(user)
        if roles.admin:
            return self.all()
        if roles.staff and user.has_perm("directory.change_organisation"):
            return self.visible_to(user)
        return self.none()


class PersonQuerySet(models.QuerySet):
    def visible_to(self, user):
        roles = get_roles(user)
        if roles.admin or roles.can_view_restricted:
            return self.all()
        if roles.staff:
            return self.filter(sensitivity=Sensitivity.NORMAL)
        if roles.editor_org_ids:
            from .models import Affiliation

            return self.filter(
                Exists(
                    Affiliation.objects.current().filter(
                        person=OuterRef("pk"), organisation_id__in=roles.editor_org_ids
                    )
                ),
                sensitivity=Sensitivity.NORMAL,
            )
        return self.none()

    def editable_by(self, user):
        roles = get_roles(user)
        if roles.admin:
            return self.all()
        if roles.staff and user.has_perm("directory.change_person"):
            return self.visible_to(user)
        return self.none()


class AffiliationQuerySet(models.QuerySet):
    def current(self):
        from django.utils import timezone

        return self.filter(Q(end_date__isnull=True) | Q(end_date__gte=timezone.localdate()))

    def visible_to(self, user):
        from .models import Organisation, Person

        return self.filter(
            person__in=Person.objects.visible_to(user).values("pk"),
            organisation__in=Organisation.objects.visible_to(user).values("pk"),
        )


class InteractionQuerySet(models.QuerySet):
    """Contact history is staff-only; each record is readable according to its compartment.

    Administrators see every record's metadata (`readable_rule` marks which ones they may
    read in full); serializers and templates redact the rest.
    """

    @staticmethod
    def readable_rule(user, *, scan: bool = False) -> Q:
        """`scan`: for a query that reads most of the table (a whole-directory aggregate), where
        one hash of the viewer's participant links beats a probe per participants-only record."""
        from .choices import InteractionSensitivity as S

        roles = get_roles(user)
        if not roles.staff:
            return Q(pk__in=[])
        through = _participants_through()
        if scan:
            return (
                Q(sensitivity=S.STAFF)
                | Q(sensitivity=S.TEAM, team_id__in=roles.team_ids)
                | Q(author_id=user.pk)
                | Q(pk__in=through.objects.filter(user_id=user.pk).values("interaction_id"),
                    sensitivity=S.PARTICIPANTS)
            )
        return (
            Q(sensitivity=S.STAFF)
            | Q(sensitivity=S.TEAM, team_id__in=roles.team_ids)
            | Q(author_id=user.pk)
            # A per-row probe of the unique (interaction, user) index, run only for
            # participants-only records: PostgreSQL turns an EXISTS here into a hash of every
            # participant link of the viewer (~96,000 at full scale, ~18 ms) on every request,
            # even one that walks ten timeline rows.
            | Q(
                IsNull(Subquery(through.objects.filter(interaction_id=OuterRef("pk"), user_id=user.pk)
                                .values("pk")[:1]), False),
                sensitivity=S.PARTICIPANTS,
            )
        )

    def visible_to(self, user, *, scan: bool = False):
        roles = get_roles(user)
        if roles.admin:
            return self.all()
        if not roles.staff:
            return self.none()
        return self.filter(self.readable_rule(user, scan=scan))

    def with_readable(self, user):
        """Annotate `readable`: may the user read the record's content (not only metadata)?"""
        from django.db.models import BooleanField, Case, Value, When

        return self.annotate(
            readable=Case(When(self.readable_rule(user), then=Value(True)), default=Value(False),
                          output_field=BooleanField())
        )

    def visible_with_readable(self, user):
        """`visible_to(user).with_readable(user)` without evaluating the compartment rule twice:
        for staff who are not administrators every visible record is readable, so `readable`
        is a constant (the rule's participants EXISTS is hashed once instead of three times,
        and a `readable=True` filter costs nothing)."""
        from django.db.models import BooleanField, Value

        roles = get_roles(user)
        if roles.admin:
            return self.all().with_readable(user)
        return self.visible_to(user).annotate(readable=Value(True, output_field=BooleanField()))

    def editable_by(self, user):
        from .choices import InteractionSensitivity as S

        roles = get_roles(user)
        if not roles.staff:
            return self.none()
        return self.filter(Q(author_id=user.pk) | Q(sensitivity=S.TEAM, team_id__in=roles.team_ids))


def _participants_through():
    from .models import Interaction

    return Interaction.staff_participants.through


class EventQuerySet(models.QuerySet):
    """Events: EU staff and organisers read them all; organisers write their teams' events
    (administrators every event). CSO editors see their invitations, not events (InvitationQuerySet)."""

    def visible_to(self, user):
        roles = get_roles(user)
        if roles.admin or roles.staff or roles.organiser:
            return self.all()
        return self.none()

    def editable_by(self, user):
        roles = get_roles(user)
        if roles.admin:
            return self.all()
        if roles.organiser:
            return self.filter(team_id__in=roles.team_ids)
        return self.none()


class InvitationQuerySet(models.QuerySet):
    """Invitations: those of visible events (restricted people only with the permission);
    a CSO editor also sees the invitations of its own organisations."""

    def visible_to(self, user):
        roles = get_roles(user)
        if roles.admin or roles.can_view_restricted:
            return self.all()
        rule = Q(pk__in=[])
        if roles.staff or roles.organiser:
            rule = Q(person__sensitivity=Sensitivity.NORMAL)
        if roles.editor_org_ids:
            rule |= self._own_rule(roles)
        return self.filter(rule)

    @staticmethod
    def _own_rule(roles) -> Q:
        # A proposal is the organisers' shortlist: the organisation sees it once invited.
        return Q(organisation_id__in=roles.editor_org_ids, person__sensitivity=Sensitivity.NORMAL) & ~Q(
            status="proposed"
        )

    def editable_by(self, user):
        from .models import Event

        return self.visible_to(user).filter(event__in=Event.objects.editable_by(user).values("pk"))

    def answerable_by(self, user):
        """A CSO editor accepts or declines its own organisations' invitations."""
        roles = get_roles(user)
        if not roles.editor_org_ids:
            return self.none()
        return self.filter(self._own_rule(roles))
