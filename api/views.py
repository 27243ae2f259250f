"""REST API v1 (API.md). Querysets come from the selectors (which start from the access gate),
filters from directory.filtersets, writes go through directory.services."""

import hashlib
import json
import threading

from django.db.models import F
from django.http import Http404
from django.utils.http import parse_etags, quote_etag
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from drf_spectacular.views import SpectacularAPIView
from rest_framework import exceptions, mixins, permissions, status, viewsets
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle
from rest_framework.views import APIView

from directory import selectors
from directory.choices import Visibility
from directory.filtersets import OrganisationFilterSet, PersonFilterSet
from directory.models import AccessAction, FocusArea, Organisation, OrganisationEditor, Person, Team
from directory.roles import PERM_EXPORT_PEOPLE, get_roles
from directory.services import audit
from directory.services.organisations import (
    organisation_create,
    organisation_delete,
    organisation_update,
)

from . import schema as docs
from .exceptions import PreconditionFailed
from .pagination import DirectoryPagination, OrganisationPagination
from .parsers import FormParser, JSONParser
from .permissions import ReadAnyoneWriteStaffWithPerm
from .renderers import CSVRenderer, stream_csv
from .serializers import (
    FocusAreaSerializer,
    MeSerializer,
    OrganisationEditorSerializer,
    OrganisationPublicSerializer,
    OrganisationSerializer,
    OrganisationStaffSerializer,
    OrganisationWriteSerializer,
    PersonEditorSerializer,
    PersonSerializer,
    PersonStaffSerializer,
    TokenRequestSerializer,
    TokenSerializer,
)
from .throttling import TokenRateThrottle

FORMAT_PARAMETER = OpenApiParameter(
    "format", OpenApiTypes.STR, enum=["json", "csv"],
    description="`csv` streams every matching row as CSV (same as `Accept: text/csv`).",
)
FACETS_PARAMETER = OpenApiParameter(
    "facets", OpenApiTypes.STR, enum=["0", "1", "true", "false"],
    description="`1` adds `facets` (counts by country, focus area and type over the whole filtered set).",
)
FACET_VALUES = {"1": True, "true": True, "0": False, "false": False}


def is_fake(view) -> bool:
    """Schema generation runs views without a real request."""
    return getattr(view, "swagger_fake_view", False)


class CSVListMixin:
    """`?format=csv` / `Accept: text/csv` on the list action streams every matching row."""

    csv_filename = "export.csv"

    def get_renderers(self):
        if getattr(self, "action", None) == "list":
            return [JSONRenderer(), CSVRenderer()]
        return [JSONRenderer()]

    def wants_csv(self) -> bool:
        renderer = getattr(self.request, "accepted_renderer", None)
        return getattr(renderer, "format", None) == "csv"

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors (400, 403, 429...) of a CSV request are JSON, like every other error.
        if isinstance(response, Response) and getattr(request, "accepted_renderer", None) is not None:
            if request.accepted_renderer.format == "csv":
                request.accepted_renderer = JSONRenderer()
                request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    def csv_columns(self, serializer) -> list[str]:
        return list(serializer.fields)

    def export_csv(self, queryset):
        serializer = self.get_serializer()
        return stream_csv(queryset, serializer, self.csv_columns(serializer), self.csv_filename)

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        if self.wants_csv():
            return self.export_csv(queryset)
        page = self.paginate_queryset(queryset)
        serializer = self.get_serializer(page, many=True)
        response = self.get_paginated_response(serializer.data)
        self.extend_list_response(response, queryset)
        return response

    def extend_list_response(self, response, queryset):
        pass


class ETagMixin:
    """`ETag` on detail reads (a hash of the caller's representation); `If-None-Match` → 304;
    `If-Match` on PUT/PATCH/DELETE must match the current representation, else 412."""

    @staticmethod
    def etag_of(data) -> str:
        payload = json.dumps(data, sort_keys=True, default=str, ensure_ascii=False).encode("utf-8")
        return quote_etag(hashlib.sha256(payload).hexdigest()[:40])

    @staticmethod
    def _bare(tag: str) -> str:
        return tag.removeprefix("W/")

    def check_if_match(self, current: str):
        header = self.request.headers.get("If-Match")
        if not header:
            return
        tags = parse_etags(header)
        if "*" in tags:
            return
        if self._bare(current) not in {self._bare(t) for t in tags}:
            raise PreconditionFailed()

    def not_modified(self, current: str) -> bool:
        header = self.request.headers.get("If-None-Match")
        if not header:
            return False
        tags = parse_etags(header)
        return "*" in tags or self._bare(current) in {self._bare(t) for t in tags}


