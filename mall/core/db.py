"""Declarative base, column types and the SQLite settings every connection gets."""

from __future__ import annotations

import enum
from datetime import UTC, datetime

from sqlalchemy import BigInteger, DateTime, Enum, Integer, MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry
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


def claiming(query, session):
    """Lock the selected rows and skip those another worker holds (PostgreSQL), so several
    scheduler processes share a sweep; SQLite serialises writers (BEGIN IMMEDIATE) anyway."""
    if session.get_bind().dialect.name == "postgresql":
        return query.with_for_update(skip_locked=True)
    return query


def upsert_insert(session):
    """The dialect's ``insert`` with ON CONFLICT clauses (PostgreSQL and SQLite have both)."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert


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

    registry = registry(metadata=MetaData(naming_convention=NAMING_CONVENTION),
                        type_annotation_map={datetime: UTCDateTime()})


class TimestampMixin:
    """Creation and update times, set by the database layer from the one clock."""

    created_at: Mapped[datetime] = mapped_column(default=lambda: _now())
    updated_at: Mapped[datetime] = mapped_column(default=lambda: _now(), onupdate=lambda: _now())


def _now() -> datetime:
    from mall.core.clock import now

    return now()


def configure_sqlite(engine: Engine) -> None:
    """WAL, foreign keys, and BEGIN IMMEDIATE so concurrent writers queue instead of failing.

    pysqlite's own transaction handling starts transactions lazily with a plain BEGIN,
    which lets two writers both read and then fail with "database is locked" when one
    upgrades. We turn it off and emit BEGIN IMMEDIATE ourselves (the SQLAlchemy
    "Serializable isolation / Savepoints / Transactional DDL" recipe for pysqlite).
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
        connection.exec_driver_sql("BEGIN IMMEDIATE")
