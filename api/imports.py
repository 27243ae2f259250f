"""`POST /api/v1/organisations/import/` (API.md "Import"): multipart upload of a CSV or .xlsx.

200 for a dry run, 201 when rows were written, 400 `{"errors": [{"row", "column", "message"}]}`
(and the rest of the report) when anything is wrong; nothing is written then.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import parsers, permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from directory.roles import PERM_IMPORT, get_roles
from directory.services.imports import MAX_FILE_BYTES, organisation_import

from . import schema as docs


class CanImport(permissions.BasePermission):
    """Anonymous → 401; signed in without the import permission → 403."""

    def has_permission(self, request, view):
        user = request.user
        if not (user and user.is_authenticated):
            return False
        roles = get_roles(user)
        return roles.admin or (roles.staff and user.has_perm(PERM_IMPORT))


class ImportRequestSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (UTF-8, with or without BOM) or .xlsx; header row first.")
    dry_run = serializers.BooleanField(
        required=False, default=False, help_text="true: validate and report, write nothing."
    )


class ImportErrorSerializer(serializers.Serializer):
    row = serializers.IntegerField(allow_null=True, help_text="As a spreadsheet numbers it: the header is row 1.")
    column = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class DuplicateSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    country = serializers.CharField()
    reason = serializers.ChoiceField(choices=["identifier", "website", "name", "similar_name"])
    score = serializers.FloatField()


class RowDuplicatesSerializer(serializers.Serializer):
    row = serializers.IntegerField()
    name = serializers.CharField()
    total = serializers.IntegerField(help_text="How many likely duplicates the row has in all.")
    organisations = DuplicateSerializer(many=True, help_text="The best of them, at most 10 (highest score first).")


class ImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    rows = serializers.IntegerField()
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()
    errors = ImportErrorSerializer(many=True)
    likely_duplicates = RowDuplicatesSerializer(many=True)


class ImportErrorsSerializer(serializers.Serializer):
    errors = ImportErrorSerializer(many=True)


class OrganisationImportView(APIView):
    permission_classes = [CanImport]
    parser_classes = [parsers.MultiPartParser]
    schema = docs.DirectoryAutoSchema()

    @extend_schema(
        summary="Import organisations from CSV or .xlsx (staff with the import permission)",
        description="All or nothing. Rows match existing organisations by identifier, else website "
        "domain, else normalised name + country; re-importing the same file changes nothing.",
        request={"multipart/form-data": ImportRequestSerializer},
        responses={
            200: OpenApiResponse(ImportReportSerializer, description="Dry run: the report; nothing written."),
            201: OpenApiResponse(ImportReportSerializer, description="Written."),
            400: OpenApiResponse(ImportErrorsSerializer, description="Errors by row and column; nothing written."),
            401: docs.UNAUTHENTICATED, 403: docs.FORBIDDEN, 413: docs.TOO_LARGE, 415: docs.UNSUPPORTED,
            429: docs.THROTTLED,
        },
    )
    def post(self, request):
        serializer = ImportRequestSerializer(data=request.data)
        if not serializer.is_valid():
            errors = [
                {"row": None, "column": field, "message": " ".join(str(m) for m in messages)}
                for field, messages in serializer.errors.items()
            ]
            return Response({"errors": errors}, status=status.HTTP_400_BAD_REQUEST)
        upload = serializer.validated_data["file"]
        if upload.size > MAX_FILE_BYTES:
            message = str(_("The file is larger than %(mb)s MB; split it.") % {"mb": MAX_FILE_BYTES // (1024 * 1024)})
            return Response({"errors": [{"row": None, "column": "file", "message": message}]}, status=400)
        report = organisation_import(
            actor=request.user, content=upload.read(), filename=upload.name,
            dry_run=serializer.validated_data["dry_run"],
        )
        if report.errors:
            code = status.HTTP_400_BAD_REQUEST
        elif report.dry_run:
            code = status.HTTP_200_OK
        else:
            code = status.HTTP_201_CREATED
        return Response(report.as_dict(), status=code)
