"""Closing 10,000 bidding rounds due at once, by two scheduler processes racing each other.

    .venv/bin/python benchmarks/rounds.py [--rounds 10000] [--quotes 5] [--cadence job]
        [--postgres postgresql://postgres@127.0.0.1:5432/mall_bench_rounds] [--profile]

For each cadence: a fresh PostgreSQL database with the demo mall (10 suppliers with their
profiles, 50 units with budget lines); then --rounds quick-bidding rounds of 1-3 office-supply
items, all with the same deadline D, each with --quotes sealed quotes (lines, one submission per
revision, the round notice, the budget reserved, the publication audited and sealed). The first
round is made through the services (create_round, submit_quote); the rest are written in bulk
with the same columns, and a sample of them is checked by revising a quote through
submit_quote (savepoint, rolled back): the suppliers are eligible, the prices within bounds.

Two worker processes (this script with --worker) then run the closing sweep with the
controllable clock set to D + (wall time since the start) - "now" is just past the deadline
without waiting for it:
- cadence "job": what the scheduler does, the registered job bidding_rounds.close as one unit of
  work on its 5-second interval, never overlapping itself (a tick that falls while a run is
  busy is skipped, as APScheduler's max_instances=1 does); the two processes' ticks are 2.5 s
  apart, as two independently started schedulers are;
- cadence "drain": the same unit of work run again as soon as the last one committed, while
  rounds are due (what a job that loops over batches would do).
Each worker reports the rounds it closed, its CPU time (time.process_time) and when each batch
committed. Then the database is checked: no round left open (none skipped), exactly one award
per round with at least min_quotes valid quotes and none for the others, one result or failure
notice per round, one "award offered" message per award, every award to the lowest evaluated
price (ties: earliest final quote).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import fresh_postgres  # noqa: E402

PHASES = (0.0, 2.5)  # each worker's first job tick, seconds after the start
ITEMS = (  # (category, name, spec, unit, reference unit price in fen)
    ("A05040101", "A4复印纸 70g", "500张/包，5包/箱", "箱", 12_000),
    ("A05040201", "激光打印机硒鼓", "黑色，约2000页", "支", 35_000),
    ("A05010501", "文件柜", "钢制，四门", "组", 98_000),
    ("A05020105", "中性笔", "0.5mm 黑色，12支/盒", "盒", 1_800),
    ("A05030304", "订书机", "24/6 钉，可订20页", "个", 2_600),
)


# -- the data -----------------------------------------------------------------------------------

def prepare(url: str, rounds: int, quotes: int, seed: int) -> dict:
    """Demo mall, then the rounds; returns the deadline and what was loaded."""
    from flask_migrate import upgrade

    from mall import create_app
    from mall.demo.seed import seed_demo
    from mall.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade()
        seed_demo(db.session, offers=200, seed=2026, password="Bench-Password-1",
                  echo=lambda _m: None)
        started = time.perf_counter()
        deadline = (datetime.now(UTC) + timedelta(minutes=5)).replace(second=0, microsecond=0)
        loaded = load_rounds(db.session(), rounds=rounds, quotes=quotes, deadline=deadline,
                             seed=seed)
        loaded["load_seconds"] = time.perf_counter() - started
        db.session.remove()
        db.engine.dispose()
    return {"deadline": deadline.isoformat(), **loaded}


def _people(session):
    """The demo units, each with its buyer and a budget line for the benchmark's purchases
    (entered by its approver: 200 rounds a unit need more than the demo's office budget), and
    the demo suppliers with their profiles."""
    from sqlalchemy import select

    from mall.accounts.models import Organisation, User
    from mall.accounts.services import actor_for
    from mall.core.auth import OrganisationKind
    from mall.core.clock import local_today
    from mall.purchasing.budget import services as budget
    from suppliers.models import SupplierProfile

    units = []
    for org in session.scalars(select(Organisation).where(
            Organisation.kind == OrganisationKind.PURCHASING_UNIT).order_by(Organisation.id)):
        people = {u.login.rsplit("-", 1)[1]: u for u in session.scalars(
            select(User).where(User.organisation_id == org.id))}
        line = budget.create_budget_line(
            session, actor_for(people["approver"]), fiscal_year=local_today().year,
            project_code=f"BENCH-{org.id:03d}", project_name="竞价压力测试",
            category_code="A05000000", amount_fen=10**10)
        units.append((org, people["buyer"], line))
    suppliers = session.execute(
        select(Organisation, User, SupplierProfile)
        .join(User, (User.organisation_id == Organisation.id) & User.login.like("supplier%")
              & User.login.not_like("%-ops"))
        .join(SupplierProfile, SupplierProfile.organisation_id == Organisation.id)
        .order_by(Organisation.id)).all()
    return units, suppliers


def _ids(session, table: str, count: int) -> list[int]:
    """``count`` ids drawn from the table's own sequence, as the inserts would take them."""
    from sqlalchemy import text

    return list(session.scalars(text(
        f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) "
        "FROM generate_series(1, :n)"), {"n": count}))


