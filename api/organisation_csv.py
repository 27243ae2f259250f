"""The organisation CSV export's rows without a serializer call per row.

`rows(...)` yields exactly the cells `stream_csv` made from `serializer.to_representation(obj)`
(tests/api/test_csv_fast.py compares both, byte for byte, for every role): the records come as
plain values (`values_list`, no model instance per row), each chunk's focus areas and
identifiers in one query per relation, and every plain column is rendered by the very
serializer field that renders it in JSON (`field.to_representation`), so formats (dates in the
current time zone, booleans, choices) cannot drift.

`last_contacted_on` (EU staff): the list annotates a correlated subquery (the latest visible
interaction of each organisation) that looks up every link of every row: at 50,000
organisations and 1,000,000 interactions that alone took ~20 s of a full export. Here it is one
aggregate over the visible interactions of the exported organisations, LEFT JOINed to the
rows, which PostgreSQL computes with hash joins (a few seconds for everything, a nested loop
on the indexes for a small filtered set).
"""

from datetime import datetime
from types import SimpleNamespace

from django.db import connections
from django.db.models import Max
from django_countries.fields import Country
from rest_framework import ISO_8601, serializers
from rest_framework.settings import api_settings

from directory.models import Interaction, Organisation, OrganisationIdentifier
from directory.services.exports import batched, fetch_chunks

from .renderers import CHUNK_SIZE, FORMULA_PREFIXES, LIST_SEPARATOR, cell
from .serializers import DetailUrlField

FORMULA_STARTS = frozenset(FORMULA_PREFIXES)  # one character each

# Model columns rendered by their serializer field (None stays None, as DRF does).
PLAIN = (
    "name", "name_local", "other_names", "acronym", "type", "city", "website", "email", "phone",
    "description", "languages", "founded_year", "verified", "updated_at", "visibility", "status",
    "internal_notes", "verified_at", "confirmed_at", "created_at",
)
EDITOR_EXTRA = ("visibility", "confirmed_at")
LATEST_ALIAS = "export_latest"
WHOLE_AGGREGATE_FROM = 10_000  # rows: from here the latest contact is aggregated over all links


def _values_sql(queryset, names, user, with_latest):
    """SQL and params of `queryset.values_list(*names)`, plus (EU staff) the latest visible
    interaction date as the last column, from one aggregate LEFT JOINed to the rows."""
    qs = queryset.prefetch_related(None).values_list(*names)
    compiler = qs.query.get_compiler(qs.db)
    sql, params = compiler.as_sql()
    if not with_latest:
        return compiler, sql, list(params)
    # EU staff only: the latest visible interaction per organisation. A large export aggregates
    # every link (two hash joins); a small one only those of its organisations (the planner
    # then walks the indexes): restricting a large export cost a semi-join of every link.
    if queryset.order_by().count() < WHOLE_AGGREGATE_FROM:
        agg = Interaction.objects.visible_to(user).filter(organisations__in=queryset.order_by().values("pk"))
    else:
        agg = Interaction.objects.visible_to(user, scan=True)
    agg = (
        agg.order_by().values("organisations").annotate(latest=Max("occurred_on"))
        .values_list("organisations", "latest")
    )
    agg_sql, agg_params = agg.query.get_compiler(qs.db).as_sql()
    connection = connections[qs.db]
    quote = connection.ops.quote_name
    table = quote(queryset.model._meta.db_table)
    marker = f" FROM {table}"
    head, found, tail = sql.partition(marker)
    # The select list holds plain columns only (no parameters, no subquery before the FROM).
    if not found or "SELECT" in head[len("SELECT"):]:
        raise RuntimeError("unexpected organisation export query")
    latest = quote(LATEST_ALIAS)
    sql = (
        f"{head}, {latest}.{quote('latest')}{marker} LEFT OUTER JOIN ({agg_sql}) {latest} "
        f"ON ({latest}.{quote('organisations')} = {table}.{quote('id')}){tail}"
    )
    return compiler, sql, [*agg_params, *params]


def _link_rows(ids, db):
    """(organisation_id, slug) in focus-area order and (organisation_id, scheme, value) in
    identifier order, for the organisations `ids` (one array parameter on PostgreSQL)."""
    through = Organisation.focus_areas.through
    areas = (through.objects.using(db).filter(organisation_id__any_of=ids)
             .order_by("focusarea__position", "focusarea__id").values_list("organisation_id", "focusarea__slug"))
    identifiers = (OrganisationIdentifier.objects.using(db).filter(organisation_id__any_of=ids)
                   .order_by("scheme", "value").values_list("organisation_id", "scheme", "value"))
    return list(areas), list(identifiers)


