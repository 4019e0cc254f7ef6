"""Inserting many new rows at once: COPY on PostgreSQL, bulk_create elsewhere."""

from collections.abc import Callable, Sequence
from datetime import datetime
from operator import attrgetter
from typing import Any, TypeVar

from django.db import connection, models

M = TypeVar("M", bound=models.Model)

# Fields whose Python value COPY can take as it is: Django's get_db_prep_save gives back the
# same value for them on PostgreSQL (text, numbers, booleans, UUIDs, foreign keys).
NATIVE_FIELDS = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.FloatField,
    models.BooleanField,
    models.UUIDField,
    models.ForeignKey,
)


def _value_of(field: models.Field) -> Callable[[models.Model], Any]:
    """How to read `field`'s column value for a new row.

    Django's own path (pre_save, then get_db_prep_save) walks five to ten calls per value,
    which was most of an import's insert time (under the profiler, 4 of the 9 seconds of
    inserting 20,000 feedback went to the datetime fields alone). Values it would return
    unchanged are read directly: plain fields without a pre_save of their own, and aware
    datetimes. Everything else still goes Django's way.
    """

    def django(obj: models.Model) -> Any:
        return field.get_db_prep_save(field.pre_save(obj, True), connection)

    if type(field) is models.DateTimeField:

        def aware(obj: models.Model) -> Any:
            # auto_now(_add) fields take the time here, except a creation time that is set
            # already (an import carrying the real one).
            given = getattr(obj, field.attname) if field.auto_now_add else None
            value = given if given is not None else field.pre_save(obj, True)
            if value is None or isinstance(value, datetime) and value.tzinfo is not None:
                return value
            return field.get_db_prep_save(value, connection)

        return aware
    if type(field).pre_save is models.Field.pre_save and isinstance(field, NATIVE_FIELDS):
        return attrgetter(field.attname)
    return django


def rows_insert(model: type[M], objs: Sequence[M]) -> Sequence[M]:
    """Insert new `objs` of `model` and return them (without their keys when the database
    assigns them).

    On PostgreSQL through COPY: bulk_create builds one INSERT with a parameter per field per
    row (25,000 for a batch of 1,000 feedback) and binds each on the client; COPY streams
    the rows through psycopg's dumpers, about three times faster for the imports and bulk
    upserts. The values are the ones bulk_create would write (see `_value_of`). Conflicts
    are not ignored: use bulk_create with ignore_conflicts for that.
    """
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        return _bulk_create_keeping_creation_times(model, objs)
    pk = model._meta.pk
    # A database-assigned key (an auto field left empty) is left to the database; the
    # objects then come back without it.
    generated = getattr(objs[0], pk.attname) is None and isinstance(pk, models.AutoField)
    fields = [f for f in model._meta.concrete_fields if not (generated and f.primary_key)]
    values = [_value_of(f) for f in fields]
    quote = connection.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    # Errors become Django's (IntegrityError for a duplicate key), as bulk_create raises them.
    with connection.wrap_database_errors, connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row([value(obj) for value in values])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs


def _bulk_create_keeping_creation_times(model: type[M], objs: Sequence[M]) -> Sequence[M]:
    """bulk_create, whose auto_now_add fields overwrite a creation time set already; put
    those back (SQLite, the embedded default: one more UPDATE where a time was given)."""
    stamped = [f for f in model._meta.concrete_fields if getattr(f, "auto_now_add", False)]
    given = [(obj, {f.attname: getattr(obj, f.attname) for f in stamped}) for obj in objs]
    created = model.objects.bulk_create(objs, batch_size=1000)
    fixed = []
    for obj, values in given:
        changed = False
        for name, value in values.items():
            if value is not None and getattr(obj, name) != value:
                setattr(obj, name, value)
                changed = True
        if changed:
            fixed.append(obj)
    if fixed and model._meta.pk is not None and all(o.pk is not None for o in fixed):
        model.objects.bulk_update(fixed, [f.attname for f in stamped], batch_size=1000)
    return created


def bulk_set(model: Any, objs: Sequence[Any], fields: Sequence[str]) -> None:
    """Write `fields` of every object in one UPDATE.

    On PostgreSQL an UPDATE … FROM (VALUES …) joined on the primary key: Django's
    bulk_update builds a CASE expression per field and row, which for 1,000 rows costs more
    in Python than the write itself. Elsewhere, bulk_update.
    """
    if not objs:
        return
    if connection.vendor != "postgresql":
        model.objects.bulk_update(objs, fields)
        return
    meta = model._meta
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    casts = [f"%s::{field.db_type(connection)}" for field in columns]
    row = "(" + ", ".join(casts) + ")"
    params: list[Any] = []
    for obj in objs:
        for field in columns:
            params.append(field.get_db_prep_save(getattr(obj, field.attname), connection))
    quote = connection.ops.quote_name
    names = [quote(field.column) for field in columns]
    assignments = ", ".join(f"{name} = v.{name}" for name in names[1:])
    sql = (
        f"UPDATE {quote(meta.db_table)} AS t SET {assignments} "  # noqa: S608 - names from the model, values as params
        f"FROM (VALUES {', '.join([row] * len(objs))}) AS v({', '.join(names)}) "
        f"WHERE t.{names[0]} = v.{names[0]}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
