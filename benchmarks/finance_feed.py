"""A bank pulls 100,000 contracts of consenting suppliers through the financing feed.

    .venv/bin/python benchmarks/finance_feed.py [--contracts 100000] [--page 1000] [--http]
        [--postgres postgresql://postgres@127.0.0.1:5432/mall_bench_finance] [--profile]

A fresh PostgreSQL database with the demo mall (10 suppliers, 50 units, the demo's banks),
and a benchmark bank (finance partner with a user, an API token and a webhook endpoint) to
which every demo supplier consents for all its contracts (consent.grant). One order is made
through the services (cart, checkout, confirm, both signatures: the order, its lines, its
contract, its payee account, its timeline and its ``order.changed`` events); the other
--contracts are written in bulk with the same columns, one signed order of one to three
offers of its supplier each, bought by one of the 50 units, with its contract, payee
account entry, timeline entries and one ``order.changed`` event (step ``signed``). A sample
of them is then read through the services: the contract by its number (feed.contract), and a
loan applied for against it (savepoint, rolled back) - the order is financeable, the bank's
access holds. Budget totals and notices are not bulk-written: the feed reads neither. The
tables are then ANALYZEd (--no-analyze: not), as autovacuum would have done in production.

Then:
1. sequencing: financing.feed.sequence_changes (the job financing.sequence) one batch after
   another until nothing waits; each batch one transaction, as the job commits it (the
   webhook events for the bank's endpoint are queued in the same transaction);
2. the pull: the bank reads the whole feed through financing.feed.pull in pages of --page,
   each page one transaction (as one API request), with wall and CPU time per page, the
   process's peak memory, and tracemalloc's peak over one page;
3. with --http, the same through GET /api/v1/finance/contracts with the bank's token (the
   Flask test client: the request's whole stack, JSON included, without a socket; the rate
   limit off).
"""

from __future__ import annotations

import argparse
import random
import resource
import statistics
import sys
import time
import tracemalloc
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import fresh_postgres  # noqa: E402

BATCH = 5_000
PASSWORD = "Bench-Password-1"
TARGET_SECONDS = 20.0


def _ids(session, table: str, count: int) -> list[int]:
    """``count`` ids drawn from the table's own sequence, as the inserts would take them."""
    from sqlalchemy import text

    return list(session.scalars(text(
        f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
        "FROM generate_series(1, :n)"), {"n": count}))


def _row(session, table, **where) -> dict:
    """One row of a table as the services wrote it, every column."""
    from sqlalchemy import select

    query = select(table)
    for name, value in where.items():
        query = query.where(table.c[name] == value)
    return dict(session.execute(query.limit(1)).mappings().one())


# -- the data -----------------------------------------------------------------------------------

def bench_bank(session):
    """The benchmark's bank: its user, an API token, a webhook endpoint (nothing listens);
    every demo supplier consents to it for all its contracts."""
    from sqlalchemy import select

    from financing import consent
    from financing.webhook_endpoints import add_endpoint
    from mall.accounts import services as accounts
    from mall.accounts.models import Organisation, User
    from mall.accounts.services import actor_for
    from mall.core.auth import OrganisationKind, Role, Scope
    from mall.core.clock import local_today
    from mall.core.credit_codes import uscc_with_check_digit

    bank = accounts.create_organisation(
        session, kind=OrganisationKind.FINANCE_PARTNER, name="压力测试银行股份有限公司",
        credit_code=uscc_with_check_digit("91430100MA4B99999"), region_code="430100",
        region_name="长沙市")
    user = accounts.create_user(session, organisation=bank, login="bench-bank",
                                display_name="压测客户经理", password=PASSWORD,
                                roles=[Role.BANK_USER])
    actor = actor_for(user)
    _token, secret = accounts.issue_token(session, actor, name="feed",
                                          scopes=[Scope.FINANCING_READ])
    add_endpoint(session, actor, "http://127.0.0.1:8765/webhook", allow_local=True)
    admins = session.scalars(select(User).join(Organisation).where(
        Organisation.kind == OrganisationKind.SUPPLIER, User.login.like("supplier%"),
        User.login.not_like("%-ops")).order_by(Organisation.id)).all()
    for admin in admins:
        consent.grant(session, actor_for(admin), bank_org_id=bank.id, scope="all",
                      expires_on=local_today() + timedelta(days=365))
    session.commit()
    return actor, secret, [a.organisation_id for a in admins]