def _links(ids, db):
    """Each organisation's focus-area slugs and identifiers, as their cells join them."""
    areas, identifiers = {}, {}
    area_rows, identifier_rows = _link_rows(ids, db)
    for org_id, slug in area_rows:
        areas[org_id] = f"{areas[org_id]}{LIST_SEPARATOR}{slug}" if org_id in areas else slug
    for org_id, scheme, value in identifier_rows:
        text = f"{scheme}-{value}"
        identifiers[org_id] = f"{identifiers[org_id]}{LIST_SEPARATOR}{text}" if org_id in identifiers else text
    return areas, identifiers


def datetime_renderer(field):
    """DRF's DateTimeField.to_representation in ISO 8601, with the time zone looked up once
    (per export) instead of once per cell; anything unusual goes to the field itself."""
    if getattr(field, "format", api_settings.DATETIME_FORMAT) != ISO_8601:
        return field.to_representation
    zone = field.timezone if hasattr(field, "timezone") else field.default_timezone()
    if zone is None:
        return field.to_representation

    def render(value):
        if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
            return field.to_representation(value)
        try:
            text = value.astimezone(zone).isoformat()
        except OverflowError:
            return field.to_representation(value)
        return text[:-6] + "Z" if text.endswith("+00:00") else text

    return render


def rows(queryset, serializer, columns, *, roles, user):
    """The CSV cells of every row of `queryset`, as stream_csv(queryset, serializer, columns)
    writes them for this role's serializer."""
    fields = serializer.fields
    internal = "internal_notes" in fields
    with_latest = "last_contacted_on" in fields and roles.staff
    plain = [name for name in PLAIN if name in fields]
    names = ["pk", "country", *plain]
    if internal:
        names.append("verified_by_username")
    compiler, sql, params = _values_sql(queryset, names, user, with_latest)
    # CharField renders str(value): the database's text as it is; every other field renders itself.
    renderers = [
        None if type(fields[name]) is serializers.CharField
        else datetime_renderer(fields[name]) if type(fields[name]) is serializers.DateTimeField
        else fields[name].to_representation
        for name in plain
    ]
    url = None
    if "url" in fields:  # DetailUrlField: one template per request, the id substituted
        url = str(fields["url"].to_representation(SimpleNamespace(pk=DetailUrlField.PLACEHOLDER)))
        url_head, _sep, url_tail = url.partition(DetailUrlField.PLACEHOLDER)
    editor = "visibility" in fields and not internal
    own = serializer.context.get("editor_org_ids", frozenset())
    country_names = {}
    width = len(plain)
    # Each column's place in a row's values (None: a column this role's rows leave empty);
    # an editor's rows of organisations it does not edit leave EDITOR_EXTRA empty.
    slots = {"id": 0, "url": 1, "country": 2, "country_name": 3, "focus_areas": 4, "identifiers": 5}
    slots.update({name: 6 + index for index, name in enumerate(plain)})
    if internal:
        slots.update(verified_by=6 + width, last_contacted_on=7 + width)
    places = [slots.get(column) for column in columns]
    hidden = {slots[extra] for extra in EDITOR_EXTRA if extra in slots} if editor else set()
    other_places = [None if place in hidden else place for place in places]
    rendered = list(zip(range(2, 2 + width), renderers, strict=True))

    # The compiler applies the columns' converters (UUIDs, JSON, dates on SQLite); the joined
    # date, last, is left as the database returns it (a date, or ISO text on SQLite).
    fetched = fetch_chunks(connections[queryset.db], sql, params, CHUNK_SIZE)
    records = compiler.results_iter(results=fetched, chunked_fetch=True)
    for chunk in batched(records, CHUNK_SIZE):
        areas, identifiers = _links({row[0] for row in chunk}, queryset.db)
        for row in chunk:
            pk, code = row[0], row[1]
            name = country_names.get(code)
            if name is None:
                name = country_names[code] = str(Country(code=code).name or "") if code else ""
            text = str(pk)
            values = [text, None if url is None else url_head + text + url_tail, code or "", name,
                      areas.get(pk, ""), identifiers.get(pk, "")]
            for index, render in rendered:
                value = row[index]
                values.append(value if value is None or render is None else render(value))
            if internal:
                latest = row[-1] if with_latest else None
                values.append(row[2 + width])
                values.append(str(latest) if latest else None)
            chosen = other_places if editor and pk not in own else places
            yield [_cell(values[place]) if place is not None else "" for place in chosen]


def _cell(value):
    """renderers.cell, with text (most cells) first."""
    if value.__class__ is str:
        return "'" + value if value[:1] in FORMULA_STARTS else value
    return cell(value)
