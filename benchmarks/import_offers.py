"""Bulk import of a million offer rows and batch price updates, on SQLite and PostgreSQL.

    .venv/bin/python benchmarks/import_offers.py [--rows 1000000] [--postgres postgresql://postgres@127.0.0.1:5432/mall_bench]

Each database is fresh (migrations, catalogue, one supplier admitted for the ~230 demo
categories). A realistic CSV (demo products, ~3 % invalid rows) is written once; the
import runs through ``run_import`` in a child process, so its wall time and peak RSS
cover the import alone. The same file is then imported again (everything unchanged),
and prices of 200,000 offers are updated through ``update_prices``, 10,000 per call.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import fresh_postgres  # noqa: E402

ATTRIBUTES = ("类型", "颜色", "包装", "材质", "规格", "接口", "容量", "功能", "硬盘", "内存", "CPU",
              "克重")
HEADER = ("supplier_sku", "category_code", "brand", "model", "title", "price", "reference_price",
          "reference_url", "reference_date", "stock", "unit", "delivery_regions",
          "lead_time_days", "warranty_months", "barcode", *(f"attr:{a}" for a in ATTRIBUTES))
PRICE_BATCH = 10_000



def settle_postgres(url: str) -> None:
    """VACUUM ANALYZE between phases when the server's autovacuum is off (not timed).

    The imports leave a million new rows and, on a re-import or price run, dead row
    versions; a server with autovacuum on (the default) analyses and vacuums them by
    itself. Without statistics the planner picks the per-supplier index over the
    (supplier, SKU) one and price updates run at two thirds of the speed.
    """
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        if conn.execute("SHOW autovacuum").fetchone()[0] == "off":
            conn.execute("VACUUM ANALYZE")
            print("PostgreSQL autovacuum is off here: ran VACUUM ANALYZE (not timed)", flush=True)


def write_csv(path: Path, rows: int, seed: int = 2026) -> int:
    """A supplier's catalogue export: demo products, ~3 % of rows broken in typical ways."""
    from mall.demo.products import generate_products

    rnd = random.Random(seed)
    invalid = 0
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for n, product in enumerate(generate_products(rows, seed=seed), 1):
            reference = product.reference_price_fen
            price = reference - reference * rnd.randint(0, 15) // 100
            row = [f"SKU{n:08d}", product.category_code, product.brand, product.model,
                   product.title, f"{price // 100}.{price % 100:02d}",
                   f"{reference // 100}.{reference % 100:02d}",
                   f"https://item.example.cn/{n}.html", f"2026-11-{rnd.randint(1, 20):02d}",
                   rnd.choice((0, 5, 20, 50, 100, 200, 500)), product.unit,
                   "430000,440000", rnd.choice((1, 2, 3, 5, 7)), rnd.choice((0, 12, 24, 36)),
                   f"69{rnd.randrange(10**10, 10**11)}" if rnd.random() < 0.3 else "",
                   *(product.attributes.get(a, "") for a in ATTRIBUTES)]
            broken = rnd.random()
            if broken < 0.03:
                invalid += 1
                kind = int(broken * 1000) % 6
                if kind == 0:
                    row[5] = f"{price / 100:.3f}"  # sub-fen price
                elif kind == 1:
                    row[4] = ""  # no title
                elif kind == 2:
                    row[1] = "A9999"  # not a category code
                elif kind == 3:
                    row[9] = "-5"  # negative stock
                elif kind == 4:
                    row[0] = f"SKU{max(n - 7, 1):08d}"  # SKU already used above
                else:
                    row[1] = "A01010101"  # a real leaf, but not sold in the mall
            writer.writerow(row)
    return invalid


def prepare(url: str, var_dir: Path):
    """A fresh, migrated database with the catalogue and one supplier admitted for the demo."""
    from flask_migrate import upgrade

    from catalog.services import get_category, load_catalogue, set_categories_enabled
    from mall import create_app
    from mall.accounts import services as accounts
    from mall.core.auth import OrganisationKind, Role
    from mall.demo.products import enabled_category_codes
    from mall.extensions import db
    from suppliers.admission import admit

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MALL_VAR_DIR": str(var_dir)})
    with app.app_context():
        upgrade()
        session = db.session
        load_catalogue(session)

        def member(kind, login, roles):
            org = accounts.create_organisation(
                session, kind=kind, name=f"bench {login}",
                credit_code=_credit_code(kind), region_code="430100", region_name="长沙市")
            return accounts.create_user(session, organisation=org, login=login,
                                        display_name=login, password="", roles=roles,
                                        password_hash="x")

        operator = accounts.actor_for(member(OrganisationKind.OPERATOR, "bench-operator",
                                             [Role.OPERATOR]))
        supplier = member(OrganisationKind.SUPPLIER, "bench-supplier", [Role.SUPPLIER_ADMIN])
        codes = enabled_category_codes()
        set_categories_enabled(session, operator, codes=codes, enabled=True)
        for code in codes:
            admit(session, operator, supplier_id=supplier.organisation_id,
                  category_id=get_category(session, code).id)
        actor = accounts.actor_for(supplier)
        session.commit()
        session.remove()
    return app, actor


def _credit_code(kind) -> str:
    from stdnum.cn import uscc

    from mall.core.auth import OrganisationKind

    body = ("91" if kind is OrganisationKind.SUPPLIER else "12") + f"430100{random.randrange(10**9):09d}"
    return body + uscc.calc_check_digit(body)


