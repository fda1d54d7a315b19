"""SQLite runs in WAL mode with foreign keys, and concurrent writers queue instead of failing."""

import threading

import pytest
from sqlalchemy import create_engine, text

from mall.core.db import configure_sqlite


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'w.db'}")
    configure_sqlite(engine)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
        conn.execute(text("CREATE TABLE child (id INTEGER PRIMARY KEY, "
                          "parent INTEGER REFERENCES counter(id))"))
    yield engine
    engine.dispose()


def test_connections_use_wal_and_enforce_foreign_keys(engine):
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    with pytest.raises(Exception, match="FOREIGN KEY"), engine.begin() as conn:
        conn.execute(text("INSERT INTO child VALUES (1, 999)"))


def test_concurrent_read_modify_write_transactions_queue_and_lose_no_update(engine):
    """With BEGIN IMMEDIATE the second writer waits for the lock at BEGIN, so a
    read-then-write transaction never fails half way with 'database is locked'."""
    errors: list[Exception] = []
    barrier = threading.Barrier(8)

    def worker():
        barrier.wait()
        for _ in range(25):
            try:
                with engine.begin() as conn:
                    n = conn.execute(text("SELECT n FROM counter WHERE id = 1")).scalar()
                    conn.execute(text("UPDATE counter SET n = :n WHERE id = 1"), {"n": n + 1})
            except Exception as exc:  # collected and asserted below
                errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM counter")).scalar() == 200
