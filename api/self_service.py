"""`/api/v1/profile-changes/` (API.md "Self-service"): CSO editors propose changes to their own
organisation; staff with the moderation permission approve or reject them."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import exceptions, mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from directory.choices import FieldDecision, ProfileChangeStatus
from directory.filtersets import ProfileChangeFilterSet
from directory.models import AccessAction, Organisation, ProfileChange
from directory.roles import PERM_EXPORT_PEOPLE, PERM_MODERATE, get_roles
from directory.services import audit
from directory.services import self_service as services

from . import schema as docs
from .exceptions import django_validation_error_detail
from .pagination import DirectoryPagination
from .renderers import stream_csv
from .serializers import CANNOT_WRITE, DetailUrlField
from .views import FORMAT_PARAMETER, CSVListMixin


class StrictSerializer(serializers.Serializer):
    """Unknown body fields are a 400, not silently ignored."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({str(name)[:80]: [CANNOT_WRITE] for name in unknown})
        return super().to_internal_value(data)


class ProfileChangeRowSerializer(serializers.Serializer):
    field = serializers.CharField(help_text='Organisation field, or "people.<person id>.<field>".')
    label = serializers.CharField(help_text="The field's name for people.")
    person = serializers.CharField(allow_null=True)
    person_name = serializers.CharField()
    old = serializers.JSONField(help_text="The value when the change was proposed.")
    new = serializers.JSONField(help_text="The proposed value.")
    current = serializers.JSONField(help_text="The value now.")
    conflict = serializers.BooleanField(help_text="Pending, and the value changed since the proposal.")
    decision = serializers.ChoiceField(choices=FieldDecision.choices, allow_blank=True)


class ProfileChangeSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    url = DetailUrlField(view_name="api-profilechange-detail")
    organisation = serializers.UUIDField(source="organisation_id")
    organisation_name = serializers.CharField(source="organisation.name")
    author = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=ProfileChangeStatus.choices)
    created_at = serializers.DateTimeField()
    conflict = serializers.SerializerMethodField()
    changes = serializers.SerializerMethodField()
    reason = serializers.CharField()
    reviewed_by = serializers.SerializerMethodField()
    reviewed_at = serializers.DateTimeField(allow_null=True)

    def _rows(self, obj):
        cache = self.context.setdefault("_rows", {})
        if obj.pk not in cache:
            current = self.context.get("current", {}).get(obj.pk, {})
            cache[obj.pk] = services.diff_rows(obj, current)
        return cache[obj.pk]

    def get_author(self, obj) -> str | None:
        return obj.author.get_username() if obj.author_id else None

    def get_reviewed_by(self, obj) -> str | None:
        return obj.reviewed_by.get_username() if obj.reviewed_by_id else None

    def get_conflict(self, obj) -> bool:
        return any(row["conflict"] for row in self._rows(obj))

    @extend_schema_field(ProfileChangeRowSerializer(many=True))
    def get_changes(self, obj):
        return ProfileChangeRowSerializer(self._rows(obj), many=True).data


def _csv_value(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ", ".join(_csv_value(item) for item in value)
    return str(value)


class ProfileChangeCSVSerializer(ProfileChangeSerializer):
    """One CSV row per proposal; `changes` is a list of "field: old → new" (joined with `;`)."""

    def get_changes(self, obj):
        return [f"{row['field']}: {_csv_value(row['old'])} → {_csv_value(row['new'])}" for row in self._rows(obj)]


class ProfileChangeCreateSerializer(StrictSerializer):
    organisation = serializers.UUIDField()
    changes = serializers.JSONField(
        help_text='{field: value, ..., "people": {person id: {field: value}}}. Organisation fields: '
        + ", ".join(services.ORG_FIELDS) + ". People fields: " + ", ".join(services.PERSON_FIELDS) + "."
    )

    def validate_changes(self, value):
        if not isinstance(value, dict):
            raise serializers.ValidationError(_("Enter an object of field → value."))
        return value


class ApproveSerializer(StrictSerializer):
    fields = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=500,
        help_text="The fields to approve (default: all); the others are rejected and need a reason.",
    )
    reason = serializers.CharField(max_length=2000, required=False, allow_blank=True)


class RejectSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000)


def may_moderate(user) -> bool:
    roles = get_roles(user)
    return roles.admin or (roles.staff and user.has_perm(PERM_MODERATE))


REVIEW_RESPONSES = {
    200: ProfileChangeSerializer, 400: docs.BAD_REQUEST, 401: docs.UNAUTHENTICATED,
    403: docs.FORBIDDEN, 404: docs.NOT_FOUND, 415: docs.UNSUPPORTED, 429: docs.THROTTLED,
}


