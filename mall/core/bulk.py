"""Bulk SQL: thousands of rows inserted, updated or looked up in a few statements, on
SQLite and on PostgreSQL alike.

SQLite gets SQLAlchemy's own executemany, which it runs fast in process. PostgreSQL gets
one statement whose parameters are one array per column, turned back into rows on the
server by ``unnest()``. SQLAlchemy's multi-row VALUES and IN lists carry one parameter per
value, and psycopg re-parses such long statements in Python every time (it caches only
short ones): a million-row import took twice as long that way.

The statements work on the tables (Core), not through the ORM: the ORM's bulk INSERT
leaves out None values, splitting a batch into many small statements whenever some rows
have a value and others not, and its per-row bookkeeping costs more than the database.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import cache
from typing import Any

import sqlalchemy as sa
from sqlalchemy import ColumnElement, Row, Table, TextClause
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session
from sqlalchemy.schema import ColumnDefault
from sqlalchemy.types import TypeDecorator


def on_postgresql(session: Session) -> bool:
    """True when the session's database is PostgreSQL (else SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


def among(session: Session, column: Any, values: Collection) -> ColumnElement[bool]:
    """``column IN (values)`` for any number of values.

    SQLite: a plain IN list (SQLAlchemy expands it to one parameter per value).
    PostgreSQL: ``column = ANY(:array)``, one array parameter, so the statement stays
    short and psycopg keeps it prepared however many values there are.
    """
    if on_postgresql(session):
        return column == sa.any_(sa.bindparam(None, list(values), type_=sa.ARRAY(column.type)))
    return column.in_(values)


def insert(session: Session, table: Any, rows: Sequence[Mapping[str, Any]],
           *returning: str) -> list[Row]:
    """Insert ``rows`` (mappings with the same keys) into ``table`` (a Table or a mapped
    class); returns the ``returning`` columns of each new row, in no particular order.

    Return a natural key with the id to pair them up: ordered RETURNING needs a sentinel
    SQLite does not have, and SQLAlchemy would then insert row by row.
    SQLite: one executemany of the table's INSERT (… RETURNING).
    PostgreSQL: one ``INSERT … SELECT * FROM unnest(:col1, :col2, …) [RETURNING …]``.
    Columns left out get their scalar Python-side default there too; a column whose
    default is computed (a callable, e.g. the timestamps) must be given a value.
    """
    if not rows:
        return []
    table = _table(table)
    if not on_postgresql(session):
        statement = sa.insert(table)
        if returning:
            statement = statement.returning(*(table.c[name] for name in returning))
        result = session.execute(statement, list(rows))
        return list(result.all()) if returning else []
    names = tuple(rows[0])
    unnest, converters, defaults = _pg_unnest_insert(table, names, returning)
    params = {f"p{i}": [convert(row[name]) for row in rows]
              for i, (name, convert) in enumerate(zip(names, converters, strict=True))}
    params.update((f"d{i}", [value] * len(rows)) for i, value in enumerate(defaults))
    result = session.execute(unnest, params)
    return list(result.all()) if returning else []


def update(session: Session, table: Any, rows: Sequence[Mapping[str, Any]]) -> None:
    """Update rows of ``table`` (a Table or a mapped class) by id: each mapping holds the
    row's ``id`` and its new values. Rows with the same keys share one statement.

    SQLite: one executemany of ``UPDATE … WHERE id = ?`` per set of keys.
    PostgreSQL: one ``UPDATE … FROM unnest(:ids, :col1, …) AS given WHERE id = given.id``
    per set of keys.
    """
    table = _table(table)
    groups: dict[tuple[str, ...], list[Mapping[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[tuple(row)].append(row)
    for names, group in groups.items():
        if not on_postgresql(session):
            session.execute(sa.update(table).where(table.c.id == sa.bindparam("row_id")),
                            [{**{k: v for k, v in row.items() if k != "id"},
                              "row_id": row["id"]} for row in group])
            continue
        statement, converters = _pg_unnest_update(table, names)
        session.execute(statement, {
            f"p{i}": [convert(row[name]) for row in group]
            for i, (name, convert) in enumerate(zip(names, converters, strict=True))})


def _table(table: Any) -> Table:
    return getattr(table, "__table__", table)


@cache
def _pg_unnest_insert(table: Table, names: tuple[str, ...], returning: tuple[str, ...]
                      ) -> tuple[TextClause, tuple[Callable, ...], tuple]:
    """The INSERT … unnest() statement, each column's value converter, the defaults it adds."""
    added = [c for c in table.c if c.name not in names and c.default is not None]
    defaults = [c.default for c in added if isinstance(c.default, ColumnDefault)
                and c.default.is_scalar]
    if len(defaults) < len(added):
        raise ValueError(f"give every column of {table.name} with a computed default a value")
    casts = ([_pg_array(f"p{i}", table.c[name]) for i, name in enumerate(names)]
             + [_pg_array(f"d{i}", column) for i, column in enumerate(added)])
    sql = (f"INSERT INTO {table.name} ({', '.join([*names, *(c.name for c in added)])}) "
           f"SELECT * FROM unnest({', '.join(casts)})")
    if returning:
        sql += " RETURNING " + ", ".join(returning)
    return (sa.text(sql), tuple(_pg_converter(table.c[name].type) for name in names),
            tuple(_pg_converter(c.type)(d.arg) for c, d in zip(added, defaults, strict=True)))


@cache
def _pg_unnest_update(table: Table, names: tuple[str, ...]
                      ) -> tuple[TextClause, tuple[Callable, ...]]:
    """The UPDATE … FROM unnest() statement and each column's value converter."""
    casts = ", ".join(_pg_array(f"p{i}", table.c[name]) for i, name in enumerate(names))
    sets = ", ".join(f"{name} = given.{name}" for name in names if name != "id")
    return (sa.text(f"UPDATE {table.name} SET {sets} FROM unnest({casts}) "
                    f"AS given ({', '.join(names)}) WHERE {table.name}.id = given.id"),
            tuple(_pg_converter(table.c[name].type) for name in names))


def _pg_array(param: str, column) -> str:
    return f"CAST(:{param} AS {column.type.compile(dialect=postgresql.dialect())}[])"


def _pg_converter(column_type) -> Callable:
    """What SQLAlchemy's bind processing would do to a value of this type, for an array."""
    if isinstance(column_type, TypeDecorator):  # e.g. UTCDateTime refusing naive times
        dialect = postgresql.dialect()
        return lambda value: column_type.process_bind_param(value, dialect)
    if isinstance(column_type, sa.JSON):
        return lambda value: None if value is None else json.dumps(value)
    if isinstance(column_type, sa.Enum):
        return lambda value: getattr(value, "value", value)
    return lambda value: value
