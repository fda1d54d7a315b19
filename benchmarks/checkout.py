"""Concurrent checkouts through the HTTP API under gunicorn: no oversell, everything accounted.

    .venv/bin/python benchmarks/checkout.py [--clients 32] [--workers N] [--runs 3]
        [--postgres postgresql://postgres@127.0.0.1:5432/mall_bench_checkout] [--skip-sqlite]

For each database (PostgreSQL, then SQLite): a fresh database with the demo mall, 10
offers of different suppliers with 100 units of stock each, 32 purchasing units with a
budget line and an API token each. gunicorn serves the app; 32 client threads each POST
/api/v1/orders/checkout (an Idempotency-Key per checkout, 1-3 units of one random offer)
until the offers are sold out; the clock runs from the first request to the last checkout
created, after every worker has booted and run the checkout path once. Then the database is
checked: no offer below zero, every unit sold is on an order line, every order's amount is
reserved on its budget line and counted in the unit's running total for its category. Each
database is run --runs times (fresh each time) and the median reported: on a shared 2-core
machine single runs scatter by +-15 %.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import free_port, fresh_postgres  # noqa: E402

OFFERS, STOCK = 10, 100




def prepare(database_url: str, var_dir: str, clients: int) -> dict:
    """Demo mall, the 10 offers on sale, one unit + budget line + token per client."""
    from flask_migrate import upgrade
    from sqlalchemy import select, update

    from catalog.models import Offer, OfferStatus
    from mall import create_app
    from mall.accounts.models import User
    from mall.accounts.services import actor_for, issue_token
    from mall.demo.seed import seed_demo
    from mall.extensions import db
    from mall.purchasing.budget import services as budget
    from mall.purchasing.orders.checkout import fiscal_year

    os.environ["MALL_VAR_DIR"] = var_dir
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        seed_demo(db.session, offers=2000, seed=2026, password="Bench-Password-1",
                  echo=lambda _m: None)
        session = db.session
        chosen, suppliers = [], set()
        for offer in session.scalars(select(Offer).where(Offer.status == OfferStatus.LISTED,
                                                         Offer.suspended.is_(False))
                                     .order_by(Offer.id)):
            if offer.supplier_id not in suppliers or len(suppliers) >= 10:
                chosen.append(offer.id)
                suppliers.add(offer.supplier_id)
            if len(chosen) == OFFERS:
                break
        session.execute(update(Offer).values(stock=0))
        session.execute(update(Offer).where(Offer.id.in_(chosen)).values(stock=STOCK))
        tokens = []
        approvers = list(session.scalars(select(User).where(User.login.like("unit%-approver"))
                                         .order_by(User.id)))[:clients]
        for user in approvers:
            actor = actor_for(user)
            line = budget.create_budget_line(
                session, actor, fiscal_year=fiscal_year(), project_code="BENCH-01",
                project_name="压力测试", category_code="A00000000", amount_fen=10**11)
            _token, secret = issue_token(session, actor, name="bench", scopes=["orders:read",
                                                                             "orders:write"])
            tokens.append((secret, line.id))
        session.commit()
        prices = dict(session.execute(select(Offer.id, Offer.price_fen)
                                      .where(Offer.id.in_(chosen))).all())
        sold_out = session.scalar(select(Offer.id).where(
            Offer.status == OfferStatus.LISTED, Offer.suspended.is_(False),
            Offer.id.not_in(chosen)).limit(1))
        db.session.remove()
    return {"offers": chosen, "tokens": tokens, "prices": prices, "sold_out": sold_out}


def serve(database_url: str, var_dir: str, workers: int, threads: int) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "MALL_VAR_DIR": var_dir,
           "SCHEDULER_ENABLED": "0", "RATELIMIT_ENABLED": "0"}
    process = subprocess.Popen(
        [str(Path(sys.executable).with_name("gunicorn")), "-w", str(workers), "--threads",
         str(threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning", "mall:create_app()"],
        cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return process, port
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("gunicorn did not start")


def cpu_seconds() -> dict[str, float]:
    """CPU time used so far by every process, summed by command name (Linux /proc), to show
    where a checkout's CPU goes: the app's workers, PostgreSQL, this load generator."""
    tick = os.sysconf("SC_CLK_TCK")
    used: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        used[name] = used.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return used


def warm_up(port: int, setup: dict, workers: int) -> None:
    """Let every worker boot and run the checkout path once before the clock starts: each
    of 4 x workers connections reads the budget lines and tries to buy an offer that has no
    stock (refused and rolled back, so nothing changes)."""

    def visit(number: int) -> None:
        token, line_id = setup["tokens"][number % len(setup["tokens"])]
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        for _ in range(5):
            connection.request("GET", "/api/v1/budget-lines", headers=headers)
            connection.getresponse().read()
            body = json.dumps({"budget_line_id": line_id, "delivery_address": "长沙市芙蓉区",
                               "contact": "预热", "items": [{"offer_id": setup["sold_out"],
                                                            "quantity": 1}]})
            connection.request("POST", "/api/v1/orders/checkout", body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != 409:
                raise SystemExit(f"warm-up checkout answered {response.status}, not 409")
        connection.close()

    threads = [threading.Thread(target=visit, args=(n,)) for n in range(4 * workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_clients(port: int, setup: dict, clients: int) -> dict:
    outcomes: dict[str, int] = {}
    latencies: list[float] = []
    lock = threading.Lock()
    last_success = [0.0]
    start = time.perf_counter()

    def client(number: int) -> None:
        token, line_id = setup["tokens"][number % len(setup["tokens"])]
        rng = random.Random(number)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        sold_out_streak = 0
        while sold_out_streak < 8:
            body = json.dumps({"budget_line_id": line_id, "delivery_address": "长沙市芙蓉区",
                               "contact": "压测 13800000000",
                               "items": [{"offer_id": rng.choice(setup["offers"]),
                                          "quantity": rng.randint(1, 3)}]})
            began = time.perf_counter()
            connection.request("POST", "/api/v1/orders/checkout", body=body, headers={
                "Authorization": f"Bearer {token}", "Content-Type": "application/json",
                "Idempotency-Key": str(uuid.uuid4())})
            response = connection.getresponse()
            answer = response.read()
            elapsed = time.perf_counter() - began
            code = "created" if response.status == 201 else (
                json.loads(answer).get("code", str(response.status)) if answer else str(response.status))
            with lock:
                outcomes[code] = outcomes.get(code, 0) + 1
                latencies.append(elapsed * 1000)
                if response.status == 201:
                    last_success[0] = time.perf_counter()
            sold_out_streak = sold_out_streak + 1 if code == "out_of_stock" else 0
        connection.close()

    threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    selling = last_success[0] - start
    return {"outcomes": outcomes, "latencies": latencies, "selling_seconds": selling}


def verify(database_url: str, setup: dict) -> dict:
    """Stock never below zero; every unit and fen accounted for."""
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.connect() as conn:
        ids = ",".join(str(i) for i in setup["offers"])
        stock = dict(conn.execute(text(f"SELECT id, stock FROM offers WHERE id IN ({ids})")).all())
        sold = dict(conn.execute(text(
            f"SELECT l.offer_id, SUM(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id "
            f"WHERE l.offer_id IN ({ids}) GROUP BY l.offer_id")).all())
        orders = conn.execute(text("SELECT COUNT(*), COALESCE(SUM(total_fen), 0) FROM orders")).one()
        reserved = conn.execute(text("SELECT COALESCE(SUM(reserved_fen), 0) FROM budget_lines")).scalar()
        counted = conn.execute(text("SELECT COALESCE(SUM(total_fen), 0) FROM category_spend")).scalar()
        priced = conn.execute(text(
            "SELECT COUNT(*) FROM order_lines l JOIN offers f ON f.id = l.offer_id "
            "WHERE l.unit_price_fen <> f.price_fen")).scalar()
    engine.dispose()
    problems = []
    if any(v < 0 for v in stock.values()):
        problems.append("an offer went below zero")
    for offer_id in setup["offers"]:
        if STOCK - stock[offer_id] != int(sold.get(offer_id, 0)):
            problems.append(f"offer {offer_id}: {STOCK - stock[offer_id]} taken, "
                            f"{sold.get(offer_id, 0)} on orders")
    if int(reserved) != int(orders[1]):
        problems.append(f"budget reserved {reserved} != order totals {orders[1]}")
    if int(counted) != int(orders[1]):
        problems.append(f"running totals {counted} != order totals {orders[1]}")
    if priced:
        problems.append(f"{priced} order lines not at the offer's price")
    return {"left": sum(stock.values()), "sold": sum(int(v) for v in sold.values()),
            "orders": orders[0], "amount_fen": int(orders[1]), "problems": problems}


def bench(label: str, database_url: str, clients: int, workers: int, threads: int) -> dict:
    var_dir = tempfile.mkdtemp(prefix=f"checkout-{label}-")
    setup = prepare(database_url, var_dir, clients)
    process, port = serve(database_url, var_dir, workers, threads)
    try:
        warm_up(port, setup, workers)
        before = cpu_seconds() if Path("/proc/self/stat").exists() else {}
        run = run_clients(port, setup, clients)
        after = cpu_seconds() if before else {}
    finally:
        process.terminate()
        process.wait(timeout=30)
    check = verify(database_url, setup)
    created = run["outcomes"].get("created", 0)
    lat = run["latencies"]
    cpu = {name: after[name] - before.get(name, 0.0) for name in ("gunicorn", "postgres", "python")
           if name in after}
    return {"label": label, "created": created, "outcomes": run["outcomes"], "cpu": cpu,
            "per_second": created / run["selling_seconds"] if run["selling_seconds"] else 0.0,
            "p50": statistics.median(lat), "p95": sorted(lat)[int(0.95 * (len(lat) - 1))],
            **check}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=1, help="gunicorn threads per worker")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs per database, each on a fresh database (the median is reported)")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/mall_bench_checkout")
    parser.add_argument("--skip-sqlite", action="store_true")
    args = parser.parse_args()
    from mall.config import normalise_database_url

    results = []
    for run in range(1, args.runs + 1):
        if args.postgres:
            url = normalise_database_url(fresh_postgres(args.postgres))
            results.append({**bench("PostgreSQL", url, args.clients, args.workers, args.threads),
                            "run": run})
        if not args.skip_sqlite:
            db_file = Path(tempfile.mkdtemp(prefix="checkout-sqlite-")) / "bench.db"
            results.append({**bench("SQLite", f"sqlite:///{db_file}", args.clients, args.workers,
                                    args.threads), "run": run})
    print(f"\n{args.clients} clients, gunicorn -w {args.workers} --threads {args.threads}, "
          f"{OFFERS} offers x {STOCK} units, 1-3 units per checkout; CPU = milliseconds of CPU "
          "per checkout created, by all processes of that name while the clients ran\n")
    print("| database | run | checkouts created | checkouts/s | p50 / p95 ms | units sold / left "
          "| refusals | CPU gunicorn / postgres / clients | accounted |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        refusals = ", ".join(f"{k} {v}" for k, v in sorted(r["outcomes"].items()) if k != "created")
        cpu = " / ".join(f"{r['cpu'].get(name, 0.0) / max(r['created'], 1) * 1000:.1f}"
                         for name in ("gunicorn", "postgres", "python"))
        print(f"| {r['label']} | {r['run']} | {r['created']} | {r['per_second']:.1f} | "
              f"{r['p50']:.0f} / {r['p95']:.0f} | {r['sold']} / {r['left']} | {refusals} | {cpu} | "
              f"{'yes' if not r['problems'] else '; '.join(r['problems'])} |")
    for label in ("PostgreSQL", "SQLite"):
        rates = [r["per_second"] for r in results if r["label"] == label]
        if rates:
            print(f"\n{label}: median {statistics.median(rates):.1f} checkouts/s over {len(rates)} "
                  f"runs (min {min(rates):.1f}, max {max(rates):.1f})")
    if any(r["problems"] for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