def _sample(session, supplier_ids: list[int]) -> int:
    """One order through the services, up to its signed contract; its id."""
    from sqlalchemy import select

    from catalog.models import Offer, OfferStatus
    from mall.accounts.models import User
    from mall.accounts.services import actor_for
    from mall.purchasing.budget.models import BudgetLine
    from mall.purchasing.contracts import services as contracts
    from mall.purchasing.orders import cart, checkout
    from mall.purchasing.orders import services as orders
    from mall.purchasing.orders.models import Paperwork

    buyer = actor_for(session.scalars(select(User).where(User.login == "unit01-buyer")).one())
    line = session.scalars(select(BudgetLine).where(
        BudgetLine.organisation_id == buyer.organisation_id,
        BudgetLine.category_code == "A02000000")).one()
    offer = session.scalars(select(Offer).where(
        Offer.supplier_id.in_(supplier_ids), Offer.status == OfferStatus.LISTED,
        Offer.stock >= 5, Offer.price_fen.between(100_000, 1_000_000))
        .order_by(Offer.id)).first()
    cart.add_item(session, buyer, offer_id=offer.id, quantity=2)
    made = checkout.checkout(session, buyer, budget_line_id=line.id,
                             delivery_address="长沙市岳麓区麓山路1号",
                             contact="王敏 13800001111", token="bench-finance-1").orders[0]
    supplier = actor_for(session.scalars(select(User).where(
        User.organisation_id == offer.supplier_id, User.login.like("supplier%"),
        User.login.not_like("%-ops"))).one())
    orders.confirm(session, supplier, made.id)
    if made.paperwork is Paperwork.CONTRACT:
        contracts.sign(session, supplier, made.id)
        contracts.sign(session, buyer, made.id)
    session.commit()
    return made.id


