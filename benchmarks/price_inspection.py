"""The daily price inspection over the demo mall of 1,000,000 offers on PostgreSQL.

    .venv/bin/python benchmarks/price_inspection.py \
        --postgres postgresql://postgres@127.0.0.1:5432/mall_bench_prices [--offers 1000000] [--reuse]

Seeds a fresh database with the demo mall (``--reuse``: keep the one there), then moves
prices as a month of a real mall would: the public price of 1 offer in 200 fell below the
mall price (a reference case), 1 in 1,000 is at 140 % of its reference (frozen at once),
and 1 in 500 of the products sold by four suppliers has one supplier a third above the
others (a peer-quartile case). Then it times three inspections: the first (every case
new, the frozen offers frozen), the next day's (nothing new: no second case), and one after
half the suppliers with cases cut their prices (cases resolved). Prints wall time, the CPU
of this process and of the PostgreSQL server process of the connection, and the counts.
Target: one inspection of 1M offers in ≤ 60 s.
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
from benchmarks.seed_demo import _backend_pid, _process_cpu  # noqa: E402

TARGET_S = 60.0


def _seed(db, offers: int) -> None:
    from flask_migrate import upgrade

    import mall.demo.seed as demo

    upgrade()
    demo.seed_prices = lambda _session: "prices: left to the benchmark"  # timed below instead
    started = time.perf_counter()
    demo.seed_demo(db.session, offers=offers, seed=2026, password="Bench-Password-1",
                   echo=lambda _m: None)
    print(f"seeded {offers:,} offers in {time.perf_counter() - started:.0f} s", flush=True)


def _move_prices(session) -> None:
    """Reference cases, frozen offers and peer cases, spread over the whole table."""
    from sqlalchemy import text

    # A rerun (--reuse) lists again what the last run froze.
    session.execute(text("UPDATE offers SET status = 'listed', held_by_operator = false "
                         "WHERE status = 'frozen'"))
    session.execute(text(
        "UPDATE offers SET reference_price_fen = GREATEST(price_fen * 100 / 110, 1) "
        "WHERE status = 'listed' AND id % 200 = 0"))
    session.execute(text(
        "UPDATE offers SET price_fen = reference_price_fen * 140 / 100 "
        "WHERE status = 'listed' AND id % 1000 = 7"))
    session.execute(text(
        "UPDATE offers SET price_fen = price_fen * 4 / 3, reference_price_fen = price_fen * 2 "
        "WHERE id IN (SELECT min(id) FROM offers WHERE status = 'listed' GROUP BY product_id "
        "HAVING count(DISTINCT supplier_id) = 4 AND min(id) % 500 = 3)"))
    session.execute(text("DELETE FROM price_cases"))
    session.execute(text("DELETE FROM price_inspections"))
    session.commit()


def _cut_prices(session) -> None:
    """Half the offers with an open case cut their price: to 90 % of their reference price,
    or back to what they asked before the move above their peers."""
    from sqlalchemy import text

    session.execute(text(
        "UPDATE offers SET price_fen = CASE WHEN c.reasons::text LIKE '%above_reference%' "
        "THEN GREATEST(offers.reference_price_fen * 90 / 100, 1) "
        "ELSE GREATEST(offers.price_fen * 3 / 4, 1) END "
        "FROM price_cases c WHERE c.offer_id = offers.id AND c.status = 'open' "
        "AND c.id % 2 = 0"))
    session.commit()


def _timed(db, label: str):
    from supervision.prices.services import run_inspection

    session = db.session
    backend = _backend_pid(session)
    server_before, own_before = _process_cpu(backend), time.process_time()
    started = time.perf_counter()
    inspection = run_inspection(session)
    session.commit()
    elapsed = time.perf_counter() - started
    own = time.process_time() - own_before
    server = (f"{_process_cpu(backend) - server_before:.1f} s"
              if _backend_pid(session) == backend else "-")
    verdict = "ok" if elapsed <= TARGET_S else "MISSED"
    print(f"{label:<22} offers={inspection.offers_inspected:>9,}  time={elapsed:6.1f} s "
          f"({verdict}, target ≤ {TARGET_S:.0f} s)  CPU: process={own:.1f} s server={server}  "
          f"opened={inspection.cases_opened:,} frozen={inspection.frozen:,} "
          f"resolved={inspection.resolved:,}", flush=True)
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--offers", type=int, default=1_000_000)
    parser.add_argument("--postgres", required=True, help="PostgreSQL URL")
    parser.add_argument("--reuse", action="store_true", help="keep a seeded database")
    args = parser.parse_args()
    from mall import create_app
    from mall.config import normalise_database_url

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MALL_VAR_DIR"] = tmp
        url = args.postgres if args.reuse else fresh_postgres(args.postgres)
        app = create_app({"SQLALCHEMY_DATABASE_URI": normalise_database_url(url)})
        from mall.extensions import db

        with app.app_context():
            if not args.reuse:
                _seed(db, args.offers)
            _move_prices(db.session)
            _timed(db, "first inspection")
            _timed(db, "next day (no change)")
            _cut_prices(db.session)
            _timed(db, "after price cuts")
            db.session.remove()
            db.engine.dispose()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of the process: {peak_mb:,.0f} MB")


if __name__ == "__main__":
    main()
