"""REST API v1 (API.md). Querysets come from the selectors (which start from the access gate),
filters from directory.filtersets, writes go through directory.services."""

import hashlib
import json
import threading

from django.db import transaction
from django.db.models import Exists, F, OuterRef
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

from directory import counts_cache, selectors
from directory.choices import InteractionSensitivity, Visibility
from directory.filtersets import InteractionFilterSet, OrganisationFilterSet, PersonFilterSet
from directory.models import (
    AccessAction,
    FocusArea,
    Interaction,
    Organisation,
    OrganisationEditor,
    Person,
    Team,
)
from directory.roles import PERM_EXPORT_PEOPLE, get_roles
from directory.services import audit
from directory.services.common import lock_for_write
from directory.services.interactions import (
    follow_up_complete,
    interaction_create,
    interaction_delete,
    interaction_update,
)
from directory.services.organisations import (
    organisation_create,
    organisation_delete,
    organisation_update,
)

from . import interaction_csv, organisation_csv
from . import schema as docs
from .exceptions import PreconditionFailed
from .pagination import (
    DeferredJoinPagination,
    DirectoryPagination,
    InteractionCursorPagination,
    OrganisationPagination,
)
from .parsers import FormParser, JSONParser
from .permissions import ReadAnyoneWriteStaffWithPerm, StaffOnly
from .renderers import CSVRenderer, stream_csv, stream_csv_rows
from .serializers import (
    FocusAreaSerializer,
    InteractionSerializer,
    InteractionWriteSerializer,
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
CONTACTED_PARAMETERS = [
    OpenApiParameter(
        "contacted_since", OpenApiTypes.DATE,
        description="EU staff only (ignored for other roles): organisations with an interaction "
        "the caller may see on or after this date (`last_contacted_on` >= the date).",
    ),
    OpenApiParameter(
        "not_contacted_since", OpenApiTypes.DATE,
        description="EU staff only (ignored for other roles): organisations without any interaction "
        "the caller may see on or after this date (never contacted included).",
    ),
]


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
        parameters=[FACETS_PARAMETER, FORMAT_PARAMETER, *CONTACTED_PARAMETERS],
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
        if self.action == "retrieve":
            qs = qs.prefetch_related(None)  # get_object attaches the lists as tuples
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
        if self.action == "retrieve":
            selectors.attach_organisation_lists([obj])
            if obj.visibility == Visibility.RESTRICTED:
                audit.log_access(request=self.request, action=AccessAction.READ_RESTRICTED, obj=obj)
        return obj

    def filter_queryset(self, queryset):
        # Without any of its parameters the FilterSet changes nothing (every filter passes an
        # empty value through): skip building it and its form (~1-2 ms of deep copies).
        params = self.request.query_params
        if not any(name in params for name in self.filterset_class.base_filters):
            self.unfiltered = True
            return queryset
        return super().filter_queryset(queryset)

    def paginate_queryset(self, queryset):
        if getattr(self, "unfiltered", False):
            # All the organisations the caller may see: their number is cached per access
            # class, exact by the counts version (directory/counts_cache.py).
            self.paginator.total = lambda: counts_cache.cached_total(self.request.user, queryset.count)
        # The page's focus areas and identifiers as tuples, not through prefetch_related.
        page = super().paginate_queryset(queryset.prefetch_related(None))
        if page is not None:
            selectors.attach_organisation_lists(page)
        return page

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
            response.data["facets"] = selectors.organisation_facets(
                queryset, user=self.request.user, base=self.get_queryset()
            )

    def list(self, request, *args, **kwargs):
        self.wants_facets()  # a bad value is a 400 before any work, CSV included
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, *args, **kwargs):
        data = self.read_representation(self.get_object())
        etag = self.etag_of(data)
        if self.not_modified(etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(data, headers={"ETag": etag})

    def export_csv(self, queryset):
        """The same cells as the serializer's (api/organisation_csv.py), ~10x faster."""
        serializer = self.get_serializer()
        columns = self.csv_columns(serializer)
        cells = organisation_csv.rows(queryset, serializer, columns, roles=self.roles, user=self.request.user)
        return stream_csv_rows(columns, cells, self.csv_filename)

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

    @transaction.atomic
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        lock_for_write(Organisation, self.kwargs["pk"])  # before the read the ETag is made of
        organisation = self.get_object()
        self.check_if_match(self.etag_of(self.read_representation(organisation)))
        serializer = self.get_serializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        self.check_writable_scope(serializer)
        organisation_update(actor=request.user, organisation=organisation, **serializer.service_kwargs())
        return self.respond_with(organisation.pk)

    @transaction.atomic
    def destroy(self, request, *args, **kwargs):
        lock_for_write(Organisation, self.kwargs["pk"])
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
    pagination_class = DeferredJoinPagination
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

    def permission_denied(self, request, message=None, code=None):
        # An anonymous attempt on a restricted person is a denied attempt too (access log).
        if self.kwargs.get("pk"):
            audit.log_denied_if_restricted(request, Person, self.kwargs["pk"])
        super().permission_denied(request, message=message, code=code)

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


# --- contact history ------------------------------------------------------------------------

# Filters on what an administrator may not read of a metadata-only record (its subject, links,
# follow-up): with any of them, only records the caller may read in full match, so a filter
# never reveals hidden content (SECURITY.md: no oracle). For EU staff who are not
# administrators every visible record is readable, so this changes nothing for them.
CONTENT_FILTERS = ("q", "organisation", "person", "country", "focus_area", "follow_up_open", "assigned_to")
INTERACTION_LIST_ERRORS = {400: docs.BAD_REQUEST, 404: docs.NOT_FOUND, **docs.READ_ERRORS}


class InteractionListMixin(CSVListMixin):
    """Lists of interactions (all of them, or one record's timeline): EU staff only, the
    shared InteractionFilterSet, newest first, a fixed number of queries, CSV logged."""

    filterset_class = InteractionFilterSet
    pagination_class = InteractionCursorPagination
    permission_classes = [StaffOnly]
    csv_filename = "interactions.csv"

    def filters_on_content(self) -> bool:
        params = self.request.query_params
        return any(value for name in CONTENT_FILTERS for value in params.getlist(name))

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if self.action == "list" and self.filters_on_content():
            queryset = queryset.filter(readable=True)
        return queryset

    def export_csv(self, queryset):
        # One COUNT, logged before streaming: the log exists even if the download is cut short.
        audit.log_access(
            request=self.request, action=AccessAction.EXPORT_INTERACTIONS, object_type="interaction",
            rows=queryset.order_by().count(),
        )
        serializer = self.get_serializer()
        columns = self.csv_columns(serializer)
        if interaction_csv.fast_columns(columns):
            # The same cells as the serializer's, from plain values (api/interaction_csv.py).
            cells = interaction_csv.batches(queryset, serializer, user=self.request.user)
            response = stream_csv_rows(columns, cells, self.csv_filename, batches=True)
        else:
            response = super().export_csv(queryset)
        response["Cache-Control"] = "no-store"
        return response


INTERACTION_ID = OpenApiParameter(
    "id", OpenApiTypes.UUID, location=OpenApiParameter.PATH, description="The interaction's id."
)


@extend_schema_view(
    list=extend_schema(
        summary="Contact history",
        description="EU staff only. Newest first. Records outside the caller's compartment are not "
        "listed; administrators see their metadata only (content fields null or empty), and a filter "
        "on content (`q`, `organisation`, `person`, `country`, `focus_area`, `follow_up_open`, "
        "`assigned_to`) matches only records the caller may read. `?format=csv` streams every "
        "matching row (logged, throttled).",
        parameters=[FORMAT_PARAMETER],
        responses={
            (200, "application/json"): InteractionSerializer(many=True),
            (200, "text/csv"): InteractionSerializer(many=True),
            **INTERACTION_LIST_ERRORS,
        },
    ),
    retrieve=extend_schema(
        summary="One interaction",
        parameters=[INTERACTION_ID, ETAG_HEADER],
        responses={200: InteractionSerializer, 304: OpenApiResponse(description="Not modified."), **DETAIL_ERRORS},
    ),
    create=extend_schema(
        summary="Record an interaction (EU staff)",
        description="`team` defaults to the author's team. Organisations and people the author may "
        "not see are refused like ids that do not exist.",
        request=InteractionWriteSerializer,
        responses={201: InteractionSerializer, **docs.WRITE_ERRORS},
    ),
    update=extend_schema(
        summary="Replace an interaction (its author, or the owning team for team records)",
        request=InteractionWriteSerializer,
        parameters=[INTERACTION_ID, IF_MATCH, ETAG_HEADER],
        responses={200: InteractionSerializer, **WRITE_DETAIL_ERRORS},
    ),
    partial_update=extend_schema(
        summary="Change an interaction (its author, or the owning team for team records)",
        description="The follow-up assignee may also send `{\"follow_up_done\": true|false}` alone.",
        request=InteractionWriteSerializer,
        parameters=[INTERACTION_ID, IF_MATCH, ETAG_HEADER],
        responses={200: InteractionSerializer, **WRITE_DETAIL_ERRORS},
    ),
    destroy=extend_schema(
        summary="Delete an interaction (its author, or the owning team for team records)",
        parameters=[INTERACTION_ID, IF_MATCH],
        responses={204: OpenApiResponse(description="Deleted."), **WRITE_DETAIL_ERRORS},
    ),
)
class InteractionViewSet(InteractionListMixin, ETagMixin, viewsets.ModelViewSet):
    """Contact history (EU staff only). Each record is visible according to its sensitivity;
    administrators see the metadata of records outside their compartment, with the content
    (subject, notes, links, follow-up) null or empty. Writes go through
    directory.services.interactions."""

    schema = docs.DirectoryAutoSchema()
    lookup_value_converter = "uuid"
    queryset = Interaction.objects.none()  # for the schema; see get_queryset

    def get_queryset(self):
        if is_fake(self):
            return Interaction.objects.none()
        return selectors.interaction_list(self.request.user)

    def get_serializer_class(self):
        if self.action in ("create", "update", "partial_update"):
            return InteractionWriteSerializer
        return InteractionSerializer

    def read_representation(self, obj) -> dict:
        return InteractionSerializer(obj, context=self.get_serializer_context()).data

    def respond_with(self, pk, status_code=status.HTTP_200_OK, headers=None):
        obj = selectors.interaction_list(self.request.user).get(pk=pk)
        data = self.read_representation(obj)
        return Response(data, status=status_code, headers={"ETag": self.etag_of(data), **(headers or {})})

    def retrieve(self, request, *args, **kwargs):
        data = self.read_representation(self.get_object())
        etag = self.etag_of(data)
        if self.not_modified(etag):
            return Response(status=status.HTTP_304_NOT_MODIFIED, headers={"ETag": etag})
        return Response(data, headers={"ETag": etag})

    def follow_up_only(self, interaction) -> bool:
        """The assignee who may not edit the record may still close or reopen its follow-up
        (services.follow_up_complete decides)."""
        data = self.request.data
        return (
            self.action == "partial_update"
            and isinstance(data, dict)
            and set(data) == {"follow_up_done"}
            and interaction.follow_up_assignee_id == self.request.user.pk
        )

    def get_writable_object(self):
        """404 when not visible (same as missing), 403 when visible but not editable."""
        interaction = self.get_object()
        if Interaction.objects.editable_by(self.request.user).filter(pk=interaction.pk).exists():
            return interaction, False
        if self.follow_up_only(interaction):
            return interaction, True
        raise exceptions.PermissionDenied(_("You may not change this interaction."))

    def check_writable_scope(self, interaction, serializer):
        """A write cannot move the record out of the writer's own scope (SECURITY.md): only its
        author may take a team record out of the team compartment."""
        if interaction.author_id == self.request.user.pk:
            return
        sensitivity = serializer.validated_data.get("sensitivity", interaction.sensitivity)
        if sensitivity != InteractionSensitivity.TEAM:
            raise exceptions.ValidationError(
                {"sensitivity": [_("Only the author may change who can read this interaction.")]}
            )

    @staticmethod
    def fresh(interaction) -> Interaction:
        # The service needs the record without the selector's visibility-limited prefetches
        # (an edit keeps the links the writer may not see).
        return Interaction.objects.get(pk=interaction.pk)

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        interaction = interaction_create(actor=request.user, **serializer.service_kwargs())
        location = request.build_absolute_uri(interaction_url(interaction.pk))
        return self.respond_with(interaction.pk, status.HTTP_201_CREATED, {"Location": location})

    @transaction.atomic
    def update(self, request, *args, **kwargs):
        partial = kwargs.pop("partial", False)
        lock_for_write(Interaction, self.kwargs["pk"])  # before the read the ETag is made of
        interaction, follow_up_only = self.get_writable_object()
        self.check_if_match(self.etag_of(self.read_representation(interaction)))
        serializer = self.get_serializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        if follow_up_only:
            follow_up_complete(
                actor=request.user, interaction=self.fresh(interaction),
                done=serializer.validated_data["follow_up_done"],
            )
        else:
            self.check_writable_scope(interaction, serializer)
            interaction_update(actor=request.user, interaction=self.fresh(interaction), **serializer.service_kwargs())
        return self.respond_with(interaction.pk)

    @transaction.atomic
    def destroy(self, request, *args, **kwargs):
        lock_for_write(Interaction, self.kwargs["pk"])
        interaction, _follow_up = self.get_writable_object()
        self.check_if_match(self.etag_of(self.read_representation(interaction)))
        interaction_delete(actor=request.user, interaction=self.fresh(interaction))
        return Response(status=status.HTTP_204_NO_CONTENT)


def interaction_url(pk) -> str:
    from django.urls import reverse

    return reverse("api-interaction-detail", kwargs={"pk": pk})


class RecordInteractionsViewSet(InteractionListMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """One organisation's or person's timeline: the interactions linked to it that the caller
    may read, newest first. 404 when the record itself is not visible to the caller. Linked
    records are content, so metadata-only records (administrators) are not listed."""

    schema = docs.DirectoryAutoSchema()
    serializer_class = InteractionSerializer
    queryset = Interaction.objects.none()
    record_model = Organisation
    link_relation = "organisations"  # Interaction's many-to-many field
    link_field = "organisation"  # its column in the through table

    def get_record_pk(self):
        if hasattr(self, "_record_pk"):  # get_queryset may run more than once per request
            return self._record_pk
        model = self.record_model
        field = "visibility" if model is Organisation else "sensitivity"
        visible = model.objects.visible_to(self.request.user)
        record = visible.filter(pk=self.kwargs["pk"]).values("pk", field).first()
        if record is None:
            # The access log (SECURITY.md): a denied attempt to reach a restricted record...
            audit.log_denied_if_restricted(self.request, model, self.kwargs["pk"])
            raise exceptions.NotFound()
        if record[field] == "restricted":  # ... and a read of one (its contact history)
            audit.log_access(request=self.request, action=AccessAction.READ_RESTRICTED,
                             object_type=model._meta.model_name, object_id=str(record["pk"]))
        self._record_pk = record["pk"]
        return self._record_pk

    def get_queryset(self):
        if is_fake(self):
            return Interaction.objects.none()
        through = getattr(Interaction, self.link_relation).through
        linked = through.objects.filter(interaction_id=OuterRef("pk"), **{f"{self.link_field}_id": self.get_record_pk()})
        return selectors.interaction_list(self.request.user).filter(Exists(linked), readable=True)


def timeline_schema(label):
    return extend_schema_view(
        list=extend_schema(
            summary=f"One {label}'s contact history",
            description=f"EU staff only. The interactions linked to the {label} that the caller may "
            f"read, newest first; the same filters as `/api/v1/interactions/`. 404 when the {label} "
            "is not visible to the caller.",
            parameters=[
                OpenApiParameter("id", OpenApiTypes.UUID, location=OpenApiParameter.PATH,
                                 description=f"The {label}'s id."),
                FORMAT_PARAMETER,
            ],
            responses={
                (200, "application/json"): InteractionSerializer(many=True),
                (200, "text/csv"): InteractionSerializer(many=True),
                **INTERACTION_LIST_ERRORS,
            },
        )
    )


@timeline_schema("organisation")
class OrganisationInteractionsViewSet(RecordInteractionsViewSet):
    record_model = Organisation
    link_field = "organisation"
    csv_filename = "organisation-interactions.csv"


@timeline_schema("person")
class PersonInteractionsViewSet(RecordInteractionsViewSet):
    record_model = Person
    link_relation = "people"
    link_field = "person"
    csv_filename = "person-interactions.csv"