def upload(app, actor, csv_path: Path) -> int:
    from mall.extensions import db
    from suppliers.imports.service import create_import_job

    with app.app_context(), csv_path.open("rb") as stream:
        job = create_import_job(db.session, actor, filename="offers.csv", stream=stream,
                                locale="zh_Hans_CN", var_dir=app.config["MALL_VAR_DIR"],
                                max_bytes=app.config["IMPORT_MAX_BYTES"])
        job_id = job.id
        db.session.commit()
        db.session.remove()
    return job_id


def child_import(url: str, var_dir: str, job_id: int) -> None:
    """Run one import in this (child) process and print its figures as JSON."""
    from mall import create_app
    from mall.extensions import db
    from suppliers.imports.service import run_import

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "MALL_VAR_DIR": var_dir})
    with app.app_context():
        started = time.perf_counter()
        job = run_import(db.session, job_id, var_dir=var_dir)
        elapsed = time.perf_counter() - started
        figures = {"elapsed": elapsed, "status": job.status.value, "failure": job.failure,
                   "rows": job.rows_done, "created": job.rows_created,
                   "updated": job.rows_updated, "unchanged": job.rows_unchanged,
                   "invalid": job.rows_invalid, "in_review": job.rows_in_review,
                   "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
        db.session.remove()
        db.engine.dispose()
    print(json.dumps(figures))


def timed_import(url: str, var_dir: Path, job_id: int) -> dict:
    output = subprocess.run(
        [sys.executable, __file__, "--child-import", str(job_id), "--url", url,
         "--var-dir", str(var_dir)], check=True, capture_output=True, text=True,
        env={**os.environ, "MALL_VAR_DIR": str(var_dir)})
    return json.loads(output.stdout.strip().splitlines()[-1])


def price_updates(app, actor, total: int) -> tuple[float, int]:
    """Change price and stock of ``total`` offers, 10,000 per update_prices call."""
    from sqlalchemy import select

    from catalog.models import Offer
    from mall.extensions import db
    from suppliers.listings import PriceStockUpdate, update_prices

    rnd = random.Random(7)
    with app.app_context():
        session = db.session
        offers = session.execute(select(Offer.supplier_sku, Offer.price_fen)
                                 .where(Offer.supplier_id == actor.organisation_id)
                                 .order_by(Offer.id).limit(total)).all()
        session.commit()
        batches = [[PriceStockUpdate(sku, price_fen=max(price - price * rnd.randint(1, 5) // 100, 1),
                                     stock=rnd.randint(0, 500))
                    for sku, price in offers[i:i + PRICE_BATCH]]
                   for i in range(0, len(offers), PRICE_BATCH)]
        started = time.perf_counter()
        for batch in batches:
            update_prices(session, actor, supplier_id=actor.organisation_id, updates=batch)
            session.commit()
        elapsed = time.perf_counter() - started
        session.remove()
    return elapsed, len(offers)


def run(url: str, label: str, csv_path: Path, rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        var_dir = Path(tmp)
        app, actor = prepare(url, var_dir)
        first = timed_import(url, var_dir, upload(app, actor, csv_path))
        print(f"{label:<10} import   rows={first['rows']:>9,}  time={first['elapsed']:7.1f} s  "
              f"rate={first['rows'] / first['elapsed']:>8,.0f} rows/s  "
              f"peak RSS={first['peak_mb']:,.0f} MB  created={first['created']:,} "
              f"invalid={first['invalid']:,} in_review={first['in_review']:,} "
              f"status={first['status']}{' ' + first['failure'] if first['failure'] else ''}",
              flush=True)
        if label == "PostgreSQL":
            settle_postgres(url)
        again = timed_import(url, var_dir, upload(app, actor, csv_path))
        print(f"{label:<10} re-import rows={again['rows']:>8,}  time={again['elapsed']:7.1f} s  "
              f"rate={again['rows'] / again['elapsed']:>8,.0f} rows/s  "
              f"peak RSS={again['peak_mb']:,.0f} MB  created={again['created']:,} "
              f"updated={again['updated']:,} unchanged={again['unchanged']:,}", flush=True)
        if label == "PostgreSQL":
            settle_postgres(url)
        elapsed, count = price_updates(app, actor, min(200_000, first["created"]))
        print(f"{label:<10} prices   offers={count:>8,}  time={elapsed:7.1f} s  "
              f"rate={count / elapsed:>8,.0f} offers/s ({PRICE_BATCH:,} per call)", flush=True)
        from mall.extensions import db

        with app.app_context():
            db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--postgres", default="", help="PostgreSQL URL (database re-created)")
    parser.add_argument("--child-import", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--var-dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        child_import(args.url, args.var_dir, args.child_import)
        return
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["MALL_VAR_DIR"] = tmp
        csv_path = Path(tmp) / "offers.csv"
        started = time.perf_counter()
        invalid = write_csv(csv_path, args.rows)
        print(f"CSV: {args.rows:,} rows ({invalid:,} broken on purpose), "
              f"{csv_path.stat().st_size / 1e6:,.0f} MB, written in "
              f"{time.perf_counter() - started:.1f} s (not counted)", flush=True)
        run(f"sqlite:///{tmp}/bench.db", "SQLite", csv_path, args.rows)
        if args.postgres:
            from mall.config import normalise_database_url

            run(normalise_database_url(fresh_postgres(args.postgres)), "PostgreSQL", csv_path,
                args.rows)


if __name__ == "__main__":
    main()
