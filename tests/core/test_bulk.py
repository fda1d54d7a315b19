"""Bulk SQL (mall.core.bulk) stores and finds the same rows on SQLite and PostgreSQL: every
column type the mall uses, values left out, returned keys, updates by id, long lookups.

The tests run on the suite's database (TEST_DATABASE_URL picks PostgreSQL, where the
unnest() statements run); the scratch table lives in the test's rolled-back transaction.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import JSON, BigInteger, Column, Date, Integer, MetaData, String, Table, select
from sqlalchemy.exc import StatementError

from mall.core import bulk
from mall.core.db import UTCDateTime, text_enum


class Colour(enum.StrEnum):
    RED = "red"
    BLUE = "blue"


SCRATCH = Table(
    "bulk_scratch", MetaData(),
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("code", String(20), nullable=False, unique=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("colour", text_enum(Colour), nullable=False),
    Column("tags", JSON),
    Column("seen_at", UTCDateTime()),
    Column("due_on", Date),
    Column("note", String(50)),
    Column("quantity", Integer, default=7),
)
MOMENT = datetime(2026, 11, 23, 2, 30, tzinfo=UTC)


@pytest.fixture
def scratch(session):
    SCRATCH.create(session.connection())
    return session


def _rows(count: int, start: int = 0) -> list[dict]:
    return [{"code": f"C{n:05d}", "amount_fen": 10_000_000_000 + n,
             "colour": Colour.RED if n % 2 else Colour.BLUE,
             "tags": ["紧急", str(n)] if n % 3 else None,
             "seen_at": MOMENT + timedelta(seconds=n) if n % 5 else None,
             "due_on": date(2026, 12, 1), "note": None if n % 2 else f"备注{n}"}
            for n in range(start, start + count)]


def _stored(session) -> dict[str, dict]:
    return {row.code: row._asdict() for row in session.execute(select(SCRATCH))}


def test_inserted_rows_read_back_as_given_and_their_keys_come_back(scratch):
    rows = _rows(3_000)
    returned = bulk.insert(scratch, SCRATCH, rows, "id", "code")
    assert len(returned) == 3_000
    stored = _stored(scratch)
    assert {code: id_ for id_, code in returned} == {c: r["id"] for c, r in stored.items()}
    for row in rows:
        kept = stored[row["code"]]
        assert {name: kept[name] for name in row} == row
        assert kept["quantity"] == 7  # left out: the column's default, as the ORM would


def test_an_insert_without_returning_answers_nothing_and_an_empty_one_does_nothing(scratch):
    assert bulk.insert(scratch, SCRATCH, _rows(5)) == []
    assert bulk.insert(scratch, SCRATCH, [], "id") == []
    assert len(_stored(scratch)) == 5


def test_a_naive_time_is_refused_as_by_the_orm(scratch):
    row = {**_rows(1)[0], "seen_at": datetime(2026, 11, 23, 10, 0)}
    with pytest.raises((ValueError, StatementError), match="naive datetimes are refused"):
        bulk.insert(scratch, SCRATCH, [row])


def test_updates_by_id_change_only_the_given_columns_of_each_row(scratch):
    ids = {code: id_ for id_, code in bulk.insert(scratch, SCRATCH, _rows(2_000), "id", "code")}
    code_of = {id_: code for code, id_ in ids.items()}
    before = _stored(scratch)
    changes = [{"id": ids[f"C{n:05d}"], "amount_fen": n, "colour": Colour.RED,
                "tags": ["改"], "seen_at": MOMENT} for n in range(0, 2_000, 2)]
    # Rows with other keys go in their own statement.
    changes += [{"id": ids[f"C{n:05d}"], "note": None, "due_on": None}
                for n in range(1, 2_000, 2)]
    given = [dict(change) for change in changes]
    bulk.update(scratch, SCRATCH, changes)
    assert changes == given  # the caller's rows are left as they were
    after = _stored(scratch)
    for change in changes:
        code = code_of[change["id"]]
        assert after[code] == {**before[code], **change}


def test_among_finds_rows_by_many_more_values_than_an_in_list_holds(scratch):
    ids = [id_ for id_, in bulk.insert(scratch, SCRATCH, _rows(40_000), "id")]
    wanted = set(ids[::2]) | {-1, 10**15}  # values with no row are simply not found
    found = scratch.scalars(select(SCRATCH.c.id).where(bulk.among(scratch, SCRATCH.c.id,
                                                                  wanted))).all()
    assert sorted(found) == sorted(ids[::2])
    codes = [f"C{n:05d}" for n in range(0, 40_000, 3)]
    assert len(scratch.scalars(select(SCRATCH.c.code).where(
        bulk.among(scratch, SCRATCH.c.code, codes))).all()) == len(codes)
    assert scratch.scalars(select(SCRATCH.c.id).where(
        bulk.among(scratch, SCRATCH.c.id, []))).all() == []
