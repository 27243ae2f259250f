"""CSV export (API.md): every matching row, streamed, formula-escaped."""

import csv

from django.http import StreamingHttpResponse
from rest_framework.renderers import BaseRenderer

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
LIST_SEPARATOR = ";"
CHUNK_SIZE = 2000


class CSVRenderer(BaseRenderer):
    """Selects CSV by `?format=csv` or `Accept: text/csv`. List views stream the body
    themselves (`stream_csv`); this renderer only serves content negotiation and the schema."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        rows = data if isinstance(data, list) else [data]
        writer_buffer = _Echo()
        writer = csv.writer(writer_buffer)
        if not rows:
            return b""
        columns = list(rows[0])
        out = [writer.writerow(columns)]
        out.extend(writer.writerow([cell(row.get(c)) for c in columns]) for row in rows)
        return "".join(out).encode("utf-8")


class _Echo:
    def write(self, value):
        return value


def escape(text: str) -> str:
    if text and text.startswith(FORMULA_PREFIXES):
        return "'" + text
    return text


def flatten(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        if "scheme" in value and "value" in value:
            return f"{value['scheme']}-{value['value']}"
        if "name" in value:
            return str(value["name"])
        return " ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(flatten(item) for item in value)
    return str(value)


def cell(value) -> str:
    return escape(flatten(value))


def stream_csv(queryset, serializer, columns, filename, *, per_chunk=None):
    """A StreamingHttpResponse over `queryset.iterator(chunk_size=2000)` (prefetches apply per
    chunk); `serializer` is one serializer instance reused for every row. `per_chunk(objects)`,
    if given, runs once per chunk before its rows are written (batch look-ups)."""
    writer = csv.writer(_Echo())

    def chunks():
        if per_chunk is None:
            for obj in queryset.iterator(chunk_size=CHUNK_SIZE):
                yield [obj]
            return
        chunk = []
        for obj in queryset.iterator(chunk_size=CHUNK_SIZE):
            chunk.append(obj)
            if len(chunk) == CHUNK_SIZE:
                per_chunk(chunk)
                yield chunk
                chunk = []
        if chunk:
            per_chunk(chunk)
            yield chunk

    def rows():
        yield writer.writerow(columns)
        for chunk in chunks():
            for obj in chunk:
                data = serializer.to_representation(obj)
                yield writer.writerow([cell(data.get(column)) for column in columns])

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def stream_csv_rows(columns, cells, filename, *, batches=False):
    """A StreamingHttpResponse of the header and the rows of `cells` (lists of escaped cells),
    written a chunk of rows at a time (one string per CHUNK_SIZE rows, not one per row).
    With `batches`, `cells` yields lists of rows, each written as one string."""
    from directory.services.exports import csv_batches, csv_chunks

    lines = csv_batches(columns, cells) if batches else csv_chunks(columns, cells, chunk=CHUNK_SIZE)
    response = StreamingHttpResponse(lines, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response
