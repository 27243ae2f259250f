"""Inserting many rows at once: COPY on PostgreSQL, bulk_create elsewhere.

For thousands of rows, COPY is several times faster than `INSERT ... VALUES` with bound
parameters: no statement to build and parse, no parameter list of tens of thousands of values.
The values are the ones bulk_create would send (`pre_save` then `get_db_prep_save` per field),
and COPY fires the tables' triggers like INSERT does. Auto-increment primary keys are left to the
database (the instances do not learn them: callers that need them read them back).
"""

from __future__ import annotations

from django.db import connection
from django.utils import timezone

AUTO_FIELDS = ("AutoField", "BigAutoField", "SmallAutoField")
BATCH_SIZE = 2_000


def copy_rows(model, fieldnames, rows) -> None:
    """COPY plain tuples (already database values) into the model's table (PostgreSQL)."""
    table = connection.ops.quote_name(model._meta.db_table)
    columns = ", ".join(connection.ops.quote_name(model._meta.get_field(n).column) for n in fieldnames)
    with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


# Fields whose attribute already is the database value: sent as they are, without two method
# calls per field and row (most of the time of a COPY of model instances).
PLAIN_FIELDS = frozenset({
    "BigIntegerField", "BooleanField", "CharField", "DateField", "DateTimeField", "EmailField",
    "ForeignKey", "IntegerField", "OneToOneField", "PositiveIntegerField", "PositiveSmallIntegerField",
    "SlugField", "SmallIntegerField", "TextField", "URLField", "UUIDField",
})


def _is_plain(field) -> bool:
    return (type(field).__name__ in PLAIN_FIELDS and not getattr(field, "auto_now", False)
            and not getattr(field, "auto_now_add", False))


def insert(model, objects, *, batch_size: int = BATCH_SIZE) -> None:
    """Insert unsaved instances of `model` (no signals, as bulk_create)."""
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=batch_size)
        return
    fields = [f for f in model._meta.concrete_fields if f.get_internal_type() not in AUTO_FIELDS]
    plain = [(i, f.attname) for i, f in enumerate(fields) if _is_plain(f)]
    other = [(i, f) for i, f in enumerate(fields) if not _is_plain(f)]

    def rows():
        for obj in objects:
            values = obj.__dict__
            row = [None] * len(fields)
            for i, attname in plain:
                row[i] = values[attname]
            for i, field in other:
                row[i] = field.get_db_prep_save(field.pre_save(obj, True), connection)
            yield row

    copy_rows(model, [f.name for f in fields], rows())


def insert_with_history(objects, model, *, user=None, reason: str = "", date=None) -> None:
    """`insert` plus one "created" history record per instance (django-simple-history's
    bulk_create_with_history, with COPY for both tables on PostgreSQL). An auto-increment key
    goes through bulk_create, which gives the instances the keys their history rows repeat."""
    if model._meta.pk.get_internal_type() in AUTO_FIELDS:
        model.objects.bulk_create(objects, batch_size=BATCH_SIZE)
    else:
        insert(model, objects)
    historical = model.history.model
    date = date or timezone.now()
    tracked = [field.attname for field in historical.tracked_fields]
    insert(historical, [
        historical(history_date=date, history_user=user, history_change_reason=reason, history_type="+",
                   **{name: getattr(obj, name) for name in tracked})
        for obj in objects
    ])
