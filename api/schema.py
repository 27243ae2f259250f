"""OpenAPI helpers: an AutoSchema that honours `Meta.optional_fields` (fields present for
some roles only), CSV list responses documented as text, and the shared error responses."""

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from .serializers import ErrorSerializer

VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "additionalProperties": {
        "anyOf": [
            {"type": "array", "items": {"type": "string"}},
            {"type": "array", "items": {"type": "object"}},
            {"type": "object"},
        ]
    },
    "description": 'Field name (or "non_field_errors") → messages; for lists and nested objects '
    "the messages are keyed by item index and sub-field.",
}


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorSerializer, description=description)


DETAIL_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
BAD_REQUEST = OpenApiResponse(
    response={"anyOf": [VALIDATION_ERROR_SCHEMA, DETAIL_SCHEMA]},
    description="Invalid input: the field (or parameter) and its messages, or a detail.",
)
NOT_FOUND = error("Not found, or not visible to the caller (same body).")
UNAUTHENTICATED = error("No or invalid credentials.")
FORBIDDEN = error("The role may not do this.")
THROTTLED = error("Too many requests.")
TOO_LARGE = error("Request body too large.")
UNSUPPORTED = error("Unsupported media type.")
PRECONDITION_FAILED = error("If-Match does not match the current ETag.")
NOT_ACCEPTABLE = error("No representation for the Accept header.")

READ_ERRORS = {401: UNAUTHENTICATED, 403: FORBIDDEN, 406: NOT_ACCEPTABLE, 429: THROTTLED}
WRITE_ERRORS = {
    400: BAD_REQUEST, 401: UNAUTHENTICATED, 403: FORBIDDEN, 413: TOO_LARGE, 415: UNSUPPORTED,
    429: THROTTLED,
}


class DirectoryAutoSchema(AutoSchema):
    def _map_basic_serializer(self, serializer, direction):
        schema = super()._map_basic_serializer(serializer, direction)
        optional = getattr(getattr(serializer, "Meta", None), "optional_fields", ())
        if optional and "required" in schema:
            schema["required"] = [name for name in schema["required"] if name not in optional]
            if not schema["required"]:
                del schema["required"]
        return schema

    def _get_response_for_code(self, serializer, status_code, media_types=None, direction="response"):
        response = super()._get_response_for_code(serializer, status_code, media_types, direction)
        content = response.get("content", {})
        for media_type in list(content):
            if media_type.startswith("text/csv"):
                if status_code.startswith("2"):
                    content[media_type] = {"schema": {"type": "string", "description": "CSV, UTF-8, header row."}}
                else:
                    del content[media_type]  # errors are always JSON
        return response


from drf_spectacular.contrib.django_filters import DjangoFilterExtension, _NoHint  # noqa: E402
from drf_spectacular.types import OpenApiTypes  # noqa: E402


class DirectoryFilterExtension(DjangoFilterExtension):
    """The shared FilterSets use `method=` filters whose values are strings (slugs, codes,
    SCHEME-VALUE identifiers); document them as strings instead of guessing from the model."""

    priority = 1

    def _get_filter_method_hint(self, filter_method):
        hint = super()._get_filter_method_hint(filter_method)
        if hint is _NoHint and filter_method is not None:
            return OpenApiTypes.STR
        return hint