@extend_schema_view(
    list=extend_schema(
        summary="Proposed profile changes",
        description="Staff: proposals of the organisations they see. CSO editors: their own. "
        "`?format=csv` streams every matching row (one per proposal; `changes` as `field: old → new` "
        "joined with `;`). The changes carry people's contact data, so CSV needs the permission to "
        "export people and is logged.",
        parameters=[FORMAT_PARAMETER],
        responses={
            (200, "application/json"): ProfileChangeSerializer(many=True),
            (200, "text/csv"): ProfileChangeSerializer(many=True),
            400: docs.BAD_REQUEST, 403: docs.FORBIDDEN, 404: docs.NOT_FOUND, **docs.READ_ERRORS,
        },
    ),
    retrieve=extend_schema(summary="One proposed profile change", responses={
        200: ProfileChangeSerializer, 404: docs.NOT_FOUND, **docs.READ_ERRORS}),
    create=extend_schema(summary="Propose changes to your organisation (CSO editors)",
                         request=ProfileChangeCreateSerializer,
                         responses={201: ProfileChangeSerializer, **docs.WRITE_ERRORS}),
)
class ProfileChangeViewSet(CSVListMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin,
                           mixins.CreateModelMixin, viewsets.GenericViewSet):
    schema = docs.DirectoryAutoSchema()
    permission_classes = [permissions.IsAuthenticated]
    serializer_class = ProfileChangeSerializer
    filterset_class = ProfileChangeFilterSet
    pagination_class = DirectoryPagination
    lookup_value_converter = "uuid"
    queryset = ProfileChange.objects.none()
    csv_filename = "profile-changes.csv"

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ProfileChange.objects.none()
        return (
            ProfileChange.objects.visible_to(self.request.user)
            .select_related("organisation", "author", "reviewed_by")
            .order_by("-created_at", "id")
        )

    def represent(self, changes, many=False):
        current = services.current_values_for(changes)
        context = {**self.get_serializer_context(), "current": current}
        if many:
            return ProfileChangeSerializer(changes, many=True, context=context).data
        return ProfileChangeSerializer(changes[0], context=context).data

    def fresh(self, pk):
        return self.get_queryset().get(pk=pk)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        if self.wants_csv():
            return self.export_csv(queryset)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.represent(list(page), many=True))

    def retrieve(self, request, *args, **kwargs):
        return Response(self.represent([self.get_object()]))

    def export_csv(self, queryset):
        # Old and new values include people's names and contact data: an export of people.
        user = self.request.user
        if not (get_roles(user).admin or user.has_perm(PERM_EXPORT_PEOPLE)):
            raise exceptions.PermissionDenied(_("You may not export people."))
        # One COUNT, logged before streaming: the log exists even if the download is cut short.
        audit.log_access(request=self.request, action=AccessAction.EXPORT_PROFILE_CHANGES,
                         object_type="profilechange", rows=queryset.order_by().count())
        context = {**self.get_serializer_context(), "current": {}}
        serializer = ProfileChangeCSVSerializer(context=context)

        def per_chunk(changes):
            # The values now (for `conflict`) in a fixed number of queries per chunk.
            context["current"] = services.current_values_for(changes)
            context["_rows"] = {}

        response = stream_csv(queryset, serializer, list(serializer.fields), self.csv_filename,
                              per_chunk=per_chunk)
        response["Cache-Control"] = "no-store"
        return response

    def create(self, request, *args, **kwargs):
        roles = get_roles(request.user)
        if not roles.editor:
            raise exceptions.PermissionDenied(_("Only CSO editors propose changes."))
        serializer = ProfileChangeCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        organisation = Organisation.objects.filter(
            pk=serializer.validated_data["organisation"], pk__in=roles.editor_org_ids
        ).first()
        if organisation is None:
            raise exceptions.ValidationError({"organisation": [_("You are not an editor of this organisation.")]})
        try:
            change = services.profile_change_propose(
                actor=request.user, organisation=organisation, changes=serializer.validated_data["changes"]
            )
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(_prefix_changes(exc)) from None
        return Response(self.represent([self.fresh(change.pk)]), status=status.HTTP_201_CREATED)

    def _review(self, request, approve_all: bool):
        change = self.get_object()  # 404 first: a proposal the caller may not see stays hidden
        if not may_moderate(request.user):
            raise exceptions.PermissionDenied(_("You may not moderate profile changes."))
        serializer = (ApproveSerializer if approve_all else RejectSerializer)(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        approve = data.get("fields", list(change.diff)) if approve_all else []
        try:
            services.profile_change_review(actor=request.user, change=change, approve=approve,
                                           reason=data.get("reason", ""))
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(
                exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
            ) from None
        except IntegrityError:
            # The rows the proposal changes were removed meanwhile; the transaction rolled back.
            raise exceptions.ValidationError({"non_field_errors": [
                _("The data this proposal changes was changed or removed meanwhile; nothing was applied.")
            ]}) from None
        return Response(self.represent([self.fresh(change.pk)]))

    @extend_schema(summary="Approve a proposal (all fields, or those in `fields`)",
                   request=ApproveSerializer, responses=REVIEW_RESPONSES)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._review(request, approve_all=True)

    @extend_schema(summary="Reject a proposal (with a reason)", request=RejectSerializer, responses=REVIEW_RESPONSES)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._review(request, approve_all=False)

    @extend_schema(summary="Withdraw your pending proposal (CSO editors)", request=None,
                   responses={200: ProfileChangeSerializer, 400: docs.BAD_REQUEST, 403: docs.FORBIDDEN,
                              404: docs.NOT_FOUND, 401: docs.UNAUTHENTICATED})
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        change = self.get_object()
        if change.author_id != request.user.pk:
            raise exceptions.PermissionDenied(_("Only the author may withdraw a proposal."))
        services.profile_change_withdraw(actor=request.user, change=change)
        return Response(self.represent([self.fresh(change.pk)]))


def _prefix_changes(exc: DjangoValidationError) -> dict:
    """Errors of fields inside `changes` are named `changes.<field>` so the client knows where."""
    detail = django_validation_error_detail(exc)
    return {key if key in ("organisation", "changes") else f"changes.{key}": value for key, value in detail.items()}

