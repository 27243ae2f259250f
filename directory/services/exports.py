"""Export organisations with the import columns, so an export re-imports unchanged.

CSV streams (one row at a time over `.iterator(chunk_size=2000)`); XLSX uses openpyxl's
write-only mode. Cells a spreadsheet would run as a formula get a leading ' (the importer takes
it off again). Callers pass a queryset that started from `Organisation.objects.visible_to(user)`.
"""

import csv
import io

from django.db import connections

from .imports import COLUMNS, FORMULA_PREFIXES, LIST_SEPARATOR

CHUNK_SIZE = 2000
FORMULA_STARTS = frozenset(FORMULA_PREFIXES)  # one character each


def escape(text: str) -> str:
    return "'" + text if text and text.startswith(FORMULA_PREFIXES) else text


def csv_chunks(columns, rows, *, chunk: int = CHUNK_SIZE, bom: bool = False):
    """The header and `rows` (sequences of ready cells) as CSV text, one string per `chunk` rows
    (streaming one string per row costs more than writing the rows)."""
    return csv_batches(columns, batched(rows, chunk), bom=bom)


def batched(rows, size):
    """Lists of `size` items of `rows` (the last one shorter)."""
    batch = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def csv_batches(columns, batches, *, bom: bool = False):
    """The header, then each batch of rows (a list of cell sequences) as one CSV string,
    written with one `writerows` call (the C writer loops, not Python)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if bom:
        buffer.write("\ufeff")
    writer.writerow(columns)
    head = buffer.getvalue()
    sent = False
    for batch in batches:
        buffer.seek(0)
        buffer.truncate()
        if not sent:
            buffer.write(head)
            sent = True
        writer.writerows(batch)
        yield buffer.getvalue()
    if not sent:
        yield head


def escape_cell(text):
    """`escape` for a cell that may be None (an empty cell) or not text (str() of it)."""
    if text is None:
        return ""
    if text.__class__ is not str:
        text = str(text)
    return "'" + text if text[:1] in FORMULA_STARTS else text


# --- contact history ----------------------------------------------------------------------

INTERACTION_CHUNK = 2000


def interaction_chunks(qs, user, values, *, link_ids: bool = False, chunk: int | None = None):
    """The rows of `qs` as `values_list(*values)` (the first value the primary key, one named
    "readable": may the user read the record's content), a chunk at a time, each with its
    links: `(rows, links)`, `links[relation][interaction_id]` the labels of the record's
    organisations, people, staff_participants and focus_areas joined ";", in the models'
    order. Organisations and people are only those the user may see (by name, or by id with
    `link_ids`); links are looked up for readable records only (the rest show metadata only).

    PostgreSQL: one statement, each relation's labels aggregated per record (string_agg) and
    LEFT JOINed to the rows (hash joins over the whole export: looking up 2,000-5,000 ids a chunk
    made PostgreSQL scan every link table once per chunk, ~75 µs a row). Elsewhere: plain
    values and one query per relation and chunk (`= ANY(ids)`). Memory stays bounded by the
    chunk either way."""
    chunk = chunk or INTERACTION_CHUNK
    rows = qs.select_related(None).prefetch_related(None).values_list(*values)
    if connections[rows.db].vendor == "postgresql":
        joined = _joined_sql(rows, qs, user, link_ids)
        if joined is not None:
            yield from _joined_chunks(rows, *joined, len(values), chunk)
            return
    readable_at = values.index("readable")
    for batch in batched(rows.iterator(chunk_size=chunk), chunk):
        # A set: Django resolves every item of a list or tuple lookup value (~1 µs an id).
        ids = {row[0] for row in batch if row[readable_at]}
        yield batch, (interaction_links(ids, user, link_ids=link_ids) if ids else _NO_LINKS)


def _link_aggregates(qs, user, link_ids):
    """(relation, queryset of (interaction_id, "label;label")) for the readable records of `qs`."""
    from django.contrib.postgres.aggregates import StringAgg
    from django.db.models import F, TextField
    from django.db.models.functions import Cast

    from ..models import Interaction, Organisation, Person

    readable = qs.filter(readable=True).order_by().values("pk")
    for name, relation, column, label, ordering, visible in (
        ("organisations", Interaction.organisations, "organisation", "organisation__name",
         ("organisation__name", "organisation_id"), Organisation.objects.visible_to(user)),
        ("people", Interaction.people, "person", "person__name", ("person__name", "person_id"),
         Person.objects.visible_to(user)),
        ("staff_participants", Interaction.staff_participants, "user", "user__username",
         ("user__username", "user_id"), None),
        ("focus_areas", Interaction.focus_areas, "focusarea", "focusarea__slug",
         ("focusarea__position", "focusarea_id"), None),
    ):
        links = relation.through.objects.filter(interaction_id__in=readable)
        if visible is not None:
            links = links.filter(**{f"{column}__in": visible.order_by().values("pk")})
            if link_ids:
                label = Cast(f"{column}_id", TextField())
        yield name, (
            links.order_by().values("interaction_id")
            .annotate(labels=StringAgg(F(label) if isinstance(label, str) else label, LIST_SEPARATOR,
                                       order_by=ordering))
            .values_list("interaction_id", "labels")
        )


def _joined_sql(rows, qs, user, link_ids):
    """`rows`' SQL and parameters with each relation's aggregate LEFT JOINed as a last column
    (NULL: no link, or a record the user may not read), with its compiler (its converters
    serve the plain columns) and the relations' names; None for a
    query of an unexpected shape (the per-chunk look-ups then serve it)."""
    connection = connections[rows.db]
    quote = connection.ops.quote_name
    compiler = rows.query.get_compiler(rows.db)
    sql, params = compiler.as_sql()
    table = quote(qs.model._meta.db_table)
    marker = f" FROM {table}"
    head, found, tail = sql.partition(marker)
    # The main table, not an aliased copy of it in a subquery of the select list.
    if not found or tail and not tail.startswith((" INNER JOIN", " LEFT OUTER JOIN", " WHERE", " ORDER BY")):
        return None
    names, columns, joins, join_params = [], [], [], []
    for index, (name, aggregate) in enumerate(_link_aggregates(qs, user, link_ids)):
        agg_sql, agg_params = aggregate.query.get_compiler(rows.db).as_sql()
        alias = quote(f"export_links_{index}")
        names.append(name)
        columns.append(f", {alias}.{quote('labels')}")
        joins.append(f" LEFT OUTER JOIN ({agg_sql}) {alias} ON ({alias}.{quote('interaction_id')} = {table}.{quote('id')})")
        join_params.extend(agg_params)
    # Parameters in SQL order: the select list's (a compartment rule), the joins', the rest's.
    before = head.count("%s")
    sql = f"{head}{''.join(columns)}{marker}{''.join(joins)}{tail}"
    return compiler, sql, [*params[:before], *join_params, *params[before:]], names


def _joined_chunks(rows, compiler, sql, params, names, width, chunk):
    """interaction_chunks' (rows, links) from the joined statement, through one server-side
    cursor; the compiler converts the plain columns, the aggregates are text."""
    connection = connections[rows.db]
    results = compiler.results_iter(results=fetch_chunks(connection, sql, params, chunk), chunked_fetch=True)
    for batch in batched(results, chunk):
        links = {name: {} for name in names}
        plain = []
        for row in batch:
            pk = row[0]
            for offset, name in enumerate(names):
                text = row[width + offset]
                if text:
                    links[name][pk] = text
            plain.append(row[:width])
        yield plain, links


def fetch_chunks(connection, sql, params, size):
    """A server-side cursor's rows, `size` at a time (as QuerySet.iterator)."""
    with connection.chunked_cursor() as cursor:
        cursor.execute(sql, params)
        while True:
            rows = cursor.fetchmany(size)
            if not rows:
                return
            yield rows


_NO_LINKS = {"organisations": {}, "people": {}, "staff_participants": {}, "focus_areas": {}}


def interaction_links(ids, user, *, link_ids: bool = False) -> dict:
    """`interaction_chunks`' links of the interactions `ids`, joined ";" per record: six queries."""
    from ..models import Interaction, Organisation, Person

    links = {}
    for name, model in (("organisations", Organisation), ("people", Person)):
        # Through the one access gate, joined to the chunk's links and sorted by the database
        # (its collation, as lists and JSON sort names).
        pairs = (
            model.objects.visible_to(user).filter(interactions__id__any_of=ids)
            .order_by("interactions__id", "name", "pk").values_list("interactions__id", "pk" if link_ids else "name")
        )
        links[name] = _grouped(pairs, str if link_ids else None)
    for name, relation, label, ordering in (
        ("staff_participants", Interaction.staff_participants, "user__username", ("user__username", "user_id")),
        ("focus_areas", Interaction.focus_areas, "focusarea__slug", ("focusarea__position", "focusarea__id")),
    ):
        pairs = (
            relation.through.objects.filter(interaction_id__any_of=ids)
            .order_by("interaction_id", *ordering).values_list("interaction_id", label)
        )
        links[name] = _grouped(pairs)
    return links


def _grouped(pairs, convert=None):
    """{interaction_id: "label;label"} from (interaction_id, label) pairs sorted by interaction."""
    out = {}
    current, labels = None, []
    for key, label in pairs:
        if key != current:
            if labels:
                out[current] = LIST_SEPARATOR.join(labels)
            current, labels = key, []
        labels.append(label if convert is None else convert(label))
    if labels:
        out[current] = LIST_SEPARATOR.join(labels)
    return out


def export_row(org, *, internal: bool = True) -> list[str]:
    """The import columns of one organisation (focus areas and identifiers prefetched)."""
    values = {
        "name": org.name,
        "name_local": org.name_local,
        "other_names": LIST_SEPARATOR.join(org.other_names or []),
        "acronym": org.acronym,
        "type": org.type,
        "country": org.country.code if org.country else "",
        "city": org.city,
        "website": org.website,
        "email": org.email,
        "phone": org.phone,
        "description": org.description,
        "focus_areas": LIST_SEPARATOR.join(sorted(fa.slug for fa in org.focus_areas.all())),
        "languages": LIST_SEPARATOR.join(org.languages or []),
        "founded_year": str(org.founded_year) if org.founded_year else "",
        "identifiers": LIST_SEPARATOR.join(sorted(f"{i.scheme}-{i.value}" for i in org.identifiers.all())),
        # Visibility is an internal field: others get the column empty (empty cells keep values).
        "visibility": org.visibility if internal else "",
    }
    return [escape(values[column]) for column in COLUMNS]


class _Echo:
    def write(self, value):
        return value


def iter_csv(queryset, *, internal: bool = True, bom: bool = True):
    """CSV lines (str), header first; a UTF-8 BOM so Excel opens Cyrillic correctly."""
    writer = csv.writer(_Echo(), lineterminator="\r\n")
    yield ("\ufeff" if bom else "") + writer.writerow(COLUMNS)
    for org in queryset.iterator(chunk_size=CHUNK_SIZE):
        yield writer.writerow(export_row(org, internal=internal))


def write_xlsx(queryset, *, internal: bool = True) -> bytes:
    from openpyxl import Workbook
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("organisations")
    sheet.append(list(COLUMNS))
    for org in queryset.iterator(chunk_size=CHUNK_SIZE):
        sheet.append([ILLEGAL_CHARACTERS_RE.sub("", cell) for cell in export_row(org, internal=internal)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
