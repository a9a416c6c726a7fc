"""Writing many new rows fast: `bulk_insert` is `bulk_create` without the ORM's cost per value.

`QuerySet.bulk_create` prepares every value of every row through its field (pre_save,
get_db_prep_save, the SQL compiler) and sends a multi-row INSERT: for the ingestion of a
page of orders that preparation, not the database, is most of the time. On PostgreSQL
`bulk_insert` instead takes the new ids from the table's sequence in one query and
streams the rows with COPY in CSV (the csv module writes them; only JSON columns are
encoded in Python). Elsewhere (SQLite in development) it is `bulk_create`.

What it keeps of `bulk_create`: primary keys are set on the instances, auto_now and
auto_now_add fields are stamped, no signals are sent. What it needs: every field's value
already of its Python type (as the callers' constructors give), and a table whose
primary key is an integer with a sequence. A JSON value the caller has encoded already
comes as `JSONText` and is written as it is.

`copy_tuples` is the same COPY for rows given as tuples, with no instance at all, when
nobody needs their ids.
"""

import csv
import io
import json
from collections.abc import Sequence
from functools import cache
from operator import attrgetter

from django.db import IntegrityError, connection, models
from django.db.models.base import ModelState
from django.utils import timezone

# COPY's CSV format, every text value quoted: NULL is written as this marker and read back
# as NULL only in the nullable columns (FORCE_NULL); elsewhere it could only be the text
# itself, which no column of ours holds alone (a lone control character).
NULL_MARK = "\x01"
SUPPORTED = {
    "AutoField", "BigAutoField", "BigIntegerField", "BooleanField", "CharField", "DateField", "DateTimeField",
    "DecimalField", "EmailField", "ForeignKey", "IntegerField", "JSONField", "OneToOneField",
    "PositiveBigIntegerField", "PositiveIntegerField", "PositiveSmallIntegerField", "SlugField",
    "SmallIntegerField", "TextField", "URLField", "UUIDField",
}  # fmt: skip


_EMPTY_JSON = {(list, 0): "[]", (dict, 0): "{}"}
_FORMATTED = frozenset({"DateTimeField", "DateField", "DecimalField"})


class JSONText(str):
    """A JSON column's value already encoded (a caller that had to encode it anyway, to
    check it can be): `bulk_insert` writes it as it is instead of encoding it again."""


def _json_encoder(field):
    # One encoder for the column (json.dumps with cls= makes a new one for every value),
    # and empty lists and dicts, the most common values, without it.
    encode_value = (field.encoder or json.JSONEncoder)(ensure_ascii=False).encode
    empty = _EMPTY_JSON

    def encode(value):
        if value is None:
            return NULL_MARK
        kind = type(value)
        if kind is JSONText:
            return str(value)
        if (kind is list or kind is dict) and not value:
            return empty[kind, 0]
        return encode_value(value)

    return encode


def _rows(fields, objs):
    """Each object as a tuple of CSV-ready values, in the order of `fields`.

    None in a NOT NULL column is refused here as the database would refuse it (COPY would
    otherwise read the quoted marker there as text)."""
    get = attrgetter(*[field.attname for field in fields])
    json_columns = [
        (index, _json_encoder(field)) for index, field in enumerate(fields) if field.get_internal_type() == "JSONField"
    ]
    required = [index for index, field in enumerate(fields) if not field.null and not field.primary_key]
    # Times, dates and amounts repeat (every row's auto_now stamp is one value; an import's
    # orders share their dates): each distinct one is written as text once (str() of an
    # aware datetime costs microseconds, more than the csv module's work on the row). Equal
    # values are equal for the column (1.5 and 1.50, one instant in two zones).
    formatted = [index for index, field in enumerate(fields) if field.get_internal_type() in _FORMATTED]
    texts: dict = {}
    for obj in objs:
        raw = get(obj)
        if None in raw:
            for index in required:
                if raw[index] is None:
                    raise IntegrityError(f"null value in column {fields[index].column} of {obj._meta.db_table}")
        values = [NULL_MARK if value is None else value for value in raw]
        for index, encode in json_columns:
            values[index] = encode(getattr(obj, fields[index].attname))
        for index in formatted:
            value = values[index]
            if value is not NULL_MARK:
                text = texts.get(value)
                if text is None:
                    text = texts[value] = str(value)
                values[index] = text
        yield values


def _copy(table: str, fields, rows) -> None:
    """COPY CSV-ready rows (a value per field, NULL_MARK for NULL) into `table`."""
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n").writerows(rows)
    buffer.seek(0)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(field.column) for field in fields)
    nullable = ", ".join(quote(field.column) for field in fields if field.null)
    options = f"FORMAT csv, NULL '{NULL_MARK}'" + (f", FORCE_NULL ({nullable})" if nullable else "")
    # Django's cursor passes copy_expert through to psycopg2 untranslated: wrap it, so a
    # failed COPY raises Django's IntegrityError/DatabaseError that callers handle.
    with connection.cursor() as cursor, connection.wrap_database_errors:
        cursor.copy_expert(f"COPY {quote(table)} ({columns}) FROM STDIN WITH ({options})", buffer)