def load_contracts(session, *, count: int, supplier_ids: list[int], seed: int) -> dict:
    """The sample order through the services, then ``count`` - 1 like it in bulk; committed."""
    from sqlalchemy import select

    from catalog.models import Offer, OfferStatus, Product
    from mall.accounts.models import Organisation, User
    from mall.core import bulk
    from mall.core.auth import OrganisationKind
    from mall.core.clock import now
    from mall.core.outbox import OutboxEvent
    from mall.purchasing.budget.models import BudgetLine
    from mall.purchasing.contracts.models import Contract, PayeeAccountChange
    from mall.purchasing.orders.models import Order, OrderLine, OrderStep
    from suppliers.models import SupplierProfile

    rng = random.Random(seed)
    sample_id = _sample(session, supplier_ids)
    orders_t, lines_t, contracts_t = Order.__table__, OrderLine.__table__, Contract.__table__
    payee_t, steps_t = PayeeAccountChange.__table__, OrderStep.__table__
    order = _row(session, orders_t, id=sample_id)
    contract = _row(session, contracts_t, order_id=sample_id)
    line = _row(session, lines_t, order_id=sample_id)
    payee = _row(session, payee_t, order_id=sample_id)
    steps = [dict(r) for r in session.execute(select(steps_t).where(
        steps_t.c.order_id == sample_id).order_by(steps_t.c.id)).mappings()]

    offers: dict[int, list] = {s: [] for s in supplier_ids}
    for row in session.execute(
            select(Offer.id, Offer.supplier_id, Offer.product_id, Offer.price_fen,
                   Product.title, Product.brand, Product.model, Product.unit,
                   Product.category_id)
            .join(Product, Product.id == Offer.product_id)
            .where(Offer.supplier_id.in_(supplier_ids), Offer.status == OfferStatus.LISTED)
            .order_by(Offer.id)):
        offers[row.supplier_id].append(row)
    from catalog.models import Category

    codes = dict(session.execute(select(Category.id, Category.code)).all())
    profiles = {p.organisation_id: p for p in session.scalars(
        select(SupplierProfile).where(SupplierProfile.organisation_id.in_(supplier_ids)))}
    names = dict(session.execute(select(Organisation.id, Organisation.name)).all())
    units = session.execute(
        select(Organisation.id, User.id.label("buyer"), BudgetLine.id.label("line"),
               BudgetLine.fiscal_year)
        .join(User, (User.organisation_id == Organisation.id) & User.login.like("%-buyer"))
        .join(BudgetLine, (BudgetLine.organisation_id == Organisation.id)
              & (BudgetLine.category_code == "A05000000"))
        .where(Organisation.kind == OrganisationKind.PURCHASING_UNIT)
        .order_by(Organisation.id)).all()
    suppliers = [s for s in supplier_ids if offers[s]]

    moment = now()
    day = order["number"][2:10]
    made = {"orders": 1, "lines": 1, "steps": len(steps), "events": 0}
    for start in range(1, count, BATCH):
        n = min(BATCH, count - start)
        order_ids = _ids(session, "orders", n)
        plans = [rng.sample(offers[suppliers[(start + i) % len(suppliers)]],
                            min(rng.randint(1, 3), len(offers[suppliers[(start + i)
                                                                         % len(suppliers)]])))
                 for i in range(n)]
        line_ids = iter(_ids(session, "order_lines", sum(len(p) for p in plans)))
        step_ids = iter(_ids(session, "order_steps", n * len(steps)))
        order_rows, line_rows, contract_rows, payee_rows, step_rows, event_rows = \
            [], [], [], [], [], []
        for i, (order_id, plan) in enumerate(zip(order_ids, plans, strict=True)):
            unit = units[(start + i) % len(units)]
            supplier_id = plan[0].supplier_id
            number = f"DD{day}B{order_id:09d}"
            total = 0
            for offer in plan:
                quantity = rng.randint(1, 20)
                total += quantity * offer.price_fen
                line_rows.append({**line, "id": next(line_ids), "order_id": order_id,
                                  "offer_id": offer.id, "product_id": offer.product_id,
                                  "category_code": codes[offer.category_id],
                                  "title": offer.title[:300], "brand": offer.brand[:80],
                                  "model": offer.model[:120], "unit": offer.unit[:10],
                                  "quantity": quantity, "unit_price_fen": offer.price_fen})
            order_rows.append({**order, "id": order_id, "number": number,
                               "buyer_org_id": unit.id, "buyer_user_id": unit.buyer,
                               "supplier_id": supplier_id, "budget_line_id": unit.line,
                               "fiscal_year": unit.fiscal_year, "total_fen": total})
            contract_rows.append({**contract, "id": None, "order_id": order_id,
                                  "number": "HT" + number[2:]})
            profile = profiles[supplier_id]
            payee_rows.append({**payee, "id": None, "order_id": order_id,
                               "bank_name": profile.bank_name,
                               "account_name": names[supplier_id],
                               "account_number": profile.bank_account})
            step_rows.extend({**step, "id": next(step_ids), "order_id": order_id}
                             for step in steps)
            event_rows.append({"topic": "order.changed", "created_at": moment,
                               "payload": {"order_id": order_id, "step": "signed",
                                           "status": order["status"].value},
                               "processed_at": None})
        for table, rows in ((orders_t, order_rows), (lines_t, line_rows),
                            (contracts_t, [{k: v for k, v in r.items() if k != "id"}
                                           for r in contract_rows]),
                            (payee_t, [{k: v for k, v in r.items() if k != "id"}
                                       for r in payee_rows]),
                            (steps_t, step_rows), (OutboxEvent.__table__, event_rows)):
            bulk.insert(session, table, rows)
        session.commit()
        made["orders"] += n
        made["lines"] += len(line_rows)
        made["steps"] += len(step_rows)
        made["events"] += len(event_rows)
    made["sample_order_id"] = sample_id
    made["html_chars"] = len(contract["html"])
    return made


