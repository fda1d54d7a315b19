"""How long `mall seed-demo --offers N` takes, on SQLite and (with --postgres URL) PostgreSQL.

    .venv/bin/python benchmarks/seed_demo.py --offers 1000000 [--postgres postgresql://postgres@127.0.0.1/mall_bench]

Each run uses a fresh database: migrations, catalogue, then the demo mall. Prints the
wall time, offers per second and the peak resident memory of the process.
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
        started = time.perf_counter()
        seed_demo(db.session, offers=offers, seed=2026, password="Bench-Password-1",
                  echo=lambda _m: None)
        elapsed = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label:<10} offers={offers:>9,}  seed time={elapsed:7.1f} s  "
          f"rate={offers / elapsed:>9,.0f} offers/s  peak RSS={peak_mb:,.0f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="", help="PostgreSQL URL (database re-created)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MALL_VAR_DIR"] = tmp
        run(f"sqlite:///{tmp}/bench.db", args.offers, "SQLite")
    if args.postgres:
        from mall.config import normalise_database_url

        run(normalise_database_url(fresh_postgres(args.postgres)), args.offers, "PostgreSQL")


if __name__ == "__main__":
    main()