def copy_tuples(model: type[models.Model], names: Sequence[str], rows: Sequence[tuple]) -> None:
    """Insert new rows given as tuples of plain values, one per field named (attribute
    names: `store_id`), on PostgreSQL by COPY; the primary key comes from the table's
    default and is not returned. For many rows whose ids nobody needs next (mappings of a
    batch import): no instance is made at all. Elsewhere, `bulk_create`. The values must
    be of their fields' Python types; a JSON field is not supported; a NULL in a NOT NULL
    column is refused as the database would refuse it; auto_now and auto_now_add fields
    are stamped with the time of the call, as bulk_create stamps them."""
    if not rows:
        return
    fields = [model._meta.get_field(name) for name in names]
    if connection.vendor != "postgresql":
        model.objects.bulk_create([model(**dict(zip(names, row, strict=True))) for row in rows])
        return
    unsupported = [
        f.name for f in fields if f.get_internal_type() not in SUPPORTED or f.get_internal_type() == "JSONField"
    ]
    if unsupported:
        raise TypeError(f"copy_tuples cannot write {model.__name__}.{', '.join(unsupported)}")
    required = [index for index, field in enumerate(fields) if not field.null]
    stamps = _stamps(fields)

    def marked():
        for row in rows:
            if stamps:
                row = list(row)
                for index, value in stamps.items():
                    row[index] = value
            if None in row:
                for index in required:
                    if row[index] is None:
                        raise IntegrityError(f"null value in column {fields[index].column} of {model._meta.db_table}")
                row = [NULL_MARK if value is None else value for value in row]
            yield row

    _copy(model._meta.db_table, fields, marked())


def _stamps(fields) -> dict[int, object]:
    """{index of an auto_now or auto_now_add field: the value it is stamped with now}."""
    now = timezone.now()
    return {
        index: now.date() if type(field) is models.DateField else now
        for index, field in enumerate(fields)
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
    }


def _stamp(fields, objs: Sequence[models.Model]) -> None:
    for index, value in _stamps(fields).items():
        for obj in objs:
            setattr(obj, fields[index].attname, value)


def _new_ids(table: str, column: str, count: int) -> list[int]:
    with connection.cursor() as cursor:
        # The sequence is looked up once (OFFSET 0 keeps PostgreSQL from inlining the
        # subquery and resolving the name again for every row: six times slower).
        cursor.execute(
            "SELECT nextval(sequence) FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS sequence OFFSET 0) s, "
            "generate_series(1, %s)",
            [table, column, count],
        )
        return [row[0] for row in cursor.fetchall()]


class Blueprint:
    """Makes new instances of one model from attribute names (`store_id`, not `store`)
    several times faster than `Model(**values)`, which resolves every keyword through
    its field and descriptor: the defaults are worked out once per model here.

    For rows about to be written by `bulk_insert`: no pre_init/post_init signal is sent
    (no model of ours listens to them), and an unknown name is refused as Model() does.
    """

    def __init__(self, model: type[models.Model]):
        self.model = model
        self.static: dict = {}
        self.callables: list = []
        for field in model._meta.concrete_fields:
            if field.has_default() and callable(field.default):
                self.callables.append((field.attname, field.default))
            else:
                self.static[field.attname] = None if field.primary_key else field.get_default()
        self.names = frozenset(self.static) | {name for name, _default in self.callables}

    def new(self, **values) -> models.Model:
        if not values.keys() <= self.names:
            raise TypeError(f"{self.model.__name__} has no field {', '.join(sorted(values.keys() - self.names))}")
        obj = self.model.__new__(self.model)
        attributes = obj.__dict__
        attributes.update(self.static)
        for name, default in self.callables:
            attributes[name] = default()
        attributes.update(values)
        obj._state = ModelState()
        return obj


@cache
def blueprint(model: type[models.Model]) -> Blueprint:
    return Blueprint(model)


def bulk_insert(model: type[models.Model], objs: Sequence[models.Model]) -> Sequence[models.Model]:
    """Insert new, unsaved instances of `model` (their pk set afterwards), all at once."""
    if not objs:
        return objs
    if connection.vendor != "postgresql":
        for field in model._meta.concrete_fields:
            if field.get_internal_type() == "JSONField":
                for obj in objs:
                    if type(getattr(obj, field.attname)) is JSONText:
                        setattr(obj, field.attname, json.loads(getattr(obj, field.attname)))
        return model.objects.bulk_create(objs)
    opts = model._meta
    fields = list(opts.concrete_fields)
    unsupported = [field.name for field in fields if field.get_internal_type() not in SUPPORTED]
    if unsupported:
        raise TypeError(f"bulk_insert cannot write {model.__name__}.{', '.join(unsupported)}")
    _stamp(fields, objs)
    pk = opts.pk
    missing = [obj for obj in objs if obj.pk is None]
    if missing:
        for obj, new_id in zip(missing, _new_ids(opts.db_table, pk.column, len(missing)), strict=True):
            obj.pk = new_id
    _copy(opts.db_table, fields, _rows(fields, objs))
    for obj in objs:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objs