def check_sample(session, bank, supplier_ids: list[int], sample_id: int, *, checks: int = 20,
                 seed: int = 1) -> None:
    """Bulk contracts read and financed like the one the services made (rolled back)."""
    from sqlalchemy import func, select

    from financing import feed, loans, products
    from mall.accounts.models import User
    from mall.accounts.services import actor_for
    from mall.purchasing.contracts.facts import contract_facts
    from mall.purchasing.contracts.models import Contract
    from mall.purchasing.orders.models import Order

    rng = random.Random(seed)
    reference = contract_facts(session, [sample_id])[sample_id]
    top = session.scalar(select(func.max(Order.id)))
    savepoint = session.begin_nested()
    product = products.create_product(session, bank, products.product_data({
        "name": "压测政采贷", "max_share_pct": "80", "rate_min": "3.65", "rate_max": "6.00",
        "term_days": "180", "regions": "000000"}))
    for _ in range(checks):
        order = session.scalar(select(Order).join(Contract, Contract.order_id == Order.id)
                               .where(Order.id >= rng.randint(sample_id + 1, top))
                               .order_by(Order.id).limit(1))
        number = session.scalar(select(Contract.number).where(Contract.order_id == order.id))
        facts = feed.contract(session, bank, number=number)
        if set(facts) != set(reference) or facts["status"] != reference["status"] or \
                facts["total_fen"] != sum(i["amount_fen"] for i in facts["items"]) or \
                facts["payee_account"]["locked"] or not facts["signed_at"]:
            raise SystemExit(f"bulk contract {number} differs from the services' one: {facts}")
        admin = actor_for(session.scalars(select(User).where(
            User.organisation_id == order.supplier_id, User.login.like("supplier%"),
            User.login.not_like("%-ops"))).one())
        loans.apply_for_loan(session, admin, order_id=order.id, product_id=product.id,
                             amount_fen=order.total_fen // 2)
    savepoint.rollback()
    session.rollback()


# -- the measurements ---------------------------------------------------------------------------

def sequence_all(app) -> dict:
    """Run the sequencer batch after batch, each its own unit of work, until none waits."""
    from financing.feed import sequence_changes
    from mall.core.unit_of_work import unit_of_work
    from mall.extensions import db

    started, cpu, batches, numbered = time.perf_counter(), time.process_time(), 0, 0
    while True:
        with app.app_context(), unit_of_work(db.session, remove=True) as session:
            done = sequence_changes(session)
        if not done:
            break
        batches += 1
        numbered += done
    return {"seconds": time.perf_counter() - started, "cpu": time.process_time() - cpu,
            "batches": batches, "numbered": numbered}


def pull_all(app, bank, *, page: int, profile: bool) -> dict:
    """The bank reads the feed from 0 to the end, one unit of work per page."""
    from financing.feed import pull
    from mall.core.unit_of_work import unit_of_work
    from mall.extensions import db

    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
    walls, cpus, after, items, contracts = [], [], 0, 0, set()
    started = time.perf_counter()
    while True:
        began, began_cpu = time.perf_counter(), time.process_time()
        if profiler:
            profiler.enable()
        with app.app_context(), unit_of_work(db.session, remove=True) as session:
            got = pull(session, bank, after=after, limit=page)
        if profiler:
            profiler.disable()
        walls.append(time.perf_counter() - began)
        cpus.append(time.process_time() - began_cpu)
        items += len(got.items)
        contracts.update(i["contract"]["order_id"] for i in got.items)
        after = got.next_after
        if not got.has_more:
            break
    total = time.perf_counter() - started
    # One more page under tracemalloc: the memory a page takes (it slows the page down).
    tracemalloc.start()
    with app.app_context(), unit_of_work(db.session, remove=True) as session:
        pull(session, bank, after=0, limit=page)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return {"seconds": total, "pages": len(walls), "items": items, "contracts": len(contracts),
            "walls": walls, "cpus": cpus, "page_peak_bytes": peak, "profiler": profiler}


def pull_http(app, token: str, *, page: int) -> dict:
    """The same through the API, the Flask test client standing in for the network."""
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    walls, after, items, size = [], 0, 0, 0
    started = time.perf_counter()
    while True:
        began = time.perf_counter()
        answer = client.get(f"/api/v1/finance/contracts?after={after}&limit={page}",
                            headers=headers)
        walls.append(time.perf_counter() - began)
        if answer.status_code != 200:
            raise SystemExit(f"the API answered {answer.status_code}: {answer.get_data()[:300]!r}")
        body = answer.get_json()
        size += len(answer.get_data())
        items += len(body["items"])
        after = body["next_after"]
        if not body["has_more"]:
            break
    return {"seconds": time.perf_counter() - started, "pages": len(walls), "items": items,
            "walls": walls, "bytes": size}


def _ms(values: list[float]) -> str:
    ordered = sorted(values)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return (f"mean {statistics.mean(values) * 1000:.0f} ms, median "
            f"{statistics.median(values) * 1000:.0f} ms, p95 {p95 * 1000:.0f} ms, max "
            f"{max(values) * 1000:.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contracts", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=1_000)
    parser.add_argument("--http", action="store_true", help="pull once more through the API")
    parser.add_argument("--postgres",
                        default="postgresql://postgres@127.0.0.1:5432/mall_bench_finance")
    parser.add_argument("--profile", action="store_true", help="cProfile the pull; print the top")
    parser.add_argument("--no-analyze", action="store_true",
                        help="leave the freshly loaded tables without planner statistics")
    args = parser.parse_args()

    from flask_migrate import upgrade

    from mall import create_app
    from mall.config import normalise_database_url
    from mall.demo.seed import seed_demo
    from mall.extensions import db

    url = normalise_database_url(fresh_postgres(args.postgres))
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False,
                      "SCHEDULER_ENABLED": False})
    with app.app_context():
        upgrade()
        seed_demo(db.session, offers=2_000, seed=2026, password=PASSWORD, echo=lambda _m: None)
        session = db.session()
        bank, token, supplier_ids = bench_bank(session)
        started = time.perf_counter()
        loaded = load_contracts(session, count=args.contracts, supplier_ids=supplier_ids,
                                seed=2026)
        load_seconds = time.perf_counter() - started
        db.session.remove()
        if not args.no_analyze:
            # A table grown over months has its statistics; one loaded a second ago has none
            # until autovacuum comes by, and the planner then sorts the whole feed per page.
            with db.engine.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
    print(f"## Bank feed: {args.contracts:,} contracts of {len(supplier_ids)} consenting "
          f"suppliers ({loaded['lines']:,} lines, {loaded['steps']:,} timeline entries, contract "
          f"text {loaded['html_chars']:,} characters each); loaded in {load_seconds:.1f} s")

    sequenced = sequence_all(app)
    each = sequenced["seconds"] / max(sequenced["numbered"], 1) * 1e6
    print(f"sequencing: {sequenced['numbered']:,} changes numbered in {sequenced['batches']} "
          f"batches, {sequenced['seconds']:.1f} s ({each:.0f} µs a change; "
          f"CPU {sequenced['cpu']:.1f} s), webhook events queued for the bank's endpoint")
    with app.app_context():
        check_sample(db.session(), bank, supplier_ids, loaded["sample_order_id"])
        db.session.remove()
    print("sample: 20 bulk contracts read by number and financed (rolled back) like the "
          "services' own")

    pulled = pull_all(app, bank, page=args.page, profile=args.profile)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    verdict = "met" if pulled["seconds"] <= TARGET_SECONDS else "MISSED"
    print(f"pull: {pulled['items']:,} changes ({pulled['contracts']:,} contracts) in "
          f"{pulled['pages']} pages of {args.page:,}: {pulled['seconds']:.1f} s; target "
          f"{TARGET_SECONDS:.0f} s: {verdict}")
    print(f"per page: wall {_ms(pulled['walls'])}; CPU (this process) "
          f"{_ms(pulled['cpus'])}")
    print(f"memory: tracemalloc peak over one page {pulled['page_peak_bytes'] / 2**20:.1f} MiB; "
          f"process peak RSS {rss:.0f} MiB (seeding and loading included)")
    if args.http:
        with app.app_context():
            served = pull_http(app, token, page=args.page)
        print(f"API: {served['items']:,} changes in {served['pages']} pages through GET "
              f"/api/v1/finance/contracts: {served['seconds']:.1f} s, "
              f"{served['bytes'] / 2**20:.0f} MiB of JSON; per page {_ms(served['walls'])}")
    if pulled["profiler"] is not None:
        import pstats

        print("\ncProfile of the pull (all pages):")
        pstats.Stats(pulled["profiler"]).sort_stats("cumulative").print_stats(25)
    expected = args.contracts + 0  # the demo's own contracts come on top
    if pulled["contracts"] < expected:
        raise SystemExit(f"pulled {pulled['contracts']:,} contracts, fewer than {expected:,}")


if __name__ == "__main__":
    main()