ORGANISATION_LIST_ERRORS = {400: docs.BAD_REQUEST, 404: docs.NOT_FOUND, **docs.READ_ERRORS}
DETAIL_ERRORS = {404: docs.NOT_FOUND, **docs.READ_ERRORS}
WRITE_DETAIL_ERRORS = {**docs.WRITE_ERRORS, 404: docs.NOT_FOUND, 412: docs.PRECONDITION_FAILED}
IF_MATCH = OpenApiParameter(
    "If-Match", OpenApiTypes.STR, location=OpenApiParameter.HEADER,
    description="ETag from a previous read; the write fails with 412 when it no longer matches.",
)
ETAG_HEADER = OpenApiParameter(
    "ETag", OpenApiTypes.STR, location=OpenApiParameter.HEADER, response=[200], description="Entity tag."
)


@extend_schema_view(
    list=extend_schema(
        summary="List organisations",
        description="Public organisations for everyone; staff see what their permissions allow. "
        "Filters as in API.md; `?format=csv` streams every matching row.",
        parameters=[FACETS_PARAMETER, FORMAT_PARAMETER],
        responses={
            (200, "application/json"): OrganisationSerializer(many=True),
            (200, "text/csv"): OrganisationSerializer(many=True),
            **ORGANISATION_LIST_ERRORS,
        },
    ),
    retrieve=extend_schema(
        summary="One organisation",
        parameters=[ETAG_HEADER],
        responses={200: OrganisationSerializer, 304: OpenApiResponse(description="Not modified."), **DETAIL_ERRORS},
    ),
    create=extend_schema(
        summary="Create an organisation (staff with permission)",
        request=OrganisationWriteSerializer,
        responses={201: OrganisationSerializer, **docs.WRITE_ERRORS},
    ),
    update=extend_schema(
        summary="Replace an organisation (staff with permission)",
        request=OrganisationWriteSerializer,
        parameters=[IF_MATCH, ETAG_HEADER],
        responses={200: OrganisationSerializer, **WRITE_DETAIL_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change an organisation (staff with permission)",
        request=OrganisationWriteSerializer,
        parameters=[IF_MATCH, ETAG_HEADER],
        responses={200: OrganisationSerializer, **WRITE_DETAIL_ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete an organisation (staff with permission)",
        parameters=[IF_MATCH],
        responses={204: OpenApiResponse(description="Deleted."), **WRITE_DETAIL_ERRORS},
    ),
)
class OrganisationViewSet(CSVListMixin, ETagMixin, viewsets.ModelViewSet):
    schema = docs.DirectoryAutoSchema()
    filterset_class = OrganisationFilterSet
    pagination_class = OrganisationPagination
    permission_classes = [ReadAnyoneWriteStaffWithPerm]
    lookup_value_converter = "uuid"
    queryset = Organisation.objects.none()  # for the schema and permissions; see get_queryset
    csv_filename = "organisations.csv"
    write_actions = ("update", "partial_update", "destroy")

    @property
    def roles(self):
        return get_roles(self.request.user)

    def get_queryset(self):
        if is_fake(self):
            return Organisation.objects.none()
        user = self.request.user
        qs = selectors.organisation_list(user)
        if self.action in self.write_actions:
            qs = qs.filter(pk__in=Organisation.objects.editable_by(user).values("pk"))
        if self.roles.internal:
            qs = qs.annotate(verified_by_username=F("verified_by__username"))
        return qs

    def read_serializer_class(self):
        roles = self.roles
        if roles.internal:
            return OrganisationStaffSerializer
        if roles.editor:
            return OrganisationEditorSerializer
        return OrganisationPublicSerializer

    def get_serializer_class(self):
        if is_fake(self):
            return OrganisationSerializer
        if self.action in ("create", "update", "partial_update"):
            return OrganisationWriteSerializer
        return self.read_serializer_class()

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if not is_fake(self):
            context["editor_org_ids"] = self.roles.editor_org_ids
        return context

    def read_representation(self, obj) -> dict:
        return self.read_serializer_class()(obj, context=self.get_serializer_context()).data

    def get_object(self):
        try:
            obj = super().get_object()
        except Http404:
            if self.action == "retrieve":
                audit.log_denied_if_restricted(self.request, Organisation, self.kwargs.get("pk"))
            raise
        if self.action == "retrieve" and obj.visibility == Visibility.RESTRICTED:
            audit.log_access(request=self.request, action=AccessAction.READ_RESTRICTED, obj=obj)
        return obj

    def wants_facets(self) -> bool:
        raw = self.request.query_params.get("facets")
        if raw is None:
            return False
        wanted = FACET_VALUES.get(raw.strip().lower())
        if wanted is None:
            raise exceptions.ValidationError({"facets": [_("Use 1, 0, true or false.")]})
        return wanted

    def extend_list_response(self, response, queryset):
        # Counted over the whole filtered set (not the page), in a fixed number of queries.
        if self.wants_facets():
            response.data["facets"] = selectors.organisation_facets(queryset)

    def list(self, request, *args, **kwargs):
        self.wants_facets()  # a bad value is a 400 before any work, CSV included
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        data = self.read_representation(self.get_object())
        etag = self.etag_of(data)
        if self.not_modified(etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(data, headers={"ETag": etag})

    def check_writable_scope(self, serializer):
        """A write cannot move an organisation out of the writer's own scope (SECURITY.md)."""
        roles = self.roles
        if serializer.validated_data.get("visibility") == Visibility.RESTRICTED and not (
            roles.admin or roles.can_view_restricted
        ):
            raise exceptions.ValidationError(
                {"visibility": [_("You may not make an organisation restricted: you could not see it.")]}
            )

    def respond_with(self, pk, status_code=status.HTTP_200_OK, headers=None):
        obj = selectors.organisation_list(self.request.user).annotate(
            verified_by_username=F("verified_by__username")
        ).get(pk=pk)
        data = OrganisationStaffSerializer(obj, context=self.get_serializer_context()).data
        return Response(data, status=status_code, headers={"ETag": self.etag_of(data), **(headers or {})})

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.check_writable_scope(serializer)
        organisation = organisation_create(actor=request.user, **serializer.service_kwargs())
        location = request.build_absolute_uri(organisation_url(organisation.pk))
        return self.respond_with(organisation.pk, status.HTTP_201_CREATED, {"Location": location})

    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        organisation = self.get_object()
        self.check_if_match(self.etag_of(self.read_representation(organisation)))
        serializer = self.get_serializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.check_writable_scope(serializer)
        organisation_update(actor=request.user, organisation=organisation, **serializer.service_kwargs())
        return self.respond_with(organisation.pk)

    def destroy(self, request, *args, **kwargs):
        organisation = self.get_object()
        self.check_if_match(self.etag_of(self.read_representation(organisation)))
        organisation_delete(actor=request.user, organisation=organisation)
        return Response(status=status.HTTP_204_NO_CONTENT)


def organisation_url(pk) -> str:
    from django.urls import reverse

    return reverse("api-organisation-detail", kwargs={"pk": pk})


@extend_schema_view(
    list=extend_schema(
        summary="Focus areas",
        description="The two-level taxonomy; `parent` is the parent's slug.",
        parameters=[FORMAT_PARAMETER],
        responses={
            (200, "application/json"): FocusAreaSerializer(many=True),
            (200, "text/csv"): FocusAreaSerializer(many=True),
            404: docs.NOT_FOUND,
            **docs.READ_ERRORS,
        },
    )
)
class FocusAreaViewSet(CSVListMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    schema = docs.DirectoryAutoSchema()
    serializer_class = FocusAreaSerializer
    queryset = FocusArea.objects.select_related("parent").order_by("position", "id")
    pagination_class = DirectoryPagination
    filter_backends = []
    csv_filename = "focus-areas.csv"


@extend_schema_view(
    list=extend_schema(
        summary="People",
        description="Staff (restricted people only with the permission), and CSO editors for their "
        "own organisations' people. CSV needs the permission to export people.",
        parameters=[FORMAT_PARAMETER],
        responses={
            (200, "application/json"): PersonSerializer(many=True),
            (200, "text/csv"): PersonSerializer(many=True),
            **ORGANISATION_LIST_ERRORS,
        },
    ),
    retrieve=extend_schema(summary="One person", responses={200: PersonSerializer, **DETAIL_ERRORS}),
)
class PersonViewSet(CSVListMixin, viewsets.ReadOnlyModelViewSet):
    schema = docs.DirectoryAutoSchema()
    filterset_class = PersonFilterSet
    pagination_class = DirectoryPagination
    permission_classes = [permissions.IsAuthenticated]
    lookup_value_converter = "uuid"
    queryset = Person.objects.none()
    csv_filename = "people.csv"

    def get_queryset(self):
        if is_fake(self):
            return Person.objects.none()
        return selectors.person_list(self.request.user)

    def get_serializer_class(self):
        if is_fake(self):
            return PersonSerializer
        roles = get_roles(self.request.user)
        return PersonStaffSerializer if roles.staff else PersonEditorSerializer

    def get_object(self):
        try:
            obj = super().get_object()
        except Http404:
            audit.log_denied_if_restricted(self.request, Person, self.kwargs.get("pk"))
            raise
        if obj.sensitivity == "restricted":
            audit.log_access(request=self.request, action=AccessAction.READ_RESTRICTED, obj=obj)
        return obj

    def export_csv(self, queryset):
        user = self.request.user
        if not (get_roles(user).admin or user.has_perm(PERM_EXPORT_PEOPLE)):
            raise exceptions.PermissionDenied(_("You may not export people."))
        audit.log_access(
            request=self.request, action=AccessAction.EXPORT_PEOPLE, object_type="person",
            rows=queryset.count(),
        )
        return super().export_csv(queryset)


class MeView(APIView):
    permission_classes = [permissions.IsAuthenticated]
    schema = docs.DirectoryAutoSchema()

    @extend_schema(summary="The current user", responses={200: MeSerializer, **docs.READ_ERRORS})
    def get(self, request):
        roles = get_roles(request.user)
        teams = Team.objects.filter(pk__in=roles.team_ids).order_by("name", "id").values("id", "name")
        organisations = (
            OrganisationEditor.objects.filter(user=request.user)
            .order_by("organisation__name", "organisation_id")
            .values("organisation_id", "organisation__name")
        )
        data = {
            "username": request.user.get_username(),
            "roles": roles.names,
            "teams": [{"id": t["id"], "name": t["name"]} for t in teams],
            "organisations": [
                {"id": o["organisation_id"], "name": o["organisation__name"]} for o in organisations
            ],
        }
        return Response(MeSerializer(data).data)


class TokenView(ObtainAuthToken):
    """`POST {"username", "password"}` → `{"token"}`; throttled (scope "token")."""

    authentication_classes = []
    permission_classes = [permissions.AllowAny]
    parser_classes = [JSONParser, FormParser]
    renderer_classes = [JSONRenderer]
    throttle_classes = [AnonRateThrottle, TokenRateThrottle]
    throttle_scope = "token"
    schema = docs.DirectoryAutoSchema()

    @extend_schema(
        summary="Obtain an API token",
        request=TokenRequestSerializer,
        responses={200: TokenSerializer, 400: docs.BAD_REQUEST, 413: docs.TOO_LARGE,
                   415: docs.UNSUPPORTED, 429: docs.THROTTLED},
        auth=[],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class SchemaView(SpectacularAPIView):
    """The OpenAPI document, generated once per process and language.

    Generation is not thread-safe in drf-spectacular (two concurrent first requests raised a
    500 under the threaded server), and the public schema does not depend on the caller.
    """

    _lock = threading.Lock()
    _cache: dict = {}

    def _get_schema_response(self, request):
        version = self.api_version or request.version or self._get_version_parameter(request)
        key = (version, get_language())
        with self._lock:
            if key not in self._cache:
                generator = self.generator_class(urlconf=self.urlconf, api_version=version, patterns=self.patterns)
                self._cache[key] = generator.get_schema(request=request, public=self.serve_public)
        return Response(
            data=self._cache[key],
            headers={"Content-Disposition": f'inline; filename="{self._get_filename(request, version)}"'},
        )
