"""Declarative base, column types and the SQLite settings every connection gets."""

from __future__ import annotations

import enum
from collections.abc import Callable
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import BigInteger, DateTime, Enum, Integer, MetaData, Select, Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, registry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """A timestamp stored as UTC and always returned timezone-aware (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused: use mall.core.clock.now()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Primary keys of high-volume tables: BIGINT on PostgreSQL, INTEGER (the rowid alias) on SQLite.
BIG_ID = BigInteger().with_variant(Integer, "sqlite")


def text_enum(kind: type[enum.Enum], *, name: str | None = None, length: int = 20) -> Enum:
    """A Python enum stored as its values in a VARCHAR: no database enum type to migrate."""
    return Enum(kind, name=name, native_enum=False, length=length,
                values_callable=lambda members: [m.value for m in members])


SelectT = TypeVar("SelectT", bound=Select[Any])


def claiming(query: SelectT, session: Session) -> SelectT:
    """Lock the selected rows and skip those another worker holds (PostgreSQL), so several
    scheduler processes share a sweep; SQLite serialises writers (BEGIN IMMEDIATE) anyway."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def upsert_insert(session: Session) -> Callable[[Table], postgresql.Insert | sqlite.Insert]:
    """The dialect's ``insert`` with ON CONFLICT clauses (PostgreSQL and SQLite have both)."""
    if session.get_bind().dialect.name == "postgresql":
        return postgresql.insert
    return sqlite.insert


def rowcount(result: Result[Any]) -> int:
    """The rows an UPDATE or DELETE matched. ``Session.execute`` is typed to return a plain
    ``Result``; for those statements it is a ``CursorResult``, which counts them."""
    if not isinstance(result, CursorResult):
        raise TypeError(f"not the result of an UPDATE or DELETE: {type(result).__name__}")
    return result.rowcount


def insert_ignoring_conflicts(session, model, values: dict, returning=None):
    """INSERT … ON CONFLICT DO NOTHING (PostgreSQL and SQLite) in one statement, no savepoint.

    Returns the ``returning`` column of the new row, or None when a row with the same unique
    key exists (on PostgreSQL a concurrent insert of that key is waited for first).
    """
    # On the model's table: a plain statement skips the ORM's bulk-insert machinery (and
    # its autoflush), which costs more than the statement itself on hot paths.
    table = model.__table__
    statement = upsert_insert(session)(table).values(**values).on_conflict_do_nothing()
    if returning is None:
        session.execute(statement)
        return None
    return session.execute(statement.returning(table.c[returning.key])).scalar()


class Base(DeclarativeBase):
    """Base class of every model; constraint names are stable so migrations diff cleanly."""

    # SQLAlchemy types a model's __table__ as any FromClause, since a class may be mapped to
    # a join or a select; ours are all mapped to tables, so plain UPDATE, DELETE and INSERT
    # statements on Model.__table__ type-check (the advice of SQLAlchemy's maintainers).
    __table__: ClassVar[Table]

    registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION),
                        type_annotation_map={datetime: UTCDateTime()})


class TimestampMixin:
    """Creation and update times, set by the database layer from the one clock."""

    created_at: Mapped[datetime] = mapped_column(default=lambda: _now())
    updated_at: Mapped[datetime] = mapped_column(default=lambda: _now(), onupdate=lambda: _now())


def _now() -> datetime:
    from mall.core.clock import now

    return now()


# Whether SQLite transactions begun in this context only read. False everywhere but in
# reading requests: jobs, imports, commands and writing requests begin IMMEDIATE.
_reading: ContextVar[bool] = ContextVar("mall_sqlite_reading", default=False)
# Connection.info key: total_changes when the connection's deferred transaction began; None
# once it holds the write lock (or began with it).
_DEFERRED_SINCE = "mall_deferred_since"
# Statements that write, or set a savepoint a write will follow.
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "SAVEPOINT", "CREATE", "DROP", "ALTER")


def begin_reading(reading: bool = True) -> Token:
    """Make the SQLite transactions this context begins from here on deferred (``BEGIN``) when
    ``reading``, else ``BEGIN IMMEDIATE``; returns the token for ``end_reading``.

    A deferred transaction reads a snapshot and never waits for the write lock, so a page
    answers while an import holds it. Should it write after all, it first takes the lock
    (``configure_sqlite``).
    """
    return _reading.set(reading)


def end_reading(token: Token) -> None:
    """Back to what ``begin_reading`` found (BEGIN IMMEDIATE outside a reading request)."""
    _reading.reset(token)


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so concurrent writers queue instead of failing.

    pysqlite's own transaction handling starts transactions lazily with a plain BEGIN,
    which lets two writers both read and then fail with "database is locked" when one
    upgrades. We turn it off and emit BEGIN IMMEDIATE ourselves (the SQLAlchemy
    "Serializable isolation / Savepoints / Transactional DDL" recipe for pysqlite).

    Reading requests begin deferred instead (``begin_reading``). SQLite cannot upgrade a
    reader whose snapshot another writer has moved past: the write fails at once with
    SQLITE_BUSY instead of waiting. So the first write of a deferred transaction (a GET
    that marks the inbox read, a bearer token's last-use time) first ends the transaction,
    which has only read, and begins an IMMEDIATE one on the same connection, waiting for the
    lock like any writer; the session's pending changes are untouched. What it read before
    may have changed meanwhile, as between two statements under PostgreSQL's READ COMMITTED,
    which is why counters move by conditional UPDATEs and transitions lock their row.
    """
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA busy_timeout = 30000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        if _reading.get():
            connection.exec_driver_sql("BEGIN")
            connection.info[_DEFERRED_SINCE] = connection.connection.dbapi_connection.total_changes
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            connection.info[_DEFERRED_SINCE] = None

    @event.listens_for(engine, "before_cursor_execute")
    def _lock_before_writing(connection, _cursor, statement, _parameters, context, _many):
        since = connection.info.get(_DEFERRED_SINCE)
        if since is None or not _writes(statement, context):
            return
        connection.info[_DEFERRED_SINCE] = None
        raw = connection.connection.dbapi_connection
        if raw.total_changes == since:  # only read so far (a write would hold the lock already)
            raw.execute("COMMIT")
            raw.execute("BEGIN IMMEDIATE")


def _writes(statement: str, context) -> bool:
    if statement.lstrip()[:9].upper().startswith(_WRITES):
        return True
    return context is not None and bool(context.isinsert or context.isupdate or context.isdelete)
