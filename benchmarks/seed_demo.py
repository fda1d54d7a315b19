"""How long `mall seed-demo --offers N` takes, on SQLite and (with --postgres URL) PostgreSQL.

    .venv/bin/python benchmarks/seed_demo.py --offers 1000000 \
        [--postgres postgresql://postgres@127.0.0.1/mall_bench] [--skip-sqlite]

Each run uses a fresh database: migrations, catalogue, then the demo mall. Prints the
wall time, offers per second, the CPU time the seeding took in this process and, on
PostgreSQL, in the server process of its connection (CPU time is steadier than wall time
on a shared machine), and the peak resident memory of the process.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import fresh_postgres  # noqa: E402


def run(url: str, offers: int, label: str) -> None:
    from flask_migrate import upgrade

    from mall import create_app
    from mall.demo.seed import seed_demo
    from mall.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        backend = _backend_pid(db.session)
        server_cpu = _process_cpu(backend)
        own_cpu = time.process_time()
        started = time.perf_counter()
        seed_demo(db.session, offers=offers, seed=2026, password="Bench-Password-1",
                  echo=lambda _m: None)
        elapsed = time.perf_counter() - started
        own_cpu = time.process_time() - own_cpu
        if backend is not None and _backend_pid(db.session) == backend:
            server_cpu = f"{_process_cpu(backend) - server_cpu:.1f} s"
        else:
            server_cpu = "-"
        db.session.remove()
        db.engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<10} offers={offers:>9,}  seed time={elapsed:7.1f} s  "
          f"rate={offers / elapsed:>9,.0f} offers/s  CPU: seeding={own_cpu:.1f} s "
          f"server={server_cpu}  peak RSS={peak_mb:,.0f} MB", flush=True)


def _backend_pid(session) -> int | None:
    """The PostgreSQL server process of the session's connection (None on SQLite)."""
    from sqlalchemy import text

    if session.get_bind().dialect.name != "postgresql":
        return None
    return session.execute(text("SELECT pg_backend_pid()")).scalar()


def _process_cpu(pid: int | None) -> float:
    """User and system CPU seconds of a local process so far, from /proc."""
    if pid is None:
        return 0.0
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="", help="PostgreSQL URL (database re-created)")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MALL_VAR_DIR"] = tmp
        if not args.skip_sqlite:
            run(f"sqlite:///{tmp}/bench.db", args.offers, "SQLite")
    if args.postgres:
        from mall.config import normalise_database_url

        run(normalise_database_url(fresh_postgres(args.postgres)), args.offers, "PostgreSQL")


if __name__ == "__main__":
    main()
