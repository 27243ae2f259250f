from rest_framework.pagination import PageNumberPagination


class DirectoryPagination(PageNumberPagination):
    """`?page=` and `?page_size=` (default 50, larger values capped at 200; zero, negative
    or non-numeric sizes fall back to the default). A page that does not exist is a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class OrganisationPagination(DirectoryPagination):
    """Adds the optional `facets` object (`?facets=1`)."""

    def get_paginated_response_schema(self, schema):
        result = super().get_paginated_response_schema(schema)
        result["properties"]["facets"] = {
            "type": "object",
            "description": "Only with `?facets=1`: counts over the whole filtered set.",
            "properties": {
                name: {"type": "object", "additionalProperties": {"type": "integer"}}
                for name in ("country", "focus_area", "type")
            },
            "required": ["country", "focus_area", "type"],
        }
        return result
