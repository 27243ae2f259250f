"""Inserting many rows at once: COPY on PostgreSQL, bulk_create elsewhere.

For thousands of rows, COPY is several times faster than `INSERT ... VALUES` with bound
parameters: no statement to build and parse, no parameter list of tens of thousands of values.
The values are the ones bulk_create would send (`pre_save` then `get_db_prep_save` per field),
and COPY fires the tables' triggers like INSERT does. Auto-increment primary keys are left to the
database (the instances do not learn them: callers that need them read them back).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from django.db import connection, models
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


def insert(model, objects, *, batch_size: int = BATCH_SIZE) -> None:
    """Insert unsaved instances of `model` (no signals, as bulk_create)."""
    if not objects:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_create(objects, batch_size=batch_size)
        return
    fields = [f for f in model._meta.concrete_fields if f.get_internal_type() not in AUTO_FIELDS]
    getters = [_getter(f) for f in fields]
    copy_rows(model, [f.name for f in fields], ([get(obj) for get in getters] for obj in objects))


def _getter(field):
    """The field's database value of an instance being added."""
    prep = db_value(field)
    if type(field).pre_save is models.Field.pre_save:  # the attribute as it is
        attname = field.attname
        return lambda obj: prep(getattr(obj, attname))
    return lambda obj: prep(field.pre_save(obj, True))  # auto_now and the like


# Exact classes (a subclass may prepare values its own way) and the Python type whose values
# their get_db_prep_save returns unchanged on PostgreSQL: those values go to COPY as they are,
# without a method call per field and row (most of the time of a COPY of model instances).
_KINDS = {
    models.UUIDField: "uuid", models.CharField: "str", models.TextField: "str", models.URLField: "str",
    models.EmailField: "str", models.SlugField: "str", models.BooleanField: "bool", models.DateField: "date",
    models.DateTimeField: "datetime",
    **dict.fromkeys((models.IntegerField, models.BigIntegerField, models.SmallIntegerField,
                     models.PositiveIntegerField, models.PositiveSmallIntegerField, models.PositiveBigIntegerField,
                     models.AutoField, models.BigAutoField, models.SmallAutoField), "int"),
}
_IS_KIND = {
    "uuid": lambda v: type(v) is uuid.UUID, "str": lambda v: type(v) is str, "bool": lambda v: type(v) is bool,
    "int": lambda v: type(v) is int, "date": lambda v: type(v) is date,
    "datetime": lambda v: type(v) is datetime and v.tzinfo is not None,
}


def field_kind(field) -> str | None:
    """"uuid", "str", "bool", "int", "date", "datetime" or None (values always prepared)."""
    kind = _KINDS.get(type(field.target_field if field.is_relation else field))
    # A foreign key turns "" into NULL: only its get_db_prep_save knows when.
    return None if field.is_relation and kind == "str" else kind


def db_value(field):
    """get_db_prep_save of the field, skipped for None and values of the field's own type."""
    kind = field_kind(field)
    if kind is None:
        return lambda v: field.get_db_prep_save(v, connection)
    same = _IS_KIND[kind]
    return lambda v: v if v is None or same(v) else field.get_db_prep_save(v, connection)


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
