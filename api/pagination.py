import base64
import binascii
import json
import uuid
from datetime import date, datetime

from django.core.paginator import Paginator
from django.db.models import Q
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param


class DirectoryPagination(PageNumberPagination):
    """`?page=` and `?page_size=` (default 50, larger values capped at 200; zero, negative
    or non-numeric sizes fall back to the default). A page that does not exist is a 404."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class DeferredJoinPaginator(Paginator):
    """A page's ids first, then its rows: the OFFSET walks only the ordering index (an
    index-only scan with the covering indexes of 0007_perf_indexes) instead of fetching
    every skipped row; page 500 of the public list went from ~185 ms to a few ms."""

    def __init__(self, *args, total=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.total = total

    @cached_property
    def count(self):
        # `total()`, when the view knows a cheaper exact source (counts_cache), else COUNT(*).
        return self.total() if self.total is not None else super().count

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        ids = self.object_list.values("pk")[bottom:top]
        return self._get_page(self.object_list.filter(pk__in=ids), number, self)


class DeferredJoinPagination(DirectoryPagination):
    total = None  # set by the view: a callable giving the exact number of rows

    def django_paginator_class(self, object_list, per_page):
        return DeferredJoinPaginator(object_list, per_page, total=self.total)


class OrganisationPagination(DeferredJoinPagination):
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


class InteractionCursorPagination(DirectoryPagination):
    """Keyset ("cursor") pages for contact history, which grows to millions of rows: a page is
    found through the (occurred_on, created_at, id) index whatever its depth, and nothing counts
    the whole table. The response keeps the usual keys; `next`/`previous` carry an opaque
    `?cursor=`; `count` is exact up to COUNT_CAP matching records and says COUNT_CAP above
    (read it as "at least"). `?page=` is not used here: any page other than 1 is a 404."""

    COUNT_CAP = 1000
    cursor_query_param = "cursor"
    ordering = ("-occurred_on", "-created_at", "id")

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self.get_page_size(request)
        page = request.query_params.get(self.page_query_param)
        if page not in (None, "", "1"):
            raise NotFound(_("This list pages with the `next` and `previous` links (`cursor`), not `page`."))
        position, backwards = self.decode_cursor(request.query_params.get(self.cursor_query_param))
        self.count = queryset.order_by().values("pk")[: self.COUNT_CAP + 1].count()
        self.count = min(self.count, self.COUNT_CAP)
        if position is None:
            rows = self.fetch(queryset, self.ordering)
        elif not backwards:
            rows = self.fetch(queryset.filter(self.after(position)), self.ordering)
        else:
            reverse = [f.removeprefix("-") if f.startswith("-") else f"-{f}" for f in self.ordering]
            rows = self.fetch(queryset.filter(self.before(position)), reverse)
        more = len(rows) > self.page_size
        rows = rows[: self.page_size]
        if backwards:
            rows.reverse()
            self.has_next, self.has_previous = True, more
        else:
            self.has_next, self.has_previous = more, position is not None
        self.rows = rows
        return rows

    def fetch(self, queryset, ordering) -> list:
        """The page's ids first (an index-only walk of interaction_date_vis_idx, which covers
        the compartment columns), then its rows by primary key, in the same order."""
        ids = list(queryset.order_by(*ordering).values_list("pk", flat=True)[: self.page_size + 1])
        return list(queryset.filter(pk__in=ids).order_by(*ordering)) if ids else []

    @staticmethod
    def after(position):
        day, created, pk = position
        return Q(occurred_on__lte=day) & (
            Q(occurred_on__lt=day) | Q(created_at__lt=created) | Q(created_at=created, id__gt=pk)
        )

    @staticmethod
    def before(position):
        day, created, pk = position
        return Q(occurred_on__gte=day) & (
            Q(occurred_on__gt=day) | Q(created_at__gt=created) | Q(created_at=created, id__lt=pk)
        )

    def decode_cursor(self, value):
        if not value:
            return None, False
        try:
            padded = value + "=" * (-len(value) % 4)
            data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            position = (date.fromisoformat(data["d"]), datetime.fromisoformat(data["c"]), uuid.UUID(data["i"]))
            return position, bool(data.get("r"))
        except (ValueError, TypeError, KeyError, UnicodeError, binascii.Error, AttributeError):
            raise NotFound(_("Invalid cursor.")) from None

    def encode_cursor(self, row, backwards: bool) -> str:
        data = {"d": row.occurred_on.isoformat(), "c": row.created_at.isoformat(), "i": str(row.pk)}
        if backwards:
            data["r"] = 1
        token = base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()).decode("ascii")
        url = remove_query_param(self.request.build_absolute_uri(), self.page_query_param)
        return replace_query_param(url, self.cursor_query_param, token.rstrip("="))

    def get_next_link(self):
        return self.encode_cursor(self.rows[-1], False) if self.has_next and self.rows else None

    def get_previous_link(self):
        return self.encode_cursor(self.rows[0], True) if self.has_previous and self.rows else None

    def get_paginated_response(self, data):
        return Response({"count": self.count, "next": self.get_next_link(),
                         "previous": self.get_previous_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        result = super().get_paginated_response_schema(schema)
        result["properties"]["count"]["description"] = (
            f"Matching records, counted up to {self.COUNT_CAP}; {self.COUNT_CAP} means at least that many.")
        for key in ("next", "previous"):
            result["properties"][key]["example"] = f"https://example.org/api/v1/interactions/?{self.cursor_query_param}=eyJk"
        return result

    def get_schema_operation_parameters(self, view):
        return [
            {"name": self.cursor_query_param, "required": False, "in": "query",
             "description": str(_("The page after (or before) another one: take it from `next` or `previous`.")),
             "schema": {"type": "string"}},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": str(_("Number of results to return per page.")), "schema": {"type": "integer"}},
        ]