def load_rounds(session, *, rounds: int, quotes: int, deadline: datetime, seed: int) -> dict:
    """The first round through the services, the others in bulk alike; committed."""
    from sqlalchemy import func, select, text

    from bidding_rounds import settings as round_settings
    from bidding_rounds.models import (
        BiddingRound,
        Quote,
        QuoteLine,
        QuoteSubmission,
        RoundItem,
        RoundMode,
        RoundStatus,
    )
    from bidding_rounds.publication import MODE_TITLES, _base
    from bidding_rounds.quotes import Origin, submit_quote
    from bidding_rounds.rounds import ItemInput, RoundInput, create_round
    from mall.accounts.services import actor_for
    from mall.core import bulk
    from mall.core.audit import AuditEvent, seal_pending
    from mall.core.clock import frozen_clock, local_today, working_day_deadline
    from mall.purchasing.budget import services as budget
    from mall.purchasing.contracts.models import Notice, NoticeKind
    from mall.purchasing.contracts.notices import NOTICE_WORKING_DAYS
    from suppliers.models import SizeClass

    rng = random.Random(seed)
    units, suppliers = _people(session)
    if len(suppliers) < quotes:
        raise SystemExit(f"{len(suppliers)} demo suppliers, fewer than {quotes} quotes a round")
    published = deadline - timedelta(hours=2)
    config = round_settings.current(session)
    small = {org.id for org, _user, profile in suppliers
             if profile.size in (SizeClass.SMALL, SizeClass.MICRO)}

    def plan_items():
        chosen = rng.sample(ITEMS, rng.randint(1, 3))
        return [(code, name, spec, unit, rng.randint(2, 20) * (10 if price < 5_000 else 1),
                 price) for code, name, spec, unit, price in chosen]

    def prices(plan, ceiling):
        """Unit prices 75-100 % of the reference, the total within the ceiling."""
        while True:
            unit_prices = [price * rng.randint(75, 100) // 100 for *_rest, price in plan]
            if sum(p * q for p, (_c, _n, _s, _u, q, _r) in zip(unit_prices, plan, strict=True)) <= ceiling:
                return unit_prices

    # The first round through the services: the reference the bulk rows are checked against.
    org, buyer, line = units[0]
    plan = plan_items()
    ceiling = sum(q * price for *_r, q, price in plan)
    with frozen_clock(published) as clock:
        made = create_round(session, actor_for(buyer), RoundInput(
            mode="quick", items=[ItemInput(category_code=c, name=n, spec=s, quantity=q, unit=u)
                                 for c, n, s, u, q, _p in plan],
            budget_line_id=line.id, ceiling_fen=ceiling, deadline=deadline,
            delivery_address=f"{org.name}后勤处", contact="王敏 13800001111"))
        for n, (supplier, user, _profile) in enumerate(rng.sample(suppliers, quotes)):
            clock[0] = published + timedelta(minutes=5 + n)
            submit_quote(session, actor_for(user), made.id,
                         lines=list(zip([i.id for i in made.items], prices(plan, ceiling), strict=True)),
                         sme_goods=supplier.id in small,
                         origin=Origin(f"10.{supplier.id % 250}.0.{n + 1}", "Mozilla/5.0 bench",
                                       f"fp-{supplier.id:08d}"))
        session.commit()

    day = f"{local_today():%Y%m%d}"
    due_by = working_day_deadline(published, NOTICE_WORKING_DAYS)
    batch = 2_000
    for start in range(1, rounds, batch):
        count = min(batch, rounds - start)
        round_ids = _ids(session, "bidding_rounds", count)
        plans = [plan_items() for _ in round_ids]
        item_ids = iter(_ids(session, "round_items", sum(len(p) for p in plans)))
        quote_ids = iter(_ids(session, "quotes", count * quotes))
        round_rows, item_rows, quote_rows, line_rows, submission_rows = [], [], [], [], []
        notice_rows, audit_rows = [], []
        reserved: dict[int, int] = {}
        for n, (round_id, plan) in enumerate(zip(round_ids, plans, strict=True)):
            org, buyer, line = units[(start + n) % len(units)]
            ceiling = sum(q * price for *_r, q, price in plan) * rng.randint(100, 110) // 100
            reserved[line.id] = reserved.get(line.id, 0) + ceiling
            row = {
                "id": round_id, "number": f"JJ{day}{round_id:07d}", "mode": RoundMode.QUICK,
                "status": RoundStatus.OPEN, "title": plan[0][1], "buyer_org_id": org.id,
                "buyer_user_id": buyer.id, "budget_line_id": line.id,
                "fiscal_year": line.fiscal_year, "ceiling_fen": ceiling, "reserved_fen": ceiling,
                "region_code": org.region_code, "delivery_address": f"{org.name}后勤处",
                "contact": "王敏 13800001111", "delivery_days": 7,
                "sme_deduction_pct": rng.choice((10, 10, 15, 20)), "sme_reserved": False,
                "framework_agreement_id": None, "invited_supplier_ids": None,
                "min_quotes": config.min_quotes, "confirm_hours": config.confirm_hours,
                "published_at": published, "deadline": deadline, "quote_count": quotes,
                "closed_at": None, "failure_reason": None, "cancel_reason": None,
                "order_id": None, "rerun_of_id": None, "created_at": published,
                "updated_at": published}
            round_rows.append(row)
            items = []
            for position, (code, name, spec, unit, quantity, _price) in enumerate(plan, 1):
                items.append({"id": next(item_ids), "round_id": round_id, "position": position,
                              "category_code": code, "product_id": None, "name": name,
                              "spec": spec, "quantity": quantity, "unit": unit})
            item_rows.extend(items)
            transient = BiddingRound(**row, items=[RoundItem(**item) for item in items])
            notice_rows.append({
                "order_id": None, "reference": row["number"], "kind": NoticeKind.ROUND,
                "title": f"{org.name}{MODE_TITLES['quick']}公告（{row['number']}）",
                "buyer_name": org.name, "supplier_name": "", "amount_fen": ceiling,
                "body": _base(transient, org),
                "category_codes": " ".join(sorted({i["category_code"] for i in items})),
                "withheld": False, "created_at": published, "due_by": due_by,
                "published_at": published})
            audit_rows.append({
                "occurred_at": published, "action": "round.published",
                "object_type": "bidding_round", "object_id": str(round_id),
                "actor_user_id": buyer.id, "actor_organisation_id": org.id, "ip_address": None,
                "data": {"number": row["number"], "mode": "quick", "ceiling_fen": ceiling,
                         "deadline": deadline.isoformat()},
                "seq": None, "prev_hash": None, "hash": None})
            for supplier, user, _profile in rng.sample(suppliers, quotes):
                quote_id = next(quote_ids)
                unit_prices = prices(plan, ceiling)
                total = sum(p * i["quantity"] for p, i in zip(unit_prices, items, strict=True))
                sme_goods = supplier.id in small and rng.random() < 0.7
                pct = row["sme_deduction_pct"] if sme_goods else 0
                revisions = rng.choice((1, 1, 1, 2, 3))
                first = published + timedelta(seconds=rng.randint(60, 5_000))
                final = first + timedelta(seconds=rng.randint(0, 1_500) if revisions > 1 else 0)
                quote_rows.append({
                    "id": quote_id, "round_id": round_id, "supplier_id": supplier.id,
                    "status": "valid", "total_fen": total,
                    "evaluated_fen": (total * (100 - pct) + 50) // 100,
                    "sme_deducted": bool(pct), "sme_goods": sme_goods, "first_at": first,
                    "final_at": final, "revisions": revisions, "rank": None})
                line_rows.extend({"quote_id": quote_id, "item_id": i["id"],
                                  "unit_price_fen": p, "offer_id": None, "brand": "",
                                  "model": ""} for p, i in zip(unit_prices, items, strict=True))
                for k in range(revisions):
                    submission_rows.append({
                        "quote_id": quote_id, "user_id": user.id, "token_id": None,
                        "at": first if k == 0 else (final if k == revisions - 1 else
                                                    first + (final - first) / 2),
                        "total_fen": total * (100 + 3 * (revisions - 1 - k)) // 100,
                        "client_ip": f"10.{supplier.id % 250}.{k}.{rng.randint(1, 254)}",
                        "user_agent": "Mozilla/5.0 bench",
                        "device_fingerprint": f"fp-{supplier.id:08d}"})
        bulk.insert(session, BiddingRound, round_rows)
        bulk.insert(session, RoundItem, item_rows)
        bulk.insert(session, Quote, quote_rows)
        bulk.insert(session, QuoteLine, line_rows)
        bulk.insert(session, QuoteSubmission, submission_rows)
        bulk.insert(session, Notice, notice_rows)
        bulk.insert(session, AuditEvent, audit_rows)
        for line_id, amount in sorted(reserved.items()):
            budget.reserve(session, line_id, amount)
        session.commit()
    while seal_pending(session):
        session.commit()
    session.commit()
    # A database in service has planner statistics; ten thousand rows loaded in seconds have
    # none until autovacuum comes by, and without them PostgreSQL plans the closing sweep's
    # claim differently (see BENCHMARKS.md: the claim's LIMIT is not kept then).
    session.execute(text("ANALYZE"))
    _check_like_services(session, made.id, quotes)
    open_due = session.scalar(select(func.count()).select_from(BiddingRound).where(
        BiddingRound.status == RoundStatus.OPEN, BiddingRound.deadline == deadline))
    return {"rounds": open_due, "quotes": session.scalar(select(func.count()).select_from(Quote)),
            "lines": session.scalar(select(func.count()).select_from(QuoteLine)),
            "submissions": session.scalar(select(func.count()).select_from(QuoteSubmission))}


def _check_like_services(session, reference_id: int, quotes: int) -> None:
    """The bulk rows have what the service-made round has, and pass the services' rules: a
    sample of quotes is revised through submit_quote (rolled back)."""
    from sqlalchemy import select

    from bidding_rounds.models import BiddingRound, Quote, QuoteSubmission
    from bidding_rounds.quotes import Origin, submit_quote
    from mall.accounts.models import User
    from mall.accounts.services import actor_for
    from mall.core.clock import frozen_clock
    from mall.purchasing.contracts.models import Notice

    def filled(row) -> set[str]:
        return {c.key for c in row.__table__.c if getattr(row, c.key) is not None}

    reference = session.get_one(BiddingRound, reference_id)
    sample = list(session.scalars(select(BiddingRound).where(
        BiddingRound.id > reference_id, BiddingRound.deadline == reference.deadline)
        .order_by(BiddingRound.id).limit(20)))
    notice = {r: session.scalar(select(Notice).where(Notice.reference == r.number))
              for r in [reference, *sample]}
    for bidding_round in sample:
        problems = []
        if filled(bidding_round) != filled(reference):
            problems.append(f"round columns {filled(bidding_round) ^ filled(reference)}")
        if set(notice[bidding_round].body) != set(notice[reference].body):
            problems.append("round notice body")
        if problems:
            raise SystemExit(f"bulk round {bidding_round.number} differs: {problems}")
        own = list(session.scalars(select(Quote).where(Quote.round_id == bidding_round.id)))
        if len(own) != quotes or any(len(q.lines) != len(bidding_round.items) for q in own):
            raise SystemExit(f"bulk round {bidding_round.number}: quotes without every line")
        chosen = own[bidding_round.id % len(own)]
        submitter = session.scalar(select(QuoteSubmission.user_id)
                                   .where(QuoteSubmission.quote_id == chosen.id).limit(1))
        actor = actor_for(session.get_one(User, submitter))
        lines = [(line.item_id, line.unit_price_fen) for line in chosen.lines]
        with frozen_clock(bidding_round.deadline - timedelta(minutes=1)):
            savepoint = session.begin_nested()
            submit_quote(session, actor, bidding_round.id, lines=lines,
                         sme_goods=chosen.sme_goods, origin=Origin("10.0.0.1"))
            savepoint.rollback()
    session.rollback()


# -- the two scheduler processes ----------------------------------------------------------------

def worker(url: str, number: int, cadence: str, profile: str | None) -> None:
    """One scheduler process: wait for the start, then close rounds until none is due."""
    from sqlalchemy import func, select

    import bidding_rounds.jobs  # noqa: F401  (registers the job)
    from bidding_rounds import closing
    from bidding_rounds.models import BiddingRound, RoundStatus
    from mall import create_app
    from mall.core.clock import set_clock
    from mall.core.jobs import REGISTRY
    from mall.core.unit_of_work import unit_of_work
    from mall.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    job = REGISTRY["bidding_rounds.close"]
    profiler = None
    if profile:
        import cProfile

        profiler = cProfile.Profile()
        inner = closing.close_claimed

        def profiled(*args, **kwargs):
            profiler.enable()
            try:
                return inner(*args, **kwargs)
            finally:
                profiler.disable()

        closing.close_claimed = profiled
    with app.app_context():  # connect and load everything before the start
        db.session.execute(select(func.count()).select_from(BiddingRound)).scalar()
        db.session.remove()
    print("ready", flush=True)
    start, deadline_iso = sys.stdin.readline().split()
    start_wall, deadline = float(start), datetime.fromisoformat(deadline_iso)
    set_clock(lambda: deadline + timedelta(seconds=time.time() - start_wall))
    runs, cpu, busy = [], 0.0, 0.0
    tick = start_wall + PHASES[number % len(PHASES)]
    while True:
        if cadence == "job":
            time.sleep(max(0.0, tick - time.time()))
        began, began_cpu = time.time(), time.process_time()
        with app.app_context(), unit_of_work(db.session, remove=True) as session:
            job.run(session)
            closed = session.info.get("closed", 0)
        ended = time.time()
        if closed:  # not the runs that found nothing claimable (the other process held it)
            cpu += time.process_time() - began_cpu
            busy += ended - began
        runs.append({"start": began - start_wall, "end": ended - start_wall, "closed": closed})
        with app.app_context():
            left = db.session.scalar(select(func.count()).select_from(BiddingRound).where(
                BiddingRound.status == RoundStatus.OPEN, BiddingRound.deadline <= deadline))
            db.session.remove()
        if not left:
            break
        if cadence == "job":
            while tick <= ended:  # ticks that fell during the run were skipped
                tick += job.seconds
    if profiler is not None:
        profiler.dump_stats(profile)
    print(json.dumps({"worker": number, "runs": runs, "cpu": cpu, "busy": busy}), flush=True)
    sys.stdin.readline()  # keep the connections (and their server processes) until measured


def _count_claims() -> None:
    """Count each session's claimed rounds in ``session.info`` (the job returns nothing)."""
    from bidding_rounds import closing

    claim = closing.claim_due

    def counted(session, moment, **kwargs):
        ids = claim(session, moment, **kwargs)
        session.info["closed"] = session.info.get("closed", 0) + len(ids)
        return ids

    closing.claim_due = counted


def race(url: str, deadline: str, cadence: str, profile_dir: str | None) -> dict:
    """Start both workers, let them go at the same instant, collect their reports."""
    workers = []
    for number in range(2):
        command = [sys.executable, __file__, "--worker", str(number), "--cadence", cadence,
                   "--postgres", url]
        if profile_dir:
            command += ["--profile-to", str(Path(profile_dir) / f"close_claimed-{number}.prof")]
        workers.append(subprocess.Popen(command, cwd=ROOT, stdin=subprocess.PIPE,
                                        stdout=subprocess.PIPE, text=True,
                                        env={**os.environ, "SCHEDULER_ENABLED": "0"}))
    for process in workers:
        if process.stdout.readline().strip() != "ready":
            raise SystemExit("a worker did not start")
    from benchmarks.checkout import cpu_seconds

    before = cpu_seconds()
    start = time.time() + 1.0
    for process in workers:
        process.stdin.write(f"{start} {deadline}\n")
        process.stdin.flush()
    reports = [json.loads(process.stdout.readline()) for process in workers]
    after = cpu_seconds()  # the workers' server processes still live
    for process in workers:
        process.communicate("bye\n", timeout=60)
        if process.returncode:
            raise SystemExit(f"worker exited with {process.returncode}")
    return {"reports": reports, "postgres_cpu": after.get("postgres", 0.0)
            - before.get("postgres", 0.0)}


# -- the checks ---------------------------------------------------------------------------------

def verify(url: str, deadline: str) -> dict:
    """None skipped, none awarded twice, every award to the first in rank."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    bench = "SELECT id FROM bidding_rounds WHERE deadline = :d"  # not the demo's own rounds
    enough = ("(SELECT COUNT(*) FROM quotes q WHERE q.round_id = r.id AND q.status = 'valid') "
              ">= r.min_quotes")
    q = {
        "statuses": "SELECT status, COUNT(*) FROM bidding_rounds WHERE deadline = :d "
                    "GROUP BY status",
        "left_open": "SELECT COUNT(*) FROM bidding_rounds WHERE deadline <= :d "
                     "AND status IN ('open', 'closed')",
        "awards": f"SELECT COUNT(*) FROM round_awards WHERE round_id IN ({bench})",
        "awarded_twice": f"SELECT COUNT(*) FROM (SELECT round_id FROM round_awards WHERE "
                         f"round_id IN ({bench}) GROUP BY round_id HAVING COUNT(*) > 1) twice",
        "should_award": f"SELECT COUNT(*) FROM bidding_rounds r WHERE r.deadline = :d AND {enough}",
        "award_missing": f"SELECT COUNT(*) FROM bidding_rounds r WHERE r.deadline = :d AND "
                         f"{enough} AND NOT EXISTS (SELECT 1 FROM round_awards a "
                         "WHERE a.round_id = r.id)",
        "award_unwarranted": f"SELECT COUNT(*) FROM round_awards a JOIN bidding_rounds r ON "
                             f"r.id = a.round_id WHERE r.deadline = :d AND NOT {enough}",
        "result_notices": "SELECT COUNT(*) FROM notices WHERE kind = 'round_result' AND "
                          "reference IN (SELECT number FROM bidding_rounds WHERE deadline = :d)",
        "duplicate_notices": "SELECT COUNT(*) FROM (SELECT reference, kind FROM notices WHERE "
                             "kind IN ('round_result', 'round_failed') GROUP BY reference, kind "
                             "HAVING COUNT(*) > 1) twice",
        "failure_notices": "SELECT COUNT(*) FROM notices WHERE kind = 'round_failed' AND "
                           "reference IN (SELECT number FROM bidding_rounds WHERE deadline = :d)",
        "offer_messages": "SELECT COUNT(*) FROM notifications WHERE kind = 'round_award_offered' "
                          "AND params->>'round' IN (SELECT number FROM bidding_rounds "
                          "WHERE deadline = :d)",
        "closed_events": "SELECT COUNT(*) FROM audit_events WHERE action = 'round.closed' AND "
                         "object_id IN (SELECT id::text FROM bidding_rounds WHERE deadline = :d)",
        "not_first_in_rank": f"SELECT COUNT(*) FROM round_awards a JOIN quotes w ON "
                             f"w.id = a.quote_id WHERE a.round_id IN ({bench}) AND (w.rank <> 1 "
                             "OR EXISTS (SELECT 1 FROM quotes o WHERE o.round_id = w.round_id "
                             "AND o.id <> w.id AND o.status = 'valid' AND (o.evaluated_fen, "
                             "o.final_at, o.id) < (w.evaluated_fen, w.final_at, w.id)))",
        "last_claim_seconds": "SELECT EXTRACT(EPOCH FROM MAX(closed_at) - :d) FROM "
                              "bidding_rounds WHERE deadline = :d",
    }
    with engine.connect() as conn:
        found = {}
        for name, sql in q.items():
            rows = conn.execute(text(sql), {"d": datetime.fromisoformat(deadline)}).all()
            found[name] = dict(rows) if name == "statuses" else rows[0][0]
    engine.dispose()
    problems = [f"{name}: {found[name]}" for name in
                ("left_open", "awarded_twice", "award_missing", "award_unwarranted",
                 "duplicate_notices", "not_first_in_rank") if found[name]]
    if found["result_notices"] != found["awards"] or found["offer_messages"] != found["awards"]:
        problems.append(f"{found['awards']} awards, {found['result_notices']} result notices, "
                        f"{found['offer_messages']} award messages")
    total = sum(found["statuses"].values())
    if found["closed_events"] != total:
        problems.append(f"{found['closed_events']} round.closed events for {total} rounds")
    found["problems"] = problems
    return found


def bench(url: str, rounds: int, quotes: int, cadence: str, profile_dir: str | None) -> dict:
    setup = prepare(url, rounds, quotes, seed=2026)
    if setup["rounds"] != rounds:
        raise SystemExit(f"{setup['rounds']} rounds loaded, not {rounds}")
    raced = race(url, setup["deadline"], cadence, profile_dir)
    check = verify(url, setup["deadline"])
    reports = raced["reports"]
    last = max(run["end"] for r in reports for run in r["runs"] if run["closed"])
    return {"cadence": cadence, "setup": setup, "reports": reports, "check": check,
            "last_commit": last, "postgres_cpu": raced["postgres_cpu"]}


def show(result: dict, rounds: int) -> None:
    from bidding_rounds import closing

    setup, check = result["setup"], result["check"]
    closed = sum(run["closed"] for r in result["reports"] for run in r["runs"])
    variant = ""
    print(f"\n## cadence: {result['cadence']}{variant}  ({rounds:,} rounds, {setup['quotes']:,} quotes, "
          f"{setup['lines']:,} quote lines, {setup['submissions']:,} submissions; loaded in "
          f"{setup['load_seconds']:.1f} s)")
    print(f"all closed within {result['last_commit']:.1f} s of the deadline (last commit; last "
          f"claim {float(check['last_claim_seconds']):.1f} s); target 60 s: "
          f"{'met' if result['last_commit'] <= 60 else 'MISSED'}")
    print(f"statuses: {check['statuses']}; awards {check['awards']:,} for "
          f"{check['should_award']:,} rounds with enough quotes; awarded twice "
          f"{check['awarded_twice']}; left open {check['left_open']}; result notices "
          f"{check['result_notices']:,} (duplicates {check['duplicate_notices']}); failure "
          f"notices {check['failure_notices']}")
    largest = max(run["closed"] for r in result["reports"] for run in r["runs"])
    print(f"time per round: {result['last_commit'] / closed * 1000:.2f} ms wall (both processes "
          f"together); PostgreSQL CPU {result['postgres_cpu'] / closed * 1000:.2f} ms per round; "
          f"most rounds in one job run {largest} (batches of {closing.BATCH})")
    print("| process | rounds closed | runs that closed | busy s | ms per round (busy) "
          "| CPU ms per round | last commit s |")
    print("|---|---|---|---|---|---|---|")
    for r in result["reports"]:
        n = sum(run["closed"] for run in r["runs"])
        last = max((run["end"] for run in r["runs"] if run["closed"]), default=0.0)
        runs = sum(1 for run in r["runs"] if run["closed"])
        print(f"| {r['worker'] + 1} | {n:,} | {runs} | {r['busy']:.1f} | "
              f"{r['busy'] / max(n, 1) * 1000:.2f} | {r['cpu'] / max(n, 1) * 1000:.2f} | "
              f"{last:.1f} |")
    print("checks: " + ("all pass" if not check["problems"] else "; ".join(check["problems"])))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10_000)
    parser.add_argument("--quotes", type=int, default=5)
    parser.add_argument("--cadence", choices=("job", "drain", "both"), default="job")
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/mall_bench_rounds")
    parser.add_argument("--profile", action="store_true",
                        help="profile close_claimed in each worker (cProfile) and print the top")
    parser.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    args = parser.parse_args()
    from mall.config import normalise_database_url

    if args.worker is not None:
        _count_claims()
        worker(normalise_database_url(args.postgres), args.worker, args.cadence, args.profile_to)
        return
    results = []
    for cadence in (("job", "drain") if args.cadence == "both" else (args.cadence,)):
        url = normalise_database_url(fresh_postgres(args.postgres))
        profile_dir = None
        if args.profile:
            profile_dir = str(Path(os.environ.get("TMPDIR", "/tmp")) / f"rounds-{cadence}")
            Path(profile_dir).mkdir(exist_ok=True)
        result = bench(url, args.rounds, args.quotes, cadence, profile_dir)
        results.append(result)
        show(result, args.rounds)
        if profile_dir:
            import pstats

            stats = pstats.Stats(*(str(p) for p in Path(profile_dir).glob("*.prof")))
            print(f"\ncProfile of close_claimed, both workers ({cadence}):")
            stats.sort_stats("cumulative").print_stats(30)
    if any(r["check"]["problems"] for r in results):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
