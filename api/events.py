"""Events and invitations (API.md "Events and invitations"): `/api/v1/events/`,
`/api/v1/events/{id}/invitations/` (+ `from-directory/`, `bulk-status/`), `/events/{id}/balance/`
and a CSO editor's `/api/v1/me/invitations/`. Reads start from the access gates; writes go
through directory.services.events."""

from django.http import Http404, StreamingHttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
    inline_serializer,
)
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from directory import selectors
from directory.choices import InvitationStatus
from directory.models import AccessAction, Event, Invitation, Organisation, Person, Team
from directory.roles import get_roles
from directory.services import audit, event_exports
from directory.services import events as services

from . import schema as docs
from .pagination import DirectoryPagination
from .renderers import CSVRenderer
from .serializers import CANNOT_WRITE


class StrictSerializer(serializers.Serializer):
    """Unknown fields are a 400 naming them, never silently dropped."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: [CANNOT_WRITE] for name in unknown})
        return super().to_internal_value(data)


class EventSerializer(serializers.ModelSerializer):
    country = serializers.CharField(source="country.code", read_only=True)
    team = serializers.UUIDField(source="team_id", read_only=True)

    class Meta:
        model = Event
        fields = [
            "id",
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
        ]


class TargetSerializer(StrictSerializer):
    dimension = serializers.CharField()
    value = serializers.CharField(max_length=60)
    op = serializers.ChoiceField(choices=["at_least", "at_most"])
    unit = serializers.ChoiceField(choices=["percent", "count"], default="percent")
    target = serializers.FloatField(min_value=0)

    def to_representation(self, instance):
        return instance


class EventWriteSerializer(StrictSerializer):
    name = serializers.CharField(max_length=200)
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    city = serializers.CharField(max_length=120, allow_blank=True, required=False)
    country = serializers.CharField(max_length=2)
    venue = serializers.CharField(max_length=200, allow_blank=True, required=False)
    description = serializers.CharField(max_length=10000, allow_blank=True, required=False)
    capacity = serializers.IntegerField(allow_null=True, required=False)
    team = serializers.UUIDField(
        required=False, help_text="Defaults to the organiser's (first) team."
    )
    targets = TargetSerializer(many=True, required=False)

    def validate_team(self, value):
        team = Team.objects.filter(pk=value).first()
        if team is None:
            raise serializers.ValidationError(_("Unknown team."))
        return team

    def service_data(self, user) -> dict:
        data = dict(self.validated_data)
        if "targets" in data:
            data["targets"] = [
                {
                    **t,
                    "target": int(t["target"]) if float(t["target"]).is_integer() else t["target"],
                }
                for t in data["targets"]
            ]
        if "team" not in data and not self.partial:
            from directory.services.interactions import default_team

            team = default_team(user)
            if team is None:
                raise exceptions.ValidationError(
                    {"team": [_("You are not in a team; choose the owning team.")]}
                )
            data["team"] = team
        return data


class InvitationSerializer(serializers.ModelSerializer):
    event = serializers.UUIDField(source="event_id", read_only=True)
    person = serializers.UUIDField(source="person_id", read_only=True)
    organisation = serializers.UUIDField(source="organisation_id", read_only=True)
    person_name = serializers.CharField(source="person.name", read_only=True)
    organisation_name = serializers.CharField(source="organisation.name", read_only=True)
    added_by = serializers.SerializerMethodField()

    class Meta:
        model = Invitation
        fields = [
            "id",
            "event",
            "person",
            "organisation",
            "status",
            "added_by",
            "added_at",
            "notes",
            "person_name",
            "organisation_name",
        ]

    def get_added_by(self, obj) -> str | None:
        return obj.added_by.get_username() if obj.added_by_id else None


class InvitationCreateSerializer(StrictSerializer):
    person = serializers.UUIDField()
    organisation = serializers.UUIDField()
    notes = serializers.CharField(max_length=2000, allow_blank=True, required=False, default="")


class InvitationUpdateSerializer(StrictSerializer):
    status = serializers.ChoiceField(choices=InvitationStatus.choices, required=False)
    notes = serializers.CharField(max_length=2000, allow_blank=True, required=False)


class FromDirectorySerializer(StrictSerializer):
    filters = serializers.DictField(
        help_text="Organisation filters as in API.md (values: text or lists)."
    )
    per_organisation = serializers.IntegerField(
        min_value=1, max_value=services.MAX_PER_ORGANISATION, default=1
    )
    dry_run = serializers.BooleanField(default=False)


class BulkStatusSerializer(StrictSerializer):
    invitations = serializers.ListField(
        child=serializers.UUIDField(), min_length=1, max_length=2000
    )
    status = serializers.ChoiceField(choices=InvitationStatus.choices)


class SkippedSerializer(serializers.Serializer):
    person = serializers.UUIDField(allow_null=True)
    person_name = serializers.CharField(allow_null=True)
    organisation = serializers.UUIDField()
    organisation_name = serializers.CharField()
    reason = serializers.ChoiceField(choices=services.SkipReason.choices)


FromDirectoryResponse = inline_serializer(
    "FromDirectoryResponse",
    {
        "dry_run": serializers.BooleanField(),
        "organisations": serializers.IntegerField(),
        "added": InvitationSerializer(many=True),
        "skipped": SkippedSerializer(many=True),
    },
)
COUNTS = serializers.DictField(child=serializers.IntegerField())
BalanceResponse = inline_serializer(
    "EventBalance",
    {
        "total": serializers.IntegerField(
            help_text="Invitations that count: not declined, not no-show."
        ),
        "status": COUNTS,
        "country": COUNTS,
        "focus_area": COUNTS,
        "type": COUNTS,
        "gender": COUNTS,
        "targets": inline_serializer(
            "EventTargetCheck",
            {
                "dimension": serializers.CharField(),
                "value": serializers.CharField(),
                "op": serializers.CharField(),
                "unit": serializers.CharField(),
                "target": serializers.FloatField(),
                "actual": serializers.FloatField(),
                "met": serializers.BooleanField(),
            },
            many=True,
        ),
    },
)


class EventsPermission(permissions.BasePermission):
    """Anonymous → 401. Reads: EU staff and organisers; others 403 on lists, 404 on one event.
    Writes: organisers (the owning team's) and administrators."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        roles = get_roles(user)
        if roles.admin or roles.staff or roles.organiser:
            if request.method in permissions.SAFE_METHODS:
                return True
            return roles.admin or roles.organiser
        if view.kwargs.get("pk") or view.kwargs.get("event_pk"):
            raise exceptions.NotFound()
        return False


EVENT_ID = OpenApiParameter(
    "id", OpenApiTypes.UUID, location=OpenApiParameter.PATH, description="The event's id."
)
EVENT_PK = OpenApiParameter(
    "event_pk", OpenApiTypes.UUID, location=OpenApiParameter.PATH, description="The event's id."
)
INVITATION_ID = OpenApiParameter(
    "id", OpenApiTypes.UUID, location=OpenApiParameter.PATH, description="The invitation's id."
)
DETAIL_ERRORS = {404: docs.NOT_FOUND, **docs.READ_ERRORS}
WRITE_DETAIL_ERRORS = {**docs.WRITE_ERRORS, 404: docs.NOT_FOUND}


@extend_schema_view(
    list=extend_schema(
        summary="Events",
        description="EU staff and organisers.",
        responses={200: EventSerializer(many=True), 404: docs.NOT_FOUND, **docs.READ_ERRORS},
    ),
    retrieve=extend_schema(
        summary="One event",
        parameters=[EVENT_ID],
        responses={200: EventSerializer, **DETAIL_ERRORS},
    ),
    create=extend_schema(
        summary="Create an event (organisers)",
        request=EventWriteSerializer,
        responses={201: EventSerializer, **docs.WRITE_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change an event (its team's organisers)",
        parameters=[EVENT_ID],
        request=EventWriteSerializer,
        responses={200: EventSerializer, **WRITE_DETAIL_ERRORS},
    ),
    update=extend_schema(
        summary="Replace an event (its team's organisers)",
        parameters=[EVENT_ID],
        request=EventWriteSerializer,
        responses={200: EventSerializer, **WRITE_DETAIL_ERRORS},
    ),
)
class EventViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    schema = docs.DirectoryAutoSchema()
    permission_classes = [EventsPermission]
    pagination_class = DirectoryPagination
    serializer_class = EventSerializer
    lookup_value_converter = "uuid"
    queryset = Event.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Event.objects.none()
        return selectors.event_list(self.request.user).order_by("-starts_on", "name", "id")

    def get_serializer_class(self):
        return (
            EventWriteSerializer
            if self.action in ("create", "update", "partial_update")
            else EventSerializer
        )

    def create(self, request, *args, **kwargs):
        serializer = EventWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        event = services.event_create(
            actor=request.user, data=serializer.service_data(request.user)
        )
        return Response(EventSerializer(event).data, status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        event = self.get_object()
        if not Event.objects.editable_by(request.user).filter(pk=event.pk).exists():
            raise exceptions.PermissionDenied(_("You may not change this event."))
        serializer = EventWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        event = services.event_update(
            actor=request.user,
            event=Event.objects.get(pk=event.pk),
            data=serializer.service_data(request.user),
        )
        return Response(EventSerializer(event).data)

    @extend_schema(
        summary="Balance of the list against the event's targets",
        parameters=[EVENT_ID],
        responses={200: BalanceResponse, **DETAIL_ERRORS},
    )
    @action(detail=True, methods=["get"])
    def balance(self, request, pk=None):
        return Response(selectors.event_balance(self.get_object()))


def _skipped(skip) -> dict:
    return {
        "person": skip.person.pk if skip.person else None,
        "person_name": skip.person.name if skip.person else None,
        "organisation": skip.organisation.pk,
        "organisation_name": skip.organisation.name,
        "reason": str(skip.reason),
    }


@extend_schema_view(
    list=extend_schema(
        summary="An event's invitations",
        description="`?status=` filters; `?format=csv` streams the list (mail-merge columns first: "
        "`name`, `organisation`, `email`, `language`, `status`); the export is access-logged.",
        parameters=[
            EVENT_PK,
            OpenApiParameter("status", OpenApiTypes.STR, enum=InvitationStatus.values),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
        ],
        responses={
            (200, "application/json"): InvitationSerializer(many=True),
            (200, "text/csv"): InvitationSerializer(many=True),
            400: docs.BAD_REQUEST,
            **DETAIL_ERRORS,
        },
    ),
    retrieve=extend_schema(
        summary="One invitation",
        parameters=[EVENT_PK, INVITATION_ID],
        responses={200: InvitationSerializer, **DETAIL_ERRORS},
    ),
    create=extend_schema(
        summary="Put one person on the list (organisers)",
        parameters=[EVENT_PK],
        request=InvitationCreateSerializer,
        responses={201: InvitationSerializer, **WRITE_DETAIL_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change an invitation's status or notes (organisers)",
        description="Status changes follow the allowed transitions (declined → attended is a 400); "
        "accepting beyond capacity waitlists; declining an accepted invitation promotes the next "
        "waitlisted one; attended records contact history.",
        parameters=[EVENT_PK, INVITATION_ID],
        request=InvitationUpdateSerializer,
        responses={200: InvitationSerializer, **WRITE_DETAIL_ERRORS},
    ),
)
class InvitationViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    viewsets.GenericViewSet,
):
    schema = docs.DirectoryAutoSchema()
    permission_classes = [EventsPermission]
    pagination_class = DirectoryPagination
    serializer_class = InvitationSerializer
    lookup_value_converter = "uuid"
    queryset = Invitation.objects.none()
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_renderers(self):
        if getattr(self, "action", None) == "list":
            return [JSONRenderer(), CSVRenderer()]
        return [JSONRenderer()]

    def finalize_response(self, request, response, *args, **kwargs):
        if (
            isinstance(response, Response)
            and getattr(request, "accepted_renderer", None) is not None
        ):
            if request.accepted_renderer.format == "csv":  # errors stay JSON
                request.accepted_renderer = JSONRenderer()
                request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def get_event(self) -> Event:
        event = (
            Event.objects.visible_to(self.request.user).filter(pk=self.kwargs["event_pk"]).first()
        )
        if event is None:
            raise Http404
        return event

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        return selectors.invitation_list(self.request.user, self.get_event())

    def filter_queryset(self, queryset):
        wanted = self.request.query_params.getlist("status")
        if self.action == "list" and wanted:
            unknown = [s for s in wanted if s not in InvitationStatus.values]
            if unknown:
                raise exceptions.ValidationError(
                    {"status": [_("Unknown status: %(s)s.") % {"s": unknown[0][:40]}]}
                )
            queryset = queryset.filter(status__in=wanted)
        return queryset

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        if getattr(request.accepted_renderer, "format", None) == "csv":
            event = self.get_event()
            audit.log_access(
                request=request,
                action=AccessAction.EXPORT_INVITATIONS,
                obj=event,
                rows=queryset.order_by().count(),
            )
            response = StreamingHttpResponse(
                event_exports.iter_csv(queryset, bom=False), content_type="text/csv; charset=utf-8"
            )
            response["Content-Disposition"] = 'attachment; filename="invitations.csv"'
            response["Cache-Control"] = "no-store"
            return response
        return super().list(request, *args, **kwargs)

    def _editable_event(self) -> Event:
        event = self.get_event()
        if not Event.objects.editable_by(self.request.user).filter(pk=event.pk).exists():
            raise exceptions.PermissionDenied(_("You may not change this event's list."))
        return event

    def create(self, request, *args, **kwargs):
        event = self._editable_event()
        serializer = InvitationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        person = Person.objects.filter(pk=data["person"]).first()
        organisation = (
            Organisation.objects.visible_to(request.user).filter(pk=data["organisation"]).first()
        )
        if organisation is None:
            raise exceptions.ValidationError({"organisation": [_("Unknown organisation.")]})
        if person is None:
            raise exceptions.ValidationError({"person": [_("Unknown person.")]})
        invitation = services.invitation_add(
            actor=request.user,
            event=event,
            person=person,
            organisation=organisation,
            notes=data["notes"],
        )
        fresh = selectors.invitation_list(request.user, event).get(pk=invitation.pk)
        return Response(InvitationSerializer(fresh).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        invitation = self.get_object()
        self._editable_event()
        serializer = InvitationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.invitation_update(
            actor=request.user,
            invitation=invitation,
            status=serializer.validated_data.get("status"),
            notes=serializer.validated_data.get("notes"),
        )
        fresh = selectors.invitation_list(request.user).get(pk=invitation.pk)
        return Response(InvitationSerializer(fresh).data)

    @extend_schema(
        summary="Build the list from a directory filter",
        description="Picks the primary contact (or up to `per_organisation` contacts) of every "
        "organisation the filters match and says why anyone is skipped. `dry_run`: 200 with the "
        "preview; otherwise everyone listed is added in one step (201 when anything was added).",
        parameters=[EVENT_PK],
        request=FromDirectorySerializer,
        responses={200: FromDirectoryResponse, 201: FromDirectoryResponse, **WRITE_DETAIL_ERRORS},
    )
    @action(detail=False, methods=["post"], url_path="from-directory")
    def from_directory(self, request, event_pk=None):
        event = self._editable_event()
        serializer = FromDirectorySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.add_from_directory(
            actor=request.user,
            event=event,
            filters=data["filters"],
            per_organisation=data["per_organisation"],
            dry_run=data["dry_run"],
        )
        added = [
            {**InvitationSerializer(inv).data, "id": str(inv.pk) if inv.pk else None}
            for inv in result.added
        ]
        body = {
            "dry_run": result.dry_run,
            "organisations": result.organisations,
            "added": added,
            "skipped": [_skipped(s) for s in result.skipped],
        }
        code = (
            status.HTTP_201_CREATED if (not result.dry_run and result.added) else status.HTTP_200_OK
        )
        return Response(body, status=code)

    @extend_schema(
        summary="Change the status of several invitations (all or nothing)",
        parameters=[EVENT_PK],
        request=BulkStatusSerializer,
        responses={200: InvitationSerializer(many=True), **WRITE_DETAIL_ERRORS},
    )
    @action(detail=False, methods=["post"], url_path="bulk-status")
    def bulk_status(self, request, event_pk=None):
        event = self._editable_event()
        serializer = BulkStatusSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        ids = serializer.validated_data["invitations"]
        services.invitations_bulk_status(
            actor=request.user, event=event, ids=ids, status=serializer.validated_data["status"]
        )
        rows = selectors.invitation_list(request.user, event).filter(pk__in=ids)
        return Response(InvitationSerializer(rows, many=True).data)


class EditorOnly(permissions.BasePermission):
    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated)


@extend_schema_view(
    list=extend_schema(
        summary="Invitations of my organisations (CSO editors)",
        responses={200: InvitationSerializer(many=True), 404: docs.NOT_FOUND, **docs.READ_ERRORS},
    ),
)
class MyInvitationViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    schema = docs.DirectoryAutoSchema()
    permission_classes = [EditorOnly]
    pagination_class = DirectoryPagination
    serializer_class = InvitationSerializer
    lookup_value_converter = "uuid"
    queryset = Invitation.objects.none()

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Invitation.objects.none()
        mine = Invitation.objects.answerable_by(self.request.user).values("pk")
        return (
            selectors.invitation_list(self.request.user)
            .filter(pk__in=mine)
            .order_by("-event__starts_on", "id")
        )

    def _answer(self, accept: bool):
        invitation = self.get_queryset().filter(pk=self.kwargs["pk"]).first()
        if invitation is None:
            raise Http404
        services.invitation_answer(actor=self.request.user, invitation=invitation, accept=accept)
        return Response(InvitationSerializer(self.get_queryset().get(pk=invitation.pk)).data)

    @extend_schema(
        summary="Accept an invitation",
        request=None,
        parameters=[INVITATION_ID],
        responses={200: InvitationSerializer, **WRITE_DETAIL_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._answer(True)

    @extend_schema(
        summary="Decline an invitation",
        request=None,
        parameters=[INVITATION_ID],
        responses={200: InvitationSerializer, **WRITE_DETAIL_ERRORS},
    )
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return self._answer(False)
